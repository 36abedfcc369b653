import { describe, expect, it } from 'vitest';
import { GATEWAY_NODE_FLAGS, gatewayEnvSchema } from '../../gateway/dist/index.js';
import { workerEnvSchema } from '../../worker/dist/index.js';
import { readRepoFile, schemaKeys } from './support.js';

interface Instruction {
  keyword: string;
  args: string;
}

/** Splits a Dockerfile into instructions, joining continuation lines and dropping comments. */
function parseDockerfile(text: string): Instruction[] {
  const logical = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return logical
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

/** Variables an ENV instruction sets (the `KEY=value KEY=value` form). */
function envKeys(instruction: Instruction): string[] {
  return [...instruction.args.matchAll(/([A-Z_][A-Z0-9_]*)=/g)].map((match) => match[1]!);
}

const images = {
  gateway: { file: 'deploy/docker/gateway.Dockerfile', schema: gatewayEnvSchema, port: '8080' },
  worker: { file: 'deploy/docker/worker.Dockerfile', schema: workerEnvSchema, port: '9464' },
};

describe.each(Object.entries(images))('%s Dockerfile', (_service, image) => {
  const instructions = parseDockerfile(readRepoFile(image.file));
  const stages = instructions.filter((instruction) => instruction.keyword === 'FROM');
  const finalStage = instructions.slice(instructions.lastIndexOf(stages.at(-1)!));
  const of = (keyword: string) => finalStage.filter((instruction) => instruction.keyword === keyword);

  it('builds in several stages', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(finalStage.some((instruction) => /--from=build\b/.test(instruction.args))).toBe(true);
  });

  it('pins every base image tag', () => {
    for (const stage of stages) {
      const reference = stage.args.replace(/^--platform=\S+\s+/, '').split(/\s+/)[0]!;
      expect(reference, stage.args).toMatch(/:[\w.-]+(@sha256:[a-f0-9]{64})?$/);
      expect(reference, stage.args).not.toMatch(/:latest\b/);
    }
  });

  it('runs as a non-root user', () => {
    const user = of('USER').at(-1)?.args;
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
  });

  it('runs in production mode', () => {
    expect(of('ENV').some((instruction) => /\bNODE_ENV=production\b/.test(instruction.args))).toBe(true);
  });

  it('checks health on the service port', () => {
    const healthcheck = of('HEALTHCHECK');
    expect(healthcheck).toHaveLength(1);
    expect(healthcheck[0]!.args).toContain('/healthz');
    expect(healthcheck[0]!.args).toContain(image.port);
    expect(of('EXPOSE').map((instruction) => instruction.args)).toEqual([image.port]);
  });

  it('sets only variables the schema defines', () => {
    const known = schemaKeys(image.schema);
    for (const key of of('ENV').flatMap(envKeys)) expect(known.has(key), key).toBe(true);
  });

  it('bakes in no secrets', () => {
    for (const instruction of instructions.filter((candidate) =>
      ['ENV', 'ARG'].includes(candidate.keyword),
    )) {
      expect(instruction.args).not.toMatch(/SECRET|PASSWORD|TOKEN|REDIS_URL|PRIVATE_KEY/);
    }
  });

  it('has no shell in the runtime image', () => {
    expect(stages.at(-1)!.args).toMatch(/^gcr\.io\/distroless\//);
    expect(of('RUN')).toEqual([]);
  });
});

describe('gateway Node.js flags', () => {
  it('match in image and start script', () => {
    const cmd = parseDockerfile(readRepoFile('deploy/docker/gateway.Dockerfile')).filter(
      (instruction) => instruction.keyword === 'CMD',
    );
    expect(JSON.parse(cmd.at(-1)!.args)).toEqual([...GATEWAY_NODE_FLAGS, 'dist/main.js']);
    const scripts = JSON.parse(readRepoFile('package.json')).scripts as Record<string, string>;
    expect(scripts['start:gateway']).toBe(`node ${GATEWAY_NODE_FLAGS.join(' ')} gateway/dist/main.js`);
  });
});

describe('.dockerignore', () => {
  const patterns = readRepoFile('.dockerignore').split('\n');

  it('keeps tests, models, data and secrets out', () => {
    for (const pattern of [
      '**/test',
      '**/*.onnx',
      '**/*.npy',
      '**/*.nii.gz',
      '**/node_modules',
      '**/.env',
      '.git',
    ]) {
      expect(patterns, pattern).toContain(pattern);
    }
  });
});
