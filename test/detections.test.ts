// The first detections on the shared detector mechanism: port scans, long connection, unknown port,
// private IP, non-HTTP on 80 and non-SSL on 443. For each evidence type, the smallest flow
// sequence that fires it (exact description) and the near misses that must not. Also the
// Python-compatible formatting helpers, IP classification and the shared knowledge files.

import test from 'ava';
import { pyFloat, pyRound } from '../detections/format.js';
import { isIgnoredIp, isPrivateIp, isScanInteresting } from '../detections/ip.js';
import { parseOrgPortsCsv, parseServicesCsv } from '../core/knowledge.js';
import { DetectionHarness, conn, http, ssl } from './helpers/detectionHarness.js';

const T0 = 1_700_000_000;

// ---------------------------------------------------------------- formatting, IPs, knowledge

test('pyFloat prints floats as Python str() does', (t) => {
  t.is(pyFloat(1), '1.0');
  t.is(pyFloat(10 / 10), '1.0');
  t.is(pyFloat(0.5), '0.5');
  t.is(pyFloat(3 / 10), '0.3');
  t.is(pyFloat(0.1 + 0.2), '0.30000000000000004');
  t.is(pyFloat(104.857601), '104.857601');
  t.is(pyFloat(0.0001), '0.0001');
  t.is(pyFloat(0.00001), '1e-05');
  t.is(pyFloat(1.5e16), '1.5e+16');
  t.is(pyFloat(1e16), '1e+16');
  t.is(pyFloat(123456789012345.6), '123456789012345.6');
  t.is(pyFloat(-2), '-2.0');
  t.is(pyFloat(0), '0.0');
});

test('pyRound rounds the exact binary value, ties to even', (t) => {
  t.is(pyRound(2.675, 2), 2.67);
  t.is(pyRound(0.125, 2), 0.12);
  t.is(pyRound(0.375, 2), 0.38);
  t.is(pyRound(7200 / 86400, 2), 0.08);
  t.is(pyRound(1501 / 86400, 2), 0.02);
  t.is(pyRound(2.5, 0), 2);
  t.is(pyRound(1, 2), 1);
  t.is(pyRound(-0.125, 2), -0.12);
});

test('IP classification follows Python ipaddress', (t) => {
  for (const ip of ['10.0.0.1', '172.16.5.4', '192.168.1.1', '127.0.0.1', '169.254.1.1', '0.0.0.0', '255.255.255.255',
    '240.0.0.1', '192.0.2.7', '::1', 'fd00::1', 'fe80::1']) {
    t.true(isPrivateIp(ip), ip);
  }
  for (const ip of ['8.8.8.8', '100.64.0.1', '224.0.0.251', 'ff02::fb', '2001:4860::8888', 'not-an-ip', '']) {
    t.false(isPrivateIp(ip), ip);
  }
  t.true(isScanInteresting('8.8.8.8'));
  t.true(isScanInteresting('192.168.1.1'));
  for (const ip of ['224.0.0.1', '127.0.0.1', '169.254.1.1', '240.0.0.1', '255.255.255.255', 'fe80::1', 'x']) {
    t.false(isScanInteresting(ip), ip);
  }
  t.true(isIgnoredIp('10.0.0.1'));
  t.true(isIgnoredIp('nope'));
  t.false(isIgnoredIp('1.1.1.1'));
});

test('services.csv gives port names; later rows win; malformed rows are skipped', (t) => {
  const knowledge = new DetectionHarness([]).knowledge;
  t.is(knowledge.portName(80, 'tcp'), 'http');
  t.is(knowledge.portName(81, 'tcp'), 'http-alt');
  t.is(knowledge.portName(3389, 'tcp'), 'rdp');
  t.is(knowledge.portName(443, 'udp'), 'quic');
  t.is(knowledge.portName(63, 'tcp'), 'whois++');
  t.is(knowledge.portName(12345, 'tcp'), undefined);
  const parsed = parseServicesCsv('# comment\nairport discovery,udp,192,desc\nssh,22,TCP,x\n');
  t.deepEqual([...parsed], [['22/tcp', 'ssh']]);
});

