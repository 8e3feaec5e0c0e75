// The pcap SSH analyzer (banners by content on any port, ssh / software records and logs) and
// two end-to-end runs of the CLI: SSH password guessing from a pcap, and a DHCP scan from a
// Zeek dhcp.log.

import test from 'ava';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseSoftwareVersion } from '../inputs/pcap/software.js';
import { sshVersion } from '../inputs/pcap/ssh.js';
import type { ConnRecord, FlowRecord, SoftwareRecord, SshRecord } from '../inputs/records.js';
import { A, F, P, type Pkt, pcapFile, R, readCapture, S, tcpConversation, tcpFrame, zeekRows } from './helpers/packets.js';
import { alertsLog, analyzeWithSlips, tempDir } from './helpers/slips.js';

// ---------------------------------------------------------------------------------------------
// Packet builders (Ethernet / IPv4 / TCP, classic pcap)

const CLIENT = '10.0.0.5';
const SERVER = '10.0.0.9';
const CLIENT_BANNER = 'SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.1';
const SERVER_BANNER = 'SSH-2.0-OpenSSH_7.4';
function frame(fromClient: boolean, sport: number, dport: number, seq: number, ack: number, flags: number, data: Buffer): Buffer {
  return fromClient
    ? tcpFrame(CLIENT, SERVER, sport, dport, seq, ack, flags, data, true)
    : tcpFrame(SERVER, CLIENT, dport, sport, seq, ack, flags, data, false);
}

/** Encrypted-looking bytes (deterministic). */
function noise(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

/**
 * One SSH session: handshake, server and client banners, a few encrypted-looking packets each
 * way, then FIN both ways (or a server RST, as after failed logins).
 */
function sshSession(t0: number, sport: number, end: 'fin' | 'rst', dport = 2222): Pkt[] {
  const server = Buffer.from(`${SERVER_BANNER}\r\n`);
  const client = Buffer.from(`${CLIENT_BANNER}\r\n`);
  const c1 = noise(200, sport), s1 = noise(300, sport + 1), c2 = noise(64, sport + 2), s2 = noise(48, sport + 3);
  let c = 1000, s = 9000;
  const out: Buffer[] = [];
  const send = (fromClient: boolean, flags: number, data: Buffer = Buffer.alloc(0)): void => {
    out.push(frame(fromClient, sport, dport, fromClient ? c : s, fromClient ? s : c, flags, data));
    const used = data.length + ((flags & (S | F)) !== 0 ? 1 : 0);
    if (fromClient) c += used;
    else s += used;
  };
  send(true, S);
  out.push(frame(false, sport, dport, s, c, S | A, Buffer.alloc(0)));
  s += 1;
  send(true, A);
  send(false, P | A, server);
  send(true, P | A, client);
  send(true, P | A, c1);
  send(false, P | A, s1);
  send(true, P | A, c2);
  send(false, P | A, s2);
  if (end === 'fin') {
    send(true, F | A);
    send(false, F | A);
    send(true, A);
  } else {
    send(false, R | A);
  }
  return out.map((f, i) => ({ ts: t0 + i * 0.01, frame: f }));
}

async function readPcap(t: import('ava').ExecutionContext, pkts: Pkt[], zeekLogDir?: string): Promise<FlowRecord[]> {
  return (await readCapture(t, pcapFile(pkts), zeekLogDir)).records;
}

// ---------------------------------------------------------------------------------------------
// Analyzer

test('an SSH session on port 2222 is found by content: ssh record with both banners, service ssh', async (t) => {
  const dir = tempDir(t, 'pcap-ssh-logs-');
  const records = await readPcap(t, sshSession(1_700_000_000, 40000, 'fin'), dir);
  const conn = records.filter((r): r is ConnRecord => r.kind === 'conn');
  const ssh = records.filter((r): r is SshRecord => r.kind === 'ssh');
  t.is(conn.length, 1);
  t.is(conn[0]!.appproto, 'ssh');
  t.is(ssh.length, 1);
  const r = ssh[0]!;
  t.like(r, {
    uid: conn[0]!.uid, saddr: CLIENT, sport: 40000, daddr: SERVER, dport: 2222, version: 2,
    client: CLIENT_BANNER, server: SERVER_BANNER, auth_success: null, auth_attempts: 0, source: 'pcap',
  });
  // ts: when the first banner (the server's, 4th packet) was seen, as Zeek's set_session.
  t.is(r.ts, 1_700_000_000.03);
  // Records come out in ts order.
  t.deepEqual(records.map((x) => x.ts), [...records.map((x) => x.ts)].sort((a, b) => a - b));

  const software = records.filter((x): x is SoftwareRecord => x.kind === 'software');
  t.deepEqual(software.map((s) => [s.software, s.saddr, s.sport, s.software_name, s.version_major, s.version_minor, s.unparsed_version]), [
    ['SSH::SERVER', SERVER, 2222, 'OpenSSH', '7', '4', 'OpenSSH_7.4'],
    ['SSH::CLIENT', CLIENT, 0, 'OpenSSH', '8', '9', 'OpenSSH_8.9p1 Ubuntu-3ubuntu0.1'],
  ]);

  const sshLog = zeekRows(path.join(dir, 'ssh.log'));
  t.is(sshLog.length, 1);
  t.like(sshLog[0], {
    'id.orig_h': CLIENT, 'id.resp_p': '2222', version: '2', auth_success: '-', auth_attempts: '0', direction: '-',
    client: CLIENT_BANNER, server: SERVER_BANNER, cipher_alg: '-', host_key_fingerprint: '-',
  });
  t.is(zeekRows(path.join(dir, 'conn.log'))[0]!['service'], 'ssh');
  const softwareLog = zeekRows(path.join(dir, 'software.log'));
  t.like(softwareLog[1], {
    host: CLIENT, host_p: '-', software_type: 'SSH::CLIENT', name: 'OpenSSH', 'version.major': '8', 'version.minor': '9',
    'version.addl': 'p1', unparsed_version: 'OpenSSH_8.9p1 Ubuntu-3ubuntu0.1',
  });
});

/** An SSH binary packet (RFC 4253 §6) with 4 bytes of padding. */
function sshPacket(payload: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(payload.length + 1 + 4, 0);
  head[4] = 4;
  return Buffer.concat([head, payload, Buffer.alloc(4)]);
}

function wireString(value: string | Buffer): Buffer {
  const body = typeof value === 'string' ? Buffer.from(value) : value;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length, 0);
  return Buffer.concat([len, body]);
}

