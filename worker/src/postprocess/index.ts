export { labelStats, labelsFromScores, sigmoid, softmaxTop } from './labels.js';
export { encodeNiftiMask, encodePngMask } from './mask.js';
export { toV2Output } from './outputs.js';
export { buildSections, type ResultSections, type SectionOptions } from './sections.js';
