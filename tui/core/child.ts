// The core as a child process of the TUI (`--run -- <args>`, `-f file ...`, `c s`/`c r`): chooses
// its Redis port (free port unless -P is given) and output dir (`-o` added if missing), spawns
// `node dist/core/main.js` detached in its own process group with stdout and stderr in a log file,
// tracks its state (starting, running, stopping, exit code or signal) and stops it with SIGTERM to
// the group (SIGKILL after 30 s). The log is `<output>/tui_core.log`, which the core keeps when it
// cleans its output directory; the TUI reads it for view L.

import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import { freePort, waitForExit } from './processes.js';

export type CoreState = 'starting' | 'running' | 'stopping' | 'exited' | 'crashed';

export const STOP_GRACE_MS = 30_000;
export const START_GRACE_MS = 10_000;
export const LOG_LINES = 2000;

const VALUE_FLAGS = new Set(['-f', '--filepath', '-g', '--growing', '-o', '--output', '-c', '--config', '-v', '--verbose', '-e', '--debug', '-P', '--port', '-d', '--db']);

export interface CorePlan {
  /** Arguments given to the core, with -P and -o. */
  args: string[];
  port: number | undefined;
  outputDir: string;
}

function flagValue(args: readonly string[], names: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i];
    for (const name of names) {
      if (arg === name) return args[i + 1];
      if (arg.startsWith(`${name}=`)) return arg.slice(name.length + 1);
    }
  }
  return undefined;
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/**
 * The core's argv for the user's args: `-m` is dropped (the TUI picks the port, like -m would), `-P`
 * is kept or `port` is added, `-o` is kept or a new `output/kalipso_<input>_<time>[_n]` is added.
 */
export function planCoreArgs(userArgs: readonly string[], port: number | undefined, now: Date, exists: (dir: string) => boolean = existsSync): CorePlan {
  const args = userArgs.filter((a) => a !== '-m' && a !== '--multiinstance');
  const givenPort = flagValue(args, ['-P', '--port']);
  const chosenPort = givenPort !== undefined ? Number(givenPort) : port;
  if (givenPort === undefined && port !== undefined) args.push('-P', String(port));
  let outputDir = flagValue(args, ['-o', '--output']);
  if (outputDir === undefined) {
    const input = flagValue(args, ['-f', '--filepath', '-g', '--growing']) ?? 'core';
    const stamp = `${now.getFullYear()}-${pad2(now.getMonth() + 1)}-${pad2(now.getDate())}_${pad2(now.getHours())}:${pad2(now.getMinutes())}:${pad2(now.getSeconds())}`;
    const base = path.join('output', `kalipso_${path.basename(path.normalize(input))}_${stamp}`);
    outputDir = base;
    // a fresh directory even for a restart (or a second TUI) within the same second
    for (let n = 2; exists(outputDir); n += 1) outputDir = `${base}_${n}`;
    args.push('-o', outputDir);
  }
  return { args, port: Number.isFinite(chosenPort) ? chosenPort : undefined, outputDir: path.resolve(outputDir) };
}

/** Whether these args name an input for the core (so the TUI should run it). */
export function hasCoreInput(args: readonly string[]): boolean {
  return flagValue(args, ['-f', '--filepath', '-g', '--growing']) !== undefined;
}

export { VALUE_FLAGS as CORE_VALUE_FLAGS };

export class CoreChild {
  state: CoreState = 'starting';
  pid = 0;
  exitCode: number | null = null;
  signal: string | null = null;
  port = 0;
  outputDir = '';
  startedAt = 0;
  private child: ChildProcess | undefined;
  private logFd: number | undefined;
  private logOffset = 0;
  private partial = '';
  readonly logLines: string[] = [];

  constructor(
    private readonly repoRoot: string,
    private readonly userArgs: readonly string[],
    private readonly onChange: () => void,
  ) {}

  get isAlive(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Spawns the core; resolves once it is spawned (not once it is ready). */
  async start(): Promise<void> {
    const plan = planCoreArgs(this.userArgs, hasPort(this.userArgs) ? undefined : await freePort(), new Date());
    this.port = plan.port ?? 6379;
    this.outputDir = plan.outputDir;
    this.state = 'starting';
    this.exitCode = null;
    this.signal = null;
    this.logLines.length = 0;
    this.partial = '';
    this.logOffset = 0;
    if (this.logFd !== undefined) closeSync(this.logFd);
    mkdirSync(plan.outputDir, { recursive: true });
    this.logFd = openSync(path.join(plan.outputDir, 'tui_core.log'), 'w+');
    const child = spawn(process.execPath, [path.join(this.repoRoot, 'dist', 'core', 'main.js'), ...plan.args], {
      detached: true,
      stdio: ['ignore', this.logFd, this.logFd],
      env: { ...process.env, FORCE_COLOR: '0' },
    });
    this.child = child;
    this.pid = child.pid ?? 0;
    this.startedAt = Date.now();
    child.unref();
    child.once('error', (error) => {
      this.appendLog(`kalipso: could not start the core: ${error.message}\n`);
      this.state = 'crashed';
      this.onChange();
    });
    child.once('exit', (code, signal) => {
      this.pull();
      this.exitCode = code;
      this.signal = signal;
      this.state = signal !== null ? 'crashed' : 'exited';
      this.onChange();
    });
  }

  /** Called when the core's data appears in Redis (or the start grace time is over). */
  markRunning(): void {
    if (this.state === 'starting') this.state = 'running';
  }

  /** SIGTERM to the process group; SIGKILL to it after the grace time. Resolves once it exited. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined || !this.isAlive) return;
    this.state = 'stopping';
    this.onChange();
    signalGroup(child, 'SIGTERM');
    if (!(await waitForExit(child, STOP_GRACE_MS))) {
      signalGroup(child, 'SIGKILL');
      await waitForExit(child, 5000);
    }
  }

  /** Lets the core run on after the TUI quits (it goes on writing <output>/tui_core.log). */
  detach(): void {
    if (this.logFd !== undefined) closeSync(this.logFd);
    this.logFd = undefined;
  }

  /** Reads what the core wrote since the last call; returns whether anything was new. */
  readLog(): boolean {
    return this.pull() !== '';
  }

  /** New bytes of the log file, also appended to logLines. */
  private pull(): string {
    if (this.logFd === undefined) return '';
    const buffer = Buffer.alloc(64 * 1024);
    let text = '';
    for (;;) {
      const n = readSync(this.logFd, buffer, 0, buffer.length, this.logOffset);
      if (n <= 0) break;
      this.logOffset += n;
      text += buffer.subarray(0, n).toString('utf8');
    }
    if (text !== '') this.appendLog(text);
    return text;
  }

  private appendLog(text: string): void {
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop() ?? '';
    this.logLines.push(...parts);
    if (this.logLines.length > LOG_LINES) this.logLines.splice(0, this.logLines.length - LOG_LINES);
  }

  close(): void {
    if (this.logFd !== undefined) closeSync(this.logFd);
    this.logFd = undefined;
  }
}

function hasPort(args: readonly string[]): boolean {
  return flagValue(args, ['-P', '--port']) !== undefined;
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}
