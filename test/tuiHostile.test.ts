// TUI end-to-end, hostile strings (spec/tui.md §5.2 #8, §4.8): DNS names and queries, a user
// agent, a service name and an evidence description carrying an OSC title, ESC[2J, ESC[31m, a C1
// CSI (U+009B), blessed markup and U+202E reach the screen as inert text: no title change, no bell,
// no clear, no red cell where the injected ESC[31m points, `·` shown, layout intact.

import test, { type ExecutionContext } from 'ava';
import { HOSTS_PANE, MAIN_PANE, STATUS_ROW, moveCursorTo, rowsMatching, sleep, startTui, type TerminalSession } from './helpers/tui.js';
import { startFixtureRedis } from './helpers/tuiRedis.js';

/** Markers placed right after an injected ESC[31m in the fixture. */
const RED_MARKERS = ['REDQ', 'REDUA', 'REDEV', 'REDDNS', 'RP'];

/** Every cell of every visible red marker; fails the test on a red one. */
function assertMarkersNotRed(t: ExecutionContext, session: TerminalSession, step: string): number {
  let seen = 0;
  const lines = session.screen();
  for (let y = 0; y < lines.length; y++) {
    for (const marker of RED_MARKERS) {
      for (let index = lines[y]!.indexOf(marker); index >= 0; index = lines[y]!.indexOf(marker, index + 1)) {
        seen++;
        for (let i = 0; i < marker.length; i++) {
          const x = session.columnOf(y, index + i);
          t.false(session.isRed(x, y), `${step}: ${marker} drawn red at ${x},${y}\n${session.dump()}`);
        }
      }
    }
  }
  return seen;
}

/**
 * The frame every step must keep: status and hints; the hosts box with its IP and the main and
 * detail boxes, or (wide mode, `v`) one main box over the full width.
 */
function assertLayout(t: ExecutionContext, session: TerminalSession, step: string, wide: boolean): void {
  const screen = session.screen();
  t.regex(screen[STATUS_ROW(24)]!, /IPs 1 ev 1 al 0/, `${step}: status\n${session.dump()}`);
  t.regex(screen[23]!, /\S/, `${step}: hints`);
  if (wide) {
    t.regex(screen[0]!, /^[┌+].*[┐+]$/, `${step}: top border\n${session.dump()}`);
    t.regex(screen[21]!, /^[└+].*[┘+]$/, `${step}: bottom border\n${session.dump()}`);
    for (let y = 1; y < 21; y++) t.regex(screen[y]!, /^[│|].{78}[│|]$/, `${step}: borders on row ${y}\n${session.dump()}`);
    return;
  }
  t.regex(screen[0]!, /Hosts 1/, `${step}: hosts title\n${session.dump()}`);
  t.true(rowsMatching(session, HOSTS_PANE, /10\.6\.6\.6/).length > 0, `${step}: the IP row\n${session.dump()}`);
  // Borders of the two columns of boxes on every pane row: hosts left and right, main/detail left and right.
  for (let y = 1; y < 21; y++) t.regex(screen[y]!, /^[│|].{26}[│|][│|└┌+].{50}[│|┘┐+]$/, `${step}: borders on row ${y}\n${session.dump()}`);
}

test('#8 hostile strings in views 2 and 6 are shown inert', async (t) => {
  const redis = await startFixtureRedis(t, 'hostile');
  const session = await startTui(t, ['-p', String(redis.port)]);
  await session.waitForText(/10\.6\.6\.6/);
  await sleep(300);
  const titlesAtStart = session.titles.length;
  const clearsAtStart = session.clears;
  let markersSeen = 0;
  const step = async (name: string, wide = false): Promise<void> => {
    await sleep(150);
    await session.check(t, name);
    t.deepEqual(session.titles.slice(titlesAtStart), [], `${name}: title changed`);
    t.false(session.titles.some((title) => title.includes('pwned')), `${name}: pwned title`);
    t.is(session.bells, 0, `${name}: bell`);
    t.is(session.clears, clearsAtStart, `${name}: screen cleared`);
    markersSeen += assertMarkersNotRed(t, session, name);
    assertLayout(t, session, name, wide);
  };
  await step('start (input name in the status line)');

  await moveCursorTo(session, HOSTS_PANE, /10\.6\.6\.6/);
  await session.press('enter');
  await session.waitForText(/TW1\b/);
  await moveCursorTo(session, HOSTS_PANE, /TW1\b/);
  await session.press('enter');
  await session.press('2');
  await session.waitForText(/2 Timeline 10\.6\.6\.6 TW1/);
  await step('view 2');
  await session.press('v');
  await session.waitForText(/REDDNS/);
  await step('view 2 wide (DNS column)', true);
  await session.press('v');
  await session.waitForText(/Hosts 1/);
  for (const row of [/DNS/, /HTTP/]) {
    await moveCursorTo(session, MAIN_PANE, row);
    await session.press('enter');
    await step(`view 2, ${row} row expanded`);
  }
  // The ESC[31m before each marker became `·`; the markup is literal text.
  await session.waitForText(/·REDQ/);
  await session.waitForText(/·REDUA/);
  t.true(session.screen().some((line) => line.includes('{red-fg}x{/}')), `markup shown literally\n${session.dump()}`);

  await session.press('6');
  await session.waitForText(/6 Evidence 10\.6\.6\.6 TW1/);
  await session.waitForText(/·REDEV/);
  await step('view 6');
  await moveCursorTo(session, MAIN_PANE, /REDEV/);
  await session.press('enter');
  await step('view 6, evidence opened');
  await session.press('i');
  await step('view 6, detail shows the row text');

  t.true(markersSeen > 0, 'some injected text was on screen');
  await session.quitCleanly(t);
});
