import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JSONObjectReader } from '@actions/workflow-parser/templates/json-object-reader';
import { TemplateSchema } from '@actions/workflow-parser/templates/schema/index';
import {
  TemplateContext,
  TemplateValidationErrors,
} from '@actions/workflow-parser/templates/template-context';
import { readTemplate } from '@actions/workflow-parser/templates/template-reader';
import { NoOperationTraceWriter } from '@actions/workflow-parser/templates/trace-writer';
import { WORKFLOW_ROOT } from '@actions/workflow-parser/workflows/workflow-constants';
import { YamlObjectReader } from '@actions/workflow-parser/workflows/yaml-object-reader';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from './support.js';

const workflowsDir = join(repoRoot, '.github/workflows');
const workflowFiles = readdirSync(workflowsDir).filter((name) => /\.ya?ml$/.test(name));

/**
 * Validates a workflow against the schema GitHub's own parser uses, with the same steps as
 * `parseWorkflow`. NOTE: the package's index imports its schema JSON without an import
 * attribute, which Node 20 rejects (https://github.com/actions/languageservices/issues/387), so the schema is
 * read from its file and the parser's modules are imported one by one.
 */
function validateWorkflow(name: string, content: string): string[] {
  const schemaPath = join(repoRoot, 'node_modules/@actions/workflow-parser/dist/workflow-v1.0.min.json');
  const schema = TemplateSchema.load(new JSONObjectReader(undefined, readFileSync(schemaPath, 'utf8')));
  const context = new TemplateContext(new TemplateValidationErrors(), schema, new NoOperationTraceWriter());
  const fileId = context.getFileId(name);
  const reader = new YamlObjectReader(fileId, content);
  for (const error of reader.errors) context.error(fileId, error.message, error.range);
  if (reader.errors.length === 0) readTemplate(context, WORKFLOW_ROOT, reader, fileId);
  return context.errors.getErrors().map((error) => error.message);
}

interface Job {
  needs?: string | string[];
  if?: string;
  permissions?: Record<string, string>;
  services?: Record<string, { image: string }>;
  steps: { uses?: string; run?: string; with?: Record<string, string> }[];
}

const ciText = readFileSync(join(workflowsDir, 'ci.yml'), 'utf8');
const ci = parse(ciText) as { on: Record<string, unknown>; jobs: Record<string, Job> };
const needs = (job: string) => [ci.jobs[job]?.needs ?? []].flat();
const runs = (job: string) => ci.jobs[job]!.steps.map((step) => step.run ?? '').join('\n');
const uses = (job: string) => ci.jobs[job]!.steps.map((step) => step.uses ?? '');

describe('workflow files', () => {
  it.each(workflowFiles)('%s validates against the workflow schema', (file) => {
    expect(validateWorkflow(file, readFileSync(join(workflowsDir, file), 'utf8'))).toEqual([]);
  });

  it('schema check rejects a malformed workflow', () => {
    const errors = validateWorkflow('bad.yml', 'on: push\njobs:\n  a:\n    runs-on: x\n    stepz: []\n');
    expect(errors.length).toBeGreaterThan(0);
  });
});

describe('ci pipeline', () => {
  it('runs on every push and on pull requests', () => {
    expect(ci.on.push).toEqual({ branches: ['**'] });
    expect(ci.on).toHaveProperty('pull_request');
  });

  it('orders the four stages with needs', () => {
    expect(needs('lint')).toEqual([]);
    expect(needs('security-scan')).toEqual([]);
    expect(needs('test').sort()).toEqual(['lint', 'security-scan']);
    expect(needs('build')).toEqual(['test']);
    expect(needs('deploy')).toEqual(['build']);
  });

  it('scans for vulnerabilities, secrets and code flaws', () => {
    expect(runs('lint')).toContain('pnpm typecheck');
    expect(runs('lint')).toContain('pnpm lint');
    expect(runs('security-scan')).toContain('pnpm audit');
    expect(uses('security-scan').some((action) => action.startsWith('trufflesecurity/trufflehog@'))).toBe(
      true,
    );
    expect(uses('security-scan')).toContain('github/codeql-action/analyze@v3');
  });

  it('tests against a Redis service container', () => {
    expect(ci.jobs.test!.services?.redis?.image).toMatch(/^redis:\d/);
    expect(runs('test')).toContain('prometheus');
    expect(runs('test')).toContain('vitest run');
  });

  it('builds images on branch pushes only', () => {
    expect(ci.jobs.build!.if).toBe("github.event_name == 'push'");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not a template literal.
    expect(ciText).toContain('v${{ github.run_number }}-${{ github.sha }}');
    expect(runs('build')).toMatch(
      /if \[ "\$\{\{ github.ref \}\}" = "refs\/heads\/main" \]; then\s+tags="\$tags,\$IMAGE:latest"/,
    );
  });

  it('deploys from main only, with OIDC', () => {
    expect(ci.jobs.deploy!.if).toBe("github.event_name == 'push' && github.ref == 'refs/heads/main'");
    for (const job of ['build', 'deploy']) {
      expect(ci.jobs[job]!.permissions?.['id-token']).toBe('write');
      const login = ci.jobs[job]!.steps.find((step) => step.uses?.startsWith('azure/login@'));
      expect(Object.keys(login?.with ?? {}).sort()).toEqual(['client-id', 'subscription-id', 'tenant-id']);
    }
    expect(ciText).not.toMatch(/secrets\./);
  });

  it('checks the rollout and rolls back on failure', () => {
    expect(runs('deploy')).toContain('kubectl apply -k deploy/k8s/overlays/aks');
    expect(runs('deploy')).toContain('rollout status');
    const rollback = ci.jobs.deploy!.steps.find((step) => step.run?.includes('rollout undo'));
    expect((rollback as { if?: string } | undefined)?.if).toBe('failure()');
  });
});