function kexInit(lists: string[][]): Buffer {
  return sshPacket(Buffer.concat([Buffer.from([20]), Buffer.alloc(16, 7), ...lists.map((l) => wireString(l.join(','))), Buffer.from([0, 0, 0, 0, 0])]));
}

test('a full SSH 2 exchange: negotiated algorithms, host key fingerprint and Zeek\'s authentication guess', async (t) => {
  const hostKey = Buffer.concat([wireString('ssh-ed25519'), wireString(noise(32, 5))]);
  const client = kexInit([
    ['curve25519-sha256', 'ecdh-sha2-nistp256'], ['ssh-ed25519'], ['aes128-ctr', 'aes256-ctr'], ['aes128-ctr', 'aes256-ctr'],
    ['hmac-sha2-256'], ['hmac-sha1'], ['none'], ['none'], [], [],
  ]);
  const server = kexInit([
    ['ecdh-sha2-nistp256'], ['ssh-rsa', 'ssh-ed25519'], ['aes256-ctr', 'aes128-ctr'], ['aes256-ctr', 'aes128-ctr'],
    ['hmac-sha1', 'hmac-sha2-256'], ['hmac-sha1', 'hmac-sha2-256'], ['none', 'zlib'], ['none', 'zlib'], [], [],
  ]);
  const kexReply = sshPacket(Buffer.concat([Buffer.from([31]), wireString(hostKey), wireString(noise(65, 6)), wireString(noise(80, 7))]));
  const newKeys = sshPacket(Buffer.from([21]));
  const conversation = (clientKex: Buffer, sport: number): Pkt[] => tcpConversation(1_700_000_000 + sport - 40100, { client: CLIENT, server: SERVER, sport, dport: 22 }, [
    { fromClient: false, data: `${SERVER_BANNER}\r\n` },
    { fromClient: true, data: `${CLIENT_BANNER}\r\n` },
    { fromClient: true, data: clientKex },
    { fromClient: false, data: server },
    { fromClient: true, data: sshPacket(Buffer.concat([Buffer.from([30]), wireString(noise(32, 8))])) },
    // The server's reply and its NEWKEYS in one segment.
    { fromClient: false, data: Buffer.concat([kexReply, newKeys]) },
    // The client's NEWKEYS with its first encrypted bytes (the service request) in the same segment.
    { fromClient: true, data: Buffer.concat([newKeys, noise(52, 9)]) },
    { fromClient: false, data: noise(52, 10) }, // service accept
    { fromClient: true, data: noise(100, 11) },
    { fromClient: false, data: noise(68, 12) }, // USERAUTH_FAILURE: its size is learnt
    { fromClient: true, data: noise(100, 13) },
    { fromClient: false, data: noise(68, 14) }, // a failed attempt
    { fromClient: true, data: noise(100, 15) },
    { fromClient: false, data: noise(36, 16) }, // 16 bytes less than the service accept: success
  ]);
  const zlibClient = kexInit([
    ['ecdh-sha2-nistp256'], ['ssh-ed25519'], ['aes128-ctr'], ['aes128-ctr'], ['hmac-sha1'], ['hmac-sha1'], ['zlib'], ['zlib'], [], [],
  ]);
  const pkts = [...conversation(client, 40100), ...conversation(zlibClient, 40101)];
  const dir = tempDir(t, 'pcap-ssh-auth-');
  const ssh = (await readPcap(t, pkts, dir)).filter((r): r is SshRecord => r.kind === 'ssh');
  t.is(ssh.length, 2);
  t.like(ssh[0], {
    version: 2, auth_success: true, auth_attempts: 2, kex_alg: 'ecdh-sha2-nistp256', host_key_alg: 'ssh-ed25519',
    cipher_alg: 'aes128-ctr', mac_alg: 'To server: hmac-sha2-256, to client: hmac-sha1', compression_alg: 'none',
    host_key: `SHA256:${createHash('sha256').update(hostKey).digest('base64').replace(/=+$/, '')}`,
  });
  t.like(zeekRows(path.join(dir, 'ssh.log'))[0], { auth_success: 'T', auth_attempts: '2', kex_alg: 'ecdh-sha2-nistp256' });

  // Compressed streams get no guess (Zeek's SSH::compression_algorithms).
  t.like(ssh[1], { compression_alg: 'zlib', auth_success: null, auth_attempts: 0 });
});

