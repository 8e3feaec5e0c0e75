// Pure modules of the TUI: layout geometry at several sizes, text width and fitting, IP order and
// tree sorting/filtering, decoding of Redis values (alerts plain and double-encoded, aggregates,
// Slips time stamps), tree rows, timeline rows, titles, notes and Detail fields fitting their pane,
// the help overlay hiding the panes, the core child's argv, and the CLI split between TUI flags and
// core flags.

import test from 'ava';
import { Model, compareIp, type Profile } from '../tui/data/model.js';
import { parseAggMember, parseEvidence, parseTime, parseTimeline, parseTwAlerts, splitProfileTw } from '../tui/data/parse.js';
import { backoffMs } from '../tui/data/connection.js';
import { planCoreArgs } from '../tui/core/child.js';
import { parseTuiArgs } from '../tui/cli.js';
import { compact, fit, middleEllipsis, sparkline, textWidth } from '../tui/text.js';
import { ASCII_GLYPHS, UNICODE_GLYPHS, computeLayout, tooSmallText, type Rect } from '../tui/view/layout.js';
import { drawFrame } from '../tui/view/frame.js';
import { flattenTree, renderProfileRow, renderTwRow } from '../tui/view/tree.js';
import { aggregate, evidenceRows, fitTitle, timelineRows } from '../tui/view/mainViews.js';
import { noteRow, packFields, wrap } from '../tui/view/rows.js';

function overlaps(a: Rect, b: Rect): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

test('layout: panes fit, never overlap, and grow with the terminal; below 80x24 there is none', (t) => {
  for (const [w, h] of [[80, 24], [100, 30], [120, 40], [200, 60]] as const) {
    const l = computeLayout(w, h)!;
    const panes = [l.tree, l.main, l.detail];
    for (const p of panes) t.true(p.x >= 0 && p.y >= 0 && p.x + p.w <= w && p.y + p.h <= h - 2, `${w}x${h}`);
    t.false(overlaps(l.tree, l.main) || overlaps(l.tree, l.detail) || overlaps(l.main, l.detail), `${w}x${h}`);
    t.is(l.tree.w + l.main.w, w);
    t.is(l.main.h + l.detail.h, h - 2);
    t.is(l.status, h - 2);
    t.is(l.hints, h - 1);
  }
  const small = computeLayout(80, 24)!;
  t.deepEqual([small.tree.w, small.main.h, small.detail.h], [28, 16, 6]);
  t.true(computeLayout(120, 40)!.tree.w > small.tree.w);
  t.is(computeLayout(79, 24), undefined);
  t.is(computeLayout(80, 23), undefined);
  t.is(tooSmallText(70, 20), 'terminal too small (need 80x24, have 70x20)');
});

test('text: widths count wide characters twice; fit pads or clips to the exact width', (t) => {
  t.is(textWidth('abc'), 3);
  t.is(textWidth('例え'), 4);
  t.is(textWidth('e\u0301'), 1);
  t.is(fit('abc', 5), 'abc  ');
  t.is(fit('abc', 5, 'right'), '  abc');
  t.is(fit('abcdef', 4), 'abc…');
  t.is(textWidth(fit('例え例え', 5)), 5);
  t.is(middleEllipsis('fe80::1c2a:3b4c:5d6e:9b01', 16), 'fe80::1..6e:9b01');
  t.is(middleEllipsis('10.0.0.1', 16), '10.0.0.1');
  t.is(compact(950), '950');
  t.is(compact(1234), '1.2k');
  t.is(compact(45_000_000), '45.0M');
  t.is(sparkline([0, 1, 2, 4], false), '▁▃▅█');
  t.is(sparkline([0, 4], true), ' #');
});

test('wrap breaks at spaces and cuts words longer than the line', (t) => {
  t.deepEqual(wrap('new vertical port scan to IP 45.33.32.156 from 192.168.1.9.', 30), ['new vertical port scan to IP', '45.33.32.156 from 192.168.1.9.']);
  t.deepEqual(wrap('aaaaaaaaaa', 4), ['aaaa', 'aaaa', 'aa']);
  t.deepEqual(wrap('', 10), ['']);
});

function profile(ip: string, score: number, alerts = 0, evidence = 0, host = ''): Profile {
  return { ip, score, alerts, evidence, flows: 0, firstSeen: 0, host, mac: '', blocked: false, tws: undefined, fields: {} };
}

