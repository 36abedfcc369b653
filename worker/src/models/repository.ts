import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelManifest } from '@medai-flow/contracts';
import { ModelLoadError } from '../errors.js';
import { readManifest } from './manifest.js';
import { type ModelFile, type ModelFileSources, resolveModelFile } from './model-file.js';

/** A validated manifest with the checked ONNX file it runs. */
export interface LoadedModel {
  manifest: ModelManifest;
  file: ModelFile;
}

/**
 * Loads the models of a repository folder: every `<name>/model.json`, or only `names` when
 * given. Throws a `ModelLoadError` naming the model and file at the first bad one.
 */
export async function loadRepository(
  sources: ModelFileSources,
  names: readonly string[],
): Promise<LoadedModel[]> {
  const available = await listModels(sources.repositoryDir);
  const selected = names.length > 0 ? names : available;
  for (const name of selected) {
    if (!available.includes(name)) {
      throw new ModelLoadError(
        'manifest-invalid',
        name,
        `model ${name} is not in the repository ${sources.repositoryDir} (found: ${available.join(', ') || 'none'})`,
      );
    }
  }
  if (selected.length === 0) {
    throw new ModelLoadError('manifest-invalid', '', `no model.json found in ${sources.repositoryDir}`);
  }
  const loaded: LoadedModel[] = [];
  for (const name of selected) {
    const manifest = await readManifest(join(sources.repositoryDir, name, 'model.json'), name);
    loaded.push({ manifest, file: await resolveModelFile(manifest, sources) });
  }
  return loaded;
}

async function listModels(repositoryDir: string): Promise<string[]> {
  const entries = await readdir(repositoryDir, { withFileTypes: true });
  return entries
    .filter((entry) => entry.isDirectory() && existsSync(join(repositoryDir, entry.name, 'model.json')))
    .map((entry) => entry.name)
    .sort();
}
