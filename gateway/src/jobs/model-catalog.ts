import type { ModelRegistry, ServedModel } from '@medai-flow/common';
import { ModelNameSchema } from '@medai-flow/contracts';
import { GatewayError } from '../errors/gateway-error.js';
import type { Clock } from '../http/context.js';
import type { RedisCalls } from '../redis/redis-calls.js';

/**
 * The models workers have published, read through a short in-process cache so that listing
 * and validating submissions does not cost a Redis round trip per request. A model that is
 * not in the cache is always read from Redis, so a newly published model is seen at once.
 */
export class ModelCatalog {
  private readonly entries = new Map<string, { model: ServedModel; readAt: number }>();

  constructor(
    private readonly registry: ModelRegistry,
    private readonly redisCalls: RedisCalls,
    private readonly clock: Clock,
    private readonly cacheMs: number,
  ) {}

  /** Lists every published model, live or scaled to zero. */
  async list(): Promise<ServedModel[]> {
    const models = await this.redisCalls.run('model_read', () => this.registry.list());
    const readAt = this.clock.now();
    for (const model of models) this.entries.set(model.manifest.name, { model, readAt });
    return models;
  }

  /** Returns the model named `name`, or throws a 404 `model_not_found`. */
  async require(name: string): Promise<ServedModel> {
    const cached = this.entries.get(name);
    if (cached && this.clock.now() - cached.readAt < this.cacheMs) return cached.model;
    // Built only on a miss: an error captures a stack trace, which costs more than the lookup.
    const notFound = () =>
      new GatewayError('model_not_found', `no model named "${name.slice(0, 64)}" is published`);
    if (!ModelNameSchema.safeParse(name).success) throw notFound();
    const model = await this.redisCalls.run('model_read', () => this.registry.get(name));
    if (!model) {
      this.entries.delete(name);
      throw notFound();
    }
    this.entries.set(name, { model, readAt: this.clock.now() });
    return model;
  }
}
