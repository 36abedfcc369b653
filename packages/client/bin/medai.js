#!/usr/bin/env node
// Entry point of the `medai` CLI. It lives outside dist/ so that pnpm can link it at install
// time, before the first build; the CLI itself is dist/cli.js.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  console.error('the medai CLI is not built yet: run "pnpm build" in the repository, then run again');
  process.exit(1);
}
await import(cli.href);
