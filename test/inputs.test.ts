// Tests of the flow inputs besides Zeek: Argus binetflow (header variants, label columns, the
// LastTime fix, derived destination counts, local time), Suricata eve.json (every mapped event
// type, alert events, the conn_state mapping, DNS query/answer pairing, skipped-event counts),
// nfdump (a tiny nfcapd fixture and the shared test1 capture), stdin streams and the one line
// splitter behind files and streams, bad input for every reader, and input type detection on
// the fixtures and the Slips datasets.
//
// nfdump/nfcapd.small was made with `nfpcapd -r small.pcap -w <dir>` from a hand-built pcap:
// a full TCP connection 192.168.1.10:40000 -> 93.184.216.34:80, a DNS query and reply, an ICMP
// echo request to 8.8.8.8 and an unanswered SYN to 10.0.0.5:22, starting at unix time 1700000000.

// Local-time parsing is tested in a zone with DST. Imports are evaluated before this line, but
// no module computes a time when it loads, and Node applies a TZ change at once.
process.env['TZ'] = 'Europe/Prague';

import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { LocalTimeParser, randomUid } from '../inputs/argus.js';
import { CollectingErrorSink } from '../inputs/errors.js';
import { openNfdumpInput } from '../inputs/nfdump.js';
import { detectInputType, openArgusInput, openInput, openSuricataInput, type InputType } from '../inputs/open.js';
import type { FlowReader } from '../inputs/reader.js';
import type { ConnRecord, FlowKind, FlowRecord, RecordOf } from '../inputs/records.js';
import { interpretState } from '../inputs/state.js';
import { readLines, readStreamLines as streamLines } from '../inputs/lineReader.js';
import { openStdinInput, readStreamLines, stdinFormatOf } from '../inputs/stdin.js';
import { suricataTime, zeekStateOf } from '../inputs/suricata.js';
import { SHARED_SLIPS_DATASETS } from './helpers/shared.js';

const fixture = (name: string): string => fileURLToPath(new URL(`../../test/fixtures/inputs/${name}`, import.meta.url));

const SHARED = SHARED_SLIPS_DATASETS;
const shared = (name: string): string => path.join(SHARED, name);
const withShared = fs.existsSync(SHARED) ? test : test.skip;

interface ReadResult {
  reader: FlowReader;
  records: FlowRecord[];
  sink: CollectingErrorSink;
}

async function drain(reader: FlowReader, sink: CollectingErrorSink): Promise<ReadResult> {
  const records: FlowRecord[] = [];
  for await (const batch of reader.batches()) records.push(...batch);
  return { reader, records, sink };
}

async function readInput(file: string): Promise<ReadResult> {
  const sink = new CollectingErrorSink();
  return drain(await openInput(file, sink), sink);
}

async function readStdin(format: 'zeek' | 'suricata' | 'argus', chunks: (string | Buffer)[]): Promise<ReadResult> {
  const sink = new CollectingErrorSink();
  return drain(openStdinInput(format, sink, Readable.from(chunks)), sink);
}

function ofKind<K extends FlowKind>(records: FlowRecord[], kind: K): RecordOf<K>[] {
  return records.filter((record): record is RecordOf<K> => record.kind === kind);
}

function conns(records: FlowRecord[]): ConnRecord[] {
  return ofKind(records, 'conn');
}

/** Timestamps are sums of floats: compare to the microsecond. */
function near(t: ExecutionContext, actual: number, expected: number, what = 'value'): void {
  t.true(Math.abs(actual - expected) < 1e-6, `${what}: ${actual} is not ${expected}`);
}

/** Record fields other than uid and ts (random / float), for exact comparison. */
function withoutUidAndTs(record: FlowRecord): Record<string, unknown> {
  const { uid: _uid, ts: _ts, ...rest } = record;
  return rest;
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'inputs-test-'));
}

/** The key order of the Zeek reader's conn records; every reader must build the same shape. */
const CONN_KEYS = [
  'kind', 'ts', 'uid', 'saddr', 'daddr', 'interface', 'source', 'sport', 'dport', 'proto', 'appproto', 'dur',
  'sbytes', 'dbytes', 'spkts', 'dpkts', 'state', 'history', 'smac', 'dmac', 'dir',
];

// ---------------------------------------------------------------------------------------------
// Shared helpers

test('local timestamps are read in the process time zone, with DST', (t) => {
  const time = new LocalTimeParser();
  near(t, time.parse('2019/04/04 16:23:00.325010'), 1554387780.32501, 'summer (CEST)');
  near(t, time.parse('2019/04/04 16:23:59.5'), 1554387839.5, 'same minute, cached');
  near(t, time.parse('2018/12/18 14:00:00.075359'), 1545138000.075359, 'winter (CET)');
  near(t, time.parse('2018-01-12 15:37:47'), 1515767867, 'nfdump style');
  near(t, time.parse('1554387780.5'), 1554387780.5, 'unix seconds');
  for (const bad of ['', 'yesterday', '2019/13/04 16:23:00', '2019/02/30 10:00:00', '2019/04/04 16:23:xx', '2019/04/04 25:00:00']) {
    t.true(Number.isNaN(time.parse(bad)), bad);
  }
});

