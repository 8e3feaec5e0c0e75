// Test helper: drives a terminal program (the built TUI, `node dist/tui/main.js`) in a real
// pseudo-terminal (node-pty) and renders its output in a headless xterm of the same size, so a
// test reads the screen a user would see: text per row, cell colours, title changes, bells,
// cursor visibility, alternate-screen use. Every session's process group is killed when its
// test ends, so a failing test leaves no process behind.

import path from 'node:path';
import type { ExecutionContext } from 'ava';
import pty from 'node-pty';
import xtermHeadless from '@xterm/headless';
import type { IBufferCell, Terminal as HeadlessTerminal } from '@xterm/headless';
import { REPO_ROOT } from './slips.js';

const { Terminal } = xtermHeadless;

/** The built TUI entry point. */
export const TUI_MAIN = path.join(REPO_ROOT, 'dist', 'tui', 'main.js');

export const DEFAULT_COLS = 80;
export const DEFAULT_ROWS = 24;
const POLL_MS = 25;
const ESC_PAUSE_MS = 100;

/** Key names press() understands; anything else is sent as typed. */
const KEY_SEQUENCES: Readonly<Record<string, string>> = {
  enter: '\r',
  tab: '\t',
  's-tab': '\x1b[Z',
  up: '\x1b[A',
  down: '\x1b[B',
  right: '\x1b[C',
  left: '\x1b[D',
  pgup: '\x1b[5~',
  pgdn: '\x1b[6~',
  home: '\x1b[H',
  end: '\x1b[F',
  backspace: '\x7f',
  'c-c': '\x03',
  'c-d': '\x04',
  'c-u': '\x15',
  'c-n': '\x0e',
  'c-p': '\x10',
  esc: '\x1b',
};

const live = new Set<number>();
process.once('exit', () => {
  for (const pid of live) killProcessGroup(pid);
});

function killProcessGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The promise's value, or undefined after ms; the timer does not outlive it (no idle wait at exit). */
function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A colour of one cell's foreground or background, as xterm stores it. */
export interface CellColor {
  mode: 'default' | 'palette' | 'rgb';
  /** Palette index (0-255) or 0xRRGGBB. */
  value: number;
}

/** Palette indices that render as red in xterm-256color: 1, 9 and the red corner of the cube. */
const RED_PALETTE = new Set([1, 9, 52, 88, 124, 160, 196, 197, 203]);

export function isRedColor(color: CellColor): boolean {
  if (color.mode === 'palette') return RED_PALETTE.has(color.value);
  if (color.mode === 'rgb') {
    const r = (color.value >> 16) & 0xff;
    const g = (color.value >> 8) & 0xff;
    const b = color.value & 0xff;
    return r >= 0x80 && g < 0x60 && b < 0x60;
  }
  return false;
}

export interface PtyOptions {
  cols?: number;
  rows?: number;
  cwd?: string;
  env?: Record<string, string>;
}

export interface ExitStatus {
  exitCode: number;
  signal: number | undefined;
}

/** One program in a pseudo-terminal, mirrored into a headless xterm. */
export class TerminalSession {
  readonly term: HeadlessTerminal;
  readonly proc: pty.IPty;
  /** Every title the program set (OSC 0/2), in order. */
  readonly titles: string[] = [];
  /** Bells rung (BEL outside a string sequence). */
  bells = 0;
  /** Full-screen erases (`CSI 2 J`, `CSI 3 J`, `ESC c`) seen so far. */
  clears = 0;
  /** Whether the cursor is shown (DECTCEM, `CSI ?25 h/l`). */
  cursorVisible = true;
  /** Every byte the program wrote, for dumps. */
  output = '';
  readonly exited: Promise<ExitStatus>;
  exitStatus: ExitStatus | undefined;
  cols: number;
  rows: number;
  private pending = Promise.resolve();
  private readonly rowWatchers: Array<{ row: () => number; seen: string[] }> = [];