test('ports_used_by_specific_orgs.csv: IPs, CIDRs and port ranges', (t) => {
  const knowledge = new DetectionHarness([]).knowledge;
  t.true(knowledge.isOrgPort(5243, 'udp', '44.192.201.158'));
  t.true(knowledge.isOrgPort(4070, 'tcp', '78.31.9.200'));
  t.false(knowledge.isOrgPort(4070, 'tcp', '1.1.1.1'));
  t.true(knowledge.isOrgPort(3480, 'udp', '52.112.0.1'));
  t.false(knowledge.isOrgPort(3482, 'udp', '52.112.0.1'));
  // Apple rows have no IP: the port alone does not make daddr Apple's.
  t.false(knowledge.isOrgPort(65432, 'tcp', '17.1.1.1'));
  const parsed = parseOrgPortsCsv('"Organization","IP/IP range","port","protocol"\nX,"",478–3497,udp\nY,1.2.3.4,10-11,TCP\n');
  t.deepEqual([...parsed.keys()], ['10/tcp', '11/tcp']);
});

test('learned facts: gateway, local network, FTP data ports', (t) => {
  const knowledge = new DetectionHarness([]).knowledge;
  t.is(knowledge.gatewayIp(), undefined);
  knowledge.setGatewayIp('192.168.1.1');
  knowledge.setLocalNetwork('192.168.0.0/16');
  knowledge.addFtpDataPort(40001);
  t.is(knowledge.gatewayIp(), '192.168.1.1');
  t.is(knowledge.localNetwork(), '192.168.0.0/16');
  t.true(knowledge.isFtpDataPort(40001));
  t.false(knowledge.isFtpDataPort(40002));
});

// ---------------------------------------------------------------- port scans

/** Unanswered probes from 10.0.2.112 to port dport of hosts 1.1.0.first .. 1.1.0.(first+count-1). */
function horizontalProbes(first: number, count: number, fields: Parameters<typeof conn>[0] = {}) {
  return Array.from({ length: count }, (_, i) =>
    conn({ ts: T0 + first + i, uid: `H${first + i}`, saddr: '10.0.2.112', daddr: `1.1.${(first + i) >> 8}.${(first + i) & 255}`,
      dport: 80, state: 'S0', history: 'S', spkts: 1, dpkts: 0, sbytes: 0, dbytes: 0, ...fields }));
}

test('HORIZONTAL_PORT_SCAN: 9 hosts -> nothing, 10 -> one, with exact text', (t) => {
  const harness = new DetectionHarness();
  harness.feed(...horizontalProbes(0, 9));
  t.is(harness.ofType('HORIZONTAL_PORT_SCAN').length, 0);
  harness.feed(...horizontalProbes(9, 1));
  const [scan, ...rest] = harness.ofType('HORIZONTAL_PORT_SCAN');
  t.is(rest.length, 0);
  t.is(scan?.description,
    'Horizontal port scan to port http 80/tcp. From 10.0.2.112 to 10 unique destination IPs. ' +
    'Total packets sent: 10. Confidence: 1.0. by Slips');
  t.is(scan?.threat_level, 'high');
  t.is(scan?.confidence, 1);
  t.is(scan?.timestamp, T0);
  t.deepEqual(scan?.attacker, { direction: 'SRC', ioc_type: 'IP', value: '10.0.2.112' });
  t.is(scan?.proto, 'tcp');
  t.is(scan?.dst_port, 80);
  t.is(scan?.uid.length, 10);
});

test('HORIZONTAL_PORT_SCAN: 99 hosts -> still one, 100 -> second report', (t) => {
  const harness = new DetectionHarness();
  harness.feed(...horizontalProbes(0, 99));
  t.is(harness.ofType('HORIZONTAL_PORT_SCAN').length, 1);
  harness.feed(...horizontalProbes(99, 1));
  const scans = harness.ofType('HORIZONTAL_PORT_SCAN');
  t.is(scans.length, 2);
  t.is(scans[1]?.description,
    'Horizontal port scan to port http 80/tcp. From 10.0.2.112 to 100 unique destination IPs. ' +
    'Total packets sent: 100. Confidence: 1. by Slips');
  t.is(scans[1]?.uid.length, 100);
  t.is(scans[1]?.timestamp, T0);
});

test('HORIZONTAL_PORT_SCAN: unnamed port, udp, low packet confidence', (t) => {
  const harness = new DetectionHarness();
  harness.feed(...horizontalProbes(0, 10, { dport: 12345, proto: 'udp', spkts: 0, dpkts: 0 }));
  t.is(harness.ofType('HORIZONTAL_PORT_SCAN')[0]?.description,
    'Horizontal port scan to port  12345/udp. From 10.0.2.112 to 10 unique destination IPs. ' +
    'Total packets sent: 0. Confidence: 0.3. by Slips');
});

