import { type PublishedModel, PublishedModelSchema } from '@medai-flow/contracts';
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis/keys.js';

/** A published model with the number of workers whose heartbeat is recent. */
export interface ServedModel {
  manifest: PublishedModel;
  liveWorkers: number;
}

export interface ModelRegistryOptions {
  /** A worker whose last heartbeat is older than this no longer counts as live, in milliseconds. Default 15000. */
  staleAfterMs?: number;
  now?: () => number;
}

/**
 * Models that workers serve, as they publish them in Redis. The manifest stays after the
 * last worker stops, so that jobs for a model scaled to zero are still accepted (and wake
 * its autoscaler); `liveWorkers` tells whether anything runs them now.
 */
export class ModelRegistry {
  private readonly staleAfterMs: number;
  private readonly now: () => number;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    options: ModelRegistryOptions = {},
  ) {
    this.staleAfterMs = options.staleAfterMs ?? 15_000;
    this.now = options.now ?? Date.now;
  }

  /** Publishes the manifest and records a heartbeat of `workerId`; call it every few seconds. */
  async publish(manifest: PublishedModel, workerId: string): Promise<void> {
    const now = this.now();
    await this.redis
      .multi()
      .hset(this.keys.models, manifest.name, JSON.stringify(manifest))
      .zadd(this.keys.modelWorkers(manifest.name), now, workerId)
      .zremrangebyscore(this.keys.modelWorkers(manifest.name), '-inf', now - this.staleAfterMs)
      .exec();
  }

  /** Removes a stopping worker's heartbeat. */
  async withdraw(model: string, workerId: string): Promise<void> {
    await this.redis.zrem(this.keys.modelWorkers(model), workerId);
  }

  async get(name: string): Promise<ServedModel | null> {
    const json = await this.redis.hget(this.keys.models, name);
    if (json === null) return null;
    const manifest = PublishedModelSchema.parse(JSON.parse(json));
    return { manifest, liveWorkers: await this.countLiveWorkers(name) };
  }

  async list(): Promise<ServedModel[]> {
    const all = await this.redis.hgetall(this.keys.models);
    const names = Object.keys(all).sort();
    const served: ServedModel[] = [];
    for (const name of names) {
      const manifest = PublishedModelSchema.parse(JSON.parse(all[name] ?? 'null'));
      served.push({ manifest, liveWorkers: await this.countLiveWorkers(name) });
    }
    return served;
  }

  private async countLiveWorkers(name: string): Promise<number> {
    return this.redis.zcount(this.keys.modelWorkers(name), this.now() - this.staleAfterMs, '+inf');
  }
}