test('model: IPs in numeric order, score order with ties by alerts, filters', (t) => {
  t.true(compareIp('10.0.0.2', '10.0.0.10') < 0);
  t.true(compareIp('9.255.255.255', '10.0.0.0') < 0);
  t.true(compareIp('10.0.0.1', 'fe80::1') < 0);
  t.true(compareIp('fe80::2', 'fe80::10') < 0);
  const model = new Model();
  for (const p of [profile('10.0.0.10', 0.5), profile('10.0.0.2', 0.5, 1), profile('192.168.1.9', 2.7, 1, 6, 'laptop'), profile('10.0.2.15', 0)]) model.upsert(p);
  t.deepEqual(model.orderedIps(), ['192.168.1.9', '10.0.0.2', '10.0.0.10', '10.0.2.15']);
  model.sort = 'ip';
  model.invalidateOrder();
  t.deepEqual(model.orderedIps(), ['10.0.0.2', '10.0.0.10', '10.0.2.15', '192.168.1.9']);
  model.reverse = true;
  model.invalidateOrder();
  t.deepEqual(model.orderedIps(), ['192.168.1.9', '10.0.2.15', '10.0.0.10', '10.0.0.2']);
  model.reverse = false;
  model.filter = { kind: 'alerts', minScore: 0 };
  model.invalidateOrder();
  t.deepEqual(model.orderedIps(), ['10.0.0.2', '192.168.1.9']);
  model.filter = { kind: 'score', minScore: 0.5 };
  model.invalidateOrder();
  t.deepEqual(model.orderedIps(), ['10.0.0.2', '10.0.0.10', '192.168.1.9']);
  model.filter = { kind: 'host', minScore: 0 };
  model.invalidateOrder();
  t.deepEqual(model.orderedIps(), ['192.168.1.9']);
});

test('model: 100,000 profiles sort once per change, fast enough for a smooth tree', (t) => {
  const model = new Model();
  for (let i = 0; i < 100_000; i += 1) model.upsert(profile(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, (i % 97) / 10));
  const started = process.hrtime.bigint();
  const order = model.orderedIps();
  const sortMs = Number(process.hrtime.bigint() - started) / 1e6;
  t.is(order.length, 100_000);
  t.is(model.orderedIps(), order, 'cached until something changes');
  const flatStart = process.hrtime.bigint();
  const rows = flattenTree(model, new Set());
  const flatMs = Number(process.hrtime.bigint() - flatStart) / 1e6;
  t.is(rows.length, 100_000);
  t.log(`sort ${sortMs.toFixed(0)} ms, flatten ${flatMs.toFixed(0)} ms for 100k profiles`);
  t.true(sortMs < 2000 && flatMs < 1000);
});

test('decoding: alerts plain (ours) and double-encoded (Slips), aggregates, time stamps, keys', (t) => {
  t.deepEqual([...parseTwAlerts('{"a1":["e1","e2"]}')], [['a1', ['e1', 'e2']]]);
  t.deepEqual([...parseTwAlerts(JSON.stringify({ a2: JSON.stringify(['e1', 'e2', 'e3']) }))], [['a2', ['e1', 'e2', 'e3']]]);
  t.is(parseTwAlerts('not json').size, 0);
  t.is(parseTwAlerts(null).size, 0);
  t.deepEqual(parseAggMember('tcp/443/est', '90,180,1000'), { proto: 'tcp', key: '443', established: true, flows: 90, pkts: 180, bytes: 1000 });
  t.deepEqual(parseAggMember('tcp/10.0.0.1/443/notest', '1,2,3'), { proto: 'tcp', key: '10.0.0.1/443', established: false, flows: 1, pkts: 2, bytes: 3 });
  t.is(parseAggMember('garbage', '1'), undefined);
  t.is(parseTime('2023/11/24 12:16:57.314165+0000'), 1700828217.314165);
  t.is(parseTime('2023-11-24T12:16:57Z'), 1700828217);
  t.is(parseTime(1700828217.5), 1700828217.5);
  t.true(Number.isNaN(parseTime('soon')));
  t.deepEqual(splitProfileTw('profile_192.168.1.9_timewindow12'), ['192.168.1.9', 'timewindow12']);
  t.deepEqual(splitProfileTw('profile_fe80::1_timewindow-1'), ['fe80::1', 'timewindow-1']);
  const ev = parseEvidence('x', '{"evidence_type":"VERTICAL_PORT_SCAN","description":"d","attacker":{"value":"1.2.3.4"},"threat_level":"high","confidence":1,"timewindow":{"number":2}}');
  t.is(ev.attacker, '1.2.3.4');
  t.is(ev.twNumber, 2);
  t.is(parseEvidence('y', '{oops').type, 'unparsable');
  const tl = parseTimeline('{"dport_name":"DNS","preposition":"to","daddr":"8.8.8.8","dport/proto":"53/UDP","state":"Established","tot":210,"info":{"query":"example.org","answers":["93.184.216.34"]}}', 1700828217);
  t.is(tl.info, 'query: example.org  answers: 93.184.216.34');
  t.is(tl.peer, '8.8.8.8');
});