test('a TCP connection without an SSH banner is not SSH; software is logged once per host and version', async (t) => {
  const http = sshSession(1_700_000_000, 40001, 'fin', 80).map((p) => ({ ...p, frame: Buffer.from(p.frame.toString('latin1').replace('SSH-', 'HTTP'), 'latin1') }));
  const records = await readPcap(t, [...http, ...sshSession(1_700_000_010, 40002, 'rst'), ...sshSession(1_700_000_020, 40003, 'rst')]);
  const conn = records.filter((r): r is ConnRecord => r.kind === 'conn');
  t.deepEqual(conn.map((c) => c.appproto), ['', 'ssh', 'ssh']);
  t.is(records.filter((r) => r.kind === 'ssh').length, 2);
  t.is(records.filter((r) => r.kind === 'software').length, 2);
});

test('software versions and SSH versions are parsed like Zeek', (t) => {
  t.like(parseSoftwareVersion('OpenSSH_6.6.1p1 Ubuntu-2ubuntu2'), { name: 'OpenSSH', major: '6', minor: '6', minor2: '1', addl: 'p1' });
  t.like(parseSoftwareVersion('paramiko_1.15.2'), { name: 'paramiko', major: '1', minor: '15', minor2: '2', addl: '' });
  t.like(parseSoftwareVersion('Go'), { name: 'Go', major: '', minor: '' });
  t.is(sshVersion('SSH-2.0-a', 'SSH-2.0-b'), 2);
  t.is(sshVersion('SSH-2.0-a', 'SSH-1.99-b'), 2);
  t.is(sshVersion('SSH-2.0-a', 'SSH-1.5-b'), 0);
  t.is(sshVersion('SSH-1.5-a', 'SSH-1.5-b'), 1);
  t.is(sshVersion('', 'SSH-2.0-b'), undefined);
});

