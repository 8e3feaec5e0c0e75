// Tunnel decapsulation in the pcap input: GRE (IPv4, Ethernet, ERSPAN II, PPTP), IP-in-IP,
// VXLAN, GTPv1-U and Teredo on hand-built packets (inner connections with tunnel_parents,
// tunnel.log and its records, services of the outer connections, give-up on bad tunnels), and
// Slips' GRE evidence through ./slips.sh on Zeek's gre-sample trace. (Zeek's oracle traces:
// pcap-oracle.test.ts.)

import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ConnRecord, FlowRecord, TunnelRecord } from '../inputs/records.js';
import { A, eth, ipv4, ipv6, type Pkt, pcapFile, readCapture, S, tcp, udp, zeekRows } from './helpers/packets.js';
import { ZEEK_TRACES } from './helpers/shared.js';
import { runSlips } from './helpers/slips.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pcap-tunnel-'));
test.after.always(() => fs.rmSync(tmp, { recursive: true, force: true }));

function logDir(name: string): string {
  return path.join(tmp, name);
}

const conns = (records: FlowRecord[]): ConnRecord[] => records.filter((r): r is ConnRecord => r.kind === 'conn');
const tunnels = (records: FlowRecord[]): TunnelRecord[] => records.filter((r): r is TunnelRecord => r.kind === 'tunnel');

/** A TCP SYN then SYN-ACK between 10.9.0.1:40000 and 10.9.0.2:80, as IPv4 packets. */
function innerHandshake(): Buffer[] {
  return [
    ipv4('10.9.0.1', '10.9.0.2', 6, tcp(40000, 80, 1000, 0, S)),
    ipv4('10.9.0.2', '10.9.0.1', 6, tcp(80, 40000, 5000, 1001, S | A)),
  ];
}

function gre(type: number, payload: Buffer, flags = 0, extra: Buffer = Buffer.alloc(0), version = 0): Buffer {
  return Buffer.concat([Buffer.from([flags, version, type >> 8, type & 0xff]), extra, payload]);
}

test('GRE-carried IPv4, Ethernet and ERSPAN II packets become inner connections of one GRE tunnel', async (t) => {
  const [syn, synAck] = innerHandshake();
  const key = Buffer.from([0, 0, 0, 7]);
  const frames = [
    // GRE with a key, plain IPv4 inside.
    eth(0x0800, ipv4('192.0.2.1', '198.51.100.1', 47, gre(0x0800, syn!, 0x20, key))),
    // The reply through the same tunnel, the other way, as transparent Ethernet bridging.
    eth(0x0800, ipv4('198.51.100.1', '192.0.2.1', 47, gre(0x6558, eth(0x0800, synAck!)))),
    // ERSPAN type II (sequence number + 8-byte header) with an IPv4 UDP packet inside.
    eth(0x0800, ipv4('192.0.2.1', '198.51.100.1', 47, gre(0x88be, eth(0x0800, ipv4('10.9.0.3', '10.9.0.4', 17, udp(5000, 6000, 'x'))), 0x10,
      Buffer.concat([Buffer.from([0, 0, 0, 1]), Buffer.alloc(8)])))),
  ];
  const pkts: Pkt[] = frames.map((frame, i) => ({ ts: 1000 + i * 0.1, frame }));
  const dir = logDir('gre');
  const run = await readCapture(t, pcapFile(pkts), dir);
  const found = tunnels(run.records);
  t.is(found.length, 1);
  t.like(found[0], { saddr: '192.0.2.1', daddr: '198.51.100.1', sport: 0, dport: 0, tunnel_type: 'Tunnel::GRE', action: 'Tunnel::DISCOVER', source: 'pcap' });
  const inner = conns(run.records);
  t.deepEqual(inner.map((c) => `${c.saddr}:${c.sport}>${c.daddr}:${c.dport}/${c.proto}`).sort(),
    ['10.9.0.1:40000>10.9.0.2:80/tcp', '10.9.0.3:5000>10.9.0.4:6000/udp']);
  t.is(inner.find((c) => c.proto === 'tcp')!.history, 'Sh');
  // The GRE packets themselves make no connection (Zeek logs none for IP tunnels).
  const rows = zeekRows(path.join(dir, 'conn.log'));
  t.is(rows.length, 2);
  for (const row of rows) t.is(row['tunnel_parents'], found[0]!.uid);
  t.deepEqual(zeekRows(path.join(dir, 'tunnel.log')).map((r) => [r['uid'], r['tunnel_type'], r['action']]),
    [[found[0]!.uid, 'Tunnel::GRE', 'Tunnel::DISCOVER']]);
});

