// Flow anomaly, DNS, notice, DHCP, SMTP, tunnel and software detections. For each evidence type:
// the smallest record sequence that fires it (exact description, threat level, confidence,
// attacker/victim) and the near miss that must not (threshold − 1, excluded cases).

import test from 'ava';
import { shannonEntropy } from '../detections/dns.js';
import { icmpScanConfidence } from '../detections/icmpScan.js';
import type {
  ConnRecord, DhcpRecord, DnsRecord, NoticeRecord, SmtpRecord, SoftwareRecord, TunnelRecord,
} from '../inputs/records.js';
import { DetectionHarness, conn, ssl } from './helpers/detectionHarness.js';

const T0 = 1_700_000_000;
const BASE = { uid: 'D0', saddr: '10.0.0.5', daddr: '8.8.8.8', interface: 'default', source: 'zeek' } as const;

function dns(fields: Partial<DnsRecord> = {}): DnsRecord {
  return {
    kind: 'dns', ts: T0, ...BASE, sport: 53000, dport: 53, proto: 'udp', query: 'example.com', qclass_name: 'C_INTERNET',
    qtype_name: 'A', rcode_name: 'NOERROR', answers: ['93.184.216.34'], TTLs: [300],
    ...fields,
  };
}

function smtp(fields: Partial<SmtpRecord> = {}): SmtpRecord {
  return {
    kind: 'smtp', ts: T0, ...BASE, daddr: '80.75.42.226', sport: 63246, dport: 25, helo: '[0.0.0.0]', mailfrom: '',
    rcptto: [], last_reply: '554 5.7.1 bad smtp-auth user',
    ...fields,
  };
}

function notice(fields: Partial<NoticeRecord> = {}): NoticeRecord {
  return {
    kind: 'notice', ts: T0, ...BASE, uid: '', saddr: '192.168.0.1', daddr: '192.168.0.1', sport: 0, dport: 0,
    note: 'Scan::Port_Scan', msg: '', sub: '', scanning_ip: '192.168.0.1', scanned_port: '', dst: '',
    ...fields,
  };
}

function dhcp(fields: Partial<DhcpRecord> = {}): DhcpRecord {
  return {
    kind: 'dhcp', ts: T0, ...BASE, saddr: '192.168.1.50', daddr: '192.168.1.1', uids: ['CD0'], client_addr: '192.168.1.50',
    server_addr: '192.168.1.1', smac: 'aa:bb:cc:dd:ee:ff', host_name: '', requested_addr: '192.168.1.100',
    assigned_addr: '',
    ...fields,
  };
}

function tunnel(fields: Partial<TunnelRecord> = {}): TunnelRecord {
  return {
    kind: 'tunnel', ts: T0, ...BASE, saddr: '10.0.2.15', daddr: '115.112.11.30', sport: 0, dport: 0,
    tunnel_type: 'Tunnel::GRE', action: 'Tunnel::EXPIRE',
    ...fields,
  };
}

function software(fields: Partial<SoftwareRecord> = {}): SoftwareRecord {
  return {
    kind: 'software', ts: T0, ...BASE, uid: '', saddr: '192.168.1.247', daddr: '', sport: 0, software: 'SSH::CLIENT',
    software_name: 'OpenSSH', version_major: '8', version_minor: '1', unparsed_version: 'OpenSSH_8.1',
    http_browser: false,
    ...fields,
  };
}

/** A record far in the future of T0 that only moves network time (no detector reacts to it). */
function tick(ts: number) {
  return conn({ ts, uid: 'TICK', saddr: '10.99.99.99', daddr: '10.99.99.98', dport: 443, appproto: 'ssl' });
}

// ---------------------------------------------------------------- reconnections

test('MULTIPLE_RECONNECTION_ATTEMPTS: 4 rejected -> nothing, 5th -> MEDIUM with all uids, then counting restarts', (t) => {
  const harness = new DetectionHarness();
  const rejected = (i: number) =>
    conn({ ts: T0 + i, uid: `R${i}`, daddr: '123.22.123.22', dport: 547, state: 'REJ', history: 'Sr', dpkts: 1 });
  harness.feed(...[0, 1, 2, 3].map(rejected));
  t.is(harness.ofType('MULTIPLE_RECONNECTION_ATTEMPTS').length, 0);
  harness.feed(rejected(4));
  const [evidence, ...rest] = harness.ofType('MULTIPLE_RECONNECTION_ATTEMPTS');
  t.is(rest.length, 0);
  t.is(evidence?.description,
    'Multiple reconnection attempts to Destination IP: 123.22.123.22 from IP: 10.0.0.5 reconnections: 5');
  t.is(evidence?.threat_level, 'medium');
  t.is(evidence?.confidence, 0.5);
  t.deepEqual(evidence?.attacker, { direction: 'SRC', ioc_type: 'IP', value: '10.0.0.5' });
  t.deepEqual(evidence?.victim, { direction: 'DST', ioc_type: 'IP', value: '123.22.123.22' });
  t.deepEqual(evidence?.uid, ['R0', 'R1', 'R2', 'R3', 'R4']);
  harness.feed(...[5, 6, 7, 8].map(rejected));
  t.is(harness.ofType('MULTIPLE_RECONNECTION_ATTEMPTS').length, 1);
  harness.feed(rejected(9));
  t.is(harness.ofType('MULTIPLE_RECONNECTION_ATTEMPTS').length, 2);
});

test('MULTIPLE_RECONNECTION_ATTEMPTS: rejections to different ports count apart; S0 is not REJ', (t) => {
  const harness = new DetectionHarness();
  harness.feed(...[0, 1, 2, 3, 4].map((i) => conn({ ts: T0 + i, daddr: '5.5.5.5', dport: 1000 + i, state: 'REJ' })));
  harness.feed(...[0, 1, 2, 3, 4].map((i) => conn({ ts: T0 + i, daddr: '6.6.6.6', dport: 8000, state: 'S0' })));
  t.is(harness.ofType('MULTIPLE_RECONNECTION_ATTEMPTS').length, 0);
});

