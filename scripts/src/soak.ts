import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ApiError, MedAIClient } from '@medai-flow/client';
import { isTerminal, type JobStatus } from '@medai-flow/contracts';
import { RedisServer, ServiceProcess } from '@medai-flow/testkit';
import { repoRoot } from './stack.js';
import { mintDevelopmentToken } from './token.js';

const USAGE = `Usage: pnpm soak [--jobs N] [--workers N] [--kill-every SECONDS]

Submits N nuclei-unet jobs (default 2000) to a gateway backed by a durable private Redis
server (AOF, appendfsync always) and W workers (default 2), kills a random worker with
SIGKILL every few seconds (and starts a new one), restarts Redis once, then checks that every
job answered 202 ended exactly once in a terminal state. Prints the counts; exits 1 on a loss.

Environment: MODEL_MIRROR_DIR (model files), DEMO_DATA_DIR (folder with nuclei/dsb2018-nuclei.png).`;

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '2000' },
    workers: { type: 'string', default: '2' },
    'kill-every': { type: 'string', default: '8' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

/** Worker log messages that mark a job's end; each accepted job must have exactly one. */
const TERMINAL_LOG_MESSAGES = new Set(['job succeeded', 'job failed', 'job cancelled', 'job expired']);
const SUBMIT_CONCURRENCY = 8;
const STOP_GRACE_MS = 10_000;

interface SoakCounts {
  submitted: number;
  accepted: number;
  rejectedWith503: number;
  retriedAfter409: number;
  workerKills: number;
  redisRestarts: number;
  statuses: Partial<Record<JobStatus | 'not-terminal' | 'missing', number>>;
  terminalLogLines: { exactlyOnce: number; none: number; moreThanOnce: number };
}

async function runSoak(): Promise<boolean> {
  const jobCount = Number(values.jobs);
  const workerCount = Number(values.workers);
  const killEveryMs = Number(values['kill-every']) * 1000;
  const dataDir = process.env.DEMO_DATA_DIR;
  if (!dataDir)
    throw new Error('DEMO_DATA_DIR is not set: point it at the folder with nuclei/dsb2018-nuclei.png');
  const image = await readFile(resolve(dataDir, 'nuclei/dsb2018-nuclei.png'));

  const redis = await RedisServer.start({ durable: true });
  const secret = randomBytes(32).toString('base64url');
  const env: Record<string, string> = {
    NODE_ENV: 'development',
    LOG_LEVEL: 'info',
    REDIS_URL: redis.url,
    REDIS_PREFIX: 'soak',
    AUTH_JWT_SECRET: secret,
    RATE_LIMIT_PER_MINUTE: '1000000',
    // One subject submits every job, faster than the workers drain them.
    QUEUE_MAX_JOBS_PER_SUBJECT: '100000',
    QUEUE_MAX_DEPTH: '100000',
    MODEL_REPOSITORY: join(repoRoot, 'models'),
    WORKER_MODELS: 'nuclei-unet',
    INFERENCE_THREADS: '1',
    LOCK_DURATION_SECONDS: '5',
    STALLED_INTERVAL_SECONDS: '2',
    MAX_STALLED_COUNT: '5',
    METRICS_PORT: '0',
    PORT: '0',
    ...(process.env.MODEL_MIRROR_DIR ? { MODEL_MIRROR_DIR: resolve(process.env.MODEL_MIRROR_DIR) } : {}),
  };
  const workers: ServiceProcess[] = [];
  const retired: ServiceProcess[] = [];
  const startWorker = async () => {
    const worker = ServiceProcess.spawn('worker', join(repoRoot, 'worker/dist/main.js'), env);
    workers.push(worker);
    await worker.waitForLog((line) => line.msg === 'worker ready', 60_000);
  };
  const gateway = ServiceProcess.spawn('gateway', join(repoRoot, 'gateway/dist/main.js'), env);
  const counts: SoakCounts = {
    submitted: 0,
    accepted: 0,
    rejectedWith503: 0,
    retriedAfter409: 0,
    workerKills: 0,
    redisRestarts: 0,
    statuses: {},
    terminalLogLines: { exactlyOnce: 0, none: 0, moreThanOnce: 0 },
  };
  let stopChaos = false;
  let chaos: Promise<void> = Promise.resolve();
  try {
    const listening = await gateway.waitForLog((line) => line.msg === 'gateway listening', 30_000);
    for (let i = 0; i < workerCount; i++) await startWorker();
    const token = await mintDevelopmentToken({ secret, subject: 'soak', ttlSeconds: 4 * 3600 });
    const client = new MedAIClient({ baseUrl: `http://127.0.0.1:${Number(listening.port)}`, token });

    chaos = (async () => {
      while (!stopChaos) {
        await sleep(killEveryMs * (0.5 + Math.random()));
        if (stopChaos) break;
        const victim = workers.splice(Math.floor(Math.random() * workers.length), 1)[0];
        if (!victim) continue;
        await victim.kill('SIGKILL');
        retired.push(victim);
        counts.workerKills++;
        await startWorker().catch((error: unknown) => {
          console.error(`a replacement worker failed to start: ${String(error)}`);
        });
      }
    })();

    const accepted: string[] = [];
    let next = 0;
    const submitOne = async (): Promise<void> => {
      while (next < jobCount) {
        next++;
        counts.submitted++;
        if (counts.submitted === Math.floor(jobCount * 0.4) && counts.redisRestarts === 0) {
          counts.redisRestarts++;
          await redis.restart();
        }
        accepted.push(await submitWithRetry(client, image, counts));
      }
    };
    await Promise.all(Array.from({ length: SUBMIT_CONCURRENCY }, submitOne));
    counts.accepted = accepted.length;

    for (const id of accepted) {
      const status = await waitForEnd(client, id);
      counts.statuses[status] = (counts.statuses[status] ?? 0) + 1;
    }
    stopChaos = true;
    await chaos;
    countTerminalLogLines([...workers, ...retired], accepted, counts);
  } finally {
    stopChaos = true;
    await chaos;
    await Promise.all([gateway, ...workers].map((service) => service.stop(STOP_GRACE_MS)));
    await redis.stop();
  }
  console.log(JSON.stringify(counts, null, 2));
  const allEnded =
    counts.accepted === jobCount &&
    (counts.statuses['not-terminal'] ?? 0) === 0 &&
    (counts.statuses.missing ?? 0) === 0;
  return allEnded && counts.terminalLogLines.exactlyOnce === counts.accepted;
}

/**
 * Submits until the gateway accepts. 503 (Redis restarting) and 409 (an earlier attempt with
 * this Idempotency-Key is still claimed) are retried with the same key, as a client should.
 */
async function submitWithRetry(client: MedAIClient, image: Buffer, counts: SoakCounts): Promise<string> {
  const idempotencyKey = randomUUID();
  for (;;) {
    try {
      const submission = await client.submit(
        'nuclei-unet',
        { mediaType: 'image/png', bytes: image },
        { idempotencyKey },
      );
      return submission.job.id;
    } catch (error) {
      if (!(error instanceof ApiError) || (error.status !== 503 && error.status !== 409)) throw error;
      if (error.status === 503) counts.rejectedWith503++;
      else counts.retriedAfter409++;
      await sleep(500);
    }
  }
}

async function waitForEnd(client: MedAIClient, id: string): Promise<JobStatus | 'not-terminal' | 'missing'> {
  const deadline = Date.now() + 600_000;
  while (Date.now() < deadline) {
    try {
      const job = await client.getJob(id);
      if (isTerminal(job.status)) return job.status;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return 'missing';
      if (!(error instanceof ApiError) || error.status !== 503) throw error;
    }
    await sleep(500);
  }
  return 'not-terminal';
}

function countTerminalLogLines(workers: ServiceProcess[], accepted: string[], counts: SoakCounts): void {
  const perJob = new Map<string, number>();
  for (const worker of workers) {
    for (const line of worker.logs) {
      if (
        typeof line.msg === 'string' &&
        TERMINAL_LOG_MESSAGES.has(line.msg) &&
        typeof line.jobId === 'string'
      ) {
        perJob.set(line.jobId, (perJob.get(line.jobId) ?? 0) + 1);
      }
    }
  }
  for (const id of accepted) {
    const seen = perJob.get(id) ?? 0;
    if (seen === 1) counts.terminalLogLines.exactlyOnce++;
    else if (seen === 0) counts.terminalLogLines.none++;
    else counts.terminalLogLines.moreThanOnce++;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolveSleep) => setTimeout(resolveSleep, ms));
}

if (values.help) {
  console.log(USAGE);
} else {
  runSoak()
    .then((ok) => {
      console.log(ok ? 'soak passed: every accepted job ended exactly once' : 'soak FAILED');
      process.exitCode = ok ? 0 : 1;
    })
    .catch((error: unknown) => {
      console.error(`soak failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    });
}
