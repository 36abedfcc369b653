import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** One JSON log line of a service. */
export type LogLine = Record<string, unknown> & { msg?: string };

export interface SpawnOptions {
  /** Receives every output line as it arrives, for example to write it to a file. */
  onLine?: (line: string) => void;
  /** Start from the caller's whole environment instead of PATH alone. Default false. */
  inheritEnv?: boolean;
  /**
   * Make the process lead its own process group, so that `signalGroup` reaches it and its
   * children as Ctrl-C in a terminal would. Default false.
   */
  detached?: boolean;
}

/**
 * A gateway or worker running from its build in a child process, so that a test or a script
 * can stop or kill it. Its JSON log lines are kept in `logs` for assertions and error messages.
 */
export class ServiceProcess {
  readonly logs: LogLine[] = [];
  private readonly waiters: { match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    onRawLine?: (line: string) => void,
  ) {
    this.exited = new Promise((resolveExit) => {
      child.once('exit', (code, signal) => resolveExit({ code, signal }));
    });
    const onLine = (text: string) => {
      onRawLine?.(text);
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

  static spawn(
    name: string,
    entryPoint: string,
    env: Record<string, string>,
    options: SpawnOptions = {},
  ): ServiceProcess {
    const base = options.inheritEnv
      ? process.env
      : { PATH: process.env.PATH ?? '', NODE_ENV: 'test', LOG_LEVEL: 'info' };
    const child = spawn(process.execPath, [entryPoint], {
      env: { ...base, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: options.detached ?? false,
    });
    return new ServiceProcess(name, child, options.onLine);
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

  /** Returns the last log lines, for failure messages. */
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

  /** Sends `signal` to the process group of a process spawned with `detached`. */
  signalGroup(signal: NodeJS.Signals): void {
    process.kill(-this.pid, signal);
  }

  /** Sends SIGTERM so the service drains, and SIGKILL if it has not exited after `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    this.child.kill('SIGTERM');
    await this.exited;
    clearTimeout(timer);
  }
}