test('MULTIPLE_RECONNECTION_ATTEMPTS (telnet): 3 failed -> nothing, 4th -> two-space template', (t) => {
  const harness = new DetectionHarness();
  const failed = (i: number, dport = 23) => conn({ ts: T0 + i, uid: `T${i}`, dport, state: 'S0', history: 'S' });
  harness.feed(failed(0), failed(1, 2323), failed(2));
  harness.feed(conn({ ts: T0 + 3, dport: 23, state: 'SF' }));
  t.is(harness.ofType('MULTIPLE_RECONNECTION_ATTEMPTS').length, 0);
  harness.feed(failed(4));
  const [evidence, ...rest] = harness.ofType('MULTIPLE_RECONNECTION_ATTEMPTS');
  t.is(rest.length, 0);
  t.is(evidence?.description,
    'Multiple Telnet reconnection attempts from IP: 10.0.0.5 to Destination IP: 1.2.3.4  reconnections: 4');
  t.is(evidence?.threat_level, 'medium');
  t.is(evidence?.confidence, 0.5);
  t.deepEqual(evidence?.uid, ['T0', 'T1', 'T2', 'T4']);
});

// ---------------------------------------------------------------- port 0

test('PORT_0_CONNECTION: the sender is the attacker whichever port is 0 (fixes #15, #16)', (t) => {
  const harness = new DetectionHarness();
  harness.feed(conn({ dport: 0, uid: 'P1' }), conn({ ts: T0 + 1, sport: 0, dport: 80, uid: 'P2' }));
  const [toPort0, fromPort0, ...rest] = harness.ofType('PORT_0_CONNECTION');
  t.is(rest.length, 0);
  t.is(toPort0?.description, 'Connection on port 0 from 10.0.0.5:50000 to 1.2.3.4:0.');
  t.is(toPort0?.threat_level, 'high');
  t.is(toPort0?.confidence, 0.8);
  t.deepEqual(toPort0?.attacker, { direction: 'SRC', ioc_type: 'IP', value: '10.0.0.5' });
  t.deepEqual(toPort0?.victim, { direction: 'DST', ioc_type: 'IP', value: '1.2.3.4' });
  t.is(toPort0?.dst_port, 0);
  t.is(fromPort0?.description, 'Connection on port 0 from 10.0.0.5:0 to 1.2.3.4:80.');
  t.deepEqual(fromPort0?.attacker, { direction: 'SRC', ioc_type: 'IP', value: '10.0.0.5' });
});

test('PORT_0_CONNECTION: not for portless protocols, multicast or ordinary ports', (t) => {
  const harness = new DetectionHarness();
  harness.feed(
    conn({ proto: 'icmp', sport: 8, dport: 0 }),
    conn({ proto: 'igmp', sport: 0, dport: 0 }),
    conn({ proto: 'udp', daddr: '224.0.0.22', dport: 0 }),
    conn({ dport: 1 }),
  );
  t.is(harness.ofType('PORT_0_CONNECTION').length, 0);
});

// ---------------------------------------------------------------- different local network

test('DIFFERENT_LOCALNET (conn): private destination outside the local network -> HIGH, owned by it', (t) => {
  const harness = new DetectionHarness();
  harness.knowledge.setLocalNetwork('192.168.0.0/16');
  harness.feed(conn({ saddr: '192.168.1.1', daddr: '10.0.0.1', dport: 80, uid: 'L1' }));
  const [evidence, ...rest] = harness.ofType('DIFFERENT_LOCALNET');
  t.is(rest.length, 0);
  t.is(evidence?.description,
    'A connection to a private IP (10.0.0.1) on port 80/tcp outside of the used local network 192.168.0.0/16. ' +
    'From IP: 192.168.1.1 on destination port: 80/TCP');
  t.is(evidence?.threat_level, 'high');
  t.is(evidence?.confidence, 1);
  t.deepEqual(evidence?.attacker, { direction: 'DST', ioc_type: 'IP', value: '10.0.0.1' });
  t.deepEqual(evidence?.victim, { direction: 'SRC', ioc_type: 'IP', value: '192.168.1.1' });
  t.is(evidence?.profile_ip, '10.0.0.1');
  // Same destination and port in the same window: already reported.
  harness.feed(conn({ ts: T0 + 1, saddr: '192.168.1.1', daddr: '10.0.0.1', dport: 80 }));
  t.is(harness.ofType('DIFFERENT_LOCALNET').length, 1);
});

test('DIFFERENT_LOCALNET (conn): private source outside the local network -> LOW', (t) => {
  const harness = new DetectionHarness();
  harness.knowledge.setLocalNetwork('192.168.0.0/16');
  harness.feed(conn({ saddr: '10.0.0.7', daddr: '192.168.1.5', dport: 22 }));
  const [evidence, ...rest] = harness.ofType('DIFFERENT_LOCALNET');
  t.is(rest.length, 0);
  t.is(evidence?.description,
    'A connection from a private IP (10.0.0.7) on port 22/tcp outside of the used local network 192.168.0.0/16. ' +
    'To IP: 192.168.1.5 ');
  t.is(evidence?.threat_level, 'low');
  t.deepEqual(evidence?.attacker, { direction: 'SRC', ioc_type: 'IP', value: '10.0.0.7' });
  t.is(evidence?.profile_ip, undefined);
});

test('DIFFERENT_LOCALNET (conn): nothing inside the local network, to public IPs, for DNS, or with no local network', (t) => {
  const unknown = new DetectionHarness();
  unknown.feed(conn({ saddr: '192.168.1.1', daddr: '10.0.0.1' }));
  t.is(unknown.ofType('DIFFERENT_LOCALNET').length, 0);

  const harness = new DetectionHarness();
  harness.knowledge.setLocalNetwork('192.168.0.0/16');
  harness.feed(
    conn({ saddr: '192.168.1.1', daddr: '192.168.7.7' }),
    conn({ saddr: '10.0.0.7', daddr: '8.8.8.8' }),
    conn({ saddr: '192.168.1.1', daddr: '10.0.0.53', dport: 53, proto: 'udp' }),
    conn({ saddr: '192.168.1.1', daddr: '127.0.0.1' }),
    conn({ saddr: '192.168.1.1', daddr: 'fd00::1' }),
  );
  t.is(harness.ofType('DIFFERENT_LOCALNET').length, 0);
});

// ---------------------------------------------------------------- multiple ports

/** An established TCP connection to an unknown service. */
function established(dport: number, fields: Parameters<typeof conn>[0] = {}) {
  return conn({ ts: T0 + dport / 1000, uid: `M${dport}`, dport, ...fields });
}