// ---------------------------------------------------------------------------------------------
// End to end through the CLI (a private redis-server per run)

async function runCli(t: import('ava').ExecutionContext, input: string): Promise<string> {
  return alertsLog(await analyzeWithSlips(t, input));
}

function bruteForcePcap(t: import('ava').ExecutionContext, sessions: number): string {
  const pkts: Pkt[] = [];
  for (let i = 0; i < sessions; i++) pkts.push(...sshSession(1_700_000_000 + i * 2, 41000 + i, i % 2 === 0 ? 'rst' : 'fin'));
  const file = path.join(tempDir(t, 'pcap-ssh-bf-'), 'bruteforce.pcap');
  fs.writeFileSync(file, pcapFile(pkts));
  return file;
}

const BRUTE_FORCE = `SSH brute force detector from ${CLIENT} to ${SERVER} on 2222/tcp. Attempts observed: 9.`;

test('12 SSH logins on port 2222 from a pcap are reported as SSH password guessing', async (t) => {
  const alerts = await runCli(t, bruteForcePcap(t, 12));
  t.true(alerts.includes(BRUTE_FORCE), alerts);
});

test('8 SSH logins from a pcap are not password guessing', async (t) => {
  const alerts = await runCli(t, bruteForcePcap(t, 8));
  t.false(alerts.includes('SSH brute force detector'), alerts);
});

const DHCP_FIELDS = [
  'ts', 'uids', 'client_addr', 'server_addr', 'mac', 'host_name', 'client_fqdn', 'domain', 'requested_addr',
  'assigned_addr', 'lease_time', 'client_message', 'server_message', 'msg_types', 'duration',
];
const DHCP_TYPES = [
  'time', 'set[string]', 'addr', 'addr', 'string', 'string', 'string', 'string', 'addr', 'addr', 'interval', 'string',
  'string', 'vector[string]', 'interval',
];

/** A Zeek directory whose dhcp.log has 192.168.1.50 requesting `addresses` different addresses. */
function dhcpDir(t: import('ava').ExecutionContext, addresses: number): string {
  const dir = tempDir(t, 'zeek-dhcp-');
  const lines = [
    '#separator \\x09', '#set_separator\t,', '#empty_field\t(empty)', '#unset_field\t-', '#path\tdhcp',
    '#open\t2024-01-01-00-00-00', `#fields\t${DHCP_FIELDS.join('\t')}`, `#types\t${DHCP_TYPES.join('\t')}`,
  ];
  for (let i = 0; i < addresses; i++) {
    lines.push([
      (1_700_000_000 + i * 5).toFixed(6), `CDhcp${i}`, '192.168.1.50', '192.168.1.1', '02:00:00:00:00:50', 'victim', '-', '-',
      `192.168.1.${100 + i}`, '-', '-', '-', '-', 'REQUEST', '0.000100',
    ].join('\t'));
  }
  lines.push('#close\t2024-01-01-00-01-00');
  fs.writeFileSync(path.join(dir, 'dhcp.log'), `${lines.join('\n')}\n`);
  return dir;
}

test('a client requesting 8 different addresses in a Zeek dhcp.log is a DHCP scan', async (t) => {
  const alerts = await runCli(t, dhcpDir(t, 8));
  t.true(alerts.includes('Performing a DHCP scan by requesting 8 different IP addresses. Confidence: 0.8. by Slips'), alerts);
});

test('3 different requested addresses are not a DHCP scan', async (t) => {
  const alerts = await runCli(t, dhcpDir(t, 3));
  t.false(alerts.includes('Performing a DHCP scan'), alerts);
});