  constructor(t: ExecutionContext | undefined, file: string, args: readonly string[], opts: PtyOptions = {}) {
    this.cols = opts.cols ?? DEFAULT_COLS;
    this.rows = opts.rows ?? DEFAULT_ROWS;
    this.term = new Terminal({ cols: this.cols, rows: this.rows, allowProposedApi: true, scrollback: 0 });
    this.term.onTitleChange((title) => this.titles.push(title));
    this.term.onBell(() => {
      this.bells++;
    });
    this.term.parser.registerCsiHandler({ final: 'J' }, (params) => {
      if (params[0] === 2 || params[0] === 3) this.clears++;
      return false;
    });
    this.term.parser.registerEscHandler({ final: 'c' }, () => {
      this.clears++;
      return false;
    });
    const trackCursor = (shown: boolean) => (params: (number | number[])[]) => {
      if (params.includes(25)) this.cursorVisible = shown;
      return false;
    };
    this.term.parser.registerCsiHandler({ prefix: '?', final: 'h' }, trackCursor(true));
    this.term.parser.registerCsiHandler({ prefix: '?', final: 'l' }, trackCursor(false));
    this.term.onWriteParsed(() => {
      for (const watcher of this.rowWatchers) {
        const text = this.screen()[watcher.row()] ?? '';
        if (watcher.seen[watcher.seen.length - 1] !== text) watcher.seen.push(text);
      }
    });

    this.proc = pty.spawn(file, [...args], {
      name: 'xterm-256color',
      cols: this.cols,
      rows: this.rows,
      cwd: opts.cwd ?? REPO_ROOT,
      env: {
        ...stringEnv(process.env),
        TERM: 'xterm-256color',
        LANG: 'C.UTF-8',
        LC_ALL: 'C.UTF-8',
        TZ: 'UTC',
        ...opts.env,
      },
    });
    const pid = this.proc.pid;
    live.add(pid);
    this.proc.onData((data) => {
      this.output += data;
      this.pending = new Promise((resolve) => this.term.write(data, resolve));
    });
    this.exited = new Promise((resolve) => {
      this.proc.onExit(({ exitCode, signal }) => {
        this.exitStatus = { exitCode, signal: signal === 0 ? undefined : signal };
        resolve(this.exitStatus);
      });
    });
    t?.teardown(async () => {
      killProcessGroup(pid);
      live.delete(pid);
      // Lets the pty's exit event arrive before the worker is torn down.
      await within(this.exited, 500);
      this.term.dispose();
    });
  }

  get alive(): boolean {
    return this.exitStatus === undefined;
  }

  /** Waits until everything the program wrote so far is parsed. */
  async settle(): Promise<void> {
    let seen: Promise<void> | undefined;
    while (seen !== this.pending) {
      seen = this.pending;
      await seen;
    }
  }

  /** The active buffer (normal or alternate) as one string per row, right-trimmed. */
  screen(): string[] {
    const buffer = this.term.buffer.active;
    const lines: string[] = [];
    for (let y = 0; y < this.rows; y++) lines.push(buffer.getLine(buffer.viewportY + y)?.translateToString(true) ?? '');
    return lines;
  }

  /**
   * Records every distinct successive content of a row (given as a function of the current
   * size, e.g. the status row `rows - 2`) from now on; the returned array grows as output is parsed.
   */
  watchRow(row: (rows: number) => number): string[] {
    const watcher = { row: () => row(this.rows), seen: [] as string[] };
    this.rowWatchers.push(watcher);
    return watcher.seen;
  }

  /** The screen as one string with row numbers, for failure messages. */
  dump(): string {
    return this.screen()
      .map((line, y) => `${String(y).padStart(2)}|${line}`)
      .join('\n');
  }

  /** Whether the alternate screen is shown. */
  get onAlternateScreen(): boolean {
    return this.term.buffer.active.type === 'alternate';
  }

  private cell(x: number, y: number): IBufferCell | undefined {
    const buffer = this.term.buffer.active;
    return buffer.getLine(buffer.viewportY + y)?.getCell(x);
  }