test('HORIZONTAL_PORT_SCAN ignores established, flipped, multicast and icmp flows', (t) => {
  const harness = new DetectionHarness();
  harness.feed(...horizontalProbes(0, 10, { state: 'SF' }));
  harness.feed(...horizontalProbes(20, 10, { history: '^dA' }));
  harness.feed(...horizontalProbes(40, 10, { proto: 'icmp' }));
  harness.feed(...Array.from({ length: 10 }, (_, i) =>
    conn({ ts: T0 + i, saddr: '10.0.2.112', daddr: `224.0.0.${i + 1}`, state: 'S0', history: 'S' })));
  t.is(harness.ofType('HORIZONTAL_PORT_SCAN').length, 0);
});

/** Unanswered probes from 192.168.1.9 to 45.33.32.156 on ports 10000+first .. */
function verticalProbes(first: number, count: number, fields: Parameters<typeof conn>[0] = {}) {
  return Array.from({ length: count }, (_, i) =>
    conn({ ts: T0 + first + i, uid: `V${first + i}`, saddr: '192.168.1.9', daddr: '45.33.32.156', dport: 10000 + first + i,
      state: 'REJ', history: 'Sr', spkts: 1, dpkts: 1, sbytes: 0, dbytes: 0, ...fields }));
}

test('VERTICAL_PORT_SCAN: 9 ports -> nothing, 10 -> one; pkts count both directions (fix #24)', (t) => {
  const harness = new DetectionHarness();
  harness.feed(...verticalProbes(0, 9));
  t.is(harness.ofType('VERTICAL_PORT_SCAN').length, 0);
  harness.feed(...verticalProbes(9, 1));
  const [scan, ...rest] = harness.ofType('VERTICAL_PORT_SCAN');
  t.is(rest.length, 0);
  t.is(scan?.description,
    'new vertical port scan to IP 45.33.32.156 from 192.168.1.9. Total 10 TCP ports were scanned. ' +
    'Total packets sent to all ports: 20. Confidence: 1. by Slips');
  t.deepEqual(scan?.victim, { direction: 'DST', ioc_type: 'IP', value: '45.33.32.156' });
  t.is(scan?.threat_level, 'high');
  t.is(scan?.timestamp, T0);
  t.is(scan?.uid.length, 10);
});

test('VERTICAL_PORT_SCAN: 99 ports -> one, 100 -> two; confidence from few packets', (t) => {
  const harness = new DetectionHarness();
  harness.feed(...verticalProbes(0, 99));
  t.is(harness.ofType('VERTICAL_PORT_SCAN').length, 1);
  harness.feed(...verticalProbes(99, 1));
  t.is(harness.ofType('VERTICAL_PORT_SCAN').length, 2);

  const sparse = new DetectionHarness();
  sparse.feed(...verticalProbes(0, 10, { spkts: 0, dpkts: 0 }).map((flow, i) => (i < 5 ? { ...flow, spkts: 1 } : flow)));
  const [scan] = sparse.ofType('VERTICAL_PORT_SCAN');
  t.true(scan?.description.endsWith('Total packets sent to all ports: 5. Confidence: 0.5. by Slips'));
  t.is(scan?.confidence, 0.5);
});

test('a port scan marks the scanner: its later unknown ports are not reported', (t) => {
  const harness = new DetectionHarness();
  harness.feed(...verticalProbes(0, 10));
  t.is(harness.ofType('UNKNOWN_PORT').length, 9);
  harness.feed(conn({ ts: T0 + 20, saddr: '192.168.1.9', daddr: '45.33.32.157', dport: 23456 }));
  t.is(harness.ofType('UNKNOWN_PORT').length, 9);
});

// ---------------------------------------------------------------- long connection

