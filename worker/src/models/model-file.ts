import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ModelManifest } from '@medai-flow/contracts';
import { ModelLoadError } from '../errors.js';

/** Folders a model file is taken from: the repository, the mirror, or the download cache. */
export interface ModelFileSources {
  repositoryDir: string;
  mirrorDir?: string | undefined;
  cacheDir: string;
}

/** A model file on disk with the SHA-256 of its bytes. */
export interface ModelFile {
  path: string;
  sha256: string;
  origin: 'repository' | 'mirror' | 'cache' | 'download';
}

/** Maximum duration of one model file download, in milliseconds. */
const DOWNLOAD_TIMEOUT_MS = 5 * 60_000;

/**
 * Finds the ONNX file of a model: `<repository>/<name>/model.onnx`, else
 * `<mirror>/<name>/model.onnx` when a mirror is configured (never the network), else the
 * cached or freshly downloaded `source.url`. Whatever the origin, the file's SHA-256 must
 * equal `source.sha256` when the manifest has a source.
 */
export async function resolveModelFile(
  manifest: ModelManifest,
  sources: ModelFileSources,
): Promise<ModelFile> {
  const inRepository = join(sources.repositoryDir, manifest.name, 'model.onnx');
  if (existsSync(inRepository)) return verified(manifest, inRepository, 'repository');

  if (sources.mirrorDir !== undefined) {
    const inMirror = join(sources.mirrorDir, manifest.name, 'model.onnx');
    if (!existsSync(inMirror)) {
      throw new ModelLoadError(
        'model-file-missing',
        manifest.name,
        `model file of ${manifest.name} not found: neither ${inRepository} nor ${inMirror} exists (MODEL_MIRROR_DIR is set, so nothing is downloaded)`,
      );
    }
    return verified(manifest, inMirror, 'mirror');
  }

  if (manifest.source === undefined) {
    throw new ModelLoadError(
      'model-file-missing',
      manifest.name,
      `model file of ${manifest.name} not found at ${inRepository} and its manifest has no source to download`,
    );
  }
  const cached = join(sources.cacheDir, manifest.name, `${manifest.source.sha256}.onnx`);
  if (existsSync(cached)) return verified(manifest, cached, 'cache');
  return downloadVerified(manifest, manifest.source.url, cached);
}

/** SHA-256 of a file, read as a stream so that large models are not held in memory. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function verified(
  manifest: ModelManifest,
  path: string,
  origin: ModelFile['origin'],
): Promise<ModelFile> {
  const sha256 = await sha256File(path);
  const expected = manifest.source?.sha256;
  if (expected !== undefined && sha256 !== expected) {
    throw new ModelLoadError(
      'checksum-mismatch',
      manifest.name,
      `model file ${path} of ${manifest.name} has SHA-256 ${sha256}, but its manifest expects ${expected}`,
    );
  }
  return { path, sha256, origin };
}

/** Downloads to a partial file, checks it, and only then moves it into the cache. */
async function downloadVerified(manifest: ModelManifest, url: string, target: string): Promise<ModelFile> {
  await mkdir(dirname(target), { recursive: true });
  const partial = `${target}.${process.pid}.partial`;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    await writeFile(partial, new Uint8Array(await response.arrayBuffer()));
  } catch (error) {
    await rm(partial, { force: true });
    throw new ModelLoadError(
      'download-failed',
      manifest.name,
      `download of ${manifest.name} from ${url} failed: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  try {
    const file = await verified(manifest, partial, 'download');
    await rename(partial, target);
    return { ...file, path: target };
  } finally {
    await rm(partial, { force: true });
  }
}