test('random uids look like Zeek uids and do not repeat', (t) => {
  const uids = new Set<string>();
  for (let i = 0; i < 5000; i++) uids.add(randomUid());
  t.is(uids.size, 5000);
  for (const uid of [...uids].slice(0, 50)) t.regex(uid, /^C[A-Za-z0-9]{17}$/);
});

// ---------------------------------------------------------------------------------------------
// Argus

test('argus: standard comma header with labels, exact fields', async (t) => {
  const { reader, records, sink } = await readInput(fixture('argus/standard.binetflow'));
  t.deepEqual(sink.problems, []);
  t.is(reader.inputType, 'binetflow');
  t.is(reader.totalLines, 4);
  t.is(reader.linesRead, 4);
  const flows = conns(records);
  t.is(flows.length, 4);
  t.deepEqual(Object.keys(flows[0]!), CONN_KEYS);
  near(t, flows[0]!.ts, 1554387780.32501);
  t.regex(flows[0]!.uid, /^C[A-Za-z0-9]{17}$/);
  t.deepEqual(withoutUidAndTs(flows[0]!), {
    kind: 'conn', saddr: '10.8.0.69', daddr: '8.8.8.8', interface: 'default', source: 'argus', sport: 48427,
    dport: 53, proto: 'udp', appproto: '', dur: 0.027947, sbytes: 63, dbytes: 79, spkts: 1, dpkts: 1,
    state: 'CON', history: '', smac: '', dmac: '', dir: '<->',
  });
  // ICMP "ports" are hex.
  near(t, flows[1]!.ts, 1554388210.234728);
  t.is(flows[1]!.sport, 8);
  t.is(flows[1]!.dport, 0x7208);
  t.is(flows[1]!.dir, '->');
  t.is(flows[1]!.state, 'ECO');
  t.is(interpretState(flows[1]!.state, 2), 'Established');
  // ARP has no ports.
  t.is(flows[2]!.proto, 'arp');
  t.is(flows[2]!.sport, 0);
  t.is(flows[2]!.dport, 0);
  t.is(flows[2]!.dir, 'who');
  t.is(flows[2]!.spkts, 4);
  t.is(flows[2]!.dpkts, 6);
  t.is(flows[2]!.dbytes, 210);
  // Proto is lower-cased, the Argus state stays raw for interpretState.
  near(t, flows[3]!.ts, 1545138000.075359);
  t.is(flows[3]!.proto, 'tcp');
  t.is(flows[3]!.state, 'SRPA_SPA');
  t.is(interpretState(flows[3]!.state, 31), 'Established');
});

test('argus: tab separated, CRLF, a label with commas', async (t) => {
  const { reader, records, sink } = await readInput(fixture('argus/tabs.binetflow'));
  t.deepEqual(sink.problems, []);
  t.is(reader.inputType, 'binetflow-tabs');
  const flows = conns(records);
  t.is(flows.length, 2);
  near(t, flows[0]!.ts, 1525942367.283479);
  t.deepEqual(withoutUidAndTs(flows[0]!), {
    kind: 'conn', saddr: '10.0.2.15', daddr: '10.0.2.2', interface: 'default', source: 'argus', sport: 68,
    dport: 67, proto: 'udp', appproto: '', dur: 0.04501, sbytes: 342, dbytes: 342, spkts: 1, dpkts: 1,
    state: 'CON', history: '', smac: '', dmac: '', dir: '->',
  });
  near(t, flows[1]!.ts, 8.156845);
  t.is(flows[1]!.dur, 3554.205811);
  t.is(flows[1]!.spkts, 11);
  t.is(flows[1]!.dpkts, 11);
});

test('argus: LastTime is the end time (bug #4), destination columns are used when present', async (t) => {
  const { records, sink } = await readInput(fixture('argus/lasttime.binetflow'));
  t.deepEqual(sink.problems, []);
  const [flow] = conns(records);
  near(t, flow!.ts, 1554387780.25, 'ts is StartTime');
  t.is(flow!.dur, 2.5);
  t.is(flow!.spkts, 5);
  t.is(flow!.dpkts, 7);
  t.is(flow!.sbytes, 1000);
  t.is(flow!.dbytes, 4000);
});

test('argus: no SrcPkts and no label column: destination counts derived from the totals', async (t) => {
  const { records, sink } = await readInput(fixture('argus/nolabel.binetflow'));
  t.deepEqual(sink.problems, []);
  const [flow] = conns(records);
  near(t, flow!.ts, 1538080852.362768);
  t.is(flow!.spkts, 0);
  t.is(flow!.dpkts, 35);
  t.is(flow!.sbytes, 1224);
  t.is(flow!.dbytes, 3766 - 1224);
  t.is(flow!.dir, '<?>');
});

test('argus: a file without header uses the standard layout', async (t) => {
  const { records, sink } = await readInput(fixture('argus/noheader.binetflow'));
  t.deepEqual(sink.problems, []);
  const flows = conns(records);
  t.is(flows.length, 2);
  near(t, flows[0]!.ts, 1554387780.32501);
  t.is(flows[0]!.dur, 0.5);
  t.is(flows[1]!.daddr, '8.8.4.4');
  t.is(flows[1]!.dport, 80);
  t.is(flows[1]!.state, 'S_');
});