test('tree rows and evidence rows never exceed their pane width', (t) => {
  const tw = { name: 'timewindow12', number: 12, start: 1700828217, alerts: 0, evidence: 11, atl: 12.25, purged: false };
  for (const g of [UNICODE_GLYPHS, ASCII_GLYPHS]) {
    for (const width of [26, 32]) {
      const p = profile('2001:db8:85a3:1234:5678:8a2e:370:7334', 12.5, 3, 4, 'a-very-long-host-name.example.org');
      t.true(textWidth(renderProfileRow(p, true, width, g).map((s) => s.text).join('')) <= width);
      t.true(textWidth(renderTwRow({ ip: p.ip, tw, last: true, twNameWidth: 4 }, tw, 15, g, width).map((s) => s.text).join('')) <= width);
    }
  }
  const rows = evidenceRows([parseEvidence('e', JSON.stringify({ evidence_type: 'X'.repeat(80), description: 'word '.repeat(60), threat_level: 'high', confidence: 1, timestamp: 1 }))], true);
  for (const line of rows[0].lines(50)) t.true(textWidth(line.map((s) => s.text).join('')) <= 50);
});

const lineText = (line: ReadonlyArray<{ text: string }>): string => line.map((s) => s.text).join('');

test('a TW row keeps a long TW number whole and a space between the mark and the ATL', (t) => {
  const tw = { name: 'timewindow462542', number: 462542, start: 1665147622, alerts: 0, evidence: 277, atl: 10.7, purged: false };
  const model = new Model();
  model.upsert(profile('192.168.2.16', 10.7, 0, 277));
  model.profiles.get('192.168.2.16')!.tws = [{ ...tw, name: 'timewindow9', number: 9, evidence: 9 }, tw];
  const rows = flattenTree(model, new Set(['192.168.2.16'])).filter((r) => r.tw !== undefined);
  t.deepEqual(rows.map((r) => r.twNameWidth), [8, 8], 'one name column per IP, as wide as TW462542');
  for (const g of [UNICODE_GLYPHS, ASCII_GLYPHS]) {
    const [short, long] = rows.map((r) => lineText(renderTwRow(r, r.tw!, 15, g, 26)));
    t.true(textWidth(long!) <= 26 && textWidth(short!) <= 26, long);
    t.regex(long!, /TW462542 277e +10\.7\/15$/, long);
    t.regex(short!, /TW9 {6}9e +10\.7\/15$/, 'the same columns on every TW row of the IP');
    t.is(short!.length, long!.length);
  }
  // on a wider tree (from 120 columns) the start time stays
  t.regex(lineText(renderTwRow(rows[1]!, rows[1]!.tw!, 15, UNICODE_GLYPHS, 32)), /TW462542 \d\d:\d\d 277e +10\.7\/15$/);
  // a short number with room for everything still shows ATL/threshold
  const small = { ...tw, number: 1, evidence: 2, atl: 1.3 };
  t.regex(lineText(renderTwRow({ ip: 'x', tw: small, last: true, twNameWidth: 4 }, small, 15, UNICODE_GLYPHS, 26)), /TW1 {2}\d\d:\d\d 2e +1\.3\/15$/);
});

