#!/usr/bin/env node
// The `neurmap` command: runs the TypeScript sources directly through tsx, so no build step is needed.
import { register } from 'tsx/esm/api';

register();
// A reader that stops early (`neurmap motion … --json | head`) closes the pipe: the output ends there, as it does
// for any Unix tool; it is not an error to report.
process.stdout.on('error', (err) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(process.exitCode ?? 0);
});
const { main } = await import('../src-main/cli.ts');
process.exitCode = await main(process.argv.slice(2));