test('argus: a header line in the middle remaps the columns', async (t) => {
  const dir = tempDir();
  const file = path.join(dir, 'two.binetflow');
  fs.writeFileSync(file, [
    'StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,TotPkts,TotBytes,SrcBytes',
    '2019/04/04 16:23:00.000000,1,tcp,10.0.0.1,1000,   ->,10.0.0.2,22,CON,4,400,100',
    'SrcAddr,DstAddr,Dport,StartTime,Proto,State,TotPkts',
    '10.0.0.3,10.0.0.4,443,2019/04/04 16:24:00.000000,udp,CON,2',
  ].join('\n'));
  const { records, sink } = await readInput(file);
  t.deepEqual(sink.problems, []);
  const flows = conns(records);
  t.is(flows.length, 2);
  t.is(flows[1]!.saddr, '10.0.0.3');
  t.is(flows[1]!.dport, 443);
  t.is(flows[1]!.proto, 'udp');
  t.is(flows[1]!.dpkts, 2);
  near(t, flows[1]!.ts, 1554387840);
});

test('argus: bad lines are reported with file and line, the good ones kept', async (t) => {
  const file = fixture('argus/bad.binetflow');
  const { records, sink, reader } = await readInput(file);
  const flows = conns(records);
  t.deepEqual(flows.map((flow) => flow.sport), [48427, 2]);
  t.deepEqual(sink.problems, [
    { file, line: 3, message: 'expected 16 fields, got 1' },
    { file, line: 4, message: 'expected 16 fields, got 17' },
    { file, line: 5, message: "invalid start time 'not a time'" },
    { file, line: 6, message: 'invalid UTF-8, line skipped' },
  ]);
  t.is(reader.linesRead, 5);
});

test('argus: a huge line is skipped and the next line read', async (t) => {
  const dir = tempDir();
  const file = path.join(dir, 'huge.binetflow');
  fs.writeFileSync(file, [
    'StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,sTos,dTos,TotPkts,TotBytes,SrcBytes,SrcPkts,Label',
    `2019/04/04 16:23:00.000000,0.1,udp,10.8.0.69,1,  ->,8.8.8.8,53,CON,0,0,2,142,63,1,${'x'.repeat(2 * 1024 * 1024)}`,
    '2019/04/04 16:23:01.000000,0.1,udp,10.8.0.69,2,  ->,8.8.8.8,53,CON,0,0,2,142,63,1,',
  ].join('\n'));
  const { records, sink } = await readInput(file);
  t.deepEqual(conns(records).map((flow) => flow.sport), [2]);
  t.is(sink.problems.length, 1);
  t.is(sink.problems[0]!.line, 2);
  t.regex(sink.problems[0]!.message, /longer than/);
});

test('argus: a header-only file gives no records and no problems', async (t) => {
  const dir = tempDir();
  const file = path.join(dir, 'header.binetflow');
  fs.writeFileSync(file, 'StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,sTos,dTos,TotPkts,TotBytes,SrcBytes,SrcPkts,Label\n');
  const { records, sink, reader } = await readInput(file);
  t.deepEqual(records, []);
  t.deepEqual(sink.problems, []);
  t.is(reader.totalLines, 0);
});

test('argus and suricata readers report an empty file', async (t) => {
  const dir = tempDir();
  const file = path.join(dir, 'empty.binetflow');
  fs.writeFileSync(file, '');
  for (const open of [openArgusInput, openSuricataInput]) {
    const sink = new CollectingErrorSink();
    const { records } = await drain(await open(file, sink), sink);
    t.deepEqual(records, []);
    t.deepEqual(sink.problems, [{ file, line: 1, message: 'empty input, no lines to read' }]);
  }
});

withShared('argus: the Slips binetflow datasets parse without problems', async (t) => {
  const expected: Record<string, number> = {
    'test2-malicious.binetflow': 6751, 'test3-mixed.binetflow': 89, 'test4-malicious.binetflow': 394,
    'test5-mixed.binetflow': 300, 'test11-portscan.binetflow': 66,
  };
  for (const [name, count] of Object.entries(expected)) {
    const { records, sink, reader } = await readInput(shared(name));
    t.deepEqual(sink.problems, [], name);
    t.is(records.length, count, name);
    t.is(reader.totalLines, count, name);
  }
});

// ---------------------------------------------------------------------------------------------
// Suricata

test('suricata timestamps keep the fraction and honour the offset', (t) => {
  near(t, suricataTime('2021-07-30T14:48:04.640125+0200'), 1627649284.640125);
  near(t, suricataTime('2021-07-30T12:48:04.640125Z'), 1627649284.640125);
  near(t, suricataTime('2021-07-30T14:48:04.640125+02:00'), 1627649284.640125);
  near(t, suricataTime('2021-07-30T07:48:04-0500'), 1627649284);
  near(t, suricataTime('2021-07-30T14:48:04.5'), 1627649284.5, 'no offset: local time');
  for (const bad of ['', 'yesterday', '2021-07-30T14:48:04.5+2', '2021-13-30T14:48:04Z', 42]) {
    t.true(Number.isNaN(suricataTime(bad)), String(bad));
  }
});