test('timeline rows: a 15-character IPv4 is shown whole next to a short port; ports stay right-aligned', (t) => {
  const entry = (daddr: string, port: string): string => JSON.stringify({ dport_name: 'DHCP', preposition: 'to', daddr, 'dport/proto': port, state: 'NotEstablished', tot: 600 });
  const items = [parseTimeline(entry('255.255.255.255', '67/UDP'), 1700828217), parseTimeline(entry('224.0.0.252', '5355/UDP'), 1700828217), parseTimeline(entry('2001:db8:85a3::8a2e:370:7334', '5355/UDP'), 1700828217)];
  const lines = timelineRows(items, new Set(), false).map((r) => lineText(r.lines(50)[0]!));
  for (const line of lines) t.true(textWidth(line) <= 50, line);
  t.regex(lines[0]!, /> 255\.255\.255\.255 +67\/UDP NotE/);
  t.regex(lines[1]!, /> 224\.0\.0\.252 +5355\/UDP NotE/);
  t.is(lines[0]!.indexOf('/UDP'), lines[1]!.indexOf('/UDP'), lines.join('\n'));
  t.regex(lines[2]!, /2001:d.*7334/, 'a long IPv6 is shortened in its middle');
  // wide mode at 80 columns (78 inside) no longer squeezes an IPv4 below the compact width
  const wide = timelineRows([parseTimeline(entry('45.33.32.156', '443/TCP'), 1700828217)], new Set(), true).map((r) => lineText(r.lines(78)[0]!));
  t.regex(wide[0]!, /> 45\.33\.32\.156 +443\/TCP/);
});

test('titles, notes and Detail fields fit their pane instead of being cut', (t) => {
  const log = fitTitle('L Core log', '/work/wt/tuifix/output/kalipso_conn.log_2026-11-23_13:02:38/tui_core.log', '', 49);
  t.true(textWidth(log) <= 49, log);
  t.regex(log, /^L Core log \/work.*tui_core\.log$/);
  const v6 = fitTitle('2 Timeline', '2001:db8:85a3:1234:5678:8a2e:370:7334', ' TW12 12:00-13:00', 49);
  t.true(textWidth(v6) <= 49, v6);
  t.regex(v6, /^2 Timeline 2001:.*7334 TW12 12:00-13:00$/);
  t.is(fitTitle('2 Timeline', '10.0.2.15', ' TW1 00:00-01:00', 49), '2 Timeline 10.0.2.15 TW1 00:00-01:00');

  const note = noteRow('n', 'no core child: start one with c s (needs --run or -f)', 'dim').lines(50).map(lineText);
  t.deepEqual(note, ['no core child: start one with c s (needs --run or', '-f)']);

  const fields = ['country -', 'AS -', 'rDNS -', 'DNS -', 'SNI -', 'TI -', 'MAC - -', 'host -'];
  t.deepEqual(packFields(fields, 50), ['country - | AS - | rDNS - | DNS - | SNI - | TI -', 'MAC - - | host -']);
  const packed = packFields(['score 10.70', 'flows 566', 'ev 277', 'al 0', 'since 20:49', `rDNS ${'x'.repeat(70)}`], 50);
  for (const line of packed) t.true(textWidth(line) <= 50, line);
  t.deepEqual(packed.slice(0, 2), ['score 10.70 | flows 566 | ev 277 | al 0', 'since 20:49']);
  t.true(packed.join('').includes('x'.repeat(40)), 'a field longer than a line is wrapped, not dropped');
});

test('the help overlay at 80x24 covers the panes: no border of theirs is left beside it', (t) => {
  const layout = computeLayout(80, 24)!;
  const pane = { title: [{ text: 'T' }], lines: [], focused: false };
  const line = [{ text: 'k'.repeat(15) }, { text: 'd'.repeat(59) }];
  const canvas = drawFrame(layout, { tree: pane, main: pane, detail: pane, status: [], hints: [], overlay: { title: 'Keys (Esc closes)', lines: Array.from({ length: 20 }, () => line) } }, UNICODE_GLYPHS);
  const lines = canvas.lines();
  t.regex(lines[0]!, /^┌Keys \(Esc closes\)─+┐$/);
  for (let y = 1; y <= 20; y++) t.regex(lines[y]!, /^│ k{15}d{59} +│$/, `row ${y}`);
  t.regex(lines[21]!, /^└─+┘$/);
});

test('a drawn frame has every line exactly the terminal width', (t) => {
  for (const [w, h] of [[80, 24], [132, 43]] as const) {
    const layout = computeLayout(w, h)!;
    const long = [{ text: 'z'.repeat(300) }];
    const pane = { title: [{ text: 'T'.repeat(300) }], lines: Array.from({ length: 100 }, () => long), focused: true };
    const canvas = drawFrame(layout, { tree: pane, main: pane, detail: pane, status: long, hints: long, overlay: { title: 'help', lines: [long] } }, UNICODE_GLYPHS);
    const lines = canvas.lines();
    t.is(lines.length, h);
    for (const line of lines) t.is(textWidth(line), w);
  }
});

