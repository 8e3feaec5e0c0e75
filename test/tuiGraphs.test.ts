// TUI end-to-end, graphs and ports (spec/tui.md §5.2 #7) on our core's :stats and :agg keys:
// view 9 draws a 5-cell flows sparkline over 10.0.2.112's TWs peaking at the busiest (TW3) and
// puts 443/tcp on top of the dst ports with the fixture's count and one row per dst IP (flows summed
// over protocols and states); view 8 lists the aggregate rows
// and follows `m` (dimension) and `e` (state).

import test from 'ava';
import { HOSTS_PANE, MAIN_PANE, moveCursorTo, regionRow, rowsMatching, startTui, type TerminalSession } from './helpers/tui.js';
import { readFixture, startFixtureRedis } from './helpers/tuiRedis.js';

const SPARK = '▁▂▃▄▅▆▇█';

function mainRows(session: TerminalSession): string[] {
  const rows: string[] = [];
  for (let y = MAIN_PANE.y0; y < MAIN_PANE.y1; y++) rows.push(regionRow(session, MAIN_PANE, y));
  return rows;
}

/** The mode line of view 8: the first main-view row naming a dimension. */
function modeLine(session: TerminalSession): string {
  return mainRows(session).find((row) => /port|IP/i.test(row) && /(all|est|notest)/.test(row)) ?? '';
}

test('#7 view 9 sparkline and top ports, view 8 rows follow m and e', async (t) => {
  const fixture = readFixture('core');
  const redis = await startFixtureRedis(t, fixture);
  const session = await startTui(t, ['-p', String(redis.port)]);
  await session.waitForText(/10\.0\.2\.112/);
  await moveCursorTo(session, HOSTS_PANE, /10\.0\.2\.112/);
  await session.press('enter');
  await session.waitForText(/TW5\b/);
  await moveCursorTo(session, HOSTS_PANE, /TW3\b/);
  await session.press('enter');
  await session.press('9');
  await session.waitForText(/9 Graphs 10\.0\.2\.112 TW3/);
  await session.check(t, 'view 9');

  const flows = [1, 2, 3, 4, 5].map((n) => Number((fixture.keys[`profile_10.0.2.112_timewindow${n}:stats`]!.value as Record<string, unknown>)['flows']));
  const busiest = flows.indexOf(Math.max(...flows));
  const spark = await session.waitFor('a 5-cell sparkline', () => {
    for (const row of mainRows(session)) {
      const match = new RegExp(`[${SPARK}]{5}`).exec(row);
      if (match !== null) return match[0];
    }
    return undefined;
  });
  t.is([...spark].length, 5);
  t.is([...spark].indexOf('█'), busiest, `peak at TW${busiest + 1}: ${spark}`);
  t.true(rowsMatching(session, MAIN_PANE, new RegExp(`\\b${Math.max(...flows)}\\b`)).length > 0, 'the maximum is labelled');

  const agg = fixture.keys['profile_10.0.2.112_timewindow3:agg:dport:client']!.value as Record<string, string>;
  const [topFlows, topPkts] = agg['tcp/443/est']!.split(',');
  const portRows = rowsMatching(session, MAIN_PANE, /\b(443\/tcp|tcp\/443|80\/tcp|tcp\/80|53\/udp|udp\/53)\b/i);
  t.true(portRows.length >= 3, session.dump());
  const top = regionRow(session, MAIN_PANE, portRows[0]!);
  t.regex(top, /443\/tcp|tcp\/443/i, 'top port');
  t.regex(top, new RegExp(`\\b(${topFlows}|${topPkts})\\b`), 'with the fixture count');

  // Top dst IPs: one row per IP, flows summed over protocols and states. The fixture has
  // tcp/10.0.2.1/notest (1 flow) and udp/10.0.2.1/est (12 flows): one row 10.0.2.1 with 13.
  const ipAgg = fixture.keys['profile_10.0.2.112_timewindow3:agg:daddr:client']!.value as Record<string, string>;
  const gatewayFlows = Object.entries(ipAgg)
    .filter(([member]) => member.split('/')[1] === '10.0.2.1')
    .reduce((sum, [, value]) => sum + Number(value.split(',')[0]), 0);
  const gatewayRows = rowsMatching(session, MAIN_PANE, /\b10\.0\.2\.1\b/);
  t.is(gatewayRows.length, 1, session.dump());
  t.regex(regionRow(session, MAIN_PANE, gatewayRows[0]!), new RegExp(`\\s${gatewayFlows}\\s*$`), 'flows summed over tcp and udp');
  const ipRows = rowsMatching(session, MAIN_PANE, /\b(93\.184\.216\.34|10\.0\.2\.1)\b/);
  t.regex(regionRow(session, MAIN_PANE, ipRows[0]!), /93\.184\.216\.34/, 'the busiest IP first');
  // View 1 counts the same way: 2 distinct dst IPs (10.0.2.1 over tcp and udp is one), 4 dst ports.
  await session.press('1');
  await session.waitForText(/distinct dst IPs 2 {2}dst ports 4\b/);

  await session.press('8');
  await session.waitForText(/8 Ports/);
  await session.check(t, 'view 8');
  const firstMode = modeLine(session);
  t.regex(firstMode, /dst ports/i, session.dump());
  // Rows `proto/key flows pkts bytes`, columns apart: tcp/443/est is "90,720,120000".
  await session.waitFor('the tcp/443 row with flows, pkts and bytes', () => (rowsMatching(session, MAIN_PANE, /tcp\/443\s+90\s+720\s+(120000|120(\.0)?k|117\.2[kK]i?)\b/i).length > 0 ? true : undefined));

  // m cycles the dimension: every press changes the mode line; dst IPs list the fixture's IPs.
  let mode = firstMode;
  let sawDstIps = false;
  for (let press = 0; press < 5 && !sawDstIps; press++) {
    await session.press('m');
    const next = await session.waitFor('a new dimension', () => (modeLine(session) !== mode ? modeLine(session) : undefined));
    mode = next;
    if (/dst IPs/i.test(next)) {
      await session.waitFor('dst-IP rows', () => (rowsMatching(session, MAIN_PANE, /93\.184\.216\.34/).length > 0 ? true : undefined));
      sawDstIps = true;
    }
  }
  t.true(sawDstIps, 'm reached dst IPs');
  t.true(rowsMatching(session, MAIN_PANE, /10\.0\.2\.1\b/).length > 0, 'both states listed under all');
  await session.check(t, 'dst IPs');

  // e cycles the state: est drops the notest-only tcp/10.0.2.1 row, notest keeps only it.
  await session.press('e');
  await session.waitFor('state est', () => (/\best\b/.test(modeLine(session)) && rowsMatching(session, MAIN_PANE, /tcp\/10\.0\.2\.1\b/).length === 0 ? true : undefined));
  t.true(rowsMatching(session, MAIN_PANE, /93\.184\.216\.34/).length > 0);
  await session.press('e');
  await session.waitFor('state notest', () => (/notest/.test(modeLine(session)) && rowsMatching(session, MAIN_PANE, /93\.184\.216\.34/).length === 0 ? true : undefined));
  t.true(rowsMatching(session, MAIN_PANE, /tcp\/10\.0\.2\.1\b/).length > 0, session.dump());
  await session.check(t, 'states');
  await session.quitCleanly(t);
});
