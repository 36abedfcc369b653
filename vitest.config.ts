import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'test/e2e/**/*.test.ts',
      'gateway/test/**/*.test.ts',
      'worker/test/**/*.test.ts',
      'packages/*/test/**/*.test.ts',
      'scripts/test/**/*.test.ts',
      'deploy/test/**/*.test.ts',
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Tests start real Redis servers, gateways and worker processes; two cores do not
    // run more than two such files well at once.
    maxWorkers: 2,
    globalSetup: ['test-support/global-setup.ts'],
  },
});