test('suricata flow states become Zeek conn_states (bug #14)', (t) => {
  const flow = (state: string): Record<string, unknown> => ({ state });
  const tcp = (ts: string, tc: string): Record<string, unknown> => ({ tcp_flags_ts: ts, tcp_flags_tc: tc });
  t.is(zeekStateOf('tcp', flow('new'), tcp('02', '00'), 0), 'S0');
  t.is(zeekStateOf('udp', flow('established'), undefined, 0), 'S0');
  t.is(zeekStateOf('tcp', flow('closed'), tcp('1b', '1b'), 4), 'SF');
  t.is(zeekStateOf('tcp', flow('established'), tcp('0a', '12'), 2), 'S1');
  t.is(zeekStateOf('tcp', flow('closed'), tcp('02', '14'), 1), 'REJ');
  t.is(zeekStateOf('tcp', flow('established'), tcp('18', '18'), 3), 'OTH');
  t.is(zeekStateOf('tcp', flow('new'), undefined, 1), 'S0');
  t.is(zeekStateOf('tcp', flow('established'), undefined, 1), 'S1');
  t.is(zeekStateOf('tcp', flow('closed'), undefined, 1), 'SF');
  t.is(zeekStateOf('udp', flow('new'), undefined, 1), 'SF');
  t.is(interpretState('S0', 1), 'Not Established');
  t.is(interpretState('REJ', 2), 'Not Established');
  t.is(interpretState('S1', 5), 'Established');
});

test('suricata: every mapped event type, exact fields', async (t) => {
  const { reader, records, sink } = await readInput(fixture('suricata/eve.json'));
  t.deepEqual(sink.problems, []);
  t.deepEqual(sink.warnings, ['Skipped Suricata events: anomaly 1, stats 1']);
  t.is(reader.inputType, 'suricata');
  t.is(reader.totalLines, 19);
  t.is(reader.linesRead, 19);
  t.deepEqual(records.map((record) => record.kind), [
    'conn', 'conn', 'conn', 'conn', 'conn', 'conn', 'dns', 'dns', 'http', 'ssl', 'ssh', 'smtp', 'files',
    'suricata_alert', 'suricata_alert', 'dns',
  ]);

  const flows = conns(records);
  t.deepEqual(Object.keys(flows[0]!), CONN_KEYS);
  near(t, flows[0]!.ts, 1622988000.25, 'flow ts is flow.start');
  t.deepEqual(withoutUidAndTs(flows[0]!), {
    kind: 'conn', saddr: '192.168.1.129', daddr: '1.2.3.4', interface: 'eth0', source: 'suricata', sport: 40000,
    dport: 443, proto: 'tcp', appproto: 'ssl', dur: 2.5, sbytes: 700, dbytes: 3000, spkts: 5, dpkts: 4,
    state: 'SF', history: '', smac: 'aa:bb:cc:dd:ee:01', dmac: 'aa:bb:cc:dd:ee:02', dir: '->',
  });
  t.is(flows[0]!.uid, '1001');
  t.deepEqual(flows.map((flow) => flow.state), ['SF', 'REJ', 'S0', 'SF', 'SF', 'S1']);
  t.deepEqual(flows.map((flow) => flow.appproto), ['ssl', '', '', 'dns', '', '']);
  t.deepEqual([flows[4]!.proto, flows[4]!.sport, flows[4]!.dport], ['icmp', 8, 0]);

  const [answered, nx, lonely] = ofKind(records, 'dns');
  t.deepEqual(answered, {
    kind: 'dns', ts: 1622988007, uid: '2001', saddr: '192.168.1.129', daddr: '192.168.1.1', interface: 'default',
    source: 'suricata', sport: 35790, dport: 53, proto: 'udp', query: 'www.example.com', qclass_name: '',
    qtype_name: 'A', rcode_name: 'NOERROR', answers: ['edge.example.net', '93.184.216.34'], TTLs: [580, 60],
  });
  t.is(nx!.ts, 1622995209);
  t.is(nx!.rcode_name, 'NXDOMAIN');
  t.deepEqual(nx!.answers, ['alias.example', '10.0.0.1']);
  t.deepEqual(nx!.TTLs, []);
  t.is(lonely!.query, 'lonely.example');
  t.is(lonely!.qtype_name, 'AAAA');
  t.is(lonely!.ts, 1622988008);
  t.deepEqual(lonely!.answers, []);

  t.deepEqual(ofKind(records, 'http')[0], {
    kind: 'http', ts: 1622988000.5, uid: '3001', saddr: '192.168.1.129', daddr: '1.2.3.4', interface: 'default',
    source: 'suricata', sport: 59502, dport: 80, method: 'GET', host: 'example.com', uri: '/index.html',
    version: '1.1', user_agent: 'Mozilla/5.0', request_body_len: 0, response_body_len: 1256, status_code: 200,
    status_msg: '', resp_mime_types: ['text/html'], resp_fuids: [],
  });
  t.deepEqual(ofKind(records, 'ssl')[0], {
    kind: 'ssl', ts: 1622988000.5, uid: '1001', saddr: '192.168.1.129', daddr: '1.2.3.4', interface: 'default',
    source: 'suricata', sport: 40000, dport: 443, version: 'TLSv12', cipher: '', resumed: false, established: true,
    cert_chain_fuids: [], client_cert_chain_fuids: [], subject: 'CN=www.example.com', issuer: 'C=US, O=Example CA',
    server_name: 'www.example.com', validation_status: '', curve: '', ja3: 'b7202231ff2db28363c109cedc6d1642',
    ja3s: 'ad90cab724fafab2660fbf61673c91a9', is_DoH: false,
  });
  t.deepEqual(ofKind(records, 'ssh')[0], {
    kind: 'ssh', ts: 1622988000.5, uid: '4001', saddr: '192.168.1.129', daddr: '1.2.3.4', interface: 'default',
    source: 'suricata', sport: 50022, dport: 22, version: 2, auth_success: null, auth_attempts: 0,
    client: 'OpenSSH_8.2p1', server: 'OpenSSH_7.4', cipher_alg: '', mac_alg: '', compression_alg: '', kex_alg: '',
    host_key_alg: '', host_key: '',
  });
  t.deepEqual(ofKind(records, 'smtp')[0], {
    kind: 'smtp', ts: 1622988000.5, uid: '5001', saddr: '192.168.1.129', daddr: '1.2.3.4', interface: 'default',
    source: 'suricata', sport: 50025, dport: 25, helo: 'mail.example.com', mailfrom: '<a@example.com>',
    rcptto: ['<b@example.org>', '<c@example.org>'], last_reply: '',
  });
  t.deepEqual(ofKind(records, 'files')[0], {
    kind: 'files', ts: 1622988000.5, uid: '3001-0', saddr: '1.2.3.4', daddr: '192.168.1.129', interface: 'default',
    source: 'suricata', conn_uids: ['3001'], tx_hosts: ['1.2.3.4'], rx_hosts: ['192.168.1.129'], file_source: 'HTTP',
    analyzers: [], mime_type: '', md5: 'd41d8cd98f00b204e9800998ecf8427e', sha1: '', sha256: '', size: 1256,
  });
  const alerts = ofKind(records, 'suricata_alert');
  t.deepEqual(alerts[0], {
    kind: 'suricata_alert', ts: 1622988000.5, uid: '6001', saddr: '78.36.196.213', daddr: '192.168.1.129',
    interface: 'default', source: 'suricata', sport: 51698, dport: 445, proto: 'tcp', appproto: '',
    signature: 'ET CINS Active Threat Intelligence Poor Reputation IP', signature_id: 2403388, gid: 1, rev: 1,
    category: 'Misc Attack', severity: 2, action: 'allowed',
  });
  t.is(alerts[1]!.signature_id, 2403335);
});

