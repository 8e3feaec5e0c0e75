// TUI end-to-end, hosts tree and drill-down (spec/tui.md §5.2 #2-#5 and "Also"): score order and
// marks, TW rows, the timeline view with an expanded DNS row, a profile published live, alerts
// with their evidence (plain and double-encoded), and a purged TW on a Slips v1.1.21 database.

import test, { type ExecutionContext } from 'ava';
import { HOSTS_PANE, MAIN_PANE, cursorRow, literal, moveCursorTo, regionRow, rowsMatching, sleep, startTui, type TerminalSession } from './helpers/tui.js';
import { loadFixture, profileKeys, publish, readFixture, startFixtureRedis } from './helpers/tuiRedis.js';

/** Hosts rows from the top of the pane (text inside the border). */
function hostsRows(session: TerminalSession): string[] {
  const rows: string[] = [];
  for (let y = HOSTS_PANE.y0; y < HOSTS_PANE.y1; y++) rows.push(regionRow(session, HOSTS_PANE, y));
  return rows;
}

async function startOnCore(t: ExecutionContext): Promise<{ session: TerminalSession; port: number; redis: Awaited<ReturnType<typeof startFixtureRedis>> }> {
  const redis = await startFixtureRedis(t, 'core');
  const session = await startTui(t, ['-p', String(redis.port)]);
  await session.waitForText(/192\.168\.1\.9/);
  return { session, port: redis.port, redis };
}

/** Opens 192.168.1.9 in the tree (Enter on its row) and waits for its TW rows. */
async function openTopIp(session: TerminalSession): Promise<void> {
  await moveCursorTo(session, HOSTS_PANE, /192\.168\.1\.9/);
  await session.press('enter');
  await session.waitFor('TW1-TW3 under 192.168.1.9', () => (rowsMatching(session, HOSTS_PANE, /TW[123]\b/).length === 3 ? true : undefined));
}

test('#2 the alerted IP is first with a red !, its TWs show ! and 2e', async (t) => {
  const { session } = await startOnCore(t);
  const rows = hostsRows(session);
  const first = rows.findIndex((row) => /\d+\.\d+\.\d+\.\d+/.test(row));
  t.regex(rows[first]!, /^\s*!.*192\.168\.1\.9/, session.dump());
  const mark = session.find(/!/)!;
  t.is(mark.y, HOSTS_PANE.y0 + first);
  t.true(session.isRed(mark.x, mark.y), `the ! at ${mark.x},${mark.y} is red\n${session.dump()}`);
  // Score order: 192.168.1.9 (2.7) > 10.0.2.112 (0.25) > 10.0.2.15 (0).
  const order = ['192.168.1.9', '10.0.2.112', '10.0.2.15'].map((ip) => rows.findIndex((row) => row.includes(ip)));
  t.deepEqual([...order].sort((a, b) => a - b), order, session.dump());
  t.regex(rows.find((row) => row.includes('10.0.2.112'))!, /[•*]/, 'evidence-only mark');

  await openTopIp(session);
  await session.check(t, 'IP opened');
  const tw = (n: number): string => hostsRows(session).find((row) => new RegExp(`TW${n}\\b`).test(row))!;
  t.regex(tw(2), /TW2\s+11:00\s+!/);
  const twMark = session.find(/TW2\s+11:00\s+!/)!;
  const bang = twMark.x + /TW2\s+11:00\s+/.exec(tw(2).slice(tw(2).indexOf('TW2')))![0].length;
  t.true(session.isRed(bang, twMark.y), `TW2's ! is red\n${session.dump()}`);
  t.regex(tw(1), /TW1\s+10:00\s+2e/);
  t.regex(tw(3), /TW3\s+12:00\s+1e/);
  const ordered = [1, 2, 3].map((n) => hostsRows(session).findIndex((row) => new RegExp(`TW${n}\\b`).test(row)));
  t.deepEqual([...ordered].sort((a, b) => a - b), ordered);
  await session.quitCleanly(t);
});

test('#3 TW2 Enter, 2: timeline title and rows; Enter on the DNS row shows its query', async (t) => {
  const { session } = await startOnCore(t);
  await openTopIp(session);
  await moveCursorTo(session, HOSTS_PANE, /TW2\b/);
  await session.press('enter');
  await session.press('2');
  await session.waitForText(/2 Timeline 192\.168\.1\.9 TW2 11:00-12:00/);
  await session.waitFor('a 45.33.32.156 443/TCP row', () => rowsMatching(session, MAIN_PANE, /45\.33\.32\.156.*443\/TCP/)[0]);
  await session.check(t, 'timeline');
  await moveCursorTo(session, MAIN_PANE, /DNS/);
  await session.press('enter');
  await session.waitForText(/query: example\.org/);
  await session.check(t, 'DNS row expanded');
  await session.quitCleanly(t);
});

