import { parseArgs } from 'node:util';
import { mintDevelopmentToken } from './token.js';

const USAGE = `Usage: pnpm token [--sub SUBJECT] [--scope "jobs:read jobs:write"] [--ttl SECONDS]

Prints an HS256 development token signed with AUTH_JWT_SECRET (at least 32 bytes).
AUTH_ISSUER and AUTH_AUDIENCE, when set, become its iss and aud claims. The gateway rejects
tokens that live longer than its AUTH_MAX_TOKEN_LIFETIME_SECONDS (default 86400).`;

function parseOptions() {
  try {
    return parseArgs({
      options: {
        sub: { type: 'string', default: 'developer' },
        scope: { type: 'string', default: 'jobs:read jobs:write' },
        ttl: { type: 'string', default: '3600' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    process.exit(2);
  }
}

const values = parseOptions();

const secret = process.env.AUTH_JWT_SECRET;
const ttlSeconds = Number(values.ttl);
if (values.help) {
  console.log(USAGE);
} else if (!secret || Buffer.byteLength(secret) < 32) {
  console.error(
    "AUTH_JWT_SECRET must be set to the gateway's HS256 secret of at least 32 bytes: pnpm dev prints an 'export AUTH_JWT_SECRET=...' line to paste",
  );
  process.exitCode = 2;
} else if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) {
  console.error(`--ttl must be a positive whole number of seconds, got "${values.ttl}"`);
  process.exitCode = 2;
} else {
  const token = await mintDevelopmentToken({
    secret,
    subject: values.sub,
    scope: values.scope,
    ttlSeconds,
    ...(process.env.AUTH_ISSUER ? { issuer: process.env.AUTH_ISSUER } : {}),
    ...(process.env.AUTH_AUDIENCE ? { audience: process.env.AUTH_AUDIENCE } : {}),
  });
  console.log(token);
}
