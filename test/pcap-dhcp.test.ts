// The pcap DHCP analyzer: a DISCOVER / OFFER / REQUEST / ACK exchange over three connections is
// one dhcp.log entry and one dhcp record (equal to the Zeek reader's record of the written
// line), transaction ids reused after the expiry make new entries, non-DHCP datagrams are not
// taken, and a DHCP scan fires from pcap records. (Zeek's oracle traces: pcap-oracle.test.ts.)

import test from 'ava';
import path from 'node:path';
import { dhcpDetector } from '../detections/dhcp.js';
import { CollectingErrorSink } from '../inputs/errors.js';
import { openInput } from '../inputs/open.js';
import { parseDhcp } from '../inputs/pcap/dhcp.js';
import type { ConnRecord, DhcpRecord, FlowRecord } from '../inputs/records.js';
import { DetectionHarness } from './helpers/detectionHarness.js';
import { ipBytes, pcapFile, type Pkt, readCapture, udpFrame, zeekRows } from './helpers/packets.js';
import { tempDir } from './helpers/slips.js';

const T0 = 1_700_000_000;
const SERVER = '192.168.1.1';
const CHADDR = [0x02, 0x00, 0x00, 0x00, 0x00, 0x50];
const DISCOVER = 1, OFFER = 2, REQUEST = 3, ACK = 5;

interface Bootp {
  op: 1 | 2;
  xid: number;
  type: number;
  yiaddr?: string;
  options?: [number, Buffer][];
}

function option(code: number, value: Buffer | string | number[]): [number, Buffer] {
  return [code, Buffer.isBuffer(value) ? value : typeof value === 'string' ? Buffer.from(value) : Buffer.from(value)];
}

function bootp(m: Bootp): Buffer {
  const fixed = Buffer.alloc(240);
  fixed[0] = m.op;
  fixed[1] = 1;
  fixed[2] = 6;
  fixed.writeUInt32BE(m.xid, 4);
  Buffer.from(ipBytes(m.yiaddr ?? '0.0.0.0')).copy(fixed, 16);
  Buffer.from(CHADDR).copy(fixed, 28);
  fixed.writeUInt32BE(0x63825363, 236);
  const opts = [option(53, [m.type]), ...(m.options ?? [])].map(([code, v]) => Buffer.concat([Buffer.from([code, v.length]), v]));
  return Buffer.concat([fixed, ...opts, Buffer.from([255, 0, 0, 0])]);
}

/** A client broadcast (0.0.0.0:68 -> 255.255.255.255:67) or a server unicast to `to`. */
function fromClient(ts: number, m: Bootp): Pkt {
  return { ts, frame: udpFrame('0.0.0.0', '255.255.255.255', 68, 67, bootp(m), true) };
}
function fromServer(ts: number, to: string, m: Bootp): Pkt {
  return { ts, frame: udpFrame(SERVER, to, 67, 68, bootp(m), false) };
}

function exchange(t0: number, xid: number, requested: string): Pkt[] {
  const lease = Buffer.alloc(4);
  lease.writeUInt32BE(3600);
  return [
    fromClient(t0, { op: 1, xid, type: DISCOVER, options: [option(12, 'laptop'), option(61, [1, ...CHADDR])] }),
    fromServer(t0 + 0.01, requested, { op: 2, xid, type: OFFER, yiaddr: requested, options: [option(51, lease), option(15, 'lan\0')] }),
    fromClient(t0 + 1, { op: 1, xid, type: REQUEST, options: [option(50, ipBytes(requested)), option(12, 'laptop')] }),
    fromServer(t0 + 1.01, requested, { op: 2, xid, type: ACK, yiaddr: requested, options: [option(51, lease)] }),
  ];
}

async function zeekReaderRecords(file: string): Promise<FlowRecord[]> {
  const reader = await openInput(file, new CollectingErrorSink());
  const out: FlowRecord[] = [];
  for await (const batch of reader.batches()) out.push(...batch);
  return out;
}

const dhcpOf = (records: FlowRecord[]): DhcpRecord[] => records.filter((r): r is DhcpRecord => r.kind === 'dhcp');