test('IP-in-IP and PPTP (GRE version 1 carrying PPP) are opened; GRE with routing or unknown payload is not', async (t) => {
  const [syn] = innerHandshake();
  const ppp = Buffer.concat([Buffer.from([0xff, 0x03, 0x00, 0x21]), syn!]);
  // Payload length, call id, sequence number.
  const pptpHeader = Buffer.from([ppp.length >> 8, ppp.length & 0xff, 0, 1, 0, 0, 0, 1]);
  const pkts: Pkt[] = [
    { ts: 10, frame: eth(0x0800, ipv4('192.0.2.7', '192.0.2.8', 4, ipv4('10.1.1.1', '10.1.1.2', 17, udp(1, 2, 'a')))) },
    { ts: 11, frame: eth(0x0800, ipv4('192.0.2.9', '192.0.2.10', 47, gre(0x880b, ppp, 0x30, pptpHeader, 1))) },
    { ts: 12, frame: eth(0x0800, ipv4('192.0.2.11', '192.0.2.12', 47, gre(0x0800, syn!, 0x40))) },
    { ts: 13, frame: eth(0x0800, ipv4('192.0.2.11', '192.0.2.12', 47, gre(0x1234, syn!))) },
  ];
  const run = await readCapture(t, pcapFile(pkts));
  t.deepEqual(tunnels(run.records).map((r) => `${r.saddr}>${r.daddr} ${r.tunnel_type}`),
    ['192.0.2.7>192.0.2.8 Tunnel::IP', '192.0.2.9>192.0.2.10 Tunnel::GRE']);
  t.deepEqual(conns(run.records).map((c) => `${c.saddr}>${c.daddr}/${c.proto}`), ['10.1.1.1>10.1.1.2/udp', '10.9.0.1>10.9.0.2/tcp']);
});

function vxlan(inner: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x08, 0, 0, 0, 0, 0, 123, 0]), inner]);
}

function gtpU(inner: Buffer): Buffer {
  const h = Buffer.from([0x30, 0xff, 0, 0, 0, 0, 0, 1]);
  h.writeUInt16BE(inner.length, 2);
  return Buffer.concat([h, inner]);
}

test('VXLAN and GTPv1-U connections get their service, the inner connections their parents, tunnel.log DISCOVER and CLOSE', async (t) => {
  const [syn, synAck] = innerHandshake();
  const pkts: Pkt[] = [
    { ts: 100, frame: eth(0x0800, ipv4('192.0.2.1', '192.0.2.2', 17, udp(40001, 4789, vxlan(eth(0x0800, syn!))))) },
    { ts: 100.1, frame: eth(0x0800, ipv4('192.0.2.2', '192.0.2.1', 17, udp(40002, 4789, vxlan(eth(0x0800, synAck!))))) },
    { ts: 101, frame: eth(0x0800, ipv4('192.0.2.5', '192.0.2.6', 17, udp(2152, 2152, gtpU(ipv4('10.8.0.1', '10.8.0.2', 17, udp(7, 8, 'gtp')))))) },
  ];
  const dir = logDir('udp-tunnels');
  const run = await readCapture(t, pcapFile(pkts), dir);
  const rows = zeekRows(path.join(dir, 'conn.log'));
  const row = (orig: string, origP: string): Record<string, string> => rows.find((r) => r['id.orig_h'] === orig && r['id.orig_p'] === origP)!;
  t.is(row('192.0.2.1', '40001')['service'], 'vxlan');
  t.is(row('192.0.2.2', '40002')['service'], 'vxlan');
  t.is(row('192.0.2.5', '2152')['service'], 'gtpv1');
  const outerUids = [row('192.0.2.1', '40001')['uid'], row('192.0.2.2', '40002')['uid']].sort();
  t.deepEqual(row('10.9.0.1', '40000')['tunnel_parents']!.split(',').sort(), outerUids);
  t.is(row('10.9.0.1', '40000')['history'], 'Sh');
  t.is(row('10.8.0.1', '7')['tunnel_parents'], row('192.0.2.5', '2152')['uid']);
  const actions = tunnels(run.records).map((r) => `${r.tunnel_type} ${r.action} ${r.saddr}:${r.sport}`);
  t.deepEqual(actions.sort(), [
    'Tunnel::GTPv1 Tunnel::CLOSE 192.0.2.5:2152', 'Tunnel::GTPv1 Tunnel::DISCOVER 192.0.2.5:2152',
    'Tunnel::VXLAN Tunnel::CLOSE 192.0.2.1:40001', 'Tunnel::VXLAN Tunnel::CLOSE 192.0.2.2:40002',
    'Tunnel::VXLAN Tunnel::DISCOVER 192.0.2.1:40001', 'Tunnel::VXLAN Tunnel::DISCOVER 192.0.2.2:40002',
  ]);
});

