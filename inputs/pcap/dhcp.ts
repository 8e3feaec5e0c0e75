// DHCP analyzer for the pcap input: dhcp.log lines and dhcp records with the semantics of Zeek's
// DHCP analyzer and base/protocols/dhcp/main.zeek. Taken by content on any UDP port (BOOTP op 1
// or 2 and the DHCP magic cookie at offset 236), like Zeek's ports 67 / 68 / 4011 in practice.
//
// One dhcp.log entry aggregates the messages of one transaction id across connections (client
// broadcasts, server unicasts and broadcasts): ts of the first message, the connection uids,
// msg_types in order, duration to the last message. A client message (from the originator, and
// from 0.0.0.0, port 68 or towards port 67) gives client_addr (its non-broadcast source),
// host_name, client_fqdn, requested_addr and mac (client identifier option of type Ethernet,
// else its chaddr when nothing better comes); a server message gives server_addr (when it hands
// out an address), assigned_addr, client_addr (the assigned address when none was seen), mac
// (chaddr), domain and lease_time; a message option goes to client_message / server_message.
// Expiry like Zeek's join table: first looked at 10 s after the entry was made, then every 5 s;
// written once idle for more than 5 s or older than 30 s, or at 10 uids / 50 message types.
// Expiry is evaluated on packet time when DHCP messages arrive or a connection ends; entries
// whose first connection ends are written then (at the end of the input, like Zeek's
// zeek_done). At most MAX_ENTRIES transactions are watched (the oldest is written first). The
// connection's service is 'dhcp' once a message parsed.
//
// Options are read as Zeek's parser reads them: fixed-size values take their size whatever the
// option length says, the list must end with option 255 (else the message is dropped).

import type { DhcpRecord } from '../records.js';
import { addService, type AnalyzerOutput, type AnalyzerSession, type ProtocolAnalyzer } from './analyzer.js';
import type { FinishedConn, TrackedConn } from './conntrack.js';
import { ipv4String } from './decode.js';
import { loggedText } from './dns.js';
import { type ZeekLogSpec, type ZeekValue, zeekList, zeekOptional, zeekTime } from './zeekLog.js';

export const DHCP_LOG: ZeekLogSpec = {
  path: 'dhcp',
  fields: [
    ['ts', 'time'], ['uids', 'set[string]'], ['client_addr', 'addr'], ['server_addr', 'addr'], ['mac', 'string'],
    ['host_name', 'string'], ['client_fqdn', 'string'], ['domain', 'string'], ['requested_addr', 'addr'],
    ['assigned_addr', 'addr'], ['lease_time', 'interval'], ['client_message', 'string'], ['server_message', 'string'],
    ['msg_types', 'vector[string]'], ['duration', 'interval'],
  ],
};

const BOOTP_FIXED_LEN = 236;
const MAGIC_COOKIE = 0x63825363;
/** Zeek's DHCP::max_txid_watch_time, max_uids_per_log_entry, max_msg_types_per_log_entry. */
const MAX_WATCH = 30;
const MAX_UIDS = 10;
const MAX_MSG_TYPES = 50;
/** Most transactions watched at once (memory bound; Zeek has none). */
const MAX_ENTRIES = 10_000;
/** The join table's first look (create_expire), the re-look interval and the idle limit. */
const FIRST_EXPIRE = 10;
const RE_EXPIRE = 5;
const IDLE = 5;

const MESSAGE_TYPES = [
  '', 'DISCOVER', 'OFFER', 'REQUEST', 'DECLINE', 'ACK', 'NAK', 'RELEASE', 'INFORM', 'FORCERENEW', 'LEASEQUERY',
  'LEASEUNASSIGNED', 'LEASEUNKNOWN', 'LEASEACTIVE', 'BULKLEASEQUERY', 'LEASEQUERYDONE', 'ACTIVELEASEQUERY',
  'LEASEQUERYSTATUS', 'TLS',
];