test('DISCOVER / OFFER / REQUEST / ACK is one dhcp entry, equal to the Zeek reader\'s record of it', async (t) => {
  const dir = tempDir(t, 'pcap-dhcp-logs-');
  const { records } = await readCapture(t, pcapFile(exchange(T0, 0xabcd, '192.168.1.50')), dir);
  const conns = records.filter((r): r is ConnRecord => r.kind === 'conn');
  t.deepEqual(conns.map((c) => [c.saddr, c.sport, c.daddr, c.dport, c.appproto]), [
    ['0.0.0.0', 68, '255.255.255.255', 67, 'dhcp'],
    ['192.168.1.50', 68, SERVER, 67, 'dhcp'],
  ]);
  const dhcp = dhcpOf(records);
  t.is(dhcp.length, 1);
  t.like(dhcp[0], {
    ts: T0, uid: conns[0]!.uid, saddr: '192.168.1.50', daddr: SERVER, client_addr: '192.168.1.50', server_addr: SERVER,
    smac: '02:00:00:00:00:50', host_name: 'laptop', requested_addr: '192.168.1.50', assigned_addr: '192.168.1.50', source: 'pcap',
  });
  t.deepEqual(dhcp[0]!.uids, conns.map((c) => c.uid));
  const row = zeekRows(path.join(dir, 'dhcp.log'))[0]!;
  t.like(row, {
    msg_types: 'DISCOVER,OFFER,REQUEST,ACK', lease_time: '3600.000000', domain: 'lan', duration: '1.010000',
    client_fqdn: '-', client_message: '-', server_message: '-',
  });
  const { source: _a, ...fromPcap } = dhcp[0]!;
  const fromLog = (await zeekReaderRecords(path.join(dir, 'dhcp.log'))) as DhcpRecord[];
  t.is(fromLog.length, 1);
  const { source: _b, ...fromZeek } = fromLog[0]!;
  t.deepEqual(fromZeek, fromPcap);
});

test('a transaction id seen again after the entry expired starts a new entry; other UDP is not DHCP', async (t) => {
  const noise: Pkt = { ts: T0 + 1, frame: udpFrame('192.168.1.9', '192.168.1.10', 68, 67, Buffer.alloc(300, 7), true) };
  const { records } = await readCapture(t, pcapFile([
    ...exchange(T0, 7, '192.168.1.50'),
    noise,
    ...exchange(T0 + 40, 7, '192.168.1.51'),
  ]));
  t.deepEqual(dhcpOf(records).map((r) => [r.ts, r.assigned_addr]), [[T0, '192.168.1.50'], [T0 + 40, '192.168.1.51']]);
  const noiseConn = records.find((r): r is ConnRecord => r.kind === 'conn' && r.saddr === '192.168.1.9')!;
  t.is(noiseConn.appproto, '');
});

test('messages Zeek\'s parser rejects are not taken: no end option, option past the end', (t) => {
  const good = bootp({ op: 1, xid: 1, type: DISCOVER });
  t.like(parseDhcp(good), { xid: 1, type: DISCOVER, chaddr: '02:00:00:00:00:50' });
  t.is(parseDhcp(good.subarray(0, good.length - 4)), undefined);
  t.is(parseDhcp(Buffer.concat([good.subarray(0, 240), Buffer.from([12, 50, 0x61])])), undefined);
  t.is(parseDhcp(good.subarray(0, 200)), undefined);
});

test('a client requesting 8 different addresses in a pcap is a DHCP scan', async (t) => {
  const pkts: Pkt[] = [];
  for (let i = 0; i < 8; i++) {
    pkts.push(fromClient(T0 + i * 20, { op: 1, xid: 100 + i, type: REQUEST, options: [option(50, ipBytes(`192.168.1.${100 + i}`))] }));
  }
  const { records } = await readCapture(t, pcapFile(pkts));
  const dhcp = dhcpOf(records);
  t.is(dhcp.length, 8);
  const harness = new DetectionHarness([dhcpDetector]);
  harness.feed(...dhcp);
  t.deepEqual(harness.evidence.map((e) => e.description), [
    'Performing a DHCP scan by requesting 4 different IP addresses. Confidence: 0.8. by Slips',
    'Performing a DHCP scan by requesting 8 different IP addresses. Confidence: 0.8. by Slips',
  ]);
});