test('CONNECTION_TO_MULTIPLE_PORTS: one port -> nothing, a second -> INFO with the Python list of ports', (t) => {
  const harness = new DetectionHarness();
  harness.feed(established(1234), established(1234, { uid: 'again' }));
  t.is(harness.ofType('CONNECTION_TO_MULTIPLE_PORTS').length, 0);
  harness.feed(established(5678));
  const [evidence, ...rest] = harness.ofType('CONNECTION_TO_MULTIPLE_PORTS');
  t.is(rest.length, 0);
  t.is(evidence?.description, "Connection to multiple ports ['1234', '5678'] from 10.0.0.5 to 1.2.3.4. ");
  t.is(evidence?.threat_level, 'info');
  t.is(evidence?.confidence, 0.5);
  t.deepEqual(evidence?.attacker, { direction: 'SRC', ioc_type: 'IP', value: '10.0.0.5' });
  t.deepEqual(evidence?.victim, { direction: 'DST', ioc_type: 'IP', value: '1.2.3.4' });
  t.deepEqual(evidence?.uid, ['again', 'M5678']);
  harness.feed(established(5678, { uid: 'again2' }));
  t.is(harness.ofType('CONNECTION_TO_MULTIPLE_PORTS').length, 1);
  harness.feed(established(9999));
  t.is(harness.ofType('CONNECTION_TO_MULTIPLE_PORTS').length, 2);
});

test('CONNECTION_TO_MULTIPLE_PORTS: counted per victim (fix #17); known services, appproto, udp and failures ignored', (t) => {
  const harness = new DetectionHarness();
  harness.feed(established(1001), established(1002), established(1003));
  harness.feed(established(2001, { daddr: '5.6.7.8' }));
  t.is(harness.ofType('CONNECTION_TO_MULTIPLE_PORTS').length, 2);
  harness.feed(established(2002, { daddr: '5.6.7.8' }));
  const reports = harness.ofType('CONNECTION_TO_MULTIPLE_PORTS');
  t.is(reports.length, 3);
  t.is(reports[2]?.description, "Connection to multiple ports ['2001', '2002'] from 10.0.0.5 to 5.6.7.8. ");

  const ignored = new DetectionHarness();
  ignored.feed(
    established(80, { daddr: '9.9.9.9' }), established(1111, { daddr: '9.9.9.9', appproto: 'ssl' }),
    established(2222, { daddr: '9.9.9.9', proto: 'udp' }), established(3333, { daddr: '9.9.9.9', state: 'S0' }),
    established(4444, { daddr: '9.9.9.9' }),
  );
  t.is(ignored.ofType('CONNECTION_TO_MULTIPLE_PORTS').length, 0);
});

// ---------------------------------------------------------------- data upload

test('DATA_UPLOAD (one flow): 100 MB -> pair INFO source / HIGH destination; just under -> nothing', (t) => {
  const harness = new DetectionHarness();
  harness.feed(conn({ sbytes: 99_999_999, dport: 443, appproto: 'ssl' }));
  t.is(harness.ofType('DATA_UPLOAD').length, 0);
  harness.feed(conn({ ts: T0 + 1, uid: 'U1', sbytes: 100 * 1024 * 1024 + 1, dport: 443, appproto: 'ssl' }));
  const [src, dst, ...rest] = harness.ofType('DATA_UPLOAD');
  t.is(rest.length, 0);
  t.is(src?.description, 'Large data upload. 104.857601 MBs sent to 1.2.3.4');
  t.is(src?.threat_level, 'info');
  t.is(src?.confidence, 0.6);
  t.deepEqual(src?.attacker, { direction: 'SRC', ioc_type: 'IP', value: '10.0.0.5' });
  t.deepEqual(src?.uid, ['U1']);
  t.is(dst?.description, src?.description);
  t.is(dst?.threat_level, 'high');
  t.deepEqual(dst?.attacker, { direction: 'DST', ioc_type: 'IP', value: '1.2.3.4' });
});

test('DATA_UPLOAD (time window): 500 MB to one destination in the closing window -> pair; 1 byte less -> nothing (fix #9)', (t) => {
  const uploads = (daddr: string, last: number) => [
    ...[0, 1, 2, 3, 4].map((i) => conn({ ts: T0 + i, uid: `W${i}`, daddr, sbytes: 99_999_999, dport: 443, appproto: 'ssl' })),
    conn({ ts: T0 + 10, uid: 'W5', daddr, sbytes: last, dport: 443, appproto: 'ssl' }),
  ];
  const below = new DetectionHarness();
  below.feed(...uploads('1.2.3.4', 4));
  below.closeTimeWindow('10.0.0.5', 1);
  t.is(below.ofType('DATA_UPLOAD').length, 0);

  const harness = new DetectionHarness();
  harness.feed(...uploads('1.2.3.4', 5));
  t.is(harness.ofType('DATA_UPLOAD').length, 0);
  harness.closeTimeWindow('10.0.0.5', 1);
  const [src, dst, ...rest] = harness.ofType('DATA_UPLOAD');
  t.is(rest.length, 0);
  t.is(src?.description, 'Large data upload. 500.0 MBs sent to 1.2.3.4');
  t.is(src?.threat_level, 'info');
  t.is(dst?.threat_level, 'high');
  t.is(src?.timestamp, T0 + 10);
  t.deepEqual(src?.uid, ['W0', 'W1', 'W2', 'W3', 'W4', 'W5']);
  // The next window starts from zero: the earlier uploads are not summed again.
  harness.feed(conn({ ts: T0 + 3700, sbytes: 1, dport: 443, appproto: 'ssl' }));
  harness.closeTimeWindow('10.0.0.5', 2);
  t.is(harness.ofType('DATA_UPLOAD').length, 2);
});

test('DATA_UPLOAD ignores the gateway, multicast and link-local destinations', (t) => {
  const harness = new DetectionHarness();
  harness.knowledge.setGatewayIp('10.0.0.1');
  for (const daddr of ['10.0.0.1', '224.0.0.251', '169.254.1.1']) {
    harness.feed(conn({ daddr, sbytes: 600_000_000, dport: 443, appproto: 'ssl' }));
  }
  harness.closeTimeWindow('10.0.0.5', 1);
  t.is(harness.ofType('DATA_UPLOAD').length, 0);
});

// ---------------------------------------------------------------- device changing IP