function messageTypeName(type: number): string {
  return MESSAGE_TYPES[type] || `unknown-message-type-${type}`;
}

/** Options whose value Zeek reads as a fixed-size number, by code: the bytes taken. */
const FIXED_SIZE: Record<number, number> = { 1: 4, 2: 4, 19: 1, 28: 4, 50: 4, 51: 4, 53: 1, 54: 4, 57: 2, 58: 4, 59: 4, 116: 1 };
/** Options Zeek reads as a list of IPv4 addresses (length / 4 of them). */
const ADDRESS_LISTS = new Set([3, 4, 5, 6, 42, 44]);

/** The parts of a DHCP message dhcp.log needs. */
export interface DhcpMessage {
  xid: number;
  type: number;
  chaddr: string;
  yiaddr: string;
  hostName: string | undefined;
  domainName: string | undefined;
  requestedAddr: string | undefined;
  lease: number | undefined;
  message: string | undefined;
  /** Client identifier option: hardware type and address. */
  clientId: { hwtype: number; hwaddr: string } | undefined;
  clientFqdn: string | undefined;
}

/** Zeek's fmt_mac: 6 bytes, or 8 when bytes 7-8 are set; '' for other lengths under 8. */
function fmtMac(b: Buffer): string {
  if (b.length < 8 && b.length !== 6) return '';
  const n = b.length === 6 || (b[6] === 0 && b[7] === 0) ? 6 : 8;
  return Array.from(b.subarray(0, n), (x) => x.toString(16).padStart(2, '0')).join(':');
}

/** Whether a UDP payload is a BOOTP message with the DHCP cookie. */
export function looksLikeDhcp(b: Buffer): boolean {
  return b.length >= BOOTP_FIXED_LEN + 4 && (b[0] === 1 || b[0] === 2) && b.readUInt32BE(BOOTP_FIXED_LEN) === MAGIC_COOKIE;
}

/** A DHCP message, or undefined when it is not one Zeek's parser takes. */
export function parseDhcp(b: Buffer): DhcpMessage | undefined {
  if (!looksLikeDhcp(b)) return undefined;
  const msg: DhcpMessage = {
    xid: b.readUInt32BE(4), type: 0, chaddr: fmtMac(b.subarray(28, 44)), yiaddr: ipv4String(b, 16),
    hostName: undefined, domainName: undefined, requestedAddr: undefined, lease: undefined, message: undefined,
    clientId: undefined, clientFqdn: undefined,
  };
  let sawType = false;
  let pos = BOOTP_FIXED_LEN + 4;
  for (;;) {
    if (pos >= b.length) return undefined;
    const code = b[pos++]!;
    if (code === 255) break;
    if (code === 0) continue;
    if (pos >= b.length) return undefined;
    const length = b[pos++]!;
    const fixed = FIXED_SIZE[code];
    const take = fixed ?? (ADDRESS_LISTS.has(code) ? length - (length % 4) : length);
    if (pos + take > b.length) return undefined;
    const value = b.subarray(pos, pos + take);
    pos += take;
    switch (code) {
      case 53:
        if (!sawType) msg.type = value[0]!;
        sawType = true;
        break;
      case 12:
        msg.hostName = value.toString('latin1');
        break;
      case 15: {
        // Up to the last non-NUL byte (a 1-byte name counts as empty, as in Zeek).
        let last = 0;
        for (let i = 0; i < value.length; i++) if (value[i] !== 0) last = i;
        msg.domainName = value.toString('latin1', 0, last === 0 ? 0 : last + 1);
        break;
      }
      case 50:
        msg.requestedAddr = ipv4String(value, 0);
        break;
      case 51:
        msg.lease = value.readUInt32BE(0);
        break;
      case 56:
        msg.message = value.toString('latin1');
        break;
      case 61:
        if (length < 1) return undefined;
        msg.clientId = { hwtype: value[0]!, hwaddr: fmtMac(value.subarray(1)) };
        break;
      case 81:
        if (length < 3) return undefined;
        msg.clientFqdn = value.toString('latin1', 3);
        break;
    }
  }
  return msg;
}

