// pcap input: capture formats, decoding, Zeek's connection semantics on hand-made packets, and
// Zeek TSV output. (Zeek's oracle traces: pcap-oracle.test.ts.)

import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CollectingErrorSink } from '../inputs/errors.js';
import { openInput } from '../inputs/open.js';
import { openPcapInput } from '../inputs/pcap/reader.js';
import type { ArpRecord, ConnRecord, FlowRecord, PayloadMatchRecord } from '../inputs/records.js';
import { leakDetector } from '../detections/leak.js';
import { findLocationLeak } from '../inputs/pcap/leak.js';
import { DetectionHarness } from './helpers/detectionHarness.js';
import { A, arp, eth, F, icmp, ipv4, ipv6, MAC_A, MAC_B, P, type Pkt, pcapFile, pcapngFile, R, readCapture, S, tcp, tcpFrame, udp } from './helpers/packets.js';

const C = '10.0.0.1';
const SV = '10.0.0.2';

function tcp4(from: 'c' | 's', sport: number, dport: number, seq: number, ack: number, flags: number, data = ''): Buffer {
  return from === 'c' ? tcpFrame(C, SV, sport, dport, seq, ack, flags, data, true) : tcpFrame(SV, C, sport, dport, seq, ack, flags, data, false);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pcap-test-'));
function conns(records: FlowRecord[]): ConnRecord[] {
  return records.filter((r): r is ConnRecord => r.kind === 'conn');
}

/** A full TCP exchange: handshake, data both ways (each acknowledged), FIN both ways, last ACK. */
function tcpSession(t0: number, sport = 40000, dport = 80): Pkt[] {
  const c = 1000, s = 5000;
  return [
    tcp4('c', sport, dport, c, 0, S),
    tcp4('s', dport, sport, s, c + 1, S | A),
    tcp4('c', sport, dport, c + 1, s + 1, A),
    tcp4('c', sport, dport, c + 1, s + 1, P | A, 'GET / HTTP/1.0\r\n\r\n'),
    tcp4('s', dport, sport, s + 1, c + 19, A),
    tcp4('s', dport, sport, s + 1, c + 19, P | A, 'HTTP/1.0 200 OK\r\n\r\nhello'),
    tcp4('c', sport, dport, c + 19, s + 25, F | A),
    tcp4('s', dport, sport, s + 25, c + 20, F | A),
    tcp4('c', sport, dport, c + 20, s + 26, A),
  ].map((frame, i) => ({ ts: t0 + i * 0.01, frame }));
}

// ---------------------------------------------------------------------------------------------
// TCP semantics

test('TCP handshake, data and FIN both ways is SF with history ShADadFf', async (t) => {
  const { records } = await readCapture(t, pcapFile(tcpSession(1_600_000_000)));
  const [conn] = conns(records);
  t.like(conn, {
    saddr: C, daddr: SV, sport: 40000, dport: 80, proto: 'tcp', state: 'SF', history: 'ShADadFf',
    sbytes: 18, dbytes: 24, spkts: 5, dpkts: 4, source: 'pcap', dir: '->', appproto: 'http',
    smac: '02:00:00:00:00:0a', dmac: '02:00:00:00:00:0b',
  });
  // The final ACK after both FINs does not extend the duration.
  t.is(conn!.dur.toFixed(6), '0.070000');
  t.regex(conn!.uid, /^C[0-9A-Za-z]{10,}$/);
});

test('a SYN without answer is S0; SYN answered by RST is REJ', async (t) => {
  const { records } = await readCapture(t, pcapFile([
    { ts: 100, frame: tcp4('c', 40001, 22, 7, 0, S) },
    { ts: 101, frame: tcp4('c', 40002, 23, 9, 0, S) },
    { ts: 101.001, frame: tcp4('s', 23, 40002, 0, 10, R | A) },
  ]));
  const byPort = new Map(conns(records).map((c) => [c.dport, c]));
  t.like(byPort.get(22), { state: 'S0', history: 'S', spkts: 1, dpkts: 0, sbytes: 0, dur: 0 });
  t.like(byPort.get(23), { state: 'REJ', history: 'Sr', spkts: 1, dpkts: 1 });
});

test('a retransmitted SYN after the attempt timeout starts a new S0 connection', async (t) => {
  const { records } = await readCapture(t, pcapFile([
    { ts: 100, frame: tcp4('c', 40001, 22, 7, 0, S) },
    { ts: 103, frame: tcp4('c', 40001, 22, 7, 0, S) },
    { ts: 110, frame: tcp4('c', 40001, 22, 7, 0, S) },
  ]));
  const list = conns(records);
  t.deepEqual(list.map((c) => [c.ts, c.spkts, c.state]), [[100, 2, 'S0'], [110, 1, 'S0']]);
});

test('records come out in timestamp order', async (t) => {
  const pkts = [...tcpSession(200, 40010), { ts: 200.005, frame: eth(0x0806, arp(1, MAC_A, C, [0, 0, 0, 0, 0, 0], SV)) }];
  pkts.sort((a, b) => a.ts - b.ts);
  const { records } = await readCapture(t, pcapFile(pkts));
  // The HTTP request (200.03) and its file (the reply body) come before the ARP packet's record.
  t.deepEqual(records.map((r) => r.kind), ['conn', 'arp', 'http', 'files']);
  t.deepEqual(records.map((r) => r.ts), [...records.map((r) => r.ts)].sort((a, b) => a - b));
});

// ---------------------------------------------------------------------------------------------
// UDP, ICMP, ARP

test('UDP request/response is SF Dd with payload bytes', async (t) => {
  const { records } = await readCapture(t, pcapFile([
    { ts: 10, frame: eth(0x0800, ipv4(C, SV, 17, udp(5555, 53, 'query'))) },
    { ts: 10.5, frame: eth(0x0800, ipv4(SV, C, 17, udp(53, 5555, 'response!'))) },
  ]));
  t.like(conns(records)[0], { proto: 'udp', sport: 5555, dport: 53, state: 'SF', history: 'Dd', sbytes: 5, dbytes: 9, spkts: 1, dpkts: 1, dur: 0.5 });
});

test('a UDP reply from a server port seen first is flipped (^d, SHR)', async (t) => {
  const { records } = await readCapture(t, pcapFile([{ ts: 10, frame: eth(0x0800, ipv4(SV, C, 17, udp(53, 5555, 'answer'))) }]));
  t.like(conns(records)[0], { saddr: C, sport: 5555, daddr: SV, dport: 53, state: 'SHR', history: '^d', spkts: 0, dpkts: 1 });
});

test('ICMP echo request/reply is one OTH connection keyed type -> counterpart', async (t) => {
  const { records } = await readCapture(t, pcapFile([
    { ts: 20, frame: eth(0x0800, ipv4(C, SV, 1, icmp(8, 0, 'abcdefgh'))) },
    { ts: 20.25, frame: eth(0x0800, ipv4(SV, C, 1, icmp(0, 0, 'abcdefgh'))) },
  ]));
  const list = conns(records);
  t.is(list.length, 1);
  t.like(list[0], { proto: 'icmp', sport: 8, dport: 0, state: 'OTH', history: '', sbytes: 8, dbytes: 8, spkts: 1, dpkts: 1, dur: 0.25 });
});

test('ARP request and reply become arp records', async (t) => {
  const zero = [0, 0, 0, 0, 0, 0];
  const bcast = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
  const { records } = await readCapture(t, pcapFile([
    { ts: 30, frame: eth(0x0806, arp(1, MAC_A, C, zero, SV), MAC_A, bcast) },
    { ts: 30.1, frame: eth(0x0806, arp(2, MAC_B, SV, MAC_A, C), MAC_B, MAC_A) },
  ]));
  const arps = records.filter((r): r is ArpRecord => r.kind === 'arp');
  t.deepEqual(arps.map((r) => [r.operation, r.saddr, r.daddr, r.src_hw, r.dst_hw, r.smac, r.dmac]), [
    ['request', C, SV, '02:00:00:00:00:0a', '00:00:00:00:00:00', '02:00:00:00:00:0a', 'ff:ff:ff:ff:ff:ff'],
    ['reply', SV, C, '02:00:00:00:00:0b', '02:00:00:00:00:0a', '02:00:00:00:00:0b', '02:00:00:00:00:0a'],
  ]);
});

// ---------------------------------------------------------------------------------------------
// Decoding

test('802.1Q and QinQ tagged frames are decoded', async (t) => {
  const { records } = await readCapture(t, pcapFile([
    { ts: 1, frame: eth(0x0800, ipv4(C, SV, 17, udp(1000, 2000, 'x')), MAC_A, MAC_B, [10]) },
    { ts: 2, frame: eth(0x0800, ipv4(C, SV, 17, udp(1001, 2000, 'y')), MAC_A, MAC_B, [10, 20]) },
  ]));
  t.deepEqual(conns(records).map((c) => c.sport), [1000, 1001]);
});

test('IPv6 TCP connection', async (t) => {
  const f = (fromClient: boolean, seq: number, ack: number, flags: number): Buffer =>
    eth(0x86dd, fromClient ? ipv6(1, 2, 6, tcp(40000, 443, seq, ack, flags)) : ipv6(2, 1, 6, tcp(443, 40000, seq, ack, flags)));
  const { records } = await readCapture(t, pcapFile([
    { ts: 1, frame: f(true, 10, 0, S) },
    { ts: 1.1, frame: f(false, 50, 11, S | A) },
    { ts: 1.2, frame: f(true, 11, 51, A) },
  ]));
  t.like(conns(records)[0], { saddr: '2001:db8::1', daddr: '2001:db8::2', proto: 'tcp', state: 'S1', history: 'ShA', spkts: 2, dpkts: 1 });
});

test('fragmented IPv4 datagrams are reassembled', async (t) => {
  const payload = udp(7000, 8000, 'A'.repeat(40));
  const { records } = await readCapture(t, pcapFile([
    { ts: 1, frame: eth(0x0800, ipv4(C, SV, 17, payload.subarray(24), { id: 9, fragOff: 24 })) },
    { ts: 1.01, frame: eth(0x0800, ipv4(C, SV, 17, payload.subarray(0, 24), { id: 9, more: true })) },
    { ts: 1.5, frame: eth(0x0800, ipv4(SV, C, 17, udp(8000, 7000, 'ok'))) },
  ]));
  t.like(conns(records)[0], { sport: 7000, dport: 8000, sbytes: 40, spkts: 1, dbytes: 2, dpkts: 1 });
});

// ---------------------------------------------------------------------------------------------
// Capture formats

test('nanosecond and big-endian pcap files', async (t) => {
  const pkts = [{ ts: 1_600_000_000.123456, frame: eth(0x0800, ipv4(C, SV, 17, udp(1, 2, 'z'))) }];
  for (const opts of [{ nano: true }, { be: true }, { be: true, nano: true }]) {
    const { records } = await readCapture(t, pcapFile(pkts, opts));
    t.is(conns(records)[0]!.ts.toFixed(6), '1600000000.123456', JSON.stringify(opts));
  }
});

test('raw IP and Linux SLL link types', async (t) => {
  const ip = ipv4(C, SV, 17, udp(3, 4, 'raw'));
  const raw = await readCapture(t, pcapFile([{ ts: 1, frame: ip }], { linkType: 101 }));
  t.is(conns(raw.records)[0]!.sbytes, 0);
  t.is(conns(raw.records)[0]!.sport, 3);
  const sll = Buffer.concat([Buffer.from([0, 0, 0, 1, 0, 6, ...MAC_A, 0, 0, 0x08, 0x00]), ip]);
  const cooked = await readCapture(t, pcapFile([{ ts: 1, frame: sll }], { linkType: 113 }));
  t.like(conns(cooked.records)[0], { sport: 3, smac: '02:00:00:00:00:0a' });
});

test('pcapng with two interfaces of different timestamp resolution; unknown blocks skipped', async (t) => {
  const { records, sink } = await readCapture(t, pcapngFile(
    [{ linkType: 1, tsresol: 6 }, { linkType: 101, tsresol: 9 }],
    [
      { iface: 0, ts: 50, frame: eth(0x0800, ipv4(C, SV, 17, udp(1111, 53, 'q'))) },
      { iface: 1, ts: 50.5, frame: ipv4(SV, C, 17, udp(53, 1111, 'rr')) },
    ],
  ));
  t.deepEqual(sink.problems, []);
  t.like(conns(records)[0], { state: 'SF', history: 'Dd', sbytes: 1, dbytes: 2, dur: 0.5 });
});

test('a truncated file is reported with its offset and the complete packets are used', async (t) => {
  const bytes = pcapFile([
    { ts: 1, frame: eth(0x0800, ipv4(C, SV, 17, udp(9, 10, 'ok'))) },
    { ts: 2, frame: eth(0x0800, ipv4(C, SV, 17, udp(11, 12, 'cut off'))) },
  ]);
  const { records, sink, packets } = await readCapture(t, bytes.subarray(0, bytes.length - 5));
  t.is(packets, 1);
  t.is(conns(records).length, 1);
  t.is(sink.problems.length, 1);
  t.is(sink.problems[0]!.offset, 24 + 16 + 44);
  t.regex(sink.problems[0]!.message, /truncated/);
});

test('a file with a wrong magic is refused with a clear error; openInput routes pcaps here', async (t) => {
  const bad = path.join(tmp, 'bad.pcap');
  fs.writeFileSync(bad, Buffer.from('not a capture file at all'));
  await t.throwsAsync(openPcapInput(bad, new CollectingErrorSink()), { message: /not a pcap or pcapng file/ });
  const good = path.join(tmp, 'good.pcap');
  fs.writeFileSync(good, pcapFile(tcpSession(10)));
  const reader = await openInput(good, new CollectingErrorSink());
  t.is(reader.inputType, 'pcap');
  let records = 0;
  for await (const batch of reader.batches()) records += batch.length; // also closes the file
  t.true(records > 0);
});

test('zeekLogDir gets conn.log and arp.log in Zeek TSV', async (t) => {
  const dir = path.join(tmp, 'zeek_files');
  await readCapture(t, pcapFile([...tcpSession(1_600_000_000), { ts: 1_600_000_001, frame: eth(0x0806, arp(1, MAC_A, C, [0, 0, 0, 0, 0, 0], SV)) }]), dir);
  const conn = fs.readFileSync(path.join(dir, 'conn.log'), 'utf8').split('\n');
  t.is(conn[0], '#separator \\x09');
  t.is(conn[6], '#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\tip_proto');
  const row = conn[8]!.split('\t');
  t.deepEqual(row.slice(2), ['10.0.0.1', '40000', '10.0.0.2', '80', 'tcp', 'http', '0.070000', '18', '24', 'SF', 'T', 'T', '0', 'ShADadFf', '5', '218', '4', '184', '-', '6']);
  t.is(row[0], '1600000000.000000');
  t.regex(conn.at(-2)!, /^#close\t\d{4}-/);
  const arpLog = fs.readFileSync(path.join(dir, 'arp.log'), 'utf8').split('\n');
  t.is(arpLog[8], '1600000001.000000\trequest\t02:00:00:00:00:0a\t02:00:00:00:00:0b\t10.0.0.1\t10.0.0.2\t02:00:00:00:00:0a\t00:00:00:00:00:00');
});

test('a GPS location in a packet payload becomes a payload_match record and a leak evidence pair', async (t) => {
  const request = 'GET /weather?lat=50.0876&lon=14.4208 HTTP/1.1\r\nHost: example.org\r\n\r\n';
  const quiet = 'GET /weather?city=Prague HTTP/1.1\r\nHost: example.org\r\n\r\n';
  const { records } = await readCapture(t, pcapFile([
    { ts: 1_600_000_000, frame: eth(0x0800, ipv4(C, SV, 17, udp(40000, 8080, request))) },
    { ts: 1_600_000_001, frame: eth(0x0800, ipv4(C, SV, 17, udp(40001, 8080, quiet))) },
  ]));
  const matches = records.filter((r): r is PayloadMatchRecord => r.kind === 'payload_match');
  t.is(matches.length, 1, 'the request without coordinates matches nothing');
  t.like(matches[0], {
    saddr: C, daddr: SV, sport: 40000, dport: 8080, proto: 'udp', rule: 'NETWORK_gps_location_leaked',
    matched: 'lat=50.0876 lon=14.4208',
  });

  const harness = new DetectionHarness([leakDetector]);
  harness.feed(matches[0]!);
  t.deepEqual(harness.evidence.map((e) => [e.attacker.direction, e.attacker.value, e.threat_level, e.confidence]), [
    ['SRC', C, 'low', 0.9],
    ['DST', SV, 'high', 0.9],
  ]);
  t.is(harness.evidence[0]!.description,
    // 8080/udp has no name in services.csv: Slips' template then leaves an empty name before the period.
    'NETWORK gps location leaked to destination address: 10.0.0.2 port: 8080/udp . Leaked location: lat=50.0876 lon=14.4208');
});

test('the pair form of the GPS rule (ll=<lat>,<lon>) and a near miss without decimals', (t) => {
  t.like(findLocationLeak(Buffer.from('GET /maps?ll=-33.8688,151.2093&z=12 HTTP/1.1')), { matched: 'll=-33.8688,151.2093' });
  t.is(findLocationLeak(Buffer.from('GET /maps?ll=33,151&lat=5&lon=6 HTTP/1.1')), undefined);
});