test('DEVICE_CHANGING_IP: a MAC first seen with one private IP shows up with a new one', (t) => {
  const harness = new DetectionHarness();
  const mac = 'aa:bb:cc:dd:ee:ff';
  harness.feed(conn({ saddr: '192.168.1.2', smac: mac }), conn({ ts: T0 + 1, saddr: '192.168.1.2', smac: mac }));
  t.is(harness.ofType('DEVICE_CHANGING_IP').length, 0);
  harness.feed(conn({ ts: T0 + 2, uid: 'N1', saddr: '192.168.1.3', smac: mac }));
  const [evidence, ...rest] = harness.ofType('DEVICE_CHANGING_IP');
  t.is(rest.length, 0);
  t.is(evidence?.description,
    'A device changing IPs. IP 192.168.1.3 was found with MAC address aa:bb:cc:dd:ee:ff but the MAC belongs ' +
    'originally to IP: 192.168.1.2. ');
  t.is(evidence?.threat_level, 'medium');
  t.is(evidence?.confidence, 0.8);
  t.deepEqual(evidence?.attacker, { direction: 'SRC', ioc_type: 'IP', value: '192.168.1.3' });
  t.is(evidence?.victim, undefined);
  // Only the first flow of an IP is checked.
  harness.feed(conn({ ts: T0 + 3, saddr: '192.168.1.3', smac: mac }));
  t.is(harness.ofType('DEVICE_CHANGING_IP').length, 1);
});

test('DEVICE_CHANGING_IP: not for an IP seen before, public sources, Argus flows or flows without MAC', (t) => {
  const harness = new DetectionHarness();
  harness.feed(
    conn({ saddr: '192.168.1.3', smac: '11:11:11:11:11:11' }),
    conn({ saddr: '192.168.1.2', smac: 'aa:bb:cc:dd:ee:ff' }),
    conn({ saddr: '192.168.1.3', smac: 'aa:bb:cc:dd:ee:ff' }),
    conn({ saddr: '192.168.1.4' }),
    conn({ saddr: '192.168.1.5', smac: 'aa:bb:cc:dd:ee:ff', source: 'argus' }),
    conn({ saddr: '8.8.8.8', smac: 'aa:bb:cc:dd:ee:ff' }),
  );
  t.is(harness.ofType('DEVICE_CHANGING_IP').length, 0);
});

// ---------------------------------------------------------------- DNS without connection

test('DNS_WITHOUT_CONNECTION: no connection 30 min (network time) after the answer -> INFO (fix #1)', (t) => {
  const harness = new DetectionHarness();
  harness.feed(dns({ uid: 'Q1' }));
  harness.feed(tick(T0 + 1799));
  t.is(harness.ofType('DNS_WITHOUT_CONNECTION').length, 0);
  harness.feed(tick(T0 + 1800));
  const [evidence, ...rest] = harness.ofType('DNS_WITHOUT_CONNECTION');
  t.is(rest.length, 0);
  t.is(evidence?.description, 'domain example.com resolved with no connection');
  t.is(evidence?.threat_level, 'info');
  t.is(evidence?.confidence, 0.8);
  t.deepEqual(evidence?.attacker, { direction: 'SRC', ioc_type: 'IP', value: '10.0.0.5' });
  t.deepEqual(evidence?.victim, { direction: 'DST', ioc_type: 'DOMAIN', value: 'example.com' });
  t.deepEqual(evidence?.uid, ['Q1']);
  t.is(evidence?.timestamp, T0);
});

test('DNS_WITHOUT_CONNECTION: a connection to an answer (or a CNAME\'s IP) clears it; ineligible queries are never checked', (t) => {
  const harness = new DetectionHarness();
  harness.feed(
    dns(),
    conn({ ts: T0 + 600, daddr: '93.184.216.34', dport: 443, appproto: 'ssl' }),
    dns({ query: 'cdn.example.org', answers: ['5.5.5.5'] }),
    dns({ query: 'www.example.org', answers: ['cdn.example.org'] }),
    conn({ ts: T0 + 601, daddr: '5.5.5.5', dport: 443, appproto: 'ssl' }),
    dns({ query: 'nx.example.com', rcode_name: 'NXDOMAIN', answers: [] }),
    dns({ query: 'example.com', qtype_name: 'TXT', answers: ['TXT 3 abc'] }),
    dns({ query: '4.3.2.1.in-addr.arpa', qtype_name: 'PTR', answers: ['host.example.com'] }),
    dns({ query: 'printer.local', answers: ['8.8.4.4'] }),
    dns({ query: 'wpad', answers: ['8.8.4.4'] }),
  );
  harness.finish();
  t.is(harness.ofType('DNS_WITHOUT_CONNECTION').length, 0);
});

test('DNS_WITHOUT_CONNECTION: still pending at end of input -> reported at finish, once per domain', (t) => {
  const harness = new DetectionHarness();
  harness.feed(dns({ uid: 'Q1' }), dns({ ts: T0 + 5, uid: 'Q2' }));
  t.is(harness.ofType('DNS_WITHOUT_CONNECTION').length, 0);
  harness.finish();
  t.deepEqual(harness.ofType('DNS_WITHOUT_CONNECTION').map((evidence) => evidence.uid), [['Q1']]);
});

// ---------------------------------------------------------------- connection without DNS

test('CONNECTION_WITHOUT_DNS: no resolution 15 s (network time) after the connection -> INFO, once per IP', (t) => {
  const harness = new DetectionHarness();
  harness.feed(dns({ query: 'other.example', answers: ['7.7.7.7'] }));
  harness.feed(conn({ ts: T0 + 10, uid: 'C1', daddr: '1.1.1.1', dport: 443, appproto: 'ssl' }));
  harness.feed(tick(T0 + 24));
  t.is(harness.ofType('CONNECTION_WITHOUT_DNS').length, 0);
  harness.feed(tick(T0 + 25), conn({ ts: T0 + 26, uid: 'C2', daddr: '1.1.1.1', dport: 443, appproto: 'ssl' }));
  harness.finish();
  const [evidence, ...rest] = harness.ofType('CONNECTION_WITHOUT_DNS');
  t.is(rest.length, 0);
  t.is(evidence?.description, 'A connection without DNS resolution to Destination IP: 1.1.1.1');
  t.is(evidence?.threat_level, 'info');
  t.is(evidence?.confidence, 0.8);
  t.deepEqual(evidence?.attacker, { direction: 'SRC', ioc_type: 'IP', value: '10.0.0.5' });
  t.is(evidence?.victim, undefined);
  t.deepEqual(evidence?.uid, ['C1']);
  t.is(evidence?.dst_port, 443);
});