test('LONG_CONNECTION: 1500 s -> nothing, 1501 s -> LOW with rounded confidence, once per daddr', (t) => {
  const harness = new DetectionHarness();
  harness.feed(conn({ dur: 1500, dport: 443, appproto: 'ssl' }));
  t.is(harness.ofType('LONG_CONNECTION').length, 0);
  harness.feed(conn({ ts: T0 + 1, dur: 1501, dport: 443, appproto: 'ssl' }));
  harness.feed(conn({ ts: T0 + 2, dur: 7200, dport: 443, appproto: 'ssl' }));
  const [long, ...rest] = harness.ofType('LONG_CONNECTION');
  t.is(rest.length, 0);
  t.is(long?.description, 'Long Connection. Connection from 10.0.0.5 to destination address: 1.2.3.4 took 25 mins');
  t.is(long?.threat_level, 'low');
  t.is(long?.confidence, 0.02);
  harness.feed(conn({ ts: T0 + 3, daddr: '5.6.7.8', dur: 7200, dport: 443, appproto: 'ssl' }));
  t.is(harness.ofType('LONG_CONNECTION')[1]?.confidence, 0.08);
  harness.feed(conn({ ts: T0 + 4, daddr: '239.255.255.250', dur: 9000, dport: 1900, proto: 'udp' }));
  t.is(harness.ofType('LONG_CONNECTION').length, 2);
});

// ---------------------------------------------------------------- unknown port

test('UNKNOWN_PORT: established -> HIGH, not established -> MEDIUM, once per daddr/dport/proto', (t) => {
  const harness = new DetectionHarness();
  harness.feed(conn({ saddr: '10.0.0.5', daddr: '10.0.0.1', dport: 12345 }));
  harness.feed(conn({ ts: T0 + 1, saddr: '10.0.0.5', daddr: '10.0.0.1', dport: 12345 }));
  harness.feed(conn({ ts: T0 + 2, saddr: '10.0.0.5', daddr: '10.0.0.2', dport: 12345, state: 'S0' }));
  const [established, notEstablished, ...rest] = harness.ofType('UNKNOWN_PORT');
  t.is(rest.length, 0);
  t.is(established?.description, 'Connection to unknown destination port 12345/TCP destination IP 10.0.0.1.');
  t.is(established?.threat_level, 'high');
  t.is(established?.confidence, 1);
  t.is(notEstablished?.description, 'Connection to unknown destination port 12345/TCP destination IP 10.0.0.2.');
  t.is(notEstablished?.threat_level, 'medium');
});

test('UNKNOWN_PORT: known port, org port, icmp, port 0 and FTP data ports are not reported', (t) => {
  const harness = new DetectionHarness();
  harness.knowledge.addFtpDataPort(40001);
  harness.feed(
    conn({ dport: 22 }),
    conn({ dport: 5243, proto: 'udp', daddr: '44.192.201.158' }),
    conn({ dport: 2048, proto: 'icmp', state: 'OTH' }),
    conn({ dport: 0 }),
    conn({ dport: 40001 }),
  );
  t.is(harness.ofType('UNKNOWN_PORT').length, 0);
  harness.feed(conn({ dport: 5243, proto: 'udp', daddr: '44.192.201.159' }));
  t.is(harness.ofType('UNKNOWN_PORT').length, 1);
});

test('UNKNOWN_PORT: high udp ports to a 5th host count as P2P, per profile (fix #18)', (t) => {
  const harness = new DetectionHarness();
  const p2p = (saddr: string, host: number, ts: number) =>
    conn({ ts, saddr, daddr: `5.5.5.${host}`, proto: 'udp', dport: 40000, state: 'SF' });
  harness.feed(...[1, 2, 3, 4, 5, 6].map((host) => p2p('10.0.0.5', host, T0 + host)));
  t.deepEqual(harness.ofType('UNKNOWN_PORT').map((e) => e.description), [1, 2, 3, 4].map((host) =>
    `Connection to unknown destination port 40000/UDP destination IP 5.5.5.${host}.`));
  harness.feed(p2p('10.0.0.6', 1, T0 + 10));
  t.is(harness.ofType('UNKNOWN_PORT').length, 5);
  harness.feed(conn({ ts: T0 + 11, daddr: '5.5.5.9', proto: 'udp', dport: 30000, state: 'SF' }));
  t.is(harness.ofType('UNKNOWN_PORT').length, 6);
});

// ---------------------------------------------------------------- connection to private IP

