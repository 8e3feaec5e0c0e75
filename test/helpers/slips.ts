// Test helper: runs the real CLI (./slips.sh, which bootstraps and then execs node on
// dist/core/main.js) as a child process, collects its output, and makes sure it is gone when the
// test ends (t.teardown kills its process group). Also temp dirs, temp configs derived from
// config/slips.yaml, and process/port checks on redis-servers.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';
import { parseDocument } from 'yaml';
import { isPidAlive, isRedisServerOnPort } from '../../core/redisServer.js';
import { freeLoopbackPort } from './redis.js';

/** The repository (tests run from dist/test/helpers). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const SLIPS_SH = path.join(REPO_ROOT, 'slips.sh');
/**
 * SLIPS_TEST_DIRECT=1 runs `node dist/core/main.js` (the same program without slips.sh's
 * bootstrap), e.g. while another part of the tree does not compile; by default ./slips.sh runs.
 */
const DIRECT = process.env['SLIPS_TEST_DIRECT'] === '1';
const COMMAND: [string, string[]] = DIRECT ? [process.execPath, [path.join(REPO_ROOT, 'dist', 'core', 'main.js')]] : [SLIPS_SH, []];

export function repoPath(relative: string): string {
  return path.join(REPO_ROOT, relative);
}

export interface SlipsResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Killed because it ran longer than the timeout. */
  timedOut: boolean;
}

export interface SlipsOptions {
  cwd?: string;
  /** Killed (SIGKILL to its process group) after this long; default 45 s. */
  timeoutMs?: number;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) killGroup(child);
});

function running(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || !running(child)) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

/** A running CLI. */
export class SlipsProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly done: Promise<SlipsResult>;
  private timedOut = false;
  private readonly waiters: Array<() => void> = [];

  constructor(t: ExecutionContext | undefined, args: readonly string[], opts: SlipsOptions = {}) {
    this.child = spawn(COMMAND[0], [...COMMAND[1], ...args], {
      cwd: opts.cwd ?? REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Own process group: teardown can kill slips.sh, bootstrap and node together.
      detached: true,
      env: { ...process.env, FORCE_COLOR: '0' },
    });
    live.add(this.child);
    t?.teardown(() => killGroup(this.child));
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      this.notify();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
      this.notify();
    });
    const timer = setTimeout(() => {
      this.timedOut = true;
      killGroup(this.child);
    }, opts.timeoutMs ?? 45_000);
    this.done = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        clearTimeout(timer);
        live.delete(this.child);
        this.notify();
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr, timedOut: this.timedOut });
      });
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  get exited(): boolean {
    return !running(this.child);
  }

  signal(name: NodeJS.Signals): void {
    // slips.sh execs node, so this PID is the CLI itself once bootstrap is done.
    process.kill(this.pid, name);
  }

  /** Resolves once stdout+stderr match; rejects on exit or timeout. */
  async waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (pattern.test(this.stdout) || pattern.test(this.stderr)) return;
      if (this.exited) throw new Error(`slips exited before printing ${pattern}:\n${this.stdout}\n${this.stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`slips did not print ${pattern} within ${timeoutMs} ms:\n${this.stdout}\n${this.stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private notify(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}

/** Runs ./slips.sh with args to the end. */
export function runSlips(t: ExecutionContext | undefined, args: readonly string[], opts: SlipsOptions = {}): Promise<SlipsResult> {
  return new SlipsProcess(t, args, opts).done;
}

/** A fresh temp directory, deleted when the test ends. */
export function tempDir(t: ExecutionContext, prefix = 'slips-test-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Writes <dir>/<name>: config/slips.yaml with the given values changed (comments kept).
 * Keys are paths such as ['redis', 'external'].
 */
export function writeConfig(dir: string, changes: ReadonlyArray<[string[], unknown]>, name = 'slips.yaml'): string {
  const doc = parseDocument(readFileSync(repoPath('config/slips.yaml'), 'utf8'));
  for (const [keyPath, value] of changes) doc.setIn(keyPath, value);
  const file = path.join(dir, name);
  writeFileSync(file, String(doc));
  return file;
}

/** Every N of `Total analyzed IPs: N` in the output (Slips' harness takes the max). */
export function analyzedIpCounts(output: string): number[] {
  return [...output.matchAll(/Total analyzed IPs:\s*(\d+)/g)].map((match) => Number(match[1]));
}

/** PIDs of live redis-server processes serving 127.0.0.1:<port> (from /proc). */
export async function redisServersOnPort(port: number): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (isPidAlive(pid) && (await isRedisServerOnPort(pid, port))) pids.push(pid);
  }
  return pids;
}

/** Waits until the PID is gone (zombies count as gone); false on timeout. */
export async function waitForPidGone(pid: number, timeoutMs = 2000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isPidAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return true;
}

/** SIGKILLs a redis-server left on a port by a failed test (only a redis-server on that port). */
export async function killRedisServerOnPort(port: number): Promise<void> {
  for (const pid of await redisServersOnPort(port)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * Runs ./slips.sh on one input with its own redis-server on a free port (killed at teardown if
 * left), asserts exit code 0 and returns the run's output directory.
 */
export async function analyzeWithSlips(t: ExecutionContext, input: string): Promise<string> {
  const cwd = tempDir(t, 'slips-run-');
  const port = await freeLoopbackPort();
  t.teardown(() => killRedisServerOnPort(port));
  const outputDir = path.join(cwd, 'out');
  const run = await runSlips(t, ['-e', '1', '-f', input, '-o', outputDir, '-P', String(port)], { cwd, timeoutMs: 90_000 });
  t.is(run.code, 0, `${run.stdout}\n${run.stderr}`);
  return outputDir;
}

/** alerts/alerts.log of a run's output directory. */
export function alertsLog(outputDir: string): string {
  return readFileSync(path.join(outputDir, 'alerts', 'alerts.log'), 'utf8');
}
