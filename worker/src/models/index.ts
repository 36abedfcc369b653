export { readManifest } from './manifest.js';
export { type ModelFile, type ModelFileSources, resolveModelFile, sha256File } from './model-file.js';
export { type LoadedModel, loadRepository } from './repository.js';
export { type ModelRuntime, type RuntimeOptions, startRuntime } from './runtime.js';
