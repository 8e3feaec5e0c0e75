// TUI end-to-end with the real core as its child (spec/tui.md §5.2 #9, §4.7, the "Also" quit
// prompt, and the acceptance): `--run -- -f dataset/port-scans/vertical/conn.log` runs to
// `✔ exit 0` with its 50 flows and the vertical port scan of 192.168.1.9; a following core (`-g`)
// is restarted (`c r`, new PID), stopped (`c t`) and, on `q`, asked stop/detach/cancel (cancel
// keeps both, stop ends both, detach leaves the core running). After
// quitting no core and no redis-server is left. The core writes into output/kalipso_* of the
// repository (the TUI's default); the tests remove the directories they caused.

import test, { type ExecutionContext } from 'ava';
import { copyFileSync, existsSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import path from 'node:path';
import { isPidAlive } from '../core/redisServer.js';
import { redisServersOnPort, repoPath, tempDir, waitForPidGone } from './helpers/slips.js';
import { HOSTS_PANE, MAIN_PANE, STATUS_ROW, literal, moveCursorTo, regionRow, rowsMatching, sleep, startTui, type Region, type TerminalSession } from './helpers/tui.js';
import { redisAnswers } from './helpers/tuiRedis.js';

const VERTICAL = 'dataset/port-scans/vertical/conn.log';
const SCAN_EVIDENCE = 'vertical port scan to IP 45.33.32.156 from 192.168.1.9';
const OUTPUT = repoPath('output');
const CORE_STATES = ['◌ starting', '● run', '✔ exit 0'];
/** Main view and Detail together (the text of a long row may continue in Detail). */
const RIGHT_COLUMN: Region = { x0: MAIN_PANE.x0, x1: MAIN_PANE.x1, y0: 1, y1: 21 };

function kalipsoOutputDirs(): string[] {
  return existsSync(OUTPUT) ? readdirSync(OUTPUT).filter((name) => name.startsWith('kalipso')) : [];
}

/**
 * Processes tied to one of the dirs: a command line naming it (the core gets `-o <dir>`) or a
 * working directory inside it (redis-server changes into its `dir`, `<out>/databases`, both the
 * core's server and the TUI's read-only one).
 */
function processesUsing(dirs: readonly string[]): Array<{ pid: number; what: string }> {
  const found: Array<{ pid: number; what: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let cmdline = '';
    let cwd = '';
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      cwd = readlinkSync(`/proc/${entry}/cwd`);
    } catch {
      continue; // gone, or not ours to read
    }
    if (cmdline === '') continue; // zombie
    if (dirs.some((dir) => cmdline.includes(path.basename(dir)) || cwd === dir || cwd.startsWith(`${dir}/`))) found.push({ pid: Number(entry), what: `${cmdline} (cwd ${cwd})` });
  }
  return found;
}

/** What the TUI's cores leave behind: their output dirs, Redis ports and PIDs. */
class CoreTracker {
  private readonly before = new Set(kalipsoOutputDirs());
  /** Core PIDs seen on the status line (`● run <pid>`). */
  readonly pids = new Set<number>();

  constructor(t: ExecutionContext, readonly session: TerminalSession) {
    session.term.onWriteParsed(() => {
      const match = /● run (\d+)/.exec(session.screen()[STATUS_ROW(session.rows)] ?? '');
      if (match !== null) this.pids.add(Number(match[1]));
    });
    t.teardown(() => {
      const leftovers = [...this.pids, ...processesUsing(this.outputDirs()).map(({ pid }) => pid)];
      for (const pid of leftovers) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      // TUI_TEST_KEEP_OUTPUT=1 keeps them for a post-mortem (tui_core.log).
      if (process.env['TUI_TEST_KEEP_OUTPUT'] !== '1') for (const dir of this.outputDirs()) rmSync(dir, { recursive: true, force: true });
    });
  }

  outputDirs(): string[] {
    return kalipsoOutputDirs()
      .filter((name) => !this.before.has(name))
      .map((name) => path.join(OUTPUT, name));
  }

  /** Ports the cores' Redis servers used: from their logs, and from the configs in <out>/redis/. */
  redisPorts(): number[] {
    const ports = new Set<number>();
    for (const dir of this.outputDirs()) {
      const log = path.join(dir, 'tui_core.log');
      if (existsSync(log)) for (const match of readFileSync(log, 'utf8').matchAll(/Using redis server on port: (\d+)/g)) ports.add(Number(match[1]));
      const confs = path.join(dir, 'redis');
      if (existsSync(confs)) for (const name of readdirSync(confs)) for (const match of name.matchAll(/^redis-server-port-(\d+)\.conf$/g)) ports.add(Number(match[1]));
    }
    return [...ports];
  }