test('CONNECTION_WITHOUT_DNS: resolved before or within 15 s after, private, DoH, DNS flows or a lone conn.log -> nothing', (t) => {
  const harness = new DetectionHarness();
  harness.feed(
    dns({ answers: ['93.184.216.34'] }),
    conn({ ts: T0 + 60, daddr: '93.184.216.34', dport: 443, appproto: 'ssl' }),
    conn({ ts: T0 + 61, daddr: '4.4.4.4', dport: 443, appproto: 'ssl' }),
    dns({ ts: T0 + 70, query: 'late.example', answers: ['4.4.4.4'] }),
    conn({ ts: T0 + 62, daddr: '192.168.1.1', dport: 443 }),
    conn({ ts: T0 + 63, daddr: '8.8.8.8', dport: 53, proto: 'udp', appproto: 'dns' }),
    ssl({ ts: T0 + 64, daddr: '9.9.9.9', is_DoH: true }),
    conn({ ts: T0 + 65, daddr: '9.9.9.9', dport: 443, appproto: 'ssl' }),
    conn({ ts: T0 + 66, daddr: '3.3.3.3', source: 'argus' }),
  );
  harness.finish();
  t.is(harness.ofType('CONNECTION_WITHOUT_DNS').length, 0);

  // A resolution older than 24 h no longer counts (fix #8: relative to the connection).
  const stale = new DetectionHarness();
  stale.feed(dns({ answers: ['93.184.216.34'] }), conn({ ts: T0 + 86_401, daddr: '93.184.216.34', dport: 443 }));
  stale.finish();
  t.is(stale.ofType('CONNECTION_WITHOUT_DNS').length, 1);

  const loneConnLog = new DetectionHarness();
  loneConnLog.feed(conn({ daddr: '1.1.1.1', dport: 443, appproto: 'ssl' }), tick(T0 + 100));
  // Connections before the first DNS record of the run are not checked; the ones after it are.
  loneConnLog.feed(dns({ ts: T0 + 101, query: 'other.example', answers: ['7.7.7.7'] }));
  t.is(loneConnLog.ofType('CONNECTION_WITHOUT_DNS').length, 0);
  loneConnLog.feed(conn({ ts: T0 + 102, daddr: '1.1.1.2', dport: 443, appproto: 'ssl' }));
  loneConnLog.finish();
  t.deepEqual(loneConnLog.ofType('CONNECTION_WITHOUT_DNS').map((e) => e.description),
    ['A connection without DNS resolution to Destination IP: 1.1.1.2']);
});

// ---------------------------------------------------------------- DNS answers

test('HIGH_ENTROPY_DNS_ANSWER: a TXT answer with entropy >= 5 -> pair MEDIUM resolver / LOW client', (t) => {
  const answer = 'TXT qwerty123!@#$%^&*()_+ZXCVBNMasdfghjkl';
  const harness = new DetectionHarness();
  harness.feed(dns({ uid: 'E1', query: 'x.example.com', qtype_name: 'TXT', answers: [answer, 'TXT aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'] }));
  const [dst, src, ...rest] = harness.ofType('HIGH_ENTROPY_DNS_ANSWER');
  t.is(rest.length, 0);
  t.is(dst?.description, `A DNS TXT answer with high entropy. query: x.example.com answer: "${answer}" entropy: 5.26 `);
  t.is(dst?.threat_level, 'medium');
  t.is(dst?.confidence, 0.6);
  t.deepEqual(dst?.attacker, { direction: 'DST', ioc_type: 'IP', value: '8.8.8.8' });
  t.is(src?.description, dst?.description);
  t.is(src?.threat_level, 'low');
  t.deepEqual(src?.attacker, { direction: 'SRC', ioc_type: 'IP', value: '10.0.0.5' });
  t.deepEqual(src?.uid, ['E1']);
});

test('HIGH_ENTROPY_DNS_ANSWER: low entropy, non-TXT answers and multicast senders are ignored', (t) => {
  t.is(shannonEntropy('TXT v=spf1 include:_spf.google.com ~all').toFixed(4), '4.4262');
  t.is(shannonEntropy(''), 0);
  const harness = new DetectionHarness();
  harness.feed(
    dns({ answers: ['TXT v=spf1 include:_spf.google.com ~all'] }),
    dns({ answers: ['qwerty123!@#$%^&*()_+ZXCVBNMasdfghjkl'] }),
    dns({ saddr: '224.0.0.251', answers: ['TXT qwerty123!@#$%^&*()_+ZXCVBNMasdfghjkl'] }),
  );
  t.is(harness.ofType('HIGH_ENTROPY_DNS_ANSWER').length, 0);
});

test('INVALID_DNS_RESOLUTION: a public name answered with a private IP is the resolver\'s doing (fix #14)', (t) => {
  const harness = new DetectionHarness();
  harness.feed(dns({ uid: 'I1', answers: ['127.0.0.1'] }));
  const [evidence, ...rest] = harness.ofType('INVALID_DNS_RESOLUTION');
  t.is(rest.length, 0);
  t.is(evidence?.description, 'Invalid DNS answer. The DNS query example.com was resolved to the private IP: 127.0.0.1');
  t.is(evidence?.threat_level, 'info');
  t.is(evidence?.confidence, 0.8);
  t.deepEqual(evidence?.attacker, { direction: 'DST', ioc_type: 'IP', value: '8.8.8.8' });
  t.deepEqual(evidence?.victim, { direction: 'DST', ioc_type: 'DOMAIN', value: 'example.com' });
  harness.feed(
    dns({ query: 'localhost', answers: ['127.0.0.1'] }),
    dns({ query: 'printer.local', answers: ['192.168.1.9'] }),
    dns({ query: '9.1.168.192.in-addr.arpa', answers: ['192.168.1.9'] }),
    dns({ answers: ['93.184.216.34'] }),
  );
  t.is(harness.ofType('INVALID_DNS_RESOLUTION').length, 1);
});

