import { readFile } from 'node:fs/promises';
import { type ModelManifest, ModelManifestSchema } from '@medai-flow/contracts';
import { ModelLoadError } from '../errors.js';

/** Reads and validates `<dir>/model.json`; the error names the file and every invalid field. */
export async function readManifest(path: string, expectedName: string): Promise<ModelManifest> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new ModelLoadError(
      'manifest-invalid',
      expectedName,
      `cannot read manifest ${path}: ${reason(error)}`,
      {
        cause: error,
      },
    );
  }
  const parsed = ModelManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new ModelLoadError(
      'manifest-invalid',
      expectedName,
      `invalid manifest ${path}: ${issues.join('; ')}`,
    );
  }
  if (parsed.data.name !== expectedName) {
    throw new ModelLoadError(
      'manifest-invalid',
      expectedName,
      `invalid manifest ${path}: name "${parsed.data.name}" does not match its folder "${expectedName}"`,
    );
  }
  return parsed.data;
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