test('aggregate merges est and notest unless a state is chosen, largest first', (t) => {
  const items = ['tcp/443/est:5,10,100', 'tcp/443/notest:2,2,0', 'udp/53/est:9,18,900'].map((s) => {
    const [m, v] = s.split(':');
    return parseAggMember(m, v)!;
  });
  t.deepEqual(aggregate(items, 'all', 'flows').map((a) => [a.key, a.flows]), [['53', 9], ['443', 7]]);
  t.deepEqual(aggregate(items, 'notest', 'flows').map((a) => [a.key, a.flows]), [['443', 2]]);
  t.deepEqual(aggregate(items, 'all', 'bytes').map((a) => a.key), ['53', '443']);
});

test('reconnect backoff goes 0.2 s, 0.4 s, ... up to 5 s', (t) => {
  t.deepEqual([1, 2, 3, 4, 5, 6, 10].map(backoffMs), [200, 400, 800, 1600, 3200, 5000, 5000]);
});

test('core argv: a free port and a fresh output dir are added unless given; -m is dropped', (t) => {
  const now = new Date(2026, 0, 2, 3, 4, 5);
  const plan = planCoreArgs(['-f', 'dataset/x/conn.log', '-m'], 32770, now, () => false);
  t.deepEqual(plan.args, ['-f', 'dataset/x/conn.log', '-P', '32770', '-o', 'output/kalipso_conn.log_2026-01-02_03:04:05']);
  t.is(plan.port, 32770);
  t.true(plan.outputDir.endsWith('output/kalipso_conn.log_2026-01-02_03:04:05'));
  const taken = new Set(['output/kalipso_conn.log_2026-01-02_03:04:05', 'output/kalipso_conn.log_2026-01-02_03:04:05_2']);
  t.is(planCoreArgs(['-f', 'conn.log'], 1, now, (dir) => taken.has(dir)).args.at(-1), 'output/kalipso_conn.log_2026-01-02_03:04:05_3');
  const given = planCoreArgs(['-f', 'a.pcap', '-P', '6380', '-o', '/tmp/out'], undefined, now);
  t.deepEqual(given.args, ['-f', 'a.pcap', '-P', '6380', '-o', '/tmp/out']);
  t.is(given.port, 6380);
  t.is(given.outputDir, '/tmp/out');
});

test('CLI: direct and --run forms run the core; -P attaches without input; --rdb and --redis', (t) => {
  const env = {};
  t.deepEqual(parseTuiArgs(['-f', 'capture.pcap', '-v', '2'], env).app.coreArgs, ['-f', 'capture.pcap', '-v', '2']);
  t.deepEqual(parseTuiArgs(['--ascii', '--run', '--', '-f', 'c.log', '-o', 'out'], env).app.coreArgs, ['-f', 'c.log', '-o', 'out']);
  t.deepEqual(parseTuiArgs(['-f', 'c.log', '-P', '7000'], env).app.coreArgs, ['-f', 'c.log', '-P', '7000']);
  t.deepEqual(parseTuiArgs(['-P', '6379'], env).app.endpoint, { host: '127.0.0.1', port: 6379, db: 0 });
  t.deepEqual(parseTuiArgs(['-p', '7001'], env).app.endpoint, { host: '127.0.0.1', port: 7001, db: 0 });
  t.deepEqual(parseTuiArgs(['--redis', '10.0.0.5:6380'], env).app.endpoint, { host: '10.0.0.5', port: 6380, db: 0 });
  t.deepEqual(parseTuiArgs([], env).app.endpoint, { host: '127.0.0.1', port: 6379, db: 0 });
  const opts = parseTuiArgs(['--ascii', '--no-color', '--refresh-ms', '20', '-P', '1'], env).app;
  t.deepEqual([opts.ascii, opts.mono, opts.refreshMs], [true, true, 50]);
  t.true(parseTuiArgs(['-P', '1'], { NO_COLOR: '1' }).app.mono);
  t.false(parseTuiArgs(['-P', '1'], {}).app.mono);
  t.throws(() => parseTuiArgs(['--bogus'], env));
  t.throws(() => parseTuiArgs(['-P', 'x'], env));
  t.throws(() => parseTuiArgs(['--rdb', '/nonexistent.rdb'], env));
  t.throws(() => parseTuiArgs(['--run'], env));
  t.throws(() => parseTuiArgs(['-f', 'a', '--redis', 'h:1'], env));
});
