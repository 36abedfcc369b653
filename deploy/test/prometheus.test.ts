import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { modelNames, readRepoFile, repoRoot } from './support.js';

const RULES = 'deploy/prometheus/rules/medai-flow.yml';
const RULE_TESTS = 'deploy/prometheus/tests/medai-flow.test.yml';

/** The promtool that scripts/ensure-promtool.sh extracted, else the one on the PATH. */
const PROMTOOL = existsSync(join(repoRoot, '.tools/bin/promtool'))
  ? join(repoRoot, '.tools/bin/promtool')
  : 'promtool';

/** Runs promtool; fails with the setup command when it is missing. */
function promtool(...args: string[]): string {
  const found = spawnSync(PROMTOOL, ['--version'], { encoding: 'utf8' });
  if (found.error) {
    throw new Error(
      'promtool not found: run "bash scripts/ensure-promtool.sh" (pnpm test does) and run again',
    );
  }
  return execFileSync(PROMTOOL, args, {
    cwd: repoRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

interface Rule {
  alert: string;
  expr: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

const groups = (parse(readRepoFile(RULES)) as { groups: { rules: Rule[] }[] }).groups;
const rules = groups.flatMap((group) => group.rules);
const ruleTests = parse(readRepoFile(RULE_TESTS)) as {
  tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
};

describe('alert rules', () => {
  it('pass promtool check rules', () => {
    expect(promtool('check', 'rules', RULES)).toContain('SUCCESS');
  });

  it('pass their promtool unit tests', () => {
    expect(promtool('test', 'rules', RULE_TESTS)).toContain('SUCCESS');
  });

  it('pass promtool check config for the local stack', () => {
    expect(promtool('check', 'config', '--syntax-only', 'deploy/prometheus/prometheus.yml')).toContain(
      'SUCCESS',
    );
  });

  it('each alert has a firing and a quiet test', () => {
    const cases = ruleTests.tests.flatMap((test) => test.alert_rule_test);
    for (const alert of new Set(rules.map((rule) => rule.alert))) {
      const ofAlert = cases.filter((test) => test.alertname === alert);
      expect(
        ofAlert.some((test) => test.exp_alerts.length > 0),
        `${alert} fires`,
      ).toBe(true);
      expect(
        ofAlert.some((test) => test.exp_alerts.length === 0),
        `${alert} stays quiet`,
      ).toBe(true);
    }
  });

  it('cover what operators must hear about', () => {
    expect(new Set(rules.map((rule) => rule.alert))).toEqual(
      new Set([
        'GatewayHighErrorRate',
        'GatewayHighLatency',
        'GatewayRateLimitRejections',
        'GatewayAuthFailureSpike',
        'RedisDown',
        'GatewayAbsent',
        'QueueDepthHigh',
        'QueueWaitHigh',
        'QueueStalled',
        'JobsFailing',
        'WorkerAbsent',
      ]),
    );
  });

  it('watch for absent workers of every model', () => {
    const absent = rules.filter((rule) => rule.alert === 'WorkerAbsent').map((rule) => rule.labels.model);
    expect(absent.sort()).toEqual(modelNames());
  });

  it('link each alert to its runbook section', () => {
    const readme = readRepoFile('deploy/README.md').toLowerCase();
    for (const rule of rules) {
      expect(rule.annotations.runbook).toBe(`deploy/README.md#${rule.alert.toLowerCase()}`);
      expect(readme, rule.alert).toContain(`### ${rule.alert.toLowerCase()}`);
    }
  });
});