test('suricata: alert events, severity kept in 1..4, odd values do not break the record', async (t) => {
  const alert = (fields: Record<string, unknown>, extra: Record<string, unknown> = {}): string => JSON.stringify({
    timestamp: '2021-06-06T16:00:00.500000+0200', flow_id: 7001, event_type: 'alert', src_ip: '10.0.0.1',
    src_port: 1234, dest_ip: '10.0.0.2', dest_port: 80, proto: 'TCP', app_proto: 'tls', ...extra,
    alert: { action: 'blocked', gid: 1, signature_id: 1, rev: 3, signature: 'S', category: 'C', severity: 1, ...fields },
  });
  const lines = [
    alert({}),
    alert({ severity: 4 }),
    alert({ severity: 9 }),
    alert({ severity: undefined, signature: undefined, category: undefined }),
    alert({ severity: '2', signature_id: '2019401' }),
    alert({}, { proto: 'ICMP', src_port: undefined, dest_port: undefined, icmp_type: 8, icmp_code: 0 }),
    JSON.stringify({ timestamp: '2021-06-06T16:00:00.5Z', event_type: 'alert', src_ip: '10.0.0.1' }),
  ];
  const { records, sink } = await readStdin('suricata', [lines.join('\n') + '\n']);
  const alerts = ofKind(records, 'suricata_alert');
  t.deepEqual(alerts.map((a) => a.severity), [1, 4, 4, 3, 2, 1]);
  t.deepEqual([alerts[0]!.action, alerts[0]!.appproto, alerts[0]!.rev], ['blocked', 'ssl', 3]);
  t.deepEqual([alerts[3]!.signature, alerts[3]!.category], ['', '']);
  t.is(alerts[4]!.signature_id, 2019401);
  t.deepEqual([alerts[5]!.proto, alerts[5]!.sport, alerts[5]!.dport], ['icmp', 8, 0]);
  t.deepEqual(sink.problems, [{ file: 'stdin', line: 7, message: "alert event without its 'alert' object" }]);
});

test('suricata: bad events are reported with file and line', async (t) => {
  const file = fixture('suricata/bad.json');
  const { records, sink, reader } = await readInput(file);
  t.deepEqual(conns(records).map((flow) => flow.uid), ['1001', '1004']);
  t.deepEqual(sink.problems, [
    { file, line: 2, message: 'invalid JSON' },
    { file, line: 3, message: 'JSON line is not an object' },
    { file, line: 4, message: 'event has no event_type' },
    { file, line: 5, message: "invalid timestamp 'yesterday'" },
    { file, line: 6, message: "http event without its 'http' object" },
  ]);
  t.is(reader.linesRead, 7);
});