test('CONNECTION_TO_PRIVATE_IP: port, ICMP and ARP variants, once per daddr/dport', (t) => {
  const harness = new DetectionHarness();
  const local = { saddr: '192.168.1.5', daddr: '192.168.1.100' };
  harness.feed(
    conn({ ...local, dport: 80 }),
    conn({ ...local, dport: 80, ts: T0 + 1 }),
    conn({ ...local, proto: 'icmp', dport: 0, sport: 8, state: 'OTH' }),
    conn({ ...local, proto: 'arp', dport: 1, source: 'argus', state: 'INT' }),
  );
  t.deepEqual(harness.ofType('CONNECTION_TO_PRIVATE_IP').map((e) => e.description), [
    'Connecting to private IP: 192.168.1.100 on destination port: 80',
    'Connecting to private IP: 192.168.1.100 protocol: ICMP',
    'Connecting to private IP: 192.168.1.100 ',
  ]);
  const [first] = harness.ofType('CONNECTION_TO_PRIVATE_IP');
  t.is(first?.threat_level, 'info');
  t.is(first?.confidence, 1);
});

test('CONNECTION_TO_PRIVATE_IP: not for public peers nor DNS/DHCP to the gateway', (t) => {
  const harness = new DetectionHarness();
  harness.knowledge.setGatewayIp('192.168.1.1');
  harness.feed(
    conn({ saddr: '192.168.1.5', daddr: '8.8.8.8', dport: 53, proto: 'udp' }),
    conn({ saddr: '8.8.8.8', daddr: '192.168.1.5', dport: 80 }),
    conn({ saddr: '192.168.1.5', daddr: '192.168.1.1', dport: 53, proto: 'udp' }),
    conn({ saddr: '192.168.1.5', daddr: '192.168.1.1', dport: 67, proto: 'udp' }),
  );
  t.is(harness.ofType('CONNECTION_TO_PRIVATE_IP').length, 0);
  harness.feed(conn({ saddr: '192.168.1.5', daddr: '192.168.1.2', dport: 53, proto: 'udp' }));
  t.is(harness.ofType('CONNECTION_TO_PRIVATE_IP')[0]?.description,
    'Connecting to private IP: 192.168.1.2 on destination port: 53');
});

// ---------------------------------------------------------------- non-HTTP port 80, non-SSL port 443

test('NON_HTTP_PORT_80: an HTTP connection within 300 s before clears the candidate', (t) => {
  const harness = new DetectionHarness();
  harness.feed(conn({ ts: T0, appproto: 'http' }), conn({ ts: T0 + 300, uid: 'C1' }));
  harness.finish();
  t.is(harness.ofType('NON_HTTP_PORT_80_CONNECTION').length, 0);
});

test('NON_HTTP_PORT_80: an HTTP connection or http.log record within 300 s after clears it', (t) => {
  const viaConn = new DetectionHarness();
  viaConn.feed(conn({ ts: T0 }), conn({ ts: T0 + 200, uid: 'C1', appproto: 'http' }));
  viaConn.finish();
  t.is(viaConn.ofType('NON_HTTP_PORT_80_CONNECTION').length, 0);

  const viaLog = new DetectionHarness();
  viaLog.feed(conn({ ts: T0 }), http({ ts: T0 + 250, uid: 'C9' }));
  viaLog.finish();
  t.is(viaLog.ofType('NON_HTTP_PORT_80_CONNECTION').length, 0);

  const sameUid = new DetectionHarness();
  sameUid.feed(conn({ ts: T0, uid: 'CX' }), http({ ts: T0 + 290, uid: 'CX' }));
  sameUid.finish();
  t.is(sameUid.ofType('NON_HTTP_PORT_80_CONNECTION').length, 0);
});

