// Proves the TUI test harness (test/helpers/tui.ts) on small shell programs: screen text, colours,
// titles, bells, clears, wrapped rows, keys, resize, exit status and process-group cleanup.

import test, { type ExecutionContext } from 'ava';
import { waitForPidGone } from './helpers/slips.js';
import { TerminalSession } from './helpers/tui.js';

function shell(t: ExecutionContext, script: string, cols = 80, rows = 24): TerminalSession {
  return new TerminalSession(t, '/bin/bash', ['--noprofile', '--norc', '-c', script], { cols, rows });
}

test('screen, colours, title, bell, clear and cursor are read from the emulator', async (t) => {
  const session = shell(t, `printf '\\033[2J\\033[Hplain\\r\\n\\033[31mRED\\033[0m \\033[7mINV\\033[0m\\r\\n\\033]0;hello\\007\\a\\033[?25ldone'; sleep 5`);
  await session.waitForText(/done/);
  t.deepEqual(session.titles, ['hello']);
  t.is(session.bells, 1);
  t.is(session.clears, 1);
  t.false(session.cursorVisible);
  const red = session.find('RED')!;
  t.deepEqual(red, { x: 0, y: 1 });
  t.true(session.isRed(red.x, red.y));
  t.false(session.isRed(0, 0));
  t.true(session.cellInverse(4, 1));
  t.true(session.isHighlighted(4, 1));
  t.false(session.isHighlighted(0, 1));
  await session.check(t, 'after printf');
});

test('wide characters map string indices to columns', async (t) => {
  const session = shell(t, `printf '漢字 x→y\\r\\n'; sleep 5`);
  await session.waitForText(/x→y/);
  t.deepEqual(session.find('x→y'), { x: 5, y: 0 });
});

test('a row longer than the terminal is reported as wrapped', async (t) => {
  const session = shell(t, `printf '%0100d' 0; sleep 5`, 80, 24);
  await session.waitForText(/0{20}$/);
  t.deepEqual(session.wrappedRows(), [1]);
});

test('keys reach the program: Enter, Esc alone, arrows, C-c', async (t) => {
  const session = shell(t, `stty raw -echo; printf 'ready\\r\\n'; for i in 1 2 3 4 5 6; do k=$(dd bs=16 count=1 2>/dev/null | od -An -tx1 | tr -d ' \\n'); printf '[%s]\\r\\n' "$k"; done; sleep 5`);
  await session.waitForText(/ready/);
  await session.press('enter');
  await session.waitForText(/\[0d\]/);
  await session.press('esc');
  await session.waitForText(/\[1b\]/);
  await session.press('down');
  await session.waitForText(/\[1b5b42\]/);
  await session.press('s-tab');
  await session.waitForText(/\[1b5b5a\]/);
  await session.type('ab');
  await session.waitForText(/\[6162\]/);
  await session.press('c-c');
  await session.waitForText(/\[03\]/);
  t.pass();
});

test('resize reaches the program and the emulator', async (t) => {
  const session = shell(t, `trap 'printf "size %s\\r\\n" "$(stty size)"' WINCH; printf 'ready\\r\\n'; for i in $(seq 50); do sleep 0.1; done`);
  await session.waitForText(/ready/);
  session.resize(70, 20);
  await session.waitForText(/size 20 70/);
  t.is(session.term.cols, 70);
  t.is(session.screen().length, 20);
});

test('waitForText times out with a screen dump; exit status is recorded', async (t) => {
  const session = shell(t, `printf 'only this'; exit 3`);
  const error = await t.throwsAsync(session.waitForText(/never/, 300));
  t.regex(error!.message, / 0\|only this/);
  t.deepEqual(await session.waitForExit(), { exitCode: 3, signal: undefined });
  t.false(session.alive);
});

test('teardown kills the whole process group', async (t) => {
  let childPid = 0;
  await t.try(async (tt) => {
    const session = shell(tt, `sleep 60 & printf 'child %s\\r\\n' $!; wait`);
    const { line } = await session.waitForText(/child \d+/);
    childPid = Number(/child (\d+)/.exec(line)![1]);
    tt.pass();
  }).then((attempt) => attempt.commit());
  t.true(childPid > 0);
  t.true(await waitForPidGone(childPid, 2000), 'the background child of the shell is gone (or a zombie)');
});
