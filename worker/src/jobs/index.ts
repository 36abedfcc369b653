export { ActiveJobs, type StopReason } from './active.js';
export { CancellationListener } from './cancellation.js';
export { type ConsumerOptions, startConsumer } from './consumer.js';
export { type PipelineOutput, runPipeline } from './pipeline.js';
export { createProcessor, type ProcessorDependencies } from './processor.js';