withShared('suricata: the Slips test6 dataset', async (t) => {
  const { records, sink, reader } = await readInput(shared('test6-malicious.suricata.json'));
  t.deepEqual(sink.problems, []);
  t.deepEqual(sink.warnings, ['Skipped Suricata events: anomaly 3']);
  t.is(reader.linesRead, 5000);
  const count = (kind: FlowKind): number => ofKind(records, kind).length;
  t.is(count('conn'), 3512);
  t.is(count('dns'), 340, 'queries merged into their answers');
  t.is(count('http'), 56);
  t.is(count('ssl'), 1);
  t.is(count('files'), 3);
  t.is(count('suricata_alert'), 745);
  // `new` flows (no reply) are not established any more.
  t.false(conns(records).some((flow) => flow.dpkts === 0 && interpretState(flow.state, flow.spkts) === 'Established'));
});

// ---------------------------------------------------------------------------------------------
// nfdump

test('nfdump: a small nfcapd file, exact fields', async (t) => {
  const file = fixture('nfdump/nfcapd.small');
  const { reader, records, sink } = await readInput(file);
  t.deepEqual(sink.problems, []);
  t.is(reader.inputType, 'nfdump');
  t.is(reader.linesRead, 4);
  const flows = conns(records);
  t.is(flows.length, 4);
  const web = flows.find((flow) => flow.dport === 80)!;
  t.deepEqual(Object.keys(web), CONN_KEYS);
  t.is(web.ts, 1700000000);
  t.deepEqual(withoutUidAndTs(web), {
    kind: 'conn', saddr: '192.168.1.10', daddr: '93.184.216.34', interface: 'default', source: 'nfdump',
    sport: 40000, dport: 80, proto: 'tcp', appproto: '', dur: 0.7, sbytes: 218, dbytes: 144, spkts: 5, dpkts: 3,
    state: '...AP.SF', history: '', smac: '', dmac: '', dir: '0',
  });
  const ping = flows.find((flow) => flow.proto === 'icmp')!;
  t.deepEqual([ping.daddr, ping.sport, ping.dport, ping.ts], ['8.8.8.8', 8, 0, 1700000002]);
  const dns = flows.find((flow) => flow.dport === 53)!;
  t.deepEqual([dns.proto, dns.sport, dns.dur, dns.spkts, dns.dpkts], ['udp', 50000, 0.1, 1, 1]);
  const syn = flows.find((flow) => flow.dport === 22)!;
  t.deepEqual([syn.state, syn.dpkts], ['......S.', 0]);
});

test('nfdump: a file nfdump cannot read is reported', async (t) => {
  const dir = tempDir();
  const file = path.join(dir, 'broken.nfcapd');
  fs.writeFileSync(file, Buffer.from('this is not an nfcapd file at all, just some text\n'.repeat(10)));
  const { records, sink } = await readInput(file);
  t.deepEqual(records, []);
  t.is(sink.problems.length, 1);
  t.is(sink.problems[0]!.file, file);
  t.regex(sink.problems[0]!.message, /^nfdump could not read the file: /);
});

test('nfdump: stop() ends the child process', async (t) => {
  const sink = new CollectingErrorSink();
  const reader = openNfdumpInput(fixture('nfdump/nfcapd.small'), sink);
  reader.stop();
  const { records } = await drain(reader, sink);
  t.true(records.length <= 4);
  t.deepEqual(sink.problems, []);
});

test.serial('nfdump: a missing nfdump binary gives the install command', (t) => {
  const savedPath = process.env['PATH'];
  process.env['PATH'] = path.join(tempDir(), 'nothing-here');
  try {
    const error = t.throws(() => openNfdumpInput(fixture('nfdump/nfcapd.small'), new CollectingErrorSink()));
    t.regex(error!.message, /nfdump is not installed/);
    t.regex(error!.message, /apt-get install -y nfdump/);
  } finally {
    process.env['PATH'] = savedPath;
  }
});

withShared('nfdump: the Slips test1 capture, numbers are numbers (bug #3)', async (t) => {
  const { records, sink, reader } = await readInput(shared('test1-malicious.nfdump'));
  t.deepEqual(sink.problems, []);
  t.is(reader.linesRead, 2398);
  const flows = conns(records);
  t.is(flows.length, 2398);
  const first = flows.find((flow) => flow.sport === 53778)!;
  t.is(first.ts, 1515771467);
  t.deepEqual(withoutUidAndTs(first), {
    kind: 'conn', saddr: '147.32.80.119', daddr: '147.32.82.62', interface: 'default', source: 'nfdump',
    sport: 53778, dport: 902, proto: 'tcp', appproto: '', dur: 0, sbytes: 60, dbytes: 40, spkts: 1, dpkts: 1,
    state: '......S.', history: '', smac: '', dmac: '', dir: '0',
  });
  t.is(flows.reduce((sum, flow) => sum + flow.spkts + flow.dpkts, 0), 4652);
});

// ---------------------------------------------------------------------------------------------
// Stdin and streams

test('stream lines: chunks split anywhere, CRLF, BOM, UTF-8 across chunks, bad bytes', async (t) => {
  const sink = new CollectingErrorSink();
  const text = Buffer.concat([
    Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('first\r\nsecönd\n\nbad '), Buffer.from([0xff]), Buffer.from('\nlast'),
  ]);
  const chunks = [text.subarray(0, 1), text.subarray(1, 9), text.subarray(9, 13), text.subarray(13)];
  const lines = new Map<number, string>();
  for await (const batch of readStreamLines(Readable.from(chunks), 'stdin', sink)) {
    batch.lines.forEach((line, i) => lines.set(batch.firstLine + i, line));
  }
  t.deepEqual([...lines], [[1, 'first'], [2, 'secönd'], [3, ''], [5, 'last']]);
  t.deepEqual(sink.problems, [{ file: 'stdin', line: 4, message: 'invalid UTF-8, line skipped' }]);
});