test('Teredo is found by content on any port; the service waits for both directions; bad tunnels are given up', async (t) => {
  const inner = ipv6(1, 2, 17, udp(1000, 2000, 'hello'));
  const reply = ipv6(2, 1, 17, udp(2000, 1000, 'world'));
  // An origin indication header before the IPv6 packet.
  const origin = Buffer.from([0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  const pkts: Pkt[] = [
    { ts: 200, frame: eth(0x0800, ipv4('192.0.2.20', '192.0.2.21', 17, udp(3797, 32900, Buffer.concat([origin, inner])))) },
    { ts: 200.1, frame: eth(0x0800, ipv4('192.0.2.21', '192.0.2.20', 17, udp(32900, 3797, reply))) },
    // One direction only on the Teredo port: decapsulated, but not confirmed.
    { ts: 201, frame: eth(0x0800, ipv4('192.0.2.30', '192.0.2.31', 17, udp(5000, 3544, ipv6(3, 4, 17, udp(1, 2, 'x'))))) },
    // GTP port with garbage, then a valid G-PDU on the same connection: given up at the first.
    { ts: 202, frame: eth(0x0800, ipv4('192.0.2.40', '192.0.2.41', 17, udp(9999, 2152, 'not gtp at all'))) },
    { ts: 202.1, frame: eth(0x0800, ipv4('192.0.2.40', '192.0.2.41', 17, udp(9999, 2152, gtpU(ipv4('10.7.0.1', '10.7.0.2', 17, udp(7, 8, 'late')))))) },
    // A GTP G-PDU whose inner packet is shorter than the datagram (Zeek: payload length violation).
    { ts: 203, frame: eth(0x0800, ipv4('192.0.2.50', '192.0.2.51', 17, udp(9998, 2152, Buffer.concat([gtpU(ipv4('10.6.0.1', '10.6.0.2', 17, udp(7, 8, 'x'))).subarray(0, 8), ipv4('10.6.0.1', '10.6.0.2', 17, udp(7, 8, 'x')).subarray(0, 20)])))) },
  ];
  const dir = logDir('teredo');
  const run = await readCapture(t, pcapFile(pkts), dir);
  const rows = zeekRows(path.join(dir, 'conn.log'));
  const byOrig = (h: string): Record<string, string> | undefined => rows.find((r) => r['id.orig_h'] === h);
  t.is(byOrig('192.0.2.20')!['service'], 'teredo');
  t.is(byOrig('192.0.2.30')!['service'], '-');
  t.is(byOrig('192.0.2.40')!['service'], '-');
  t.is(byOrig('192.0.2.50')!['service'], '-');
  t.is(byOrig('2001:db8::1')!['tunnel_parents'], byOrig('192.0.2.20')!['uid']);
  t.truthy(byOrig('2001:db8::3'));
  t.is(byOrig('10.7.0.1'), undefined);
  t.is(byOrig('10.6.0.1'), undefined);
  t.is(run.sink.problems.length, 0);
});

// ---------------------------------------------------------------------------------------------
// Through ./slips.sh on an oracle trace

(fs.existsSync(ZEEK_TRACES) ? test : test.skip)('a GRE tunnel in a pcap raises Slips\' GRE evidence through ./slips.sh', async (t) => {
  const out = logDir('slips-gre');
  const run = await runSlips(t, ['-f', path.join(ZEEK_TRACES, 'gre-sample', 'gre-sample.pcap'), '-o', out], { cwd: tmp, timeoutMs: 60_000 });
  t.is(run.code, 0, run.stderr);
  const alerts = fs.readFileSync(path.join(out, 'alerts', 'alerts.log'), 'utf8');
  t.regex(alerts, /Detected GRE scan from 172\.27\.1\.66 to 66\.59\.109\.137 tunnel action: Tunnel::DISCOVER/);
  t.true(fs.readFileSync(path.join(out, 'zeek_files', 'tunnel.log'), 'utf8').includes('Tunnel::GRE\tTunnel::DISCOVER'));
});
