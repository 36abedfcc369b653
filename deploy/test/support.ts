import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

/** Root of this repository. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Any Kubernetes object, as far as these tests read it. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: manifests are checked field by field in the tests.
  spec?: any;
  data?: Record<string, string>;
}

/** Parses a multi-document YAML text; throws on the first document with a syntax error. */
export function parseYamlDocuments(text: string, source: string): unknown[] {
  return parseAllDocuments(text).map((document, index) => {
    if (document.errors.length > 0) {
      throw new Error(`${source}, document ${index + 1}: ${document.errors[0]?.message}`);
    }
    return document.toJS();
  });
}

/** Renders a kustomization with `kubectl kustomize`; throws with kubectl's message when it fails. */
export function renderKustomization(path: string): KubeObject[] {
  const output = execFileSync('kubectl', ['kustomize', join(repoRoot, path)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return parseYamlDocuments(output, path).filter((object) => object !== null) as KubeObject[];
}

export function readRepoFile(path: string): string {
  return readFileSync(join(repoRoot, path), 'utf8');
}

/** Names of the model folders of the repository (`models/<name>/model.json`). */
export function modelNames(): string[] {
  const modelsDir = join(repoRoot, 'models');
  return readdirSync(modelsDir)
    .filter((name) => statSync(join(modelsDir, name, 'model.json'), { throwIfNoEntry: false })?.isFile())
    .sort();
}

/** Text of every TypeScript source file under a folder of the repository. */
export function readSources(path: string): string {
  const root = join(repoRoot, path);
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts')) files.push(full);
    }
  };
  walk(root);
  return files.map((file) => readFileSync(file, 'utf8')).join('\n');
}

/** A zod object schema, or one wrapped in a pipe or an effect, as far as its keys go. */
interface SchemaLike {
  shape?: Record<string, unknown>;
  in?: SchemaLike;
  safeParse(input: unknown): { success: boolean; data?: unknown; error?: { issues: unknown[] } };
}

/** Returns the environment variable names a service's zod schema defines. */
export function schemaKeys(schema: SchemaLike): Set<string> {
  let current: SchemaLike | undefined = schema;
  while (current && !current.shape) current = current.in;
  if (!current?.shape) throw new TypeError('not a zod object schema');
  return new Set(Object.keys(current.shape));
}