  /** Fails unless no core, no core Redis and no read-only Redis of the TUI is left. */
  async assertNothingLeft(t: ExecutionContext): Promise<void> {
    const dirs = this.outputDirs();
    t.true(dirs.length > 0, 'the cores wrote output/kalipso_*');
    for (const pid of this.pids) t.true(await waitForPidGone(pid, 3000), `core ${pid} still running`);
    const deadline = Date.now() + 3000;
    while (processesUsing(dirs).length > 0 && Date.now() < deadline) await sleep(50);
    t.deepEqual(processesUsing(dirs), [], 'processes of the run left behind');
    const ports = this.redisPorts();
    t.true(ports.length > 0, `found the cores' Redis ports in ${dirs.join(', ')}`);
    for (const port of ports) {
      t.false(await redisAnswers(port), `redis on ${port} still answers`);
      t.deepEqual(await redisServersOnPort(port), [], `redis-server on ${port}`);
    }
  }
}

/** Core states in the order the status line showed them. */
function stateSequence(history: readonly string[]): string[] {
  const states: string[] = [];
  for (const line of history) {
    const state = CORE_STATES.find((name) => line.includes(name));
    if (state !== undefined && states[states.length - 1] !== state) states.push(state);
  }
  return states;
}

function compact(text: string): string {
  return text.replace(/\s+/g, '');
}

/** Waits until the text (whitespace ignored, so wrapped rows count) is in the region. */
async function waitForRegionText(session: TerminalSession, region: Region, text: string, ms = 3000): Promise<void> {
  await session.waitFor(`"${text}" in the main view or detail`, () => {
    let joined = '';
    for (let y = region.y0; y < region.y1; y++) joined += regionRow(session, region, y);
    return compact(joined).includes(compact(text)) ? true : undefined;
  }, ms);
}

/** On view 6, the scan evidence: on its row, or in Detail after Enter and `i` when the row is cut. */
async function assertScanEvidence(session: TerminalSession): Promise<void> {
  await session.waitForText(/6 Evidence 192\.168\.1\.9/);
  try {
    await waitForRegionText(session, RIGHT_COLUMN, SCAN_EVIDENCE, 1500);
  } catch {
    await moveCursorTo(session, MAIN_PANE, /vertical/i);
    await session.press('enter');
    await session.press('i');
    await waitForRegionText(session, RIGHT_COLUMN, SCAN_EVIDENCE);
  }
}

/** The quit prompt for a running child: stop / detach / cancel. */
async function waitForQuitPrompt(session: TerminalSession): Promise<void> {
  await session.waitForText(/stop.*detach.*cancel/i);
}

/** q; answers `s` (stop) if the quit prompt appears; returns the exit code. */
async function quitStoppingCore(session: TerminalSession): Promise<number> {
  await session.press('q');
  await sleep(200);
  if (session.alive && /stop.*detach.*cancel/i.test(session.screen().join('\n'))) await session.press('s');
  return (await session.waitForExit(15_000)).exitCode;
}

test.serial('#9 the real core as a child: ◌ ● ✔ exit 0, 50 flows, 192.168.1.9 marked, its vertical scan in view 6, nothing left after q', async (t) => {
  const session = await startTui(t, ['--run', '--', '-f', VERTICAL], { waitForFirstScreen: false });
  const tracker = new CoreTracker(t, session);
  const status = session.watchRow(STATUS_ROW);
  await session.waitForText(/✔ exit 0/, 20_000);
  const states = stateSequence(status);
  t.log('core states seen:', states.join(' -> '));
  t.is(states[states.length - 1], '✔ exit 0');
  t.true(states.length >= 2, `a starting or running state before the exit: ${states.join(', ')}`);
  t.deepEqual(states, CORE_STATES.filter((state) => states.includes(state)), 'states in order');
  t.true(status.some((line) => /● run \d+/.test(line)) || states.includes('◌ starting'));
  t.is(readFileSync(repoPath(VERTICAL), 'utf8').trim().split('\n').length, 50);
  await session.waitForText(/\b50(\/50 100%| flows)/);
  await session.check(t, 'core exited');

  const ipRow = await session.waitFor('192.168.1.9 in the tree', () => rowsMatching(session, HOSTS_PANE, /192\.168\.1\.9/)[0]);
  t.regex(regionRow(session, HOSTS_PANE, ipRow), /[•!*].*192\.168\.1\.9/, 'marked');
  await moveCursorTo(session, HOSTS_PANE, /192\.168\.1\.9/);
  await session.press('enter');
  await session.press('6');
  await assertScanEvidence(session);
  await session.check(t, 'view 6');

  t.is(await quitStoppingCore(session), 0);
  session.assertLeftCleanly(t);
  await tracker.assertNothingLeft(t);
});

