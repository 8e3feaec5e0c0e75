// Writes what the pcap reader produced as Zeek TSV logs: conn.log with the columns of Zeek's
// default conn.log, and arp.log with the columns of Slips' arp.zeek. Values are formatted like
// Zeek's ASCII writer: times and intervals with 6 decimals, '-' for unset fields, T/F booleans,
// and local_orig / local_resp from Zeek's default private address space.

import fs from 'node:fs';
import path from 'node:path';
import ipaddr from 'ipaddr.js';
import type { ArpRecord } from '../records.js';
import type { FinishedConn } from './conntrack.js';

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

/** conn.log and arp.log of one run, in `<dir>` (created if missing). */
export class ZeekLogWriter {
  private readonly conn: TsvLog;
  private readonly arp: TsvLog;

  constructor(dir: string) {
    fs.mkdirSync(dir, { recursive: true });
    this.conn = new TsvLog(path.join(dir, 'conn.log'), 'conn', CONN_FIELDS);
    this.arp = new TsvLog(path.join(dir, 'arp.log'), 'arp', ARP_FIELDS);
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

  flush(): void {
    this.conn.flush();
    this.arp.flush();
  }

  close(): void {
    this.conn.close();
    this.arp.close();
  }
}
