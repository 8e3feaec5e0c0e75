// TUI end-to-end, start and screen (spec/tui.md §5.2 #1 and "Also"): the first screen on an empty
// Redis, the too-small notice and its recovery, the help overlay listing every §4.5 key, and a
// clean quit (exit 0, alternate screen left, cursor shown).

import test from 'ava';
import { HINTS_ROW, STATUS_ROW, startTui, type TerminalSession } from './helpers/tui.js';
import { startFixtureRedis } from './helpers/tuiRedis.js';

/** Every key of spec §4.5 as the help may print it (alternatives for the same key). */
const KEYMAP: ReadonlyArray<readonly string[]> = [
  ['Up', '↑'], ['Down', '↓'], ['k'], ['j'], ['PgUp'], ['PgDn'], ['C-u', '^U', 'Ctrl-u', 'Ctrl-U'], ['C-d', '^D', 'Ctrl-d', 'Ctrl-D'], ['g'], ['G'],
  ['Right', '→'], ['l'], ['Left', '←'], ['h'], ['Enter'], ['Esc'], ['Backspace', 'BS'], ['Tab'], ['S-Tab', 'Shift-Tab'],
  ['1-9'], ['L'], [']'], ['['], ['C-n', '^N', 'Ctrl-n', 'Ctrl-N'], ['C-p', '^P', 'Ctrl-p', 'Ctrl-P'], ['/'], ['n'], ['N'], ['f'], ['F'], ['s'], ['S'], ['v'], ['i'], ['a'],
  ['m'], ['e'], ['o'], ['r'], ['p'], ['c'], ['D'], [':'], ['?'], ['q'], ['C-c', '^C', 'Ctrl-c', 'Ctrl-C'],
];

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whether key appears as a token (between spaces, commas, slashes or line ends). */
function listsKey(text: string, key: string): boolean {
  return new RegExp(`(^|[\\s,/|])${escapeRegExp(key)}($|[\\s,/|:])`, 'm').test(text);
}

/** All the help text: pages through it until the screen stops changing. */
async function collectHelp(session: TerminalSession): Promise<string> {
  const pages: string[] = [];
  let previous = '';
  for (let page = 0; page < 12; page++) {
    await session.settle();
    const screen = session.screen().join('\n');
    if (screen === previous) break;
    pages.push(screen);
    previous = screen;
    await session.press('pgdn');
    await new Promise((resolve) => setTimeout(resolve, 120));
  }
  return pages.join('\n');
}

test.serial('#1 empty Redis: all panes, zero counts, core none and the hints within 1 s', async (t) => {
  const redis = await startFixtureRedis(t);
  const started = Date.now();
  const session = await startTui(t, ['-p', String(redis.port)], { waitForFirstScreen: false });
  await session.waitFor('status with zero counts and core ○ none', () => {
    const status = session.screen()[STATUS_ROW(24)]!;
    return /IPs 0 ev 0 al 0/.test(status) && /○ none/.test(status) ? status : undefined;
  }, 3000);
  const elapsed = Date.now() - started;
  t.log(`first full screen after ${elapsed} ms`);
  t.true(elapsed <= 1000, `first full screen within 1 s (took ${elapsed} ms)`);
  const screen = session.screen();
  t.regex(screen[HINTS_ROW(24)]!, /\?help .*q quit/);
  t.regex(screen[0]!, /Hosts 0/);
  // Hosts, main view and detail boxes: three top-left corners.
  t.true(screen.join('\n').split(/[┌+]/).length - 1 >= 3, session.dump());
  await session.check(t, 'first screen');
  t.true(session.onAlternateScreen, 'drawn on the alternate screen');
  await session.quitCleanly(t);
});

test('70x20 shows the too-small notice, 80x24 restores the layout', async (t) => {
  const redis = await startFixtureRedis(t, 'core');
  const session = await startTui(t, ['-p', String(redis.port)]);
  await session.waitForText(/192\.168\.1\.9/);
  session.resize(70, 20);
  await session.waitForText(/terminal too small \(need 80x24, have 70x20\)/);
  await session.check(t, 'at 70x20');
  session.resize(80, 24);
  await session.waitForText(/192\.168\.1\.9/);
  await session.waitForNoText(/terminal too small/);
  t.regex(session.screen()[0]!, /Hosts 3/);
  t.regex(session.screen()[HINTS_ROW(24)]!, /\?help/);
  await session.check(t, 'back at 80x24');
  await session.quitCleanly(t);
});

test('? lists every key of the keymap, with the old-key map; Esc closes it', async (t) => {
  const redis = await startFixtureRedis(t, 'core');
  const session = await startTui(t, ['-p', String(redis.port)]);
  await session.waitForText(/192\.168\.1\.9/);
  const before = session.screen().join('\n');
  await session.press('?');
  await session.waitFor('a help overlay', () => (session.screen().join('\n') !== before && /help/i.test(session.screen().join('\n')) ? true : undefined));
  await session.check(t, 'help shown');
  // the overlay hides the panes entirely: no border of theirs is left beside it
  const shown = session.screen();
  t.regex(shown[0]!, /^┌Keys \(Esc closes\)─+┐$/, session.dump());
  for (let y = 1; y < 21; y++) t.regex(shown[y]!, /^│[^│┌┐└┘]*│$/, session.dump());
  const help = await collectHelp(session);
  const missing = KEYMAP.filter((names) => !names.some((name) => listsKey(help, name))).map((names) => names[0]);
  t.deepEqual(missing, [], `help text:\n${help}`);
  t.regex(help, /old/i, 'the old-key map');
  await session.press('esc');
  await session.waitForText(/192\.168\.1\.9/);
  await session.waitFor('help closed', () => (session.screen()[HINTS_ROW(24)]!.includes('?help') ? true : undefined));
  await session.check(t, 'help closed');
  await session.quitCleanly(t);
});

test('view L without a core child: its note is wrapped, not cut at the border', async (t) => {
  const redis = await startFixtureRedis(t, 'core');
  const session = await startTui(t, ['-p', String(redis.port)]);
  await session.waitForText(/192\.168\.1\.9/);
  await session.press('L');
  await session.waitForText(/L Core log/);
  await session.waitForText(/^│.*│-f\) +│$/);
  t.regex(session.screen().join('\n'), /no core child: start one with c s \(needs --run or/);
  await session.check(t, 'view L');
  await session.quitCleanly(t);
});

test('C-c quits like q', async (t) => {
  const redis = await startFixtureRedis(t, 'core');
  const session = await startTui(t, ['-p', String(redis.port)]);
  await session.waitForText(/192\.168\.1\.9/);
  await session.press('c-c');
  t.deepEqual(await session.waitForExit(), { exitCode: 0, signal: undefined });
  session.assertLeftCleanly(t);
});
