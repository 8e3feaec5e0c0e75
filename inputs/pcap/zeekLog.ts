// Writes what the pcap reader produced as Zeek TSV logs: conn.log, ssh.log and software.log with
// the columns of Zeek's default logs, and arp.log with the columns of Slips' arp.zeek. Values are formatted like
// Zeek's ASCII writer: times and intervals with 6 decimals, '-' for unset fields, T/F booleans,
// and local_orig / local_resp from Zeek's default private address space.

import fs from 'node:fs';
import path from 'node:path';
import ipaddr from 'ipaddr.js';
import type { ArpRecord, SoftwareRecord, SshRecord } from '../records.js';
import type { FinishedConn } from './conntrack.js';
import { sshVersion, type SoftwareVersion } from './ssh.js';

const CONN_FIELDS = [
  ['ts', 'time'], ['uid', 'string'], ['id.orig_h', 'addr'], ['id.orig_p', 'port'], ['id.resp_h', 'addr'],
  ['id.resp_p', 'port'], ['proto', 'enum'], ['service', 'string'], ['duration', 'interval'], ['orig_bytes', 'count'],
  ['resp_bytes', 'count'], ['conn_state', 'string'], ['local_orig', 'bool'], ['local_resp', 'bool'],
  ['missed_bytes', 'count'], ['history', 'string'], ['orig_pkts', 'count'], ['orig_ip_bytes', 'count'],
  ['resp_pkts', 'count'], ['resp_ip_bytes', 'count'], ['tunnel_parents', 'set[string]'], ['ip_proto', 'count'],
] as const;

const ARP_FIELDS = [
  ['ts', 'time'], ['operation', 'string'], ['src_mac', 'string'], ['dst_mac', 'string'], ['orig_h', 'addr'],
  ['resp_h', 'addr'], ['orig_hw', 'string'], ['resp_hw', 'string'],
] as const;

const SSH_FIELDS = [
  ['ts', 'time'], ['uid', 'string'], ['id.orig_h', 'addr'], ['id.orig_p', 'port'], ['id.resp_h', 'addr'],
  ['id.resp_p', 'port'], ['version', 'count'], ['auth_success', 'bool'], ['auth_attempts', 'count'],
  ['direction', 'enum'], ['client', 'string'], ['server', 'string'], ['cipher_alg', 'string'], ['mac_alg', 'string'],
  ['compression_alg', 'string'], ['kex_alg', 'string'], ['host_key_alg', 'string'], ['host_key', 'string'],
] as const;

const SOFTWARE_FIELDS = [
  ['ts', 'time'], ['host', 'addr'], ['host_p', 'port'], ['software_type', 'enum'], ['name', 'string'],
  ['version.major', 'count'], ['version.minor', 'count'], ['version.minor2', 'count'], ['version.minor3', 'count'],
  ['version.addl', 'string'], ['unparsed_version', 'string'],
] as const;

/** Zeek's Site::private_address_space (counted as local when Site::local_nets is empty). */
const PRIVATE_SPACE = [
  '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/24',
  '192.0.2.0/24', '192.168.0.0/16', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24', '224.0.0.0/24',
  '239.0.0.0/8', '240.0.0.0/4', '255.255.255.255/32', '::/128', '::1/128', '64:ff9b:1::/48', '100::/64',
  '2001::/23', '2001:2::/48', '2001:db8::/32', 'fc00::/7', 'fe80::/10', 'fec0::/10',
].map((cidr) => ipaddr.parseCIDR(cidr));

export function isLocalAddr(addr: string): boolean {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(addr);
  } catch {
    return false;
  }
  // 6to4 forms of the IPv4 ranges.
  if (parsed.kind() === 'ipv6') {
    const parts = (parsed as ipaddr.IPv6).parts;
    if (parts[0] === 0x2002) {
      parsed = new ipaddr.IPv4([parts[1]! >> 8, parts[1]! & 0xff, parts[2]! >> 8, parts[2]! & 0xff]);
    }
  }
  for (const [net, bits] of PRIVATE_SPACE) {
    if (net.kind() === parsed.kind() && parsed.match(net, bits)) return true;
  }
  return false;
}

