// The TUI's command line (spec/tui.md §4.9): splits argv into the TUI's own flags, parsed with
// meow, and the core's (`--run -- <args>`, or directly `-f file ...`), and decides between running
// a core child, attaching to a Redis and browsing a saved .rdb. Pure: no terminal, no process.

import meow from 'meow';
import path from 'node:path';
import { existsSync } from 'node:fs';
import type { AppOptions } from './app.js';
import { CORE_VALUE_FLAGS, hasCoreInput } from './core/child.js';

export const HELP = `
Usage: ./kalipso.sh [options] [core flags]

Live terminal UI of slips-ts: runs the core and shows its results, attaches to a running
core's Redis, or browses a saved database.

  ./kalipso.sh -f capture.pcap [core flags]   run the core as a child and watch it
  ./kalipso.sh --run -- <core flags>           same, explicit
  ./kalipso.sh -P 6379                         attach to the Redis of a running core
  ./kalipso.sh --redis host:port               attach to that Redis
  ./kalipso.sh -d saved.rdb                    browse a saved database (read-only)

Options
  -p, -P, --redis-port <n>  Redis port on 127.0.0.1 (with a core child: the port it uses)
  --redis <host:port>       Redis to attach to
  -d, --rdb <file>          browse this dump read-only (private redis-server, stopped on quit)
  --run -- <args>           start the core with <args> as a child process
  -l, --letters <n>         letters shown per tuple (default 200)
  --refresh-ms <n>          minimum time between redraws in ms (default 100, min 50)
  --ascii                   ASCII borders, markers and sparklines
  --no-color                no colours (also when NO_COLOR is set)
  -h, --help                this help

Press ? in the UI for the keys.
`;

export class UsageError extends Error {}

export interface TuiCli {
  app: Omit<AppOptions, 'repoRoot'>;
  help: boolean;
}

/** TUI flags with a value (all spellings), and boolean ones. */
const TUI_VALUE_FLAGS = new Set(['-p', '-P', '--redis-port', '--redis', '--cache', '-d', '--rdb', '-l', '--letters', '--refresh-ms']);
const TUI_BOOL_FLAGS = new Set(['--ascii', '--no-color', '--color', '--pick', '-h', '--help']);

/**
 * Splits argv: TUI flags vs core flags. `--run` takes everything after `--` as core args; without it,
 * unknown flags (with their values) are core args. Pure, exported for tests.
 */
export function parseTuiArgs(argv: readonly string[], env: NodeJS.ProcessEnv): TuiCli {
  const tuiArgs: string[] = [];
  let coreArgs: string[] = [];
  let run = false;
  let port: string | undefined;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const flag = arg.includes('=') && arg.startsWith('--') ? arg.slice(0, arg.indexOf('=')) : arg;
    if (arg === '--') {
      coreArgs = coreArgs.concat(argv.slice(i + 1));
      break;
    }
    if (arg === '--run') {
      run = true;
    } else if (flag === '-p' || flag === '-P' || flag === '--redis-port') {
      port = flag === arg ? argv[++i] : arg.slice(flag.length + 1);
      if (port === undefined) throw new UsageError(`${flag} needs a port number`);
    } else if (TUI_VALUE_FLAGS.has(flag)) {
      tuiArgs.push(arg);
      if (flag === arg) {
        const value = argv[++i];
        if (value === undefined) throw new UsageError(`${flag} needs a value`);
        tuiArgs.push(value);
      }
    } else if (TUI_BOOL_FLAGS.has(flag)) {
      tuiArgs.push(arg);
    } else {
      coreArgs.push(arg);
      if (CORE_VALUE_FLAGS.has(arg) && i + 1 < argv.length) coreArgs.push(argv[++i]);
    }
  }
  const cli = meow(HELP, {
    importMeta: import.meta,
    argv: tuiArgs,
    autoHelp: false,
    autoVersion: false,
    allowUnknownFlags: false,
    flags: {
      redis: { type: 'string' },
      cache: { type: 'string' },
      rdb: { type: 'string', shortFlag: 'd' },
      letters: { type: 'number', shortFlag: 'l', default: 200 },
      refreshMs: { type: 'number', default: 100 },
      ascii: { type: 'boolean', default: false },
      color: { type: 'boolean', default: true },
      pick: { type: 'boolean', default: false },
      help: { type: 'boolean', shortFlag: 'h', default: false },
    },
  });
  const f = cli.flags;
  const runCore = run || hasCoreInput(coreArgs);
  if (!runCore && coreArgs.length > 0) throw new UsageError(`Unknown flag or argument ${coreArgs[0]}. Run with -h for the flags.`);
  if (runCore && coreArgs.length === 0) throw new UsageError('--run needs core arguments after --, e.g. --run -- -f capture.pcap');
  const portNumber = port !== undefined ? Number(port) : undefined;
  if (portNumber !== undefined && (!Number.isInteger(portNumber) || portNumber < 1 || portNumber > 65535)) throw new UsageError('-P needs a port number between 1 and 65535');
  const sources = [runCore, f.rdb !== undefined, f.redis !== undefined].filter(Boolean).length;
  if (sources > 1) throw new UsageError('choose one of: a core run (-f, --run), --rdb, --redis');
  if (f.rdb !== undefined && !existsSync(f.rdb)) throw new UsageError(`${f.rdb} does not exist`);
  if (!Number.isFinite(f.refreshMs) || f.refreshMs <= 0) throw new UsageError('--refresh-ms needs a number of milliseconds');
  const app: Omit<AppOptions, 'repoRoot'> = {
    ascii: f.ascii,
    mono: !f.color || (env.NO_COLOR !== undefined && env.NO_COLOR !== ''),
    refreshMs: Math.max(50, f.refreshMs),
    letters: Math.max(1, f.letters),
  };
  if (runCore) app.coreArgs = portNumber !== undefined ? [...coreArgs, '-P', String(portNumber)] : coreArgs;
  else if (f.rdb !== undefined) app.rdbPath = path.resolve(f.rdb);
  else if (f.redis !== undefined) {
    const match = /^([^:]+):(\d+)$/.exec(f.redis);
    if (match === null) throw new UsageError('--redis needs host:port');
    app.endpoint = { host: match[1], port: Number(match[2]), db: 0 };
  } else app.endpoint = { host: '127.0.0.1', port: portNumber ?? 6379, db: 0 };
  return { app, help: f.help };
}