test('DGA_NXDOMAINS: 9 distinct NXDOMAINs -> nothing, 10 -> HIGH 0.1, then every 5 more; repeats do not count (fix #4)', (t) => {
  const harness = new DetectionHarness();
  const nx = (i: number) => dns({ ts: T0 + i, uid: `X${i}`, query: `d${i}.example`, rcode_name: 'NXDOMAIN', answers: [] });
  harness.feed(...Array.from({ length: 9 }, (_, i) => nx(i)), nx(0), nx(1));
  harness.feed(dns({ query: 'x.in-addr.arpa', rcode_name: 'NXDOMAIN', answers: [] }));
  t.is(harness.ofType('DGA_NXDOMAINS').length, 0);
  harness.feed(nx(9));
  const [evidence, ...rest] = harness.ofType('DGA_NXDOMAINS');
  t.is(rest.length, 0);
  t.is(evidence?.description, 'Possible DGA or domain scanning. 10.0.0.5 failed to resolve 10 different domains');
  t.is(evidence?.threat_level, 'high');
  t.is(evidence?.confidence, 0.1);
  t.deepEqual(evidence?.attacker, { direction: 'SRC', ioc_type: 'IP', value: '10.0.0.5' });
  t.is(evidence?.uid.length, 10);
  harness.feed(...[10, 11, 12, 13].map(nx));
  t.is(harness.ofType('DGA_NXDOMAINS').length, 1);
  harness.feed(nx(14));
  t.is(harness.ofType('DGA_NXDOMAINS')[1]?.confidence, 0.15);
  t.is(harness.ofType('DGA_NXDOMAINS')[1]?.description,
    'Possible DGA or domain scanning. 10.0.0.5 failed to resolve 15 different domains');
});

test('DIFFERENT_LOCALNET (DNS): a private resolver outside the local network -> HIGH; the learned DNS server is exempt (fix #5)', (t) => {
  const harness = new DetectionHarness();
  harness.knowledge.setLocalNetwork('192.168.0.0/16');
  harness.feed(dns({ saddr: '192.168.1.5', daddr: '10.0.0.53', answers: [] }));
  const [evidence, ...rest] = harness.ofType('DIFFERENT_LOCALNET');
  t.is(rest.length, 0);
  t.is(evidence?.description,
    'A connection to a private IP (10.0.0.53) on port 53/udp outside of the used local network 192.168.0.0/16. ' +
    'From IP: 192.168.1.5 on destination port: 53/UDP');
  t.is(evidence?.threat_level, 'high');
  t.deepEqual(evidence?.attacker, { direction: 'DST', ioc_type: 'IP', value: '10.0.0.53' });

  // Five answered queries to 10.1.1.1 make it the learned DNS server: never reported.
  const learning = new DetectionHarness();
  learning.knowledge.setLocalNetwork('192.168.0.0/16');
  learning.feed(...Array.from({ length: 5 }, (_, i) => dns({ ts: T0 + i, saddr: '192.168.1.5', daddr: '10.1.1.1' })));
  learning.feed(dns({ ts: T0 + 10, saddr: '192.168.1.6', daddr: '10.1.1.1', answers: [] }));
  t.is(learning.ofType('DIFFERENT_LOCALNET').length, 0);
  learning.feed(dns({ ts: T0 + 11, saddr: '192.168.1.6', daddr: '10.2.2.2', answers: [] }));
  t.is(learning.ofType('DIFFERENT_LOCALNET').length, 1);

  // IPv6 and public resolvers, and non-DNS ports, are out of scope.
  const ignored = new DetectionHarness();
  ignored.knowledge.setLocalNetwork('192.168.0.0/16');
  ignored.feed(
    dns({ saddr: 'fe80::1', daddr: 'fd00::53', answers: [] }),
    dns({ saddr: '192.168.1.5', daddr: '8.8.8.8', answers: [] }),
    dns({ saddr: '192.168.1.5', daddr: '10.0.0.53', dport: 5353, answers: [] }),
  );
  t.is(ignored.ofType('DIFFERENT_LOCALNET').length, 0);
});

test('DNS_ARPA_SCAN: 10 distinct reverse lookups within 2 s -> MEDIUM; spread over 2.7 s -> nothing', (t) => {
  const arpa = (i: number, step: number) =>
    dns({ ts: T0 + i * step, uid: `A${i}`, query: `${i}.1.168.192.in-addr.arpa`, qtype_name: 'PTR', answers: [] });
  const fast = new DetectionHarness();
  fast.feed(...Array.from({ length: 9 }, (_, i) => arpa(i, 0.1)));
  t.is(fast.ofType('DNS_ARPA_SCAN').length, 0);
  fast.feed(arpa(9, 0.1));
  const [evidence, ...rest] = fast.ofType('DNS_ARPA_SCAN');
  t.is(rest.length, 0);
  t.is(evidence?.description, 'Doing DNS ARPA scan. Scanned 10 hosts within 2 seconds.');
  t.is(evidence?.threat_level, 'medium');
  t.is(evidence?.confidence, 0.7);
  t.deepEqual(evidence?.attacker, { direction: 'SRC', ioc_type: 'IP', value: '10.0.0.5' });
  t.is(evidence?.uid.length, 10);

  const slow = new DetectionHarness();
  slow.feed(...Array.from({ length: 10 }, (_, i) => arpa(i, 0.3)));
  t.is(slow.ofType('DNS_ARPA_SCAN').length, 0);
  // The window slides (fix #31): a later burst is still caught.
  slow.feed(...Array.from({ length: 10 }, (_, i) => arpa(100 + i, 0.05)));
  t.is(slow.ofType('DNS_ARPA_SCAN').length, 1);
});

// ---------------------------------------------------------------- notices

test('Zeek Port_Scan notice -> VERTICAL_PORT_SCAN by Zeek engine; the scanner is marked (no UNKNOWN_PORT after)', (t) => {
  const harness = new DetectionHarness();
  const msg = '192.168.0.1 has scanned at least 60 unique ports of host 192.168.0.2 in 0m3s';
  harness.feed(notice({ msg }));
  const [evidence, ...rest] = harness.ofType('VERTICAL_PORT_SCAN');
  t.is(rest.length, 0);
  t.is(evidence?.description, `vertical port scan by Zeek engine. ${msg}`);
  t.is(evidence?.threat_level, 'high');
  t.is(evidence?.confidence, 1);
  t.deepEqual(evidence?.attacker, { direction: 'SRC', ioc_type: 'IP', value: '192.168.0.1' });
  t.deepEqual(evidence?.victim, { direction: 'DST', ioc_type: 'IP', value: '192.168.0.2' });
  harness.feed(conn({ ts: T0 + 1, saddr: '192.168.0.1', daddr: '192.168.0.2', dport: 23456 }));
  t.is(harness.ofType('UNKNOWN_PORT').length, 0);
});

