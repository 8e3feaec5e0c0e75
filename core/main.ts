#!/usr/bin/env node
// Entry point of the core: parses the command line, loads the configuration, prepares the output
// directory, starts (or attaches to) Redis, runs the analysis of the input and shuts everything down
// cleanly on end of input, SIGINT or SIGTERM.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliError, HELP, OUR_VERSION, SLIPS_COMPAT_VERSION, parseCli, type CliOptions } from './cli.js';
import { ConfigError, loadConfig } from './config.js';
import { runAnalysis } from './analysis.js';
import { Printer } from './console.js';
import { defaultOutputDir, prepareOutputDir } from './outputDir.js';
import { stdinFormatOf } from '../inputs/stdin.js';
import { findFreeSlipsPort, killRecordedServers, recordServer, startPrivateRedis } from './redisServer.js';

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function say(text: string): void {
  process.stdout.write(`${text}\n`);
}

function complain(text: string): void {
  process.stderr.write(`${text}\n`);
}

async function killAll(): Promise<number> {
  const { killed, skipped } = await killRecordedServers();
  if (killed.length === 0 && skipped.length === 0) say('No Redis servers started by Slips are running.');
  for (const server of killed) say(`Killed Redis server on port ${server.port} (PID ${server.pid}).`);
  for (const server of skipped) say(`Not killed: port ${server.port} (PID ${server.pid}): ${server.reason}`);
  return 0;
}

/** -d: serve a saved database for browsing (TUI) and leave it running; -k stops it. */
async function loadDatabase(cli: CliOptions, rdb: string): Promise<number> {
  const rdbPath = path.resolve(rdb);
  if (!fs.existsSync(rdbPath)) {
    complain(`${rdb} doesn't exist. Stopping Slips`);
    return 1;
  }
  const port = cli.port ?? 32850;
  const outputDir = path.resolve(cli.output ?? path.join('output', `${path.basename(rdbPath)}_loaded`));
  fs.mkdirSync(outputDir, { recursive: true });
  const server = await startPrivateRedis({ port, outputDir, save: false, loadRdb: rdbPath });
  await recordServer({
    input: rdbPath, port, serverPid: server.pid, zeekDir: '', outputDir,
    slipsPid: process.pid, isDaemon: false, saveDb: false,
  });
  say(`${rdb} loaded into the Redis server on port ${port} (PID ${server.pid}). Stop it with -k.`);
  return 0;
}

async function main(argv: readonly string[]): Promise<number> {
  let cli: CliOptions;
  try {
    cli = parseCli(argv);
  } catch (error) {
    if (error instanceof CliError) {
      complain(error.message);
      return error.exitCode;
    }
    throw error;
  }
  if (cli.help) {
    say(HELP.trim());
    return 0;
  }
  if (cli.version) {
    say(`Slips Version: ${SLIPS_COMPAT_VERSION} (slips-ts ${OUR_VERSION})`);
    return 0;
  }
  if (cli.killall) return killAll();

  const configPath = cli.config !== undefined ? path.resolve(cli.config) : path.join(PROJECT_ROOT, 'config', 'slips.yaml');
  let config;
  try {
    config = loadConfig(configPath);
  } catch (error) {
    if (error instanceof ConfigError) {
      complain(error.message);
      return 1;
    }
    throw error;
  }

  if (cli.db !== undefined) return loadDatabase(cli, cli.db);
  if (cli.filepath === undefined && cli.growing === undefined && cli.interface === undefined) {
    say('[Main] You need to define an input source.');
    return 255;
  }
  const inputArg = cli.growing ?? cli.interface ?? (cli.filepath as string);
  // A live capture's input is the interface name, not a path.
  const inputPath = cli.interface ?? path.resolve(inputArg);
  if (cli.growing !== undefined && fs.statSync(inputPath, { throwIfNoEntry: false })?.isDirectory() !== true) {
    complain(`[Main] -g needs a directory of Zeek logs, got ${cli.growing}. Stopping.`);
    return 1;
  }
  // An existing path is a file or directory; otherwise Slips reads the named format from stdin.
  const stdinFormat = cli.growing !== undefined || cli.interface !== undefined || fs.existsSync(inputPath) ? undefined : stdinFormatOf(inputArg);
  if (cli.interface === undefined && !fs.existsSync(inputPath) && stdinFormat === undefined) {
    complain(`[Main] Invalid file path ${inputArg}. Stopping.`);
    return 1;
  }

  const outputDir = path.resolve(cli.output ?? defaultOutputDir(inputPath, new Date()));
  try {
    prepareOutputDir(outputDir, { keepSlipsOutput: cli.testing });
  } catch (error) {
    complain((error as Error).message);
    return 1;
  }
  const printer = new Printer({
    verbose: cli.verbose ?? config.parameters.verbose,
    debug: cli.debug ?? config.parameters.debug,
    slipsLogPath: path.join(outputDir, config.output.logs),
    errorsLogPath: path.join(outputDir, config.output.stderr),
    stdout: process.stdout,
    stderr: process.stderr,
    isTTY: process.stdout.isTTY === true,
  });
  for (const warning of config.warnings) printer.print('main', warning);

  let port: number | undefined;
  if (config.redis.external === '') {
    try {
      port = cli.port ?? (cli.multiinstance ? await findFreeSlipsPort() : 6379);
    } catch (error) {
      printer.error('main', (error as Error).message);
      await printer.close();
      return 1;
    }
  }
  return runAnalysis({
    cli, config, configPath, inputPath, outputDir, printer, projectRoot: PROJECT_ROOT,
    redisPort: port, command: ['./slips.sh', ...argv].join(' '), stdinFormat, growing: cli.growing !== undefined,
    liveInterface: cli.interface,
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    complain(`Fatal: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
