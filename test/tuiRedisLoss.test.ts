// TUI end-to-end, Redis loss (spec/tui.md §5.2 #10, §4.6): the redis-server is killed under a
// running TUI and started again on the same port 2 s later. The TUI keeps the last data on screen
// with `redis✖ retry <n>`, does not crash, and is clean within 5 s of the restart.

import test from 'ava';
import { HOSTS_PANE, STATUS_ROW, moveCursorTo, rowsMatching, sleep, startTui } from './helpers/tui.js';
import { RestartableRedis, loadFixture, readFixture } from './helpers/tuiRedis.js';

test('#10 redis-server killed and restarted: stale data kept, retry shown, clean after restart', async (t) => {
  const fixture = readFixture('core');
  const redis = await RestartableRedis.start(t);
  await loadFixture(redis.client!, fixture);
  const session = await startTui(t, ['-p', String(redis.port)]);
  await session.waitForText(/192\.168\.1\.9/);
  await moveCursorTo(session, HOSTS_PANE, /192\.168\.1\.9/);
  await session.press('enter');
  await session.waitForText(/TW2\b/);
  await session.check(t, 'before the kill');

  await redis.kill();
  const killed = Date.now();
  await session.waitForText(/redis✖ retry \d+/, 3000);
  t.log(`redis✖ shown ${Date.now() - killed} ms after the kill`);
  await session.check(t, 'Redis down');
  t.true(rowsMatching(session, HOSTS_PANE, /192\.168\.1\.9/).length > 0, `data kept\n${session.dump()}`);
  t.is(rowsMatching(session, HOSTS_PANE, /TW[123]\b/).length, 3, 'expansion kept');
  await session.press('down');
  await session.press('r');
  await session.check(t, 'keys while Redis is down');

  await sleep(Math.max(0, 2000 - (Date.now() - killed)));
  await redis.startServer();
  await loadFixture(redis.client!, fixture);
  const restarted = Date.now();
  await session.waitFor('a clean status line', () => {
    const status = session.screen()[STATUS_ROW(24)]!;
    return !status.includes('redis✖') && /IPs 3 ev 7 al 1/.test(status) ? true : undefined;
  }, 5000);
  t.log(`clean ${Date.now() - restarted} ms after the restart`);
  t.true(rowsMatching(session, HOSTS_PANE, /192\.168\.1\.9/).length > 0);
  await session.check(t, 'after the restart');
  await session.quitCleanly(t);
});