test('NON_HTTP_PORT_80: unconfirmed -> pair once network time passes ts + 300', (t) => {
  const harness = new DetectionHarness();
  harness.feed(conn({ ts: T0 - 400, appproto: 'http' }), conn({ ts: T0, uid: 'C1' }), conn({ ts: T0 + 10, uid: 'C2' }));
  harness.feed(conn({ ts: T0 + 300, saddr: '10.9.9.9', daddr: '9.9.9.9', dport: 53, proto: 'udp' }));
  t.is(harness.ofType('NON_HTTP_PORT_80_CONNECTION').length, 0);
  harness.feed(conn({ ts: T0 + 301, saddr: '10.9.9.9', daddr: '9.9.9.9', dport: 53, proto: 'udp' }));
  const [src, dst, ...rest] = harness.ofType('NON_HTTP_PORT_80_CONNECTION');
  t.is(rest.length, 0);
  t.is(src?.description, 'non-HTTP established connection to port 80. destination IP: 1.2.3.4');
  t.is(src?.threat_level, 'low');
  t.is(src?.confidence, 0.8);
  t.deepEqual(src?.attacker, { direction: 'SRC', ioc_type: 'IP', value: '10.0.0.5' });
  t.deepEqual(src?.uid, ['C1']);
  t.is(src?.timestamp, T0);
  t.is(dst?.description, 'non-HTTP established connection to port 80. from IP: 10.0.0.5');
  t.is(dst?.threat_level, 'medium');
  t.is(dst?.profile_ip, '1.2.3.4');
  t.deepEqual(dst?.attacker, { direction: 'DST', ioc_type: 'IP', value: '1.2.3.4' });
  t.deepEqual(dst?.victim, { direction: 'SRC', ioc_type: 'IP', value: '10.0.0.5' });
  // Same pair, same time window: already reported.
  harness.feed(conn({ ts: T0 + 1000, uid: 'C3' }));
  harness.finish();
  t.is(harness.ofType('NON_HTTP_PORT_80_CONNECTION').length, 2);
});

test('NON_HTTP_PORT_80: unconfirmed at end of input -> pair at finish; non-candidates never', (t) => {
  const harness = new DetectionHarness();
  harness.feed(
    conn({ ts: T0, uid: 'C1' }),
    conn({ ts: T0, daddr: '2.2.2.2', state: 'S0' }),
    conn({ ts: T0, daddr: '3.3.3.3', sbytes: 0, dbytes: 0 }),
    conn({ ts: T0, daddr: '4.4.4.4', proto: 'udp' }),
    conn({ ts: T0, daddr: '6.6.6.6', appproto: 'http,websocket' }),
  );
  t.is(harness.ofType('NON_HTTP_PORT_80_CONNECTION').length, 0);
  harness.finish();
  t.deepEqual(harness.ofType('NON_HTTP_PORT_80_CONNECTION').map((e) => e.description), [
    'non-HTTP established connection to port 80. destination IP: 1.2.3.4',
    'non-HTTP established connection to port 80. from IP: 10.0.0.5',
  ]);
});

test('NON_SSL_PORT_443: SSL before or ssl.log after clears; otherwise one MEDIUM evidence', (t) => {
  const before = new DetectionHarness();
  before.feed(conn({ ts: T0, dport: 443, appproto: 'SSL' }), conn({ ts: T0 + 100, dport: 443, uid: 'C1' }));
  before.finish();
  t.is(before.ofType('NON_SSL_PORT_443_CONNECTION').length, 0);

  const after = new DetectionHarness();
  after.feed(conn({ ts: T0, dport: 443 }), ssl({ ts: T0 + 300, uid: 'C7' }));
  after.finish();
  t.is(after.ofType('NON_SSL_PORT_443_CONNECTION').length, 0);

  const unconfirmed = new DetectionHarness();
  unconfirmed.feed(conn({ ts: T0, dport: 443 }), ssl({ ts: T0 + 301, uid: 'C7' }));
  t.is(unconfirmed.ofType('NON_SSL_PORT_443_CONNECTION').length, 1);
  unconfirmed.feed(conn({ ts: T0 + 500, dport: 443, uid: 'C8' }));
  unconfirmed.finish();
  const [evidence, ...rest] = unconfirmed.ofType('NON_SSL_PORT_443_CONNECTION');
  t.is(rest.length, 0);
  t.is(evidence?.description, 'non-SSL established connection to port 443. destination IP: 1.2.3.4');
  t.is(evidence?.threat_level, 'medium');
  t.is(evidence?.confidence, 0.8);
  t.deepEqual(evidence?.victim, { direction: 'DST', ioc_type: 'IP', value: '1.2.3.4' });
  t.deepEqual(evidence?.uid, ['C0']);
});

test('pending non-HTTP candidates are bounded: beyond 10,000 the oldest is dropped', (t) => {
  const harness = new DetectionHarness();
  harness.feed(...Array.from({ length: 10_001 }, (_, i) =>
    conn({ ts: T0, uid: `P${i}`, daddr: `7.7.${i >> 8}.${i & 255}` })));
  harness.finish();
  const reported = harness.ofType('NON_HTTP_PORT_80_CONNECTION');
  t.is(reported.length, 20_000);
  t.false(reported.some((evidence) => evidence.uid[0] === 'P0'));
});
