#!/usr/bin/env node
// Entry point of the TUI (`kalipso.sh`): parses the command line (cli.ts), checks for a terminal,
// starts the App, and makes sure a crash or a signal restores the terminal and stops what the TUI
// started. Invalid flags print a message and exit 2 before the screen is touched.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from './app.js';
import { HELP, parseTuiArgs, type TuiCli } from './cli.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function main(): void {
  let cli: TuiCli;
  try {
    cli = parseTuiArgs(process.argv.slice(2), process.env);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(2);
  }
  if (cli.help) {
    process.stdout.write(`${HELP.trim()}\n`);
    return;
  }
  if (process.stdout.isTTY !== true || process.stdin.isTTY !== true) {
    process.stderr.write('kalipso needs a terminal (stdin and stdout must be a TTY)\n');
    process.exit(2);
  }
  const app = new App({ ...cli.app, repoRoot: REPO_ROOT });
  for (const signal of ['SIGTERM', 'SIGHUP'] as const) process.on(signal, () => app.terminate());
  process.on('uncaughtException', (error) => void app.crash(error));
  process.on('unhandledRejection', (error) => void app.crash(error));
  app.start().catch((error: unknown) => void app.crash(error));
}

main();