/** One dhcp.log entry being built (Zeek's DHCP::Info). */
interface DhcpInfo {
  ts: number;
  lastTs: number;
  /** When the join table looks at the entry next. */
  nextCheck: number;
  /** The connection of the first message (the entry is written when it ends, at the latest). */
  firstConn: TrackedConn;
  uids: string[];
  clientAddr: string | undefined;
  serverAddr: string | undefined;
  mac: string | undefined;
  clientChaddr: string | undefined;
  hostName: string | undefined;
  clientFqdn: string | undefined;
  domain: string | undefined;
  requestedAddr: string | undefined;
  assignedAddr: string | undefined;
  lease: number | undefined;
  clientMessage: string | undefined;
  serverMessage: string | undefined;
  msgTypes: string[];
  duration: number;
}

/** The transactions of one capture (Zeek's DHCP::join_data), shared by all connections. */
export class DhcpAnalyzer implements ProtocolAnalyzer {
  private readonly entries = new Map<number, DhcpInfo>();
  /** The earliest nextCheck of the entries. */
  private nextCheck = Infinity;

  constructor(private readonly out: AnalyzerOutput) {}

  open(conn: TrackedConn): AnalyzerSession | undefined {
    return conn.ipProto === 17 ? new DhcpSession(conn, this) : undefined;
  }

  /** Writes the entries the join table would have expired by `now`. */
  expire(now: number): void {
    if (now < this.nextCheck) return;
    let next = Infinity;
    for (const [xid, info] of this.entries) {
      while (info.nextCheck <= now) {
        const at = info.nextCheck;
        if (at - info.lastTs > IDLE || at - info.ts > MAX_WATCH) {
          this.write(xid, info);
          break;
        }
        info.nextCheck = at + RE_EXPIRE;
      }
      if (this.entries.has(xid) && info.nextCheck < next) next = info.nextCheck;
    }
    this.nextCheck = next;
  }

  /** Zeek's DHCP::aggregate_msgs for one message. */
  message(conn: TrackedConn, isOrig: boolean, msg: DhcpMessage): void {
    const now = conn.tracker.now;
    this.expire(now);
    let info = this.entries.get(msg.xid);
    if (info === undefined) {
      info = {
        ts: now, lastTs: now, nextCheck: now + FIRST_EXPIRE, firstConn: conn, uids: [conn.uid], clientAddr: undefined,
        serverAddr: undefined, mac: undefined, clientChaddr: undefined, hostName: undefined, clientFqdn: undefined,
        domain: undefined, requestedAddr: undefined, assignedAddr: undefined, lease: undefined,
        clientMessage: undefined, serverMessage: undefined, msgTypes: [], duration: 0,
      };
      this.entries.set(msg.xid, info);
      if (info.nextCheck < this.nextCheck) this.nextCheck = info.nextCheck;
      // A flood of transaction ids: the oldest entry goes out early.
      if (this.entries.size > MAX_ENTRIES) {
        const [oldXid, oldest] = this.entries.entries().next().value!;
        this.write(oldXid, oldest);
      }
    }
    info.duration = now - info.ts;
    if (!info.uids.includes(conn.uid)) info.uids.push(conn.uid);
    info.msgTypes.push(messageTypeName(msg.type));
    const isClient = isOrig && (conn.origH === '0.0.0.0' || conn.origP === 68 || conn.respP === 67);
    if (msg.message !== undefined) {
      if (isClient) info.clientMessage = msg.message;
      else info.serverMessage = msg.message;
    }
    info.lastTs = now;
    if (isClient) {
      if (conn.origH !== '0.0.0.0' && conn.origH !== '255.255.255.255') info.clientAddr = conn.origH;
      if (msg.hostName !== undefined) info.hostName = msg.hostName;
      if (msg.clientFqdn !== undefined) info.clientFqdn = msg.clientFqdn;
      if (msg.clientId !== undefined && msg.clientId.hwtype === 1) info.mac = msg.clientId.hwaddr;
      else info.clientChaddr = msg.chaddr;
      if (msg.requestedAddr !== undefined) info.requestedAddr = msg.requestedAddr;
    } else {
      if (msg.yiaddr !== '0.0.0.0') info.serverAddr = isOrig ? conn.origH : conn.respH;
      if (msg.chaddr !== '' && info.mac === undefined) info.mac = msg.chaddr;
      if (msg.yiaddr !== '0.0.0.0') info.assignedAddr = msg.yiaddr;
      if (info.clientAddr === undefined && info.assignedAddr !== undefined) info.clientAddr = info.assignedAddr;
      if (msg.domainName !== undefined) info.domain = msg.domainName;
      if (msg.lease !== undefined) info.lease = msg.lease;
    }
    if (info.uids.length >= MAX_UIDS || info.msgTypes.length >= MAX_MSG_TYPES) this.write(msg.xid, info);
  }

