import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readRepoFile, readSources, renderKustomization } from './support.js';

/** Metric names a PromQL text uses, with histogram and counter suffixes mapped to the exported name. */
function metricNames(promql: string): Set<string> {
  const names = new Set<string>();
  const all = promql.matchAll(/\b([a-z_]+_(?:total|seconds|bucket|sum|count|size|up|depth))\b/g);
  for (const match of all) names.add(match[1]!.replace(/_(bucket|sum|count)$/, ''));
  return names;
}

function collectExpressions(): Record<string, string> {
  const rules = parse(readRepoFile('deploy/prometheus/rules/medai-flow.yml')) as {
    groups: { rules: { alert: string; expr: string }[] }[];
  };
  const dashboard = JSON.parse(readRepoFile('deploy/grafana/medai-flow.json')) as {
    panels: { title: string; targets: { expr: string }[] }[];
  };
  const expressions: Record<string, string> = {};
  for (const rule of rules.groups.flatMap((group) => group.rules))
    expressions[`rule ${rule.alert}`] = rule.expr;
  for (const panel of dashboard.panels) {
    expressions[`panel ${panel.title}`] = panel.targets.map((target) => target.expr).join('\n');
  }
  for (const object of renderKustomization('deploy/k8s/overlays/aks')) {
    if (object.kind !== 'ScaledObject') continue;
    for (const trigger of object.spec.triggers)
      expressions[`ScaledObject ${object.metadata.name}`] = trigger.metadata.query;
  }
  return expressions;
}

describe('metric names', () => {
  const exported = `${readSources('gateway/src')}\n${readSources('worker/src')}\n${readSources('packages')}`;

  it('in rules, dashboard and scalers are exported by a service', () => {
    for (const [where, expression] of Object.entries(collectExpressions())) {
      const names = metricNames(expression);
      expect(names.size, where).toBeGreaterThan(0);
      for (const name of names) {
        expect(exported, `${where} uses ${name}`).toMatch(new RegExp(`name: ['"]${name}['"]`));
      }
    }
  });

  it('extraction finds histogram base names', () => {
    expect([...metricNames('rate(job_queue_wait_seconds_bucket[5m]) / queue_depth')].sort()).toEqual([
      'job_queue_wait_seconds',
      'queue_depth',
    ]);
  });
});