test('stream lines: a huge line is skipped without holding it', async (t) => {
  const sink = new CollectingErrorSink();
  const big = 'y'.repeat(64 * 1024);
  const chunks = ['a\n', ...Array.from({ length: 40 }, () => big), '\nb\n'];
  const lines: string[] = [];
  for await (const batch of readStreamLines(Readable.from(chunks), 'stdin', sink, { maxLineBytes: 1024 * 1024 })) lines.push(...batch.lines);
  t.deepEqual(lines, ['a', 'b']);
  t.is(sink.problems.length, 1);
  t.is(sink.problems[0]!.line, 2);
});

test('files and streams are split by the same rules, whatever the chunking', async (t) => {
  t.is(readStreamLines, streamLines, 'stdin.ts re-exports the splitter of lineReader.ts');
  const dir = tempDir();
  let seed = 12345;
  const random = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const pieces = ['a,b', '\r\n', '\n', 'žluť', '\ufeff', '\r', '', 'x'.repeat(70), '日本'];
  for (let round = 0; round < 60; round++) {
    const parts: Buffer[] = [];
    if (random(4) === 0) parts.push(Buffer.from([0xef, 0xbb, 0xbf]));
    for (let i = 0; i < 30; i++) {
      parts.push(random(12) === 0 ? Buffer.from([0xff, 0xc3]) : Buffer.from(pieces[random(pieces.length)]!));
    }
    const bytes = Buffer.concat(parts);
    const file = path.join(dir, `round${round}.txt`);
    fs.writeFileSync(file, bytes);
    const options = { maxLineBytes: 64, maxBatchLines: 1 + random(5) };
    const collect = async (batches: AsyncIterable<{ firstLine: number; lines: string[] }>, sink: CollectingErrorSink) => {
      const lines: [number, string][] = [];
      for await (const batch of batches) batch.lines.forEach((line, i) => lines.push([batch.firstLine + i, line]));
      return { lines, problems: sink.problems.map((p) => [p.line, p.message]) };
    };
    const fileSink = new CollectingErrorSink();
    const fromFile = await collect(readLines(file, fileSink, { ...options, chunkBytes: 1 + random(40) }), fileSink);
    const cuts = Array.from({ length: random(6) }, () => random(bytes.length + 1)).sort((a, b) => a - b);
    const chunks = [...cuts, bytes.length].map((cut, i, all) => bytes.subarray(i === 0 ? 0 : all[i - 1]!, cut));
    const streamSink = new CollectingErrorSink();
    const fromStream = await collect(streamLines(Readable.from(chunks), file, streamSink, options), streamSink);
    t.deepEqual(fromStream, fromFile, `round ${round}`);
  }
});

test('stdin: argus lines until "done", with or without a header', async (t) => {
  const header = 'StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,sTos,dTos,TotPkts,TotBytes,SrcBytes,SrcPkts,Label\n';
  const line = '2019/04/04 16:23:00.325010,0.027947,udp,10.8.0.69,48427,  <->,8.8.8.8,53,CON,0,0,2,142,63,1,\n';
  const withHeader = await readStdin('argus', [header, line, 'done\n', line]);
  t.is(withHeader.reader.inputType, 'stdin');
  t.is(withHeader.reader.totalLines, undefined);
  t.is(conns(withHeader.records).length, 1);
  const bare = await readStdin('argus', [line, line]);
  t.deepEqual(bare.sink.problems, []);
  const flows = conns(bare.records);
  t.is(flows.length, 2);
  near(t, flows[0]!.ts, 1554387780.32501);
  t.is(flows[0]!.dbytes, 79);
});

test('stdin: zeek conn lines as JSON, and TSV after #fields', async (t) => {
  const json = JSON.stringify({
    ts: 1554387780.5, uid: 'CAbc', 'id.orig_h': '10.0.0.1', 'id.orig_p': 5555, 'id.resp_h': '10.0.0.2',
    'id.resp_p': 443, proto: 'tcp', service: 'ssl', duration: 1.5, orig_bytes: 10, resp_bytes: 20,
    conn_state: 'SF', history: 'ShADadFf', orig_pkts: 3, resp_pkts: 4,
  });
  const tsv = [
    '#separator \\x09',
    '#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tconn_state',
    '1554387781.25\tCdef\t10.0.0.3\t1234\t10.0.0.4\t53\tudp\tS0',
    'not enough',
  ].join('\n');
  const { records, sink } = await readStdin('zeek', [`${json}\n{broken\n`, `${tsv}\ndone\n`]);
  const flows = conns(records);
  t.is(flows.length, 2);
  t.deepEqual(flows[0], {
    kind: 'conn', ts: 1554387780.5, uid: 'CAbc', saddr: '10.0.0.1', daddr: '10.0.0.2', interface: 'default',
    source: 'zeek', sport: 5555, dport: 443, proto: 'tcp', appproto: 'ssl', dur: 1.5, sbytes: 10, dbytes: 20,
    spkts: 3, dpkts: 4, state: 'SF', history: 'ShADadFf', smac: '', dmac: '', dir: '->',
  });
  t.deepEqual([flows[1]!.ts, flows[1]!.uid, flows[1]!.dport, flows[1]!.state], [1554387781.25, 'Cdef', 53, 'S0']);
  t.deepEqual(sink.problems, [
    { file: 'stdin', line: 2, message: 'invalid JSON' },
    { file: 'stdin', line: 6, message: 'expected 8 fields, got 1' },
  ]);
});