  /** A connection ended: due entries are written, and those it started. */
  connEnded(conn: TrackedConn): void {
    this.expire(conn.tracker.now);
    for (const [xid, info] of this.entries) {
      if (info.firstConn === conn) this.write(xid, info);
    }
  }

  private write(xid: number, info: DhcpInfo): void {
    this.entries.delete(xid);
    if (info.mac === undefined && info.clientChaddr !== undefined) info.mac = info.clientChaddr;
    const row: ZeekValue[] = [
      zeekTime(info.ts), zeekList(info.uids), info.clientAddr ?? '-', info.serverAddr ?? '-', optionalString(info.mac),
      optionalString(info.hostName), optionalString(info.clientFqdn), optionalString(info.domain),
      info.requestedAddr ?? '-', info.assignedAddr ?? '-', zeekTime(info.lease), optionalString(info.clientMessage),
      optionalString(info.serverMessage), zeekList(info.msgTypes), zeekTime(info.duration),
    ];
    const clientAddr = info.clientAddr ?? '';
    const serverAddr = info.serverAddr ?? '';
    const mac = loggedText(info.mac);
    const record: DhcpRecord = {
      kind: 'dhcp',
      ts: info.ts,
      uid: info.uids[0]!,
      // As the Zeek reader: saddr is the client address, or the MAC when no address is known.
      saddr: clientAddr !== '' || serverAddr !== '' ? clientAddr : mac,
      daddr: serverAddr,
      interface: info.firstConn.iface,
      source: 'pcap',
      uids: info.uids,
      client_addr: clientAddr,
      server_addr: serverAddr,
      smac: mac,
      host_name: loggedText(info.hostName),
      requested_addr: info.requestedAddr ?? '',
      assigned_addr: info.assignedAddr ?? '',
    };
    this.out.record(record);
    this.out.log(DHCP_LOG, row);
  }
}

/** A set string field: '(empty)' when empty, '-' when unset (Zeek's writer). */
function optionalString(value: string | undefined): string {
  return value === '' ? '(empty)' : zeekOptional(value);
}

/** The DHCP analyzer of one UDP connection. */
class DhcpSession implements AnalyzerSession {
  private isDhcp = false;

  constructor(private readonly conn: TrackedConn, private readonly analyzer: DhcpAnalyzer) {}

  payload(isOrig: boolean, _seq: number, data: Buffer): boolean {
    if (!this.isDhcp && !looksLikeDhcp(data)) return false;
    this.isDhcp = true;
    const msg = parseDhcp(data);
    if (msg === undefined) return true;
    addService(this.conn, 'dhcp');
    this.analyzer.message(this.conn, isOrig, msg);
    return true;
  }

  finish(_finished: FinishedConn): void {
    this.analyzer.connEnded(this.conn);
  }
}