test.serial('#4 a profile published live is listed within 1 s; cursor and expansion stay', async (t) => {
  const { session, redis } = await startOnCore(t);
  await openTopIp(session);
  const cursor = await moveCursorTo(session, HOSTS_PANE, /TW2\b/);
  const cursorText = regionRow(session, HOSTS_PANE, cursor);
  await loadFixture(redis.client, { description: '10.0.0.99 arrives', keys: profileKeys({ ip: '10.0.0.99', score: 0.1, evidence: 0, alerted: false }) });
  await redis.client.zadd('profiles', 1700820100, 'profile_10.0.0.99');
  const published = Date.now();
  await publish(redis.client, 'new_profile', { text: 'profile_10.0.0.99' });
  await session.waitForText(/10\.0\.0\.99/, 1000);
  t.log(`listed ${Date.now() - published} ms after new_profile`);
  await session.check(t, 'after new_profile');
  const now = cursorRow(session, HOSTS_PANE);
  t.not(now, undefined, session.dump());
  t.is(regionRow(session, HOSTS_PANE, now!), cursorText, 'the cursor stays on TW2');
  t.is(rowsMatching(session, HOSTS_PANE, /TW[123]\b/).length, 3, '192.168.1.9 stays expanded');
  await session.quitCleanly(t);
});

/** View 7 of the IP's alert: the count, the 3 evidence of the alert after Enter, Esc back. */
/** The TUI on the slips-1.1.21 fixture with 192.168.2.12 expanded (its TWs listed). */
async function openSlipsFixtureIp(t: ExecutionContext): Promise<TerminalSession> {
  const redis = await startFixtureRedis(t, 'slips-1.1.21');
  const session = await startTui(t, ['-p', String(redis.port)]);
  await session.waitForText(/192\.168\.2\.12/);
  await moveCursorTo(session, HOSTS_PANE, /192\.168\.2\.12/);
  await session.press('enter');
  await session.waitForText(/TW4\b/);
  return session;
}

async function alertDrillDown(t: ExecutionContext, session: TerminalSession, twRow: RegExp, descriptions: string[]): Promise<void> {
  await moveCursorTo(session, HOSTS_PANE, twRow);
  await session.press('enter');
  await session.press('7');
  await session.waitForText(/^.*7 Alerts/);
  const alertRow = await session.waitFor('an alert row with 3 evidence', () => rowsMatching(session, MAIN_PANE, /TW\d+.*\b3\b/)[0]);
  await session.check(t, 'alerts view');
  await moveCursorTo(session, MAIN_PANE, literal(regionRow(session, MAIN_PANE, alertRow).trim()));
  await session.press('enter');
  // Descriptions may be cut to the column width: their first 12 characters are enough to tell them apart.
  for (const description of descriptions) await session.waitForText(literal(description.slice(0, 12)));
  await session.check(t, 'evidence of the alert');
  await session.press('esc');
  await session.waitForNoText(literal(descriptions[0]!.slice(0, 12)));
  t.true(rowsMatching(session, MAIN_PANE, /TW\d+.*\b3\b/).length > 0, `back on the alert list\n${session.dump()}`);
  await session.check(t, 'back');
}

test('#5 alert (our plain JSON): 7, Enter lists its 3 evidence; Esc back', async (t) => {
  const { session } = await startOnCore(t);
  await openTopIp(session);
  const evidence = readFixture('core').keys['profile_192.168.1.9_timewindow2_evidence']!.value as Record<string, { description: string }>;
  await alertDrillDown(t, session, /TW2\b/, Object.values(evidence).map((e) => e.description));
  await session.quitCleanly(t);
});

test('#5 alert whose value is a JSON string of 3 evidence ids (Slips v1.1.21)', async (t) => {
  const session = await openSlipsFixtureIp(t);
  const evidence = readFixture('slips-1.1.21').keys['profile_192.168.2.12_timewindow3_evidence']!.value as Record<string, { description: string }>;
  await alertDrillDown(t, session, /TW3\b/, Object.values(evidence).map((e) => e.description));
  await session.quitCleanly(t);
});

test('a purged TW of a Slips v1.1.21 database shows purged; the others do not', async (t) => {
  const session = await openSlipsFixtureIp(t);
  await sleep(200);
  const rows = hostsRows(session);
  t.regex(rows.find((row) => /TW1\b/.test(row))!, /purged/, session.dump());
  for (const n of [2, 3, 4]) t.notRegex(rows.find((row) => new RegExp(`TW${n}\\b`).test(row))!, /purged/);
  await session.check(t, 'purged TW');
  await session.quitCleanly(t);
});