test('stdin: suricata events', async (t) => {
  const eve = fs.readFileSync(fixture('suricata/eve.json'), 'utf8');
  const { records, sink } = await readStdin('suricata', [eve.slice(0, 1000), eve.slice(1000)]);
  t.deepEqual(sink.problems, []);
  t.is(records.length, 16);
  t.deepEqual(sink.warnings, ['Skipped Suricata events: anomaly 1, stats 1']);
});

test('stdin: records arrive before the input ends, and stop() ends a waiting input', async (t) => {
  const stream = new PassThrough();
  const sink = new CollectingErrorSink();
  const reader = openStdinInput('argus', sink, stream);
  const iterator = reader.batches()[Symbol.asyncIterator]();
  stream.write('2019/04/04 16:23:00.325010,0.1,udp,10.8.0.69,1,  ->,8.8.8.8,53,CON,0,0,2,142,63,1,\n');
  const first = await iterator.next();
  t.false(first.done);
  t.is((first.value as FlowRecord[]).length, 1);
  const pending = iterator.next();
  reader.stop();
  t.true((await pending).done);
  t.deepEqual(sink.problems, []);
  t.true(stream.destroyed);
});

test('stdin: empty input is reported', async (t) => {
  const { records, sink } = await readStdin('suricata', []);
  t.deepEqual(records, []);
  t.deepEqual(sink.problems, [{ file: 'stdin', line: 1, message: 'empty input, no lines to read' }]);
});

test('stdin format words', (t) => {
  t.is(stdinFormatOf('Zeek'), 'zeek');
  t.is(stdinFormatOf('SURICATA'), 'suricata');
  t.is(stdinFormatOf('argus'), 'argus');
  t.is(stdinFormatOf('nfdump'), undefined);
});

// ---------------------------------------------------------------------------------------------
// Type detection

test('detection of the fixtures', (t) => {
  t.is(detectInputType(fixture('argus/standard.binetflow')), 'binetflow');
  t.is(detectInputType(fixture('argus/noheader.binetflow')), 'binetflow');
  t.is(detectInputType(fixture('argus/tabs.binetflow')), 'binetflow-tabs');
  t.is(detectInputType(fixture('suricata/eve.json')), 'suricata');
  t.is(detectInputType(fixture('nfdump/nfcapd.small')), 'nfdump');
  t.is(detectInputType(fixture('../zeek/tsv-conn/conn.log')), 'zeek_log_file');
});

test('detection: nfcapd by magic, eve.json starting with stats, empty and unknown files', async (t) => {
  const dir = tempDir();
  const renamed = path.join(dir, 'capture.bin');
  fs.copyFileSync(fixture('nfdump/nfcapd.small'), renamed);
  t.is(detectInputType(renamed), 'nfdump');

  const stats = path.join(dir, 'eve.json');
  fs.writeFileSync(stats, '{"timestamp":"2021-06-06T16:00:00+0200","event_type":"stats","stats":{}}\n');
  t.is(detectInputType(stats), 'suricata');

  const unknown = path.join(dir, 'notes.txt');
  fs.writeFileSync(unknown, 'just some words\n');
  const error = t.throws(() => detectInputType(unknown));
  t.regex(error!.message, /unrecognized file type/);
  t.regex(error!.message, /Argus binetflow/);
  t.regex(error!.message, /Suricata eve\.json/);
  t.regex(error!.message, /nfdump/);
  t.regex(error!.message, /Zeek/);

  const empty = path.join(dir, 'empty.log');
  fs.writeFileSync(empty, '\n#only a comment\n');
  t.is(detectInputType(empty), undefined);
  const { records, sink, reader } = await readInput(empty);
  t.deepEqual(records, []);
  t.is(reader.linesRead, 0);
  t.deepEqual(sink.problems, [{ file: empty, line: 1, message: 'no data lines, nothing to analyse' }]);
});

withShared('detection of every Slips flow dataset', (t) => {
  const expected: Record<string, InputType> = {
    'test1-malicious.nfdump': 'nfdump',
    'test2-malicious.binetflow': 'binetflow',
    'test3-mixed.binetflow': 'binetflow',
    'test4-malicious.binetflow': 'binetflow',
    'test5-mixed.binetflow': 'binetflow-tabs',
    'test11-portscan.binetflow': 'binetflow',
    'test6-malicious.suricata.json': 'suricata',
    'test7-malicious.pcap': 'pcap',
    'test9-mixed-zeek-dir': 'zeek_folder',
    'test9-mixed-zeek-dir/conn.log': 'zeek_log_file',
  };
  for (const [name, type] of Object.entries(expected)) t.is(detectInputType(shared(name)), type, name);
});
