/**
 * Entry point of an inference process: loads one ONNX model once, then runs the tensors
 * its parent sends. `session.run` blocks this process's only JavaScript thread for the whole
 * inference, which is why it does not run in the worker process that renews BullMQ locks.
 */
import ort from 'onnxruntime-node';
import type { ChildMessage, ParentMessage, WireTensor } from './protocol.js';
import { argmaxChannels } from './reduce.js';

let session: ort.InferenceSession | undefined;

function send(message: ChildMessage): void {
  process.send?.(message);
}

async function load(modelPath: string, intraOpThreads: number): Promise<void> {
  try {
    session = await ort.InferenceSession.create(modelPath, {
      intraOpNumThreads: intraOpThreads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    send({ type: 'loaded', inputNames: [...session.inputNames], outputNames: [...session.outputNames] });
  } catch (error) {
    send({ type: 'load-failed', message: messageOf(error) });
  }
}

async function run(message: Extract<ParentMessage, { type: 'run' }>): Promise<void> {
  if (!session) {
    send({ type: 'run-failed', runId: message.runId, message: 'model is not loaded' });
    return;
  }
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, tensor] of Object.entries(message.feeds)) {
      feeds[name] = new ort.Tensor(tensor.type, tensor.data, tensor.dims);
    }
    const started = performance.now();
    const results = await session.run(feeds, [message.outputName]);
    const inferenceMs = performance.now() - started;
    const output = results[message.outputName];
    if (!output) throw new Error(`the model returned no output ${message.outputName}`);
    send({ type: 'result', runId: message.runId, output: reduce(output, message.reduction), inferenceMs });
    output.dispose();
  } catch (error) {
    send({ type: 'run-failed', runId: message.runId, message: messageOf(error) });
  }
}

function reduce(output: ort.Tensor, reduction: 'none' | 'argmax'): WireTensor {
  if (reduction === 'argmax') {
    if (output.type !== 'float32') throw new Error(`argmax needs float32 scores, got ${output.type}`);
    return argmaxChannels(output.data as Float32Array, output.dims);
  }
  return {
    type: output.type as WireTensor['type'],
    data: output.data as WireTensor['data'],
    dims: [...output.dims],
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

process.on('message', (message: ParentMessage) => {
  if (message.type === 'load') void load(message.modelPath, message.intraOpThreads);
  else if (message.type === 'run') void run(message);
});

// The worker process died (even by SIGKILL): an orphaned inference process would only hold memory.
process.on('disconnect', () => process.exit(0));

// Ctrl-C in a terminal signals the whole process group. The worker drains on SIGINT, and the
// job it lets finish runs here, so this process ignores SIGINT and is stopped by its parent.
process.on('SIGINT', () => undefined);