test('Zeek Address_Scan notice -> HORIZONTAL_PORT_SCAN by Zeek engine, no victim; other notes -> nothing', (t) => {
  const harness = new DetectionHarness();
  const msg = '147.32.83.156 scanned at least 25 unique hosts on port 23/tcp in 1m14s';
  harness.feed(notice({ saddr: '147.32.83.156', scanning_ip: '147.32.83.156', note: 'Scan::Address_Scan', msg }));
  const [evidence, ...rest] = harness.ofType('HORIZONTAL_PORT_SCAN');
  t.is(rest.length, 0);
  t.is(evidence?.description, `horizontal port scan by Zeek engine. ${msg}`);
  t.is(evidence?.threat_level, 'high');
  t.deepEqual(evidence?.attacker, { direction: 'SRC', ioc_type: 'IP', value: '147.32.83.156' });
  t.is(evidence?.victim, undefined);
  harness.feed(notice({ note: 'SSH::Password_Guessing', msg: '1.2.3.4 appears to be guessing SSH passwords' }));
  harness.feed(notice({ note: 'SSL::Invalid_Server_Cert', msg: 'whatever' }));
  t.is(harness.ofType('HORIZONTAL_PORT_SCAN').length + harness.ofType('VERTICAL_PORT_SCAN').length, 1);
});

test('ICMP scan notices -> ICMP_*_SCAN, MEDIUM, the Zeek message verbatim, confidence floored (fix #26)', (t) => {
  const harness = new DetectionHarness();
  harness.feed(
    notice({ saddr: '10.0.0.9', note: 'TimestampScan', msg: '10.0.0.9 performed ICMP timestamp scan on 5 hosts' }),
    notice({ saddr: '10.0.0.9', note: 'ICMPAddressScan', msg: '10.0.0.9 performed ICMP address scan on 255 hosts' }),
    notice({ saddr: '10.0.0.9', note: 'AddressMaskScan', msg: '10.0.0.9 performed ICMP address mask scan on 130 hosts' }),
  );
  const timestamp = harness.ofType('ICMP_TIMESTAMP_SCAN');
  t.is(timestamp.length, 1);
  t.is(timestamp[0]?.description, '10.0.0.9 performed ICMP timestamp scan on 5 hosts');
  t.is(timestamp[0]?.threat_level, 'medium');
  t.is(timestamp[0]?.confidence, 0.3);
  t.deepEqual(timestamp[0]?.attacker, { direction: 'SRC', ioc_type: 'IP', value: '10.0.0.9' });
  t.is(harness.ofType('ICMP_ADDRESS_SCAN')[0]?.confidence, 1);
  t.is(harness.ofType('ICMP_ADDRESS_MASK_SCAN')[0]?.confidence, 0.5);
  t.is(icmpScanConfidence(1000), 1);
  harness.feed(notice({ saddr: '10.0.0.9', note: 'Weird::Activity', msg: 'x on 20 hosts' }));
  const icmpScans = ['ICMP_TIMESTAMP_SCAN', 'ICMP_ADDRESS_SCAN', 'ICMP_ADDRESS_MASK_SCAN'] as const;
  t.is(icmpScans.reduce((total, type) => total + harness.ofType(type).length, 0), 3);
});

test('ICMP sweeps from conn flows (sport = ICMP type): every 5th new peer, once per count with the notices', (t) => {
  const harness = new DetectionHarness();
  const echo = (i: number, fields: Partial<ConnRecord> = {}): ConnRecord => conn({
    ts: T0 + i, uid: `I${i}`, saddr: '192.168.1.109', daddr: `192.168.1.${i + 1}`, proto: 'icmp', sport: 8, dport: 0, state: 'OTH',
    source: 'pcap', ...fields,
  });
  // Zeek logs carry the sweeps as notices of Slips' script: their flows are not counted again.
  harness.feed(...[1, 2, 3, 4, 5].map((i) => echo(i, { source: 'zeek', saddr: '192.168.1.9' })));
  // Near miss: 4 peers, a repeated peer, replies (type 0) and unreachables (type 3) are no sweep.
  harness.feed(echo(1), echo(2), echo(3), echo(4), echo(4), echo(5, { sport: 0 }), echo(6, { sport: 3 }));
  t.is(harness.ofType('ICMP_ADDRESS_SCAN').length, 0);
  harness.feed(echo(7));
  const [first] = harness.ofType('ICMP_ADDRESS_SCAN');
  t.is(first?.description, '192.168.1.109 performed ICMP address scan on 5 hosts');
  t.deepEqual([first?.attacker, first?.threat_level, first?.confidence, first?.uid],
    [{ direction: 'SRC', ioc_type: 'IP', value: '192.168.1.109' }, 'medium', 0.3, ['I1', 'I2', 'I3', 'I4', 'I7']]);
  // Zeek's notice for the same count is not reported twice; the next count is.
  harness.feed(notice({ saddr: '192.168.1.109', note: 'ICMPAddressScan', msg: '192.168.1.109 performed ICMP address scan on 5 hosts' }));
  t.is(harness.ofType('ICMP_ADDRESS_SCAN').length, 1);
  harness.feed(...[8, 9, 10, 11, 12].map((i) => echo(i)));
  t.is(harness.ofType('ICMP_ADDRESS_SCAN')[1]?.description, '192.168.1.109 performed ICMP address scan on 10 hosts');
  harness.feed(...[13, 14, 15, 16, 17].map((i) => echo(i, { sport: 13 })));
  t.is(harness.ofType('ICMP_TIMESTAMP_SCAN')[0]?.description, '192.168.1.109 performed ICMP timestamp scan on 5 hosts');
});

// ---------------------------------------------------------------- DHCP

