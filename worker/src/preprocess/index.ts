export { decodeDicom } from './dicom.js';
export { decodeImage } from './image.js';
export { decodeNifti, NIFTI1_HEADER_BYTES } from './nifti.js';
export { normalizeInPlace } from './normalize.js';
export { prepareInput } from './prepare.js';
export { readStoredTensors } from './tensors.js';
export type { GreyImage, NiftiGeometry, PreparedInput, Volume } from './types.js';
