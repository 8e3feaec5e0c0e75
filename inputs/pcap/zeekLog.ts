// Writes Zeek TSV logs into zeek_files/: one file per log path, opened on its first line, with
// the #fields / #types header of the log's spec. Also the value formatting of Zeek's ASCII writer
// shared by every log (times and intervals with 6 decimals, '-' unset, '(empty)' empty, T/F
// booleans, \xNN escapes, ',' between set members), Zeek's local-address test (local_orig /
// local_resp, software and ssh direction), and the specs and rows of conn.log and arp.log (the
// columns of Zeek's default conn.log and of Slips' arp.zeek). Protocol analyzers define their
// own specs next to their parsers.

import fs from 'node:fs';
import path from 'node:path';
import ipaddr from 'ipaddr.js';
import type { ArpRecord } from '../records.js';
import type { FinishedConn } from './conntrack.js';

/** A Zeek log: its path (file name without .log) and its [name, type] columns. */
export interface ZeekLogSpec {
  path: string;
  fields: readonly (readonly [string, string])[];
}

/** A formatted cell (numbers are written as they are). */
export type ZeekValue = string | number;

export const CONN_LOG: ZeekLogSpec = {
  path: 'conn',
  fields: [
    ['ts', 'time'], ['uid', 'string'], ['id.orig_h', 'addr'], ['id.orig_p', 'port'], ['id.resp_h', 'addr'],
    ['id.resp_p', 'port'], ['proto', 'enum'], ['service', 'string'], ['duration', 'interval'], ['orig_bytes', 'count'],
    ['resp_bytes', 'count'], ['conn_state', 'string'], ['local_orig', 'bool'], ['local_resp', 'bool'],
    ['missed_bytes', 'count'], ['history', 'string'], ['orig_pkts', 'count'], ['orig_ip_bytes', 'count'],
    ['resp_pkts', 'count'], ['resp_ip_bytes', 'count'], ['tunnel_parents', 'set[string]'], ['ip_proto', 'count'],
  ],
};

export const ARP_LOG: ZeekLogSpec = {
  path: 'arp',
  fields: [
    ['ts', 'time'], ['operation', 'string'], ['src_mac', 'string'], ['dst_mac', 'string'], ['orig_h', 'addr'],
    ['resp_h', 'addr'], ['orig_hw', 'string'], ['resp_hw', 'string'],
  ],
};

/** Zeek's Site::private_address_space (counted as local when Site::local_nets is empty). */
const PRIVATE_SPACE = [
  '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/24',
  '192.0.2.0/24', '192.168.0.0/16', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24', '224.0.0.0/24',
  '239.0.0.0/8', '240.0.0.0/4', '255.255.255.255/32', '::/128', '::1/128', '64:ff9b:1::/48', '100::/64',
  '2001::/23', '2001:2::/48', '2001:db8::/32', 'fc00::/7', 'fe80::/10', 'fec0::/10',
].map((cidr) => ipaddr.parseCIDR(cidr));

/** The IPv4 ranges of PRIVATE_SPACE as [network, mask] numbers (unsigned). */
const PRIVATE_V4 = PRIVATE_SPACE.filter(([net]) => net.kind() === 'ipv4').map(([net, bits]) => {
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  const [a, b, c, d] = (net as ipaddr.IPv4).octets;
  return [(((a! << 24) | (b! << 16) | (c! << 8) | d!) & mask) >>> 0, mask] as const;
});

/** A dotted-quad IPv4 text as written by the decoder (no leading zeros) as a number, else -1. */
function canonicalIpv4(addr: string): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < addr.length; i++) {
    const c = addr.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
      dots += 1;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && part === 0) return -1;
      part = part * 10 + (c - 0x30);
      digits += 1;
      if (part > 255) return -1;
    } else return -1;
  }
  if (digits === 0 || dots !== 3) return -1;
  return value * 256 + part;
}