test('DHCP_SCAN: 3 distinct requested addresses -> nothing, the 4th -> MEDIUM 0.8, then at 8, 12, 16', (t) => {
  const harness = new DetectionHarness();
  const request = (i: number) => dhcp({ ts: T0 + i, uids: [`H${i}`], requested_addr: `192.168.1.${100 + i}` });
  harness.feed(request(0), request(1), request(2), request(2), dhcp({ requested_addr: '' }));
  t.is(harness.ofType('DHCP_SCAN').length, 0);
  harness.feed(request(3));
  const [evidence, ...rest] = harness.ofType('DHCP_SCAN');
  t.is(rest.length, 0);
  t.is(evidence?.description, 'Performing a DHCP scan by requesting 4 different IP addresses. Confidence: 0.8. by Slips');
  t.is(evidence?.threat_level, 'medium');
  t.is(evidence?.confidence, 0.8);
  t.deepEqual(evidence?.attacker, { direction: 'SRC', ioc_type: 'IP', value: '192.168.1.50' });
  t.deepEqual(evidence?.uid, ['H0', 'H1', 'H2', 'H3']);
  harness.feed(...Array.from({ length: 12 }, (_, i) => request(4 + i)));
  t.deepEqual(harness.ofType('DHCP_SCAN').map((e) => e.description.split(' ')[6]), ['4', '8', '12', '16']);
});

// ---------------------------------------------------------------- SMTP

test('BAD_SMTP_LOGIN: every rejected login -> HIGH; other replies -> nothing', (t) => {
  const harness = new DetectionHarness();
  harness.feed(smtp({ uid: 'S1' }), smtp({ last_reply: '220 OK' }));
  const [evidence, ...rest] = harness.ofType('BAD_SMTP_LOGIN');
  t.is(rest.length, 0);
  t.is(evidence?.description, 'doing bad SMTP login to 80.75.42.226 ');
  t.is(evidence?.threat_level, 'high');
  t.is(evidence?.confidence, 1);
  t.deepEqual(evidence?.attacker, { direction: 'SRC', ioc_type: 'IP', value: '10.0.0.5' });
  t.deepEqual(evidence?.victim, { direction: 'DST', ioc_type: 'IP', value: '80.75.42.226' });
});

test('SMTP_LOGIN_BRUTEFORCE: 3 bad logins in 10 s (t, t+5, t+9) -> HIGH; t, t+6, t+11 -> nothing', (t) => {
  const harness = new DetectionHarness();
  harness.feed(smtp({ uid: 'S1' }), smtp({ ts: T0 + 5, uid: 'S2' }), smtp({ ts: T0 + 9, uid: 'S3' }));
  const [evidence, ...rest] = harness.ofType('SMTP_LOGIN_BRUTEFORCE');
  t.is(rest.length, 0);
  t.is(evidence?.description, 'doing SMTP login bruteforce to 80.75.42.226. 3 logins in 10 seconds. ');
  t.is(evidence?.threat_level, 'high');
  t.is(evidence?.confidence, 1);
  t.deepEqual(evidence?.uid, ['S1', 'S2', 'S3']);
  t.deepEqual(evidence?.victim, { direction: 'DST', ioc_type: 'IP', value: '80.75.42.226' });

  const slow = new DetectionHarness();
  slow.feed(smtp(), smtp({ ts: T0 + 6 }), smtp({ ts: T0 + 11 }));
  t.is(slow.ofType('SMTP_LOGIN_BRUTEFORCE').length, 0);
  // The window slides: t+6, t+11, t+12 are within 10 s.
  slow.feed(smtp({ ts: T0 + 12 }));
  t.is(slow.ofType('SMTP_LOGIN_BRUTEFORCE').length, 1);
});

// ---------------------------------------------------------------- tunnels

test('GRE_TUNNEL and GRE_SCAN: LOW, once per destination and window; other tunnel types -> nothing', (t) => {
  const harness = new DetectionHarness();
  harness.feed(
    tunnel({ uid: 'G1', action: 'Tunnel::DISCOVER' }),
    tunnel({ uid: 'G2', action: 'Tunnel::EXPIRE' }),
    tunnel({ uid: 'G3', action: 'Tunnel::CLOSE' }),
    tunnel({ tunnel_type: 'Tunnel::IP', action: 'Tunnel::EXPIRE', daddr: '5.5.5.5' }),
  );
  const [scan, ...moreScans] = harness.ofType('GRE_SCAN');
  const [gre, ...moreTunnels] = harness.ofType('GRE_TUNNEL');
  t.is(moreScans.length + moreTunnels.length, 0);
  t.is(scan?.description, 'GRE scan from 10.0.2.15 to 115.112.11.30 tunnel action: Tunnel::DISCOVER');
  t.is(gre?.description, 'GRE tunnel from 10.0.2.15 to 115.112.11.30 tunnel action: Tunnel::EXPIRE');
  t.is(gre?.threat_level, 'low');
  t.is(gre?.confidence, 1);
  t.deepEqual(gre?.attacker, { direction: 'SRC', ioc_type: 'IP', value: '10.0.2.15' });
  t.deepEqual(gre?.victim, { direction: 'DST', ioc_type: 'IP', value: '115.112.11.30' });
  t.deepEqual(gre?.uid, ['G2']);
});

// ---------------------------------------------------------------- software

test('MULTIPLE_SSH_VERSIONS: a client version change -> MEDIUM 0.9 (fix #34: major.minor); same version -> nothing', (t) => {
  const harness = new DetectionHarness();
  harness.feed(software(), software({ ts: T0 + 1 }), software({ ts: T0 + 2, software: 'HTTP::BROWSER', version_major: '9' }));
  t.is(harness.ofType('MULTIPLE_SSH_VERSIONS').length, 0);
  harness.feed(software({ ts: T0 + 4, version_major: '9', unparsed_version: 'OpenSSH_9.1' }));
  harness.feed(software({ ts: T0 + 5, version_major: '9', unparsed_version: 'OpenSSH_9.1' }));
  const [evidence, ...rest] = harness.ofType('MULTIPLE_SSH_VERSIONS');
  t.is(rest.length, 0);
  t.is(evidence?.description, 'SSH client version changing from 8.1 to 9.1');
  t.is(evidence?.threat_level, 'medium');
  t.is(evidence?.confidence, 0.9);
  t.deepEqual(evidence?.attacker, { direction: 'SRC', ioc_type: 'IP', value: '192.168.1.247' });
  harness.feed(software({ ts: T0 + 6, software: 'SSH::SERVER', version_major: '7', version_minor: '4' }),
    software({ ts: T0 + 7, software: 'SSH::SERVER', version_major: '7', version_minor: '9' }));
  t.is(harness.ofType('MULTIPLE_SSH_VERSIONS')[1]?.description, 'SSH server version changing from 7.4 to 7.9');
});
