import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Root of this repository. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The folder with the real models and inputs the tests use (`models/`, `data/`). Set
 * MEDAI_SHARED_DIR to point elsewhere; by default it sits beside the repository.
 */
export const sharedDir = resolve(process.env.MEDAI_SHARED_DIR ?? join(repoRoot, '..', 'shared'));

/** Local copies of the model files (`<name>/model.onnx`), used as MODEL_MIRROR_DIR. */
export const modelMirrorDir = join(sharedDir, 'models');

/** The model manifests of this repository (`<name>/model.json`), used as MODEL_REPOSITORY. */
export const modelRepositoryDir = join(repoRoot, 'models');

export const dataFiles = {
  nucleiPng: join(sharedDir, 'data/nuclei/dsb2018-nuclei.png'),
  nucleiInputNpy: join(sharedDir, 'data/nuclei/dsb2018-nuclei.input.npy'),
  nucleiExpectedNpy: join(sharedDir, 'data/nuclei/dsb2018-nuclei.expected.npy'),
  mriVolume: join(sharedDir, 'data/mri/t1-conformed.nii.gz'),
  dicomCtUncompressed: join(sharedDir, 'data/dicom/ct-explicit-little-endian.dcm'),
  dicomCtJpegLs: join(sharedDir, 'data/dicom/ct-jpeg-ls.dcm'),
};

export const builtEntryPoints = {
  gateway: join(repoRoot, 'gateway/dist/main.js'),
  worker: join(repoRoot, 'worker/dist/main.js'),
};

/** Throws with the fix when a file the tests need is missing. */
export function requireFile(path: string, hint: string): string {
  if (!existsSync(path)) throw new Error(`missing ${path}: ${hint}`);
  return path;
}
