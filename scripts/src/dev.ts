import { startStack } from './stack.js';
import { mintDevelopmentToken } from './token.js';

/**
 * Runs the whole stack in the foreground (`pnpm dev`): Redis when REDIS_URL is unset, a
 * worker, and the gateway on PORT (default 8080). Prints a development token; Ctrl-C stops all.
 */
async function runDev(): Promise<void> {
  const say = (line: string) => console.log(`[dev] ${line}`);
  const stack = await startStack({ gatewayPort: Number(process.env.PORT ?? 8080), logs: 'inherit', say });
  const token = await mintDevelopmentToken({
    secret: stack.jwtSecret,
    subject: 'developer',
    ttlSeconds: 12 * 3600,
  });
  say(`gateway listening at ${stack.gatewayUrl}`);
  if (!process.env.AUTH_JWT_SECRET) {
    say('AUTH_JWT_SECRET is unset: this run verifies tokens with a generated secret; to mint more tokens:');
    say(`export AUTH_JWT_SECRET=${stack.jwtSecret}   # then: pnpm --silent token --sub alice`);
  }
  say(`development token (12 h, subject developer, jobs:read jobs:write):\nexport MEDAI_TOKEN=${token}`);
  say(`try: curl -H "Authorization: Bearer $MEDAI_TOKEN" ${stack.gatewayUrl}/v1/models`);

  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    say('stopping');
    void stack.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

runDev().catch((error: unknown) => {
  console.error(`[dev] start-up failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
