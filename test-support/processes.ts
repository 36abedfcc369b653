import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { builtEntryPoints, modelMirrorDir, modelRepositoryDir } from './paths.js';

/** One JSON log line of a service. */
export type LogLine = Record<string, unknown> & { msg?: string };

/**
 * A gateway or worker running from its build in a child process, so that a test can kill it.
 * Its JSON log lines are kept in `logs` for assertions and for failure messages.
 */
export class ServiceProcess {
  readonly logs: LogLine[] = [];
  private readonly waiters: { match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolveExit) => {
      child.once('exit', (code, signal) => resolveExit({ code, signal }));
    });
    const onLine = (text: string) => {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { msg: text };
      }
      this.logs.push(line);
      for (const waiter of [...this.waiters]) {
        if (waiter.match(line)) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    };
    if (child.stdout) createInterface({ input: child.stdout }).on('line', onLine);
    if (child.stderr) createInterface({ input: child.stderr }).on('line', onLine);
  }

  static spawn(name: string, entryPoint: string, env: Record<string, string>): ServiceProcess {
    const child = spawn(process.execPath, [entryPoint], {
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new ServiceProcess(name, child);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Resolves with the first log line (already seen or still to come) that matches. */
  async waitForLog(match: (line: LogLine) => boolean, timeoutMs = 30_000): Promise<LogLine> {
    const seen = this.logs.find(match);
    if (seen) return seen;
    return new Promise((resolveLine, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(`${this.name}: no matching log line within ${timeoutMs} ms; last lines:\n${this.tail()}`),
        );
      }, timeoutMs);
      this.waiters.push({
        match,
        resolve: (line) => {
          clearTimeout(timer);
          resolveLine(line);
        },
      });
      void this.exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(
          new Error(`${this.name} exited (code ${code}, signal ${signal}); last lines:\n${this.tail()}`),
        );
      });
    });
  }

  /** The last log lines, for failure messages. */
  tail(count = 20): string {
    return this.logs
      .slice(-count)
      .map((line) => JSON.stringify(line))
      .join('\n');
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill(signal);
    await this.exited;
  }
}

/** A worker process; it logs `worker ready` with `metricsPort` once it consumes its queues. */
export async function startWorker(
  env: Record<string, string>,
): Promise<ServiceProcess & { metricsPort: number }> {
  const worker = ServiceProcess.spawn('worker', builtEntryPoints.worker, {
    MODEL_REPOSITORY: modelRepositoryDir,
    MODEL_MIRROR_DIR: modelMirrorDir,
    METRICS_PORT: '0',
    ...env,
  });
  const ready = await worker.waitForLog((line) => line.msg === 'worker ready', 60_000);
  return Object.assign(worker, { metricsPort: Number(ready.metricsPort) });
}

/** A gateway process; it logs `gateway listening` with `port` once it accepts requests. */
export async function startGateway(
  env: Record<string, string>,
): Promise<ServiceProcess & { port: number; baseUrl: string }> {
  const gateway = ServiceProcess.spawn('gateway', builtEntryPoints.gateway, { PORT: '0', ...env });
  const ready = await gateway.waitForLog((line) => line.msg === 'gateway listening', 30_000);
  const port = Number(ready.port);
  return Object.assign(gateway, { port, baseUrl: `http://127.0.0.1:${port}` });
}
