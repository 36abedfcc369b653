import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deleteKeys, ServiceProcess } from '@medai-flow/testkit';
import { RedisMemoryServer } from 'redis-memory-server';

/** Root of this repository. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface StackOptions {
  /** Gateway port; 0 picks a free one. */
  gatewayPort: number;
  /** Destination of the services' log lines: a folder (one file per service) or 'inherit' (this terminal). */
  logs: { folder: string } | 'inherit';
  /** Extra environment for both services. */
  env?: Record<string, string>;
  /** Reports progress lines meant for a person. */
  say: (line: string) => void;
}

export interface Stack {
  gatewayUrl: string;
  /** HS256 secret the gateway verifies tokens with: AUTH_JWT_SECRET, else generated for this run. */
  jwtSecret: string;
  stop(): Promise<void>;
}

/**
 * Starts what a local run needs: Redis (an embedded server when REDIS_URL is unset, reported
 * in the output), one worker serving every model in ./models and one gateway. `stop()` stops
 * everything it started, in reverse order, even when a step fails.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const step of stops.reverse()) await step().catch(() => undefined);
  };
  try {
    const redisUrl = await resolveRedis(options, stops);
    // Every run writes under its own prefix, removed when the run stops, so a shared Redis keeps nothing.
    const prefix = `local-${randomBytes(3).toString('hex')}`;
    stops.push(() => deleteKeys(redisUrl, prefix));
    options.say(`this run writes under REDIS_PREFIX=${prefix} and removes those keys when it stops`);
    const jwtSecret = process.env.AUTH_JWT_SECRET ?? randomBytes(32).toString('base64url');
    const env: Record<string, string> = {
      ...inheritedEnv(),
      NODE_ENV: 'development',
      // A local run listens on loopback only, whatever the services' defaults for containers.
      HOST: '127.0.0.1',
      METRICS_HOST: '127.0.0.1',
      REDIS_URL: redisUrl,
      REDIS_PREFIX: prefix,
      AUTH_JWT_SECRET: jwtSecret,
      MODEL_REPOSITORY: process.env.MODEL_REPOSITORY ?? join(repoRoot, 'models'),
      ...options.env,
    };

    options.say('starting a worker (loading models)');
    const worker = launch(
      'worker',
      join(repoRoot, 'worker/dist/main.js'),
      { ...env, METRICS_PORT: '0' },
      options,
    );
    stops.push(() => worker.stop(STOP_GRACE_MS));
    await worker.waitForLog((line) => line.msg === 'worker ready', 120_000);

    options.say('starting the gateway');
    const gateway = launch(
      'gateway',
      join(repoRoot, 'gateway/dist/main.js'),
      { ...env, PORT: String(options.gatewayPort) },
      options,
    );
    stops.push(() => gateway.stop(STOP_GRACE_MS));
    const listening = await gateway.waitForLog((line) => line.msg === 'gateway listening', 30_000);
    return { gatewayUrl: `http://127.0.0.1:${Number(listening.port)}`, jwtSecret, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function resolveRedis(options: StackOptions, stops: (() => Promise<void>)[]): Promise<string> {
  if (process.env.REDIS_URL) return process.env.REDIS_URL;
  // The machine's redis-server, when there is one; without it redis-memory-server builds Redis from source.
  const systemBinary = execFileSync('sh', ['-c', 'command -v redis-server || true'], {
    encoding: 'utf8',
  }).trim();
  const server = await RedisMemoryServer.create(systemBinary ? { binary: { systemBinary } } : {});
  stops.push(async () => {
    await server.stop();
  });
  const url = `redis://${await server.getHost()}:${await server.getPort()}`;
  options.say(
    `REDIS_URL is unset: started an embedded Redis server at ${url} for this run (nothing is kept)`,
  );
  return url;
}

/** Returns the caller's environment minus the variables each service is given explicitly here. */
function inheritedEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && name !== 'PORT' && name !== 'METRICS_PORT') env[name] = value;
  }
  return env;
}

/** Time a service gets to drain after SIGTERM before it is killed. */
const STOP_GRACE_MS = 15_000;

function launch(
  name: string,
  entryPoint: string,
  env: Record<string, string>,
  options: StackOptions,
): ServiceProcess {
  let onLine = (line: string) => process.stdout.write(`${line}\n`);
  if (options.logs !== 'inherit') {
    mkdirSync(options.logs.folder, { recursive: true });
    const file = createWriteStream(join(options.logs.folder, `${name}.log`));
    onLine = (line) => file.write(`${line}\n`);
  }
  return ServiceProcess.spawn(name, entryPoint, env, { onLine });
}