export function isLocalAddr(addr: string): boolean {
  const v4 = canonicalIpv4(addr);
  if (v4 >= 0) {
    for (const [net, mask] of PRIVATE_V4) if (((v4 & mask) >>> 0) === net) return true;
    return false;
  }
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

/** Characters Zeek's ASCII writer escapes as \xNN. */
const NEEDS_ESCAPE = /[\\\t\n\x00-\x1f\x7f-\xff]/;

/** A string field: escaped, '(empty)' when empty (Zeek's ASCII writer). */
export function zeekString(value: string): string {
  if (value === '') return '(empty)';
  if (value === '-') return '\\x2d';
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/[\\\t\n\x00-\x1f\x7f-\xff]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** An optional string field: '-' when unset (''), else as zeekString. */
export function zeekOptional(value: string | undefined): string {
  return value === undefined || value === '' ? '-' : zeekString(value);
}

/** A time or interval: 6 decimals, '-' when unset. */
export function zeekTime(seconds: number | undefined): string {
  return seconds === undefined ? '-' : seconds.toFixed(6);
}

/** A bool: T / F, '-' when unset. */
export function zeekBool(value: boolean | undefined | null): string {
  return value === undefined || value === null ? '-' : value ? 'T' : 'F';
}

/** A set or vector of strings: members escaped (and ',' in them), '(empty)' when empty, '-' unset. */
export function zeekList(values: readonly string[] | undefined): string {
  if (values === undefined) return '-';
  if (values.length === 0) return '(empty)';
  return values.map((v) => zeekString(v).replace(/,/g, '\\x2c')).join(',');
}

class TsvLog {
  private readonly fd: number;
  private pending = '';

  constructor(file: string, spec: ZeekLogSpec) {
    this.fd = fs.openSync(file, 'w');
    const fields = spec.fields;
    this.pending = '#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n' +
      `#path\t${spec.path}\n#open\t${stamp(new Date())}\n` +
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

/** The conn.log row of a finished connection. */
export function connRow(f: FinishedConn): ZeekValue[] {
  const c = f.conn;
  const set = f.duration !== undefined;
  return [
    zeekTime(c.ts), c.uid, c.origH, c.origP, c.respH, c.respP, f.proto, c.service === '' ? '-' : c.service,
    zeekTime(f.duration), set ? f.origBytes : '-', set ? f.respBytes : '-', f.state,
    zeekBool(isLocalAddr(c.origH)), zeekBool(isLocalAddr(c.respH)), c.missedBytes,
    c.history === '' ? '-' : c.history, c.orig.pkts, c.orig.ipBytes, c.resp.pkts, c.resp.ipBytes,
    c.tunnelParents.length > 0 ? zeekList(c.tunnelParents) : '-', c.ipProto,
  ];
}

/** The arp.log row of an ARP record. */
export function arpRow(r: ArpRecord): ZeekValue[] {
  return [zeekTime(r.ts), r.operation, r.smac || '-', r.dmac || '-', r.saddr, r.daddr, r.src_hw, r.dst_hw];
}

/** The Zeek logs of one run, in `<dir>` (created if missing); conn.log always exists. */
export class ZeekLogWriter {
  private readonly logs = new Map<string, TsvLog>();

  constructor(private readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
    this.open(CONN_LOG);
  }

  private open(spec: ZeekLogSpec): TsvLog {
    let log = this.logs.get(spec.path);
    if (log === undefined) {
      log = new TsvLog(path.join(this.dir, `${spec.path}.log`), spec);
      this.logs.set(spec.path, log);
    }
    return log;
  }

  write(spec: ZeekLogSpec, values: readonly ZeekValue[]): void {
    this.open(spec).line(values.join('\t'));
  }

  flush(): void {
    for (const log of this.logs.values()) log.flush();
  }

  close(): void {
    for (const log of this.logs.values()) log.close();
    this.logs.clear();
  }
}
