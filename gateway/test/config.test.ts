import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { ConfigError, loadConfig } from '@medai-flow/common';
import { describe, expect, it } from 'vitest';
import { builtEntryPoints } from '../../test-support/paths.js';
import { ServiceProcess } from '../../test-support/processes.js';
import { deleteKeys, testRedisUrl, uniquePrefix } from '../../test-support/redis.js';
import { testJwtSecret } from '../../test-support/tokens.js';
import { gatewayEnvSchema } from '../src/index.js';

/** Issues of `loadConfig` for `env`, one `VARIABLE: message` line each. */
function configIssues(env: Record<string, string>): string[] {
  try {
    loadConfig(gatewayEnvSchema, { REDIS_URL: 'redis://127.0.0.1:6379', NODE_ENV: 'test', ...env });
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  return [];
}

describe('gateway configuration', () => {
  it('reports every bad variable at once', () => {
    const issues = configIssues({ AUTH_JWT_SECRET: 'short', PORT: 'abc', MAX_BODY_BYTES: '-1' });
    expect(issues).toContainEqual(expect.stringMatching(/^PORT: /));
    expect(issues).toContainEqual('AUTH_JWT_SECRET: must be at least 32 bytes');
    expect(issues).toContainEqual(expect.stringMatching(/^MAX_BODY_BYTES: /));
  });

  it('reports a missing key source with a bad field', () => {
    const issues = configIssues({ PORT: 'abc' });
    expect(issues).toContainEqual(expect.stringMatching(/^PORT: /));
    expect(issues).toContainEqual(expect.stringContaining('exactly one of AUTH_JWT_SECRET'));
  });

  it('reports two key sources with an invalid one', () => {
    const issues = configIssues({ AUTH_JWT_SECRET: testJwtSecret, AUTH_JWKS_URL: 'not a url' });
    expect(issues).toContainEqual(expect.stringMatching(/^AUTH_JWKS_URL: /));
    expect(issues).toContainEqual(expect.stringContaining('(found 2)'));
  });

  it('reports HS256 in production with a bad field', () => {
    const issues = configIssues({ NODE_ENV: 'production', AUTH_JWT_SECRET: 'short', PORT: 'abc' });
    expect(issues).toContainEqual(expect.stringMatching(/^PORT: /));
    expect(issues).toContainEqual('AUTH_JWT_SECRET: must be at least 32 bytes');
    expect(issues).toContainEqual(expect.stringContaining('HS256 secret is rejected in production'));
  });

  it('reports timeouts out of order with a bad field', () => {
    const issues = configIssues({
      AUTH_JWT_SECRET: testJwtSecret,
      HEADERS_TIMEOUT_MS: '5000',
      REQUEST_TIMEOUT_MS: '1000',
      PORT: 'abc',
    });
    expect(issues).toContainEqual('HEADERS_TIMEOUT_MS: must not exceed REQUEST_TIMEOUT_MS');
  });
});

describe('gateway start-up', () => {
  it('logs every invalid variable in one line', async () => {
    const gateway = ServiceProcess.spawn('gateway', builtEntryPoints.gateway, {
      REDIS_URL: testRedisUrl,
      AUTH_JWT_SECRET: 'short',
      PORT: 'abc',
    });
    const { code } = await gateway.exited;
    expect(code).toBe(1);
    const lines = gateway.logs.filter((line) => line.msg === 'invalid configuration');
    expect(lines).toHaveLength(1);
    expect(lines[0]?.issues).toEqual([
      expect.stringMatching(/^PORT: /),
      expect.stringMatching(/^AUTH_JWT_SECRET: /),
    ]);
  });

  it('reports a busy PORT in one line', async () => {
    const busy = createServer();
    await new Promise<void>((resolveListen) => busy.listen(0, '127.0.0.1', resolveListen));
    const port = (busy.address() as AddressInfo).port;
    const prefix = uniquePrefix('busy-port');
    try {
      const gateway = ServiceProcess.spawn('gateway', builtEntryPoints.gateway, {
        REDIS_URL: testRedisUrl,
        REDIS_PREFIX: prefix,
        AUTH_JWT_SECRET: testJwtSecret,
        HOST: '127.0.0.1',
        PORT: String(port),
      });
      const { code } = await gateway.exited;
      expect(code).toBe(1);
      const fatal = gateway.logs.filter((line) => line.level === 60);
      expect(fatal).toHaveLength(1);
      expect(fatal[0]).toMatchObject({ msg: 'listen failed', variable: 'PORT', port, code: 'EADDRINUSE' });
      expect(fatal[0]?.err).toBeUndefined();
    } finally {
      busy.close();
      await deleteKeys(testRedisUrl, prefix);
    }
  });
});
