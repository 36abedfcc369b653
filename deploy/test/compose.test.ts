import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readRepoFile } from './support.js';

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: Record<string, { condition: string }> | string[];
}

const compose = parse(readRepoFile('docker-compose.yml')) as { services: Record<string, ComposeService> };
const prometheusConfig = parse(readRepoFile('deploy/prometheus/prometheus.yml')) as {
  rule_files: string[];
  scrape_configs: { static_configs: { targets: string[] }[] }[];
};

describe('docker-compose.yml', () => {
  it('runs redis, gateway, worker and prometheus', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['gateway', 'prometheus', 'redis', 'worker']);
  });

  it('runs Redis with AOF, fsync per write and noeviction', () => {
    const command = compose.services.redis!.command!.join(' ');
    expect(command).toContain('--appendonly yes');
    expect(command).toContain('--appendfsync always');
    expect(command).toContain('--maxmemory-policy noeviction');
    expect(compose.services.redis!.image).toMatch(/^redis:\d+\.\d+\.\d+/);
  });

  it('builds the services from their Dockerfiles', () => {
    expect(compose.services.gateway!.build?.dockerfile).toBe('deploy/docker/gateway.Dockerfile');
    expect(compose.services.worker!.build?.dockerfile).toBe('deploy/docker/worker.Dockerfile');
  });

  it('mounts the model folder into the worker', () => {
    const worker = compose.services.worker!;
    const mount = worker.volumes!.find((volume) => volume.startsWith('./models:'));
    expect(mount).toBe(`./models:${worker.environment!.MODEL_REPOSITORY}:ro`);
  });

  it('takes the token secret from the environment', () => {
    expect(compose.services.gateway!.environment!.AUTH_JWT_SECRET).toMatch(/^\$\{AUTH_JWT_SECRET:\?/);
  });

  it('publishes ports on loopback only', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const port of service.ports ?? []) expect(port, name).toMatch(/^127\.0\.0\.1:/);
    }
  });

  it('scrapes both services and loads the alert rules', () => {
    const prometheus = compose.services.prometheus!;
    const targets = prometheusConfig.scrape_configs.flatMap((job) =>
      job.static_configs.flatMap((config) => config.targets),
    );
    expect(targets.sort()).toEqual([
      `gateway:${compose.services.gateway!.environment!.PORT}`,
      `worker:${compose.services.worker!.environment!.METRICS_PORT}`,
    ]);
    expect(prometheus.volumes).toContain('./deploy/prometheus/rules:/etc/prometheus/rules:ro');
    expect(prometheusConfig.rule_files).toEqual(['/etc/prometheus/rules/*.yml']);
    expect(prometheus.image).toMatch(/^prom\/prometheus:v\d+\.\d+\.\d+$/);
  });
});
