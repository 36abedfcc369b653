import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { RedisMemoryServer } from 'redis-memory-server';

/** Root of this repository. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface StackOptions {
  /** Gateway port; 0 picks a free one. */
  gatewayPort: number;
  /** Where the services' log lines go: a folder (one file per service) or 'inherit' (this terminal). */
  logs: { folder: string } | 'inherit';
  /** Extra environment for both services. */
  env?: Record<string, string>;
  /** Reports progress lines meant for a person. */
  say: (line: string) => void;
}

export interface Stack {
  gatewayUrl: string;
  /** HS256 secret the gateway verifies tokens with; generated for this run. */
  jwtSecret: string;
  stop(): Promise<void>;
}

/**
 * Starts what a local run needs: Redis (an embedded server when REDIS_URL is unset, said in
 * the output), one worker serving every model in ./models and one gateway. `stop()` stops
 * everything it started, in reverse order, even when a step fails.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const step of stops.reverse()) await step().catch(() => undefined);
  };
  try {
    const redisUrl = await resolveRedis(options, stops);
    const jwtSecret = randomBytes(32).toString('base64url');
    const env: Record<string, string> = {
      ...inheritedEnv(),
      NODE_ENV: 'development',
      REDIS_URL: redisUrl,
      REDIS_PREFIX: `local-${randomBytes(3).toString('hex')}`,
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
    stops.push(() => worker.stop());
    await worker.ready('worker ready', 120_000);

    options.say('starting the gateway');
    const gateway = launch(
      'gateway',
      join(repoRoot, 'gateway/dist/main.js'),
      { ...env, PORT: String(options.gatewayPort) },
      options,
    );
    stops.push(() => gateway.stop());
    const listening = await gateway.ready('gateway listening', 30_000);
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

/** The caller's environment minus the variables each service is given explicitly here. */
function inheritedEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && name !== 'PORT' && name !== 'METRICS_PORT') env[name] = value;
  }
  return env;
}

interface LaunchedService {
  ready(message: string, timeoutMs: number): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** Time a service gets to drain after SIGTERM before it is killed. */
const STOP_GRACE_MS = 15_000;

function launch(
  name: string,
  entryPoint: string,
  env: Record<string, string>,
  options: StackOptions,
): LaunchedService {
  const child: ChildProcess = spawn(process.execPath, [entryPoint], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let sink: (line: string) => void = (line) => process.stdout.write(`${line}\n`);
  if (options.logs !== 'inherit') {
    mkdirSync(options.logs.folder, { recursive: true });
    const file = createWriteStream(join(options.logs.folder, `${name}.log`));
    sink = (line) => file.write(`${line}\n`);
  }
  const lines: Record<string, unknown>[] = [];
  const listeners: ((line: Record<string, unknown>) => void)[] = [];
  const onLine = (text: string) => {
    sink(text);
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text) as Record<string, unknown>;
    } catch {
      line = { msg: text };
    }
    lines.push(line);
    for (const listener of listeners) listener(line);
  };
  if (child.stdout) createInterface({ input: child.stdout }).on('line', onLine);
  if (child.stderr) createInterface({ input: child.stderr }).on('line', onLine);
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));

  return {
    ready: (message, timeoutMs) =>
      new Promise((resolveReady, reject) => {
        const seen = lines.find((line) => line.msg === message);
        if (seen) return resolveReady(seen);
        const timer = setTimeout(
          () => reject(new Error(`${name} did not log "${message}" within ${timeoutMs} ms`)),
          timeoutMs,
        );
        listeners.push((line) => {
          if (line.msg !== message) return;
          clearTimeout(timer);
          resolveReady(line);
        });
        void exited.then((code) => {
          clearTimeout(timer);
          const last = lines
            .slice(-5)
            .map((line) => JSON.stringify(line))
            .join('\n');
          reject(new Error(`${name} exited with code ${code} before it was ready; last lines:\n${last}`));
        });
      }),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}