/** "YYYY-MM-DD-HH-MM-SS" in UTC, Zeek's #open / #close stamp. */
function stamp(date: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${date.getUTCFullYear()}-${p(date.getUTCMonth() + 1)}-${p(date.getUTCDate())}-${p(date.getUTCHours())}-${p(date.getUTCMinutes())}-${p(date.getUTCSeconds())}`;
}

class TsvLog {
  private readonly fd: number;
  private pending = '';

  constructor(file: string, logPath: string, fields: readonly (readonly [string, string])[]) {
    this.fd = fs.openSync(file, 'w');
    this.pending = '#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n' +
      `#path\t${logPath}\n#open\t${stamp(new Date())}\n` +
      `#fields\t${fields.map((f) => f[0]).join('\t')}\n#types\t${fields.map((f) => f[1]).join('\t')}\n`;
  }

  line(text: string): void {
    this.pending += text;
    this.pending += '\n';
    if (this.pending.length > 1 << 16) this.flush();
  }

  flush(): void {
    if (this.pending === '') return;
    fs.writeSync(this.fd, this.pending);
    this.pending = '';
  }

  close(): void {
    this.pending += `#close\t${stamp(new Date())}\n`;
    this.flush();
    fs.closeSync(this.fd);
  }
}

/** Zeek's ASCII writer escaping of a set string field ('(empty)' when empty). */
function str(value: string): string {
  if (value === '') return '(empty)';
  if (value === '-') return '\\x2d';
  return value.replace(/[\\\t\n\x00-\x1f\x7f-\xff]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Zeek's ssh.log direction (set_session): only when exactly one side is local. */
function sshDirection(r: SshRecord): string {
  const origLocal = isLocalAddr(r.saddr);
  if (origLocal === isLocalAddr(r.daddr)) return '-';
  return origLocal ? 'OUTBOUND' : 'INBOUND';
}

/** conn.log, arp.log, ssh.log and software.log of one run, in `<dir>` (created if missing). */
export class ZeekLogWriter {
  private readonly conn: TsvLog;
  private readonly arp: TsvLog;
  private readonly ssh: TsvLog;
  private readonly software: TsvLog;

  constructor(dir: string) {
    fs.mkdirSync(dir, { recursive: true });
    this.conn = new TsvLog(path.join(dir, 'conn.log'), 'conn', CONN_FIELDS);
    this.arp = new TsvLog(path.join(dir, 'arp.log'), 'arp', ARP_FIELDS);
    this.ssh = new TsvLog(path.join(dir, 'ssh.log'), 'ssh', SSH_FIELDS);
    this.software = new TsvLog(path.join(dir, 'software.log'), 'software', SOFTWARE_FIELDS);
  }

  writeConn(f: FinishedConn): void {
    const c = f.conn;
    const set = f.duration !== undefined;
    this.conn.line([
      c.ts.toFixed(6), c.uid, c.origH, c.origP, c.respH, c.respP, f.proto, c.service === '' ? '-' : c.service,
      set ? f.duration!.toFixed(6) : '-', set ? f.origBytes : '-', set ? f.respBytes : '-', f.state,
      isLocalAddr(c.origH) ? 'T' : 'F', isLocalAddr(c.respH) ? 'T' : 'F', c.missedBytes,
      c.history === '' ? '-' : c.history, c.orig.pkts, c.orig.ipBytes, c.resp.pkts, c.resp.ipBytes, '-', c.ipProto,
    ].join('\t'));
  }

  writeArp(r: ArpRecord): void {
    this.arp.line([r.ts.toFixed(6), r.operation, r.smac || '-', r.dmac || '-', r.saddr, r.daddr, r.src_hw, r.dst_hw].join('\t'));
  }

  writeSsh(r: SshRecord): void {
    const version = sshVersion(r.client, r.server);
    const opt = (v: string): string => (v === '' ? '-' : str(v));
    this.ssh.line([
      r.ts.toFixed(6), r.uid, r.saddr, r.sport, r.daddr, r.dport, version ?? '-',
      r.auth_success === null ? '-' : r.auth_success ? 'T' : 'F', r.auth_attempts, sshDirection(r), opt(r.client),
      opt(r.server), opt(r.cipher_alg), opt(r.mac_alg), opt(r.compression_alg), opt(r.kex_alg), opt(r.host_key_alg),
      opt(r.host_key),
    ].join('\t'));
  }

  writeSoftware(r: SoftwareRecord, v: SoftwareVersion): void {
    const count = (n: string): string => (n === '' ? '-' : n);
    this.software.line([
      r.ts.toFixed(6), r.saddr, r.sport === 0 ? '-' : r.sport, r.software, str(v.name), count(v.major), count(v.minor),
      count(v.minor2), count(v.minor3), v.addl === '' ? '-' : str(v.addl), str(r.unparsed_version),
    ].join('\t'));
  }

  flush(): void {
    this.conn.flush();
    this.arp.flush();
    this.ssh.flush();
    this.software.flush();
  }

  close(): void {
    this.conn.close();
    this.arp.close();
    this.ssh.close();
    this.software.close();
  }
}
