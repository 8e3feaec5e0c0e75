// TUI end-to-end, search, filter and sort on 40 profiles (spec/tui.md §5.2 #6): `/192.168.2` Enter
// then `n` puts the cursor on the second match (192.168.2.12); `f` alerts leaves only the alerted
// IPs and flags FILTER; `s` to IP order puts 10.0.0.2 before 10.0.0.10 (numeric, not text order).

import test from 'ava';
import { HOSTS_PANE, STATUS_ROW, cursorRow, regionRow, rowsMatching, startTui } from './helpers/tui.js';
import { fortyProfiles, startFixtureRedis } from './helpers/tuiRedis.js';

const IP = /\d+\.\d+\.\d+\.\d+/;

test('#6 search, n, filter alerts, sort by IP on 40 profiles', async (t) => {
  const { fixture, alerted } = fortyProfiles();
  const redis = await startFixtureRedis(t, fixture);
  const session = await startTui(t, ['-p', String(redis.port)]);
  await session.waitForText(/Hosts 40/);
  await session.check(t, '40 profiles');

  await session.press('/');
  await session.type('192.168.2');
  await session.press('enter');
  await session.press('n');
  await session.waitFor('the cursor on 192.168.2.12', () => {
    const cursor = cursorRow(session, HOSTS_PANE);
    return cursor !== undefined && /192\.168\.2\.12\b/.test(regionRow(session, HOSTS_PANE, cursor)) ? true : undefined;
  });
  await session.check(t, 'search and n');
  await session.press('esc');

  await session.press('f');
  const menu = await session.waitForText(/alerts/);
  await session.check(t, 'filter menu');
  t.log('filter menu:', menu.line.trim());
  t.regex(menu.line, /Esc cancel\s*$/, 'the whole menu fits in 80 columns');
  await session.press('a');
  await session.waitForText(/FILTER/);
  await session.waitFor('only alerted IPs listed', () => (rowsMatching(session, HOSTS_PANE, IP).length === alerted.length ? true : undefined));
  const listed = rowsMatching(session, HOSTS_PANE, IP).map((y) => IP.exec(regionRow(session, HOSTS_PANE, y))![0]);
  t.deepEqual([...listed].sort(), [...alerted].sort());
  t.regex(session.screen()[STATUS_ROW(24)]!, /FILTER/);
  t.regex(session.screen()[0]!, new RegExp(`Hosts ${alerted.length}/40`));
  await session.check(t, 'filtered');

  // Cycle the sort column until the title names the IP order.
  for (let press = 0; press < 5 && !/▾ip|v:ip|\bip\b/i.test(session.screen()[0]!); press++) {
    await session.press('s');
    await session.settle();
  }
  t.regex(session.screen()[0]!, /ip\b/i, session.dump());
  await session.waitFor('IP order', () => {
    const order = rowsMatching(session, HOSTS_PANE, IP).map((y) => IP.exec(regionRow(session, HOSTS_PANE, y))![0]);
    return order.indexOf('10.0.0.2') >= 0 && order.indexOf('10.0.0.2') < order.indexOf('10.0.0.10') ? order : undefined;
  });
  await session.check(t, 'sorted by IP');
  await session.quitCleanly(t);
});
