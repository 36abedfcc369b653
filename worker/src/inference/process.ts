import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChildMessage, OutputReduction, ParentMessage, WireTensor } from './protocol.js';

/** How long a stopping inference process gets after SIGTERM before SIGKILL, in milliseconds. */
export const CHILD_KILL_TIMEOUT_MS = 2_000;

/** How long an inference process may take to load its model, in milliseconds. */
export const CHILD_LOAD_TIMEOUT_MS = 60_000;

const CHILD_ENTRY_POINT = fileURLToPath(new URL('./child.js', import.meta.url));

/** Input and output names the loaded ONNX session reports. */
export interface SessionSignature {
  inputNames: string[];
  outputNames: string[];
}

export interface RunRequest {
  feeds: Record<string, WireTensor>;
  outputName: string;
  reduction: OutputReduction;
}

export interface RunResult {
  output: WireTensor;
  inferenceMs: number;
}

/** The inference process ended (crash, kill or out of memory) while it ran a request. */
export class InferenceProcessExit extends Error {
  override readonly name = 'InferenceProcessExit';
  constructor(
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
  ) {
    super(`inference process exited (${signal ? `signal ${signal}` : `code ${exitCode}`})`);
  }
}

/** onnxruntime rejected a run, for example because of an input shape the model cannot take. */
export class InferenceRunError extends Error {
  override readonly name = 'InferenceRunError';
}

/**
 * One forked inference process holding one ONNX session. It runs one request at a time;
 * once it has exited (or been killed) it is never used again.
 */
export class InferenceProcess {
  private pending:
    | { runId: number; resolve: (result: RunResult) => void; reject: (error: Error) => void }
    | undefined;
  private nextRunId = 1;
  private exitInfo: InferenceProcessExit | undefined;
  readonly exited: Promise<InferenceProcessExit>;

  private constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((resolveExit) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = new InferenceProcessExit(code, signal);
        this.pending?.reject(this.exitInfo);
        this.pending = undefined;
        resolveExit(this.exitInfo);
      });
    });
    child.on('message', (message: ChildMessage) => this.onMessage(message));
    // A send to a process that is exiting fails here; its 'exit' follows and rejects the run.
    child.on('error', () => undefined);
  }

  /** Forks a process and loads the model in it; rejects (and kills it) when loading fails. */
  static async start(
    modelPath: string,
    intraOpThreads: number,
  ): Promise<{ process: InferenceProcess; signature: SessionSignature }> {
    const child = fork(CHILD_ENTRY_POINT, [], {
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const wrapper = new InferenceProcess(child);
    try {
      const signature = await wrapper.load(modelPath, intraOpThreads);
      return { process: wrapper, signature };
    } catch (error) {
      await wrapper.stop();
      throw error;
    }
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.exitInfo === undefined;
  }

  /** Runs one request; rejects with `InferenceProcessExit` when the process ends meanwhile. */
  run(request: RunRequest): Promise<RunResult> {
    if (this.exitInfo) return Promise.reject(this.exitInfo);
    if (this.pending) return Promise.reject(new Error('inference process is busy'));
    const runId = this.nextRunId++;
    return new Promise((resolve, reject) => {
      this.pending = { runId, resolve, reject };
      this.send({ type: 'run', runId, ...request });
    });
  }

  /** Ends the process: SIGTERM, then SIGKILL after `CHILD_KILL_TIMEOUT_MS`. Safe to call again. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.exitInfo) return;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), CHILD_KILL_TIMEOUT_MS);
    await this.exited;
    clearTimeout(timer);
  }

  private load(modelPath: string, intraOpThreads: number): Promise<SessionSignature> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`model did not load within ${CHILD_LOAD_TIMEOUT_MS} ms`)),
        CHILD_LOAD_TIMEOUT_MS,
      );
      const onMessage = (message: ChildMessage) => {
        if (message.type !== 'loaded' && message.type !== 'load-failed') return;
        clearTimeout(timer);
        this.child.off('message', onMessage);
        if (message.type === 'loaded')
          resolve({ inputNames: message.inputNames, outputNames: message.outputNames });
        else reject(new Error(message.message));
      };
      this.child.on('message', onMessage);
      void this.exited.then((exit) => {
        clearTimeout(timer);
        reject(exit);
      });
      this.send({ type: 'load', modelPath, intraOpThreads });
    });
  }

  private onMessage(message: ChildMessage): void {
    const pending = this.pending;
    if (!pending) return;
    if (message.type === 'result' && message.runId === pending.runId) {
      this.pending = undefined;
      pending.resolve({ output: message.output, inferenceMs: message.inferenceMs });
    } else if (message.type === 'run-failed' && message.runId === pending.runId) {
      this.pending = undefined;
      pending.reject(new InferenceRunError(message.message));
    }
  }

  private send(message: ParentMessage): void {
    this.child.send(message);
  }
}