test.serial('core control on a following core: c r new PID, c t stops it, q asks stop/detach/cancel', async (t) => {
  const zeekDir = tempDir(t, 'kalipso-growing-');
  copyFileSync(repoPath(VERTICAL), path.join(zeekDir, 'conn.log'));
  const session = await startTui(t, ['--run', '--', '-g', zeekDir], { waitForFirstScreen: false });
  const tracker = new CoreTracker(t, session);
  const runningPid = async (not?: number): Promise<number> => {
    const { line } = await session.waitForText(not === undefined ? /● run \d+/ : new RegExp(`● run (?!${not}\\b)\\d+`), 20_000);
    return Number(/● run (\d+)/.exec(line)![1]);
  };
  const first = await runningPid();
  await session.waitForText(/192\.168\.1\.9/, 10_000);
  await session.check(t, 'running');

  await session.press('c');
  await session.waitForText(/restart/i);
  await session.check(t, 'core menu');
  await session.press('r');
  const second = await runningPid(first);
  t.not(second, first);
  t.true(await waitForPidGone(first, 5000), 'the first core is gone after the restart');
  await session.check(t, 'restarted');

  await session.press('c');
  await session.waitForText(/restart/i);
  await session.press('t');
  await session.waitForText(/✔ exit \d+|✖ (exit \d+|SIG[A-Z]+)/, 35_000);
  t.true(await waitForPidGone(second, 5000), 'the core is gone after c t');
  await session.check(t, 'stopped');

  await session.press('c');
  await session.waitForText(/restart/i);
  await session.press('s');
  const third = await runningPid(second);
  await session.check(t, 'started again');

  await session.press('q');
  await waitForQuitPrompt(session);
  await session.check(t, 'quit prompt');
  await session.press('esc');
  await session.waitForNoText(/stop.*detach.*cancel/i);
  t.true(session.alive, 'cancel keeps the TUI');
  t.true(isPidAlive(third), 'cancel keeps the core');
  await session.check(t, 'quit cancelled');

  await session.press('q');
  await waitForQuitPrompt(session);
  await session.press('s');
  t.is((await session.waitForExit(35_000)).exitCode, 0);
  session.assertLeftCleanly(t);
  await tracker.assertNothingLeft(t);
});

test.serial('acceptance at 80x24 on the vertical dataset: tree, / search to its scan evidence, ? help, q leaves nothing', async (t) => {
  const session = await startTui(t, ['--run', '--', '-f', VERTICAL], { waitForFirstScreen: false });
  const tracker = new CoreTracker(t, session);
  await session.waitForText(/✔ exit 0/, 20_000);
  await session.waitFor('192.168.1.9 in the IP tree', () => rowsMatching(session, HOSTS_PANE, /192\.168\.1\.9/)[0]);
  // The keys exactly: / 192.168.1.9 Enter.
  await session.press('/');
  await session.type('192.168.1.9');
  await session.press('enter');
  await assertScanEvidence(session);
  await session.check(t, 'evidence found by search');
  await session.press('?');
  await session.waitForText(/help/i);
  await session.waitForText(literal('/'));
  await session.check(t, 'help');
  await session.press('esc');
  t.is(await quitStoppingCore(session), 0);
  session.assertLeftCleanly(t);
  await tracker.assertNothingLeft(t);
});

test.serial('quit prompt: d detaches, the TUI exits 0 and the core keeps running', async (t) => {
  const zeekDir = tempDir(t, 'kalipso-growing-');
  copyFileSync(repoPath(VERTICAL), path.join(zeekDir, 'conn.log'));
  const session = await startTui(t, ['--run', '--', '-g', zeekDir], { waitForFirstScreen: false });
  const tracker = new CoreTracker(t, session);
  const { line } = await session.waitForText(/● run \d+/, 20_000);
  const pid = Number(/● run (\d+)/.exec(line)![1]);
  await session.press('q');
  await waitForQuitPrompt(session);
  await session.press('d');
  t.is((await session.waitForExit(5000)).exitCode, 0);
  session.assertLeftCleanly(t);
  await sleep(300);
  t.true(isPidAlive(pid), 'the detached core still runs');
  // Stopped as a user would; its Redis goes with it.
  process.kill(pid, 'SIGTERM');
  await tracker.assertNothingLeft(t);
});