  cellFg(x: number, y: number): CellColor {
    const cell = this.cell(x, y);
    if (cell === undefined || cell.isFgDefault()) return { mode: 'default', value: 0 };
    return { mode: cell.isFgRGB() ? 'rgb' : 'palette', value: cell.getFgColor() };
  }

  cellBg(x: number, y: number): CellColor {
    const cell = this.cell(x, y);
    if (cell === undefined || cell.isBgDefault()) return { mode: 'default', value: 0 };
    return { mode: cell.isBgRGB() ? 'rgb' : 'palette', value: cell.getBgColor() };
  }

  cellInverse(x: number, y: number): boolean {
    return (this.cell(x, y)?.isInverse() ?? 0) !== 0;
  }

  /** Whether the cell is drawn in red: its text, or its background (e.g. red text in inverse video). */
  isRed(x: number, y: number): boolean {
    return isRedColor(this.cellFg(x, y)) || isRedColor(this.cellBg(x, y));
  }

  cellUnderline(x: number, y: number): boolean {
    return (this.cell(x, y)?.isUnderline() ?? 0) !== 0;
  }

  /**
   * Whether the cell stands out as a selection/cursor: inverse video or a non-default
   * background.
   */
  isHighlighted(x: number, y: number): boolean {
    return this.cellInverse(x, y) || this.cellBg(x, y).mode !== 'default';
  }

  /**
   * The column of each UTF-16 unit of screen()[y] (wide characters take 2 cells, astral ones
   * 2 units).
   */
  columnsOfRow(y: number): number[] {
    const buffer = this.term.buffer.active;
    const line = buffer.getLine(buffer.viewportY + y);
    const columns: number[] = [];
    if (line === undefined) return columns;
    for (let x = 0; x < line.length; ) {
      const cell = line.getCell(x);
      const width = cell?.getWidth() || 1;
      const chars = cell?.getChars() || ' ';
      for (let unit = 0; unit < chars.length; unit++) columns.push(x);
      x += width;
    }
    return columns;
  }

  /** The screen column of a string index into screen()[y]. */
  columnOf(y: number, index: number): number {
    return this.columnsOfRow(y)[index] ?? index;
  }

  /** Where text first occurs on screen (column, row), or undefined. */
  find(text: string | RegExp): { x: number; y: number } | undefined {
    const lines = this.screen();
    for (let y = 0; y < lines.length; y++) {
      const line = lines[y]!;
      const index = typeof text === 'string' ? line.indexOf(text) : line.search(text);
      if (index >= 0) return { x: this.columnOf(y, index), y };
    }
    return undefined;
  }

  /** Polls the screen every 25 ms until re matches one row; throws with a dump on timeout. */
  async waitForText(re: RegExp, ms = 3000): Promise<{ x: number; y: number; line: string }> {
    return this.waitFor(`text ${re}`, () => {
      const lines = this.screen();
      for (let y = 0; y < lines.length; y++) {
        const index = lines[y]!.search(re);
        if (index >= 0) return { x: this.columnOf(y, index), y, line: lines[y]! };
      }
      return undefined;
    }, ms);
  }

  /** Polls until re matches no row any more. */
  async waitForNoText(re: RegExp, ms = 3000): Promise<void> {
    await this.waitFor(`no text ${re}`, () => (this.screen().some((line) => re.test(line)) ? undefined : true), ms);
  }

