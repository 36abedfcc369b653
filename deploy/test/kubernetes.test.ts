import { beforeAll, describe, expect, it } from 'vitest';
import { gatewayEnvSchema } from '../../gateway/dist/index.js';
import { workerEnvSchema } from '../../worker/dist/index.js';
import { type KubeObject, modelNames, readSources, renderKustomization, schemaKeys } from './support.js';

// biome-ignore lint/suspicious/noExplicitAny: rendered manifests are plain parsed YAML.
type Container = any;

interface Service {
  schema: typeof gatewayEnvSchema | typeof workerEnvSchema;
  sources: string;
  portVariable: 'PORT' | 'METRICS_PORT';
}

const BYTES_PER_GB = 1e9;
/** Memory one brain-gwm job needs: its measured 2.4 GB peak resident memory, rounded up for the Node processes. */
const BRAIN_BYTES_PER_JOB = 2.5 * BYTES_PER_GB;

/** Converts a Kubernetes quantity (`512Mi`, `3Gi`, `2`, `250m`) to a number in base units. */
function parseQuantity(quantity: string | number): number {
  const text = String(quantity);
  const match = /^([0-9.]+)(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(text);
  if (!match) throw new Error(`invalid quantity ${text}`);
  const factors: Record<string, number> = {
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
  };
  return Number(match[1]) * (match[2] ? factors[match[2]]! : 1);
}

describe('aks overlay', () => {
  let objects: KubeObject[];
  let deployments: KubeObject[];
  let services: Record<'gateway' | 'worker', Service>;

  const byKind = (kind: string) => objects.filter((object) => object.kind === kind);
  const find = (kind: string, name: string) => {
    const object = objects.find((candidate) => candidate.kind === kind && candidate.metadata.name === name);
    if (!object) throw new Error(`${kind}/${name} is not in the rendered overlay`);
    return object;
  };
  const component = (deployment: KubeObject) =>
    deployment.spec.template.metadata.labels['app.kubernetes.io/component'] as 'gateway' | 'worker';

  /** Resolves the environment a container gets, with Secret values replaced by a valid stand-in. */
  const resolveEnvironment = (container: Container): Record<string, string> => {
    const environment: Record<string, string> = {};
    for (const variable of container.env ?? []) {
      if (variable.value !== undefined) {
        environment[variable.name] = String(variable.value);
      } else if (variable.valueFrom?.configMapKeyRef) {
        const reference = variable.valueFrom.configMapKeyRef;
        const value = find('ConfigMap', reference.name).data?.[reference.key];
        if (value === undefined) throw new Error(`ConfigMap ${reference.name} has no key ${reference.key}`);
        environment[variable.name] = value;
      } else if (variable.valueFrom?.secretKeyRef) {
        environment[variable.name] = 'redis://redis.invalid:6379';
      }
    }
    return environment;
  };

  beforeAll(() => {
    objects = renderKustomization('deploy/k8s/overlays/aks');
    deployments = byKind('Deployment');
    services = {
      gateway: { schema: gatewayEnvSchema, sources: readSources('gateway/src'), portVariable: 'PORT' },
      worker: { schema: workerEnvSchema, sources: readSources('worker/src'), portVariable: 'METRICS_PORT' },
    };
  });

  it('renders a gateway and a worker per model', () => {
    const names = deployments.map((deployment) => deployment.metadata.name).sort();
    expect(names).toEqual(['gateway', ...modelNames().map((model) => `worker-${model}`)].sort());
  });

  it('runs every pod as non-root with seccomp', () => {
    for (const deployment of deployments) {
      const pod = deployment.spec.template.spec;
      expect(pod.securityContext.runAsNonRoot, deployment.metadata.name).toBe(true);
      expect(pod.securityContext.runAsUser, deployment.metadata.name).toBeGreaterThan(0);
      expect(pod.securityContext.seccompProfile.type, deployment.metadata.name).toBe('RuntimeDefault');
      expect(pod.automountServiceAccountToken, deployment.metadata.name).toBe(false);
    }
  });

  it('locks down every container', () => {
    for (const deployment of deployments) {
      for (const container of deployment.spec.template.spec.containers) {
        const where = `${deployment.metadata.name}/${container.name}`;
        expect(container.securityContext.readOnlyRootFilesystem, where).toBe(true);
        expect(container.securityContext.allowPrivilegeEscalation, where).toBe(false);
        expect(container.securityContext.capabilities.drop, where).toEqual(['ALL']);
        expect(container.securityContext.runAsUser ?? 1, where).not.toBe(0);
      }
    }
  });

  it('sets requests and limits on every container', () => {
    for (const deployment of deployments) {
      for (const container of deployment.spec.template.spec.containers) {
        const where = `${deployment.metadata.name}/${container.name}`;
        for (const resource of ['cpu', 'memory']) {
          expect(container.resources?.requests?.[resource], `${where} request ${resource}`).toBeDefined();
          expect(container.resources?.limits?.[resource], `${where} limit ${resource}`).toBeDefined();
          expect(
            parseQuantity(container.resources.limits[resource]),
            `${where} ${resource}`,
          ).toBeGreaterThanOrEqual(parseQuantity(container.resources.requests[resource]));
        }
      }
    }
  });

  it('pulls registry images by a pinned tag', () => {
    for (const deployment of deployments) {
      for (const container of deployment.spec.template.spec.containers) {
        expect(container.image).toMatch(/^[a-z0-9.-]+\.azurecr\.io\/medai-flow-(gateway|worker):[\w.-]+$/);
        expect(container.image).not.toMatch(/:latest$/);
      }
    }
  });

  it('sets only variables the schema defines', () => {
    for (const deployment of deployments) {
      const known = schemaKeys(services[component(deployment)].schema);
      for (const container of deployment.spec.template.spec.containers) {
        for (const variable of container.env ?? []) {
          expect(known.has(variable.name), `${deployment.metadata.name} sets ${variable.name}`).toBe(true);
        }
      }
    }
  });

  it('gives each container a configuration its schema accepts', () => {
    for (const deployment of deployments) {
      const container = deployment.spec.template.spec.containers[0];
      const parsed = services[component(deployment)].schema.safeParse(resolveEnvironment(container));
      expect(parsed.error?.issues ?? [], deployment.metadata.name).toEqual([]);
    }
  });

  it('takes every secret from the Key Vault sync', () => {
    const synced = byKind('SecretProviderClass').flatMap((provider) =>
      (provider.spec.secretObjects ?? []).flatMap((secret: { secretName: string; data: { key: string }[] }) =>
        secret.data.map((item) => `${secret.secretName}/${item.key}`),
      ),
    );
    let references = 0;
    for (const deployment of deployments) {
      const pod = deployment.spec.template.spec;
      for (const variable of pod.containers[0].env ?? []) {
        const reference = variable.valueFrom?.secretKeyRef;
        if (!reference) continue;
        references += 1;
        expect(synced, `${deployment.metadata.name} ${variable.name}`).toContain(
          `${reference.name}/${reference.key}`,
        );
      }
      const keyVaultVolume = pod.volumes.find(
        (volume: { csi?: { driver: string } }) => volume.csi?.driver === 'secrets-store.csi.k8s.io',
      );
      expect(keyVaultVolume, `${deployment.metadata.name} mounts the Key Vault volume`).toBeDefined();
    }
    expect(references).toBeGreaterThan(0);
    expect(byKind('Secret')).toEqual([]);
  });

  it('probes health paths the services serve', () => {
    for (const deployment of deployments) {
      const service = services[component(deployment)];
      const container = deployment.spec.template.spec.containers[0];
      const parsed = service.schema.safeParse(resolveEnvironment(container));
      const servedPort = (parsed.data as unknown as Record<string, number>)[service.portVariable];
      for (const probeName of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
        const probe = container[probeName]?.httpGet;
        const where = `${deployment.metadata.name} ${probeName}`;
        expect(probe, where).toBeDefined();
        expect(service.sources, `${where}: route ${probe.path}`).toMatch(
          new RegExp(`['"\`]${probe.path}['"\`]`),
        );
        const port = container.ports.find(
          (candidate: { name: string; containerPort: number }) =>
            candidate.name === probe.port || candidate.containerPort === probe.port,
        );
        expect(port?.containerPort, where).toBe(servedPort);
      }
      expect(container.readinessProbe.httpGet.path).toBe('/readyz');
      expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    }
  });

  describe.each(modelNames())('model %s', (model) => {
    const deploymentName = `worker-${model}`;

    it('has a worker that serves only this model', () => {
      const container = find('Deployment', deploymentName).spec.template.spec.containers[0];
      const parsed = workerEnvSchema.safeParse(resolveEnvironment(container));
      expect(parsed.data?.WORKER_MODELS).toEqual([model]);
    });

    it('scales on its queue depth', () => {
      const scaledObject = find('ScaledObject', deploymentName);
      expect(scaledObject.spec.scaleTargetRef.name).toBe(deploymentName);
      expect(scaledObject.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
      const [trigger, ...others] = scaledObject.spec.triggers;
      expect(others).toEqual([]);
      expect(trigger.type).toBe('prometheus');
      expect(trigger.metadata.query).toBe(
        `sum(max by (state) (queue_depth{model="${model}",state=~"waiting|prioritized"}))`,
      );
      expect(Number(trigger.metadata.threshold)).toBeGreaterThan(0);
    });

    it('outlasts the drain grace on shutdown', () => {
      const pod = find('Deployment', deploymentName).spec.template.spec;
      const parsed = workerEnvSchema.safeParse(resolveEnvironment(pod.containers[0]));
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(parsed.data!.DRAIN_GRACE_SECONDS);
    });

    it('limits inference threads to its CPU limit', () => {
      const container = find('Deployment', deploymentName).spec.template.spec.containers[0];
      const parsed = workerEnvSchema.safeParse(resolveEnvironment(container));
      expect(parsed.data!.INFERENCE_THREADS).toBeLessThanOrEqual(
        parseQuantity(container.resources.limits.cpu),
      );
    });

    it('has a disruption budget', () => {
      const budget = find('PodDisruptionBudget', deploymentName);
      const labels = find('Deployment', deploymentName).spec.template.metadata.labels;
      for (const [key, value] of Object.entries(budget.spec.selector.matchLabels)) {
        expect(labels[key], key).toBe(value);
      }
    });
  });

  it('sizes brain workers for their measured memory', () => {
    const container = find('Deployment', 'worker-brain-gwm').spec.template.spec.containers[0];
    const parsed = workerEnvSchema.safeParse(resolveEnvironment(container));
    const needed = BRAIN_BYTES_PER_JOB * parsed.data!.INFERENCE_PROCESSES;
    expect(parseQuantity(container.resources.requests.memory)).toBeGreaterThanOrEqual(needed);
    expect(parseQuantity(container.resources.limits.memory)).toBeGreaterThanOrEqual(needed);
  });

  it('gives the model cache a writable volume', () => {
    for (const deployment of deployments.filter((candidate) => component(candidate) === 'worker')) {
      const pod = deployment.spec.template.spec;
      const parsed = workerEnvSchema.safeParse(resolveEnvironment(pod.containers[0]));
      const mount = pod.containers[0].volumeMounts.find(
        (candidate: { mountPath: string }) => candidate.mountPath === parsed.data!.MODEL_CACHE_DIR,
      );
      expect(mount, deployment.metadata.name).toBeDefined();
      const volume = pod.volumes.find((candidate: { name: string }) => candidate.name === mount.name);
      expect(volume.emptyDir, deployment.metadata.name).toBeDefined();
    }
  });

  it('autoscales the gateway on CPU', () => {
    const autoscaler = find('HorizontalPodAutoscaler', 'gateway');
    expect(autoscaler.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'gateway' });
    expect(autoscaler.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(find('PodDisruptionBudget', 'gateway').spec.minAvailable).toBe(1);
  });

  it('leaves replica counts to the autoscalers', () => {
    for (const deployment of deployments) {
      expect(deployment.spec.replicas, deployment.metadata.name).toBeUndefined();
    }
  });

  it('routes only the client APIs through the ingress', () => {
    const rules = find('Ingress', 'gateway').spec.rules;
    const paths = rules.flatMap(
      (rule: { http: { paths: { path: string; pathType: string }[] } }) => rule.http.paths,
    );
    expect(paths.map((entry: { path: string }) => entry.path).sort()).toEqual(['/v1', '/v2']);
    expect(paths.every((entry: { pathType: string }) => entry.pathType === 'Prefix')).toBe(true);
    const routes = (path: string) =>
      paths.some((entry: { path: string }) => path === entry.path || path.startsWith(`${entry.path}/`));
    expect(routes('/metrics')).toBe(false);
    expect(routes('/v1/models')).toBe(true);
  });

  describe('network policies', () => {
    const policy = (name: string) => find('NetworkPolicy', name).spec;

    it('deny all traffic by default', () => {
      expect(policy('default-deny')).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    });

    it('admit workers only for metrics scrapes', () => {
      const workerPolicies = byKind('NetworkPolicy').filter(
        (candidate) =>
          candidate.spec.policyTypes.includes('Ingress') &&
          candidate.spec.podSelector.matchLabels?.['app.kubernetes.io/component'] === 'worker',
      );
      expect(workerPolicies.map((candidate) => candidate.metadata.name)).toEqual(['worker-metrics-ingress']);
      const rules = workerPolicies[0]!.spec.ingress;
      expect(rules).toHaveLength(1);
      expect(rules[0].ports).toEqual([{ protocol: 'TCP', port: 9464 }]);
      expect(rules[0].from).toEqual([
        { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
      ]);
    });

    it('admit client traffic to the gateway port only', () => {
      const rules = policy('gateway-ingress').ingress;
      expect(rules.flatMap((rule: { ports: unknown[] }) => rule.ports)).toEqual([
        { protocol: 'TCP', port: 8080 },
      ]);
      const ingressPolicies = byKind('NetworkPolicy').filter((candidate) =>
        candidate.spec.policyTypes.includes('Ingress'),
      );
      expect(ingressPolicies.map((candidate) => candidate.metadata.name).sort()).toEqual([
        'default-deny',
        'gateway-ingress',
        'worker-metrics-ingress',
      ]);
    });

    it('let both services reach Redis', () => {
      const redis = policy('redis-egress');
      expect(redis.podSelector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'medai-flow' });
      expect(redis.egress[0].ports).toContainEqual({ protocol: 'TCP', port: 6379 });
      for (const deployment of deployments) {
        expect(deployment.spec.template.metadata.labels['app.kubernetes.io/name']).toBe('medai-flow');
      }
    });
  });
});