  /** Polls every 25 ms until probe returns a value; throws with a dump on timeout. */
  async waitFor<T>(what: string, probe: () => T | undefined, ms = 3000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      await this.settle();
      const found = probe();
      if (found !== undefined) return found;
      if (Date.now() >= deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${this.alive ? '' : ` (process exited: ${JSON.stringify(this.exitStatus)})`}; screen:\n${this.dump()}`);
      await sleep(POLL_MS);
    }
  }

  /** Sends a key by name (see KEY_SEQUENCES) or as typed; a lone Esc is followed by a pause. */
  async press(key: string): Promise<void> {
    const sequence = KEY_SEQUENCES[key.toLowerCase()] ?? key;
    this.proc.write(sequence);
    // Esc alone would merge with the next key into a meta/escape sequence.
    await sleep(sequence === '\x1b' ? ESC_PAUSE_MS : POLL_MS);
  }

  /** Sends text (one write). */
  async type(text: string): Promise<void> {
    this.proc.write(text);
    await sleep(POLL_MS);
  }

  /** Resizes the pty (the program gets SIGWINCH) and the emulator together. */
  resize(cols: number, rows: number): void {
    this.cols = cols;
    this.rows = rows;
    this.proc.resize(cols, rows);
    this.term.resize(cols, rows);
  }

  /** Rows wrapped by the emulator: the program wrote past the last column. */
  wrappedRows(): number[] {
    const buffer = this.term.buffer.active;
    const rows: number[] = [];
    for (let y = 0; y < this.rows; y++) if (buffer.getLine(buffer.viewportY + y)?.isWrapped === true) rows.push(y);
    return rows;
  }

  /** Rows that look like a Node error or warning printed over the screen. */
  stderrRows(): string[] {
    return this.screen().filter((line) => STDERR_PATTERN.test(line));
  }

  /**
   * The checks after every step: still running, no row wider than the terminal, no error
   * text on screen.
   */
  async check(t: ExecutionContext, step: string): Promise<void> {
    await this.settle();
    t.true(this.alive, `${step}: process exited ${JSON.stringify(this.exitStatus)}\n${this.dump()}`);
    t.deepEqual(this.wrappedRows(), [], `${step}: a row was wider than ${this.cols} columns\n${this.dump()}`);
    t.deepEqual(this.stderrRows(), [], `${step}: error text on screen\n${this.dump()}`);
  }

  /** Waits for the program to exit; throws with a dump if it does not within ms. */
  async waitForExit(ms = 5000): Promise<ExitStatus> {
    const status = await within(this.exited, ms);
    if (status === undefined) throw new Error(`process still running after ${ms} ms; screen:\n${this.dump()}`);
    await this.settle();
    return status;
  }

  /** Presses q and waits for the exit. */
  async quit(ms = 5000): Promise<ExitStatus> {
    await this.press('q');
    return this.waitForExit(ms);
  }

  /** q, then spec §5.1's end checks: exit 0, alternate screen left, cursor shown. */
  async quitCleanly(t: ExecutionContext, ms = 5000): Promise<void> {
    t.deepEqual(await this.quit(ms), { exitCode: 0, signal: undefined }, 'q exits 0');
    this.assertLeftCleanly(t);
  }

  /** After the exit: back on the normal screen with the cursor shown. */
  assertLeftCleanly(t: ExecutionContext): void {
    t.false(this.onAlternateScreen, `alternate screen left\n${this.dump()}`);
    t.true(this.cursorVisible, 'cursor shown');
  }
}

/** Node's uncaught-error and warning shapes. */
const STDERR_PATTERN = /^\s*at \S.*:\d+:\d+\)?\s*$|\b(?:Error|TypeError|RangeError|ReferenceError|SyntaxError): |^\(node:\d+\)|UnhandledPromiseRejection/;


/** The test's environment minus colour switches that would change what the program draws. */
function stringEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined && key !== 'NO_COLOR' && key !== 'FORCE_COLOR') out[key] = value;
  return out;
}

export interface TuiOptions extends PtyOptions {
  /** Wait until the first screen has text (default true). */
  waitForFirstScreen?: boolean;
}

/** Starts `node dist/tui/main.js ...args` in an 80x24 pty. */
export async function startTui(t: ExecutionContext, args: readonly string[], opts: TuiOptions = {}): Promise<TerminalSession> {
  const session = new TerminalSession(t, process.execPath, [TUI_MAIN, ...args], opts);
  if (opts.waitForFirstScreen !== false) await session.waitFor('a first screen', () => (session.screen().some((line) => line.trim() !== '') ? true : undefined), 5000);
  return session;
}

/** A rectangle of the screen: columns [x0, x1), rows [y0, y1). */
export interface Region {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

/** Inside the borders of the panes at 80x24 (spec §4.2). */
export const HOSTS_PANE: Region = { x0: 1, x1: 27, y0: 1, y1: 21 };
export const MAIN_PANE: Region = { x0: 29, x1: 79, y0: 1, y1: 15 };
export const STATUS_ROW = (rows: number): number => rows - 2;
export const HINTS_ROW = (rows: number): number => rows - 1;

/** The text of one row inside a region. */
export function regionRow(session: TerminalSession, region: Region, y: number): string {
  const line = session.screen()[y] ?? '';
  const columns = session.columnsOfRow(y);
  const start = columns.findIndex((x) => x >= region.x0);
  if (start < 0) return '';
  const end = columns.findIndex((x) => x >= region.x1);
  return line.slice(start, end < 0 ? line.length : end);
}

/** Rows of a region whose text matches re. */
export function rowsMatching(session: TerminalSession, region: Region, re: RegExp): number[] {
  const rows: number[] = [];
  for (let y = region.y0; y < region.y1; y++) if (re.test(regionRow(session, region, y))) rows.push(y);
  return rows;
}

/**
 * The rows of the region drawn as the cursor (a row item may take several lines): the row with
 * the most highlighted cells and its highlighted neighbours; empty when there is none. A focused
 * pane's cursor is highlighted (inverse or background); with unfocused, also underlined rows (the
 * cursor of a pane without focus) count.
 */
export function cursorRows(session: TerminalSession, region: Region, unfocused = false): number[] {
  const counts: number[] = [];
  for (let y = region.y0; y < region.y1; y++) {
    let count = 0;
    for (let x = region.x0; x < region.x1; x++) if (session.isHighlighted(x, y) || (unfocused && session.cellUnderline(x, y))) count++;
    counts.push(count);
  }
  const best = counts.indexOf(Math.max(0, ...counts));
  if (best < 0 || counts[best]! < 3) return [];
  let first = best;
  let last = best;
  while (first > 0 && counts[first - 1]! >= 3) first--;
  while (last < counts.length - 1 && counts[last + 1]! >= 3) last++;
  return Array.from({ length: last - first + 1 }, (_, i) => region.y0 + first + i);
}

/** The first row of the cursor (see cursorRows), or undefined. */
export function cursorRow(session: TerminalSession, region: Region, unfocused = false): number | undefined {
  return cursorRows(session, region, unfocused)[0];
}

/** Presses Tab until the region's pane has the focused cursor; throws if it never does. */
export async function focusPane(session: TerminalSession, region: Region): Promise<void> {
  for (let press = 0; press < 4; press++) {
    await session.settle();
    if (cursorRow(session, region) !== undefined) return;
    await session.press('tab');
    await sleep(30);
  }
  throw new Error(`no focused cursor in ${JSON.stringify(region)} after Tab; screen:\n${session.dump()}`);
}

/**
 * Focuses the region's pane (Tab) and moves its cursor with Up/Down until its row matches re;
 * throws if it cannot.
 */
export async function moveCursorTo(session: TerminalSession, region: Region, re: RegExp, maxPresses = 60): Promise<number> {
  await focusPane(session, region);
  for (let press = 0; press <= maxPresses; press++) {
    await session.settle();
    const rows = cursorRows(session, region);
    const cursor = rows[0];
    const hit = rows.find((y) => re.test(regionRow(session, region, y)));
    if (hit !== undefined) return hit;
    const targets = rowsMatching(session, region, re);
    const down = cursor === undefined || targets.length === 0 || targets[0]! > cursor;
    await session.press(down ? 'down' : 'up');
    await sleep(30);
  }
  throw new Error(`cursor never reached ${re}; screen:\n${session.dump()}`);
}

/** A RegExp matching text literally. */
export function literal(text: string): RegExp {
  return new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
}
