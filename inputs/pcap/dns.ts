// DNS analyzer for the pcap input: dns.log lines and dns records with the semantics of Zeek's DNS
// analyzer and base/protocols/dns/main.zeek. UDP datagrams are one message each; TCP messages
// are 2-byte length prefixed in the reassembled stream (TcpStream). Connections are taken by
// port like Zeek (responder port 53, 137, 5353, 5355 over UDP, 53 over TCP) or, on any other
// port, by content: the first message must be a clean one-question DNS message (looksLikeDns).
//
// Zeek's bookkeeping per connection, carried over: one entry per query / reply pair matched by
// transaction id (queues of pending queries and replies per id, at most 50 ids and 50 entries
// per id, a fast path for the single pending query); standard queries, NOTIFY and dynamic
// updates are tracked; an entry is logged when both its query and its reply ended, the rest
// when the connection ends. ts is the first message of the entry; rtt is from the entry's start
// to the first answer record (unset when 0); the question sets query / qtype / qclass / RD /
// TC / Z, a reply sets rcode (rejected when an error comes without a question), AA / RA /
// answers / TTLs come from the answer records; a connection whose first message is a reply
// sent by its originator is flipped; towards a multicast responder every message is an entry
// of its own; NetBIOS (responder port 137) query names are decoded and opcodes named the
// NetBIOS way. The connection's service is 'dns' once a message parsed completely.
//
// Not done: the prerequisite / update records of dynamic updates ("pre:", "add:", "del:"
// answers); Zeek's weird.log entries.
//
// Records carry strings as the dns.log holds them (escaped like Zeek's writer), so a record
// equals what the Zeek reader makes of the written line.

import type { DnsRecord } from '../records.js';
import { addService, type AnalyzerOutput, type AnalyzerSession, type ProtocolAnalyzer } from './analyzer.js';
import type { FinishedConn, TrackedConn } from './conntrack.js';
import {
  decodeNetbiosName, DNS_HEADER_LEN, DNS_MAX_QUESTIONS, type DnsHeader, looksLikeDns, looksLikeDnsHeader, OPCODE_NOTIFY, OPCODE_QUERY,
  OPCODE_UPDATE, opcodeName, parseDnsHeader, parseDnsMessage, qclassName, qtypeName, rcodeName,
} from './dnsMessage.js';
import { TcpStream } from './stream.js';
import { type ZeekLogSpec, type ZeekValue, zeekBool, zeekList, zeekString, zeekTime } from './zeekLog.js';

export const DNS_LOG: ZeekLogSpec = {
  path: 'dns',
  fields: [
    ['ts', 'time'], ['uid', 'string'], ['id.orig_h', 'addr'], ['id.orig_p', 'port'], ['id.resp_h', 'addr'],
    ['id.resp_p', 'port'], ['proto', 'enum'], ['trans_id', 'count'], ['rtt', 'interval'], ['query', 'string'],
    ['qclass', 'count'], ['qclass_name', 'string'], ['qtype', 'count'], ['qtype_name', 'string'], ['rcode', 'count'],
    ['rcode_name', 'string'], ['AA', 'bool'], ['TC', 'bool'], ['RD', 'bool'], ['RA', 'bool'], ['Z', 'count'],
    ['answers', 'vector[string]'], ['TTLs', 'vector[interval]'], ['rejected', 'bool'], ['opcode', 'count'],
    ['opcode_name', 'string'],
  ],
};

const DNS_UDP_PORTS = new Set([53, 137, 5353, 5355]);
const DNS_TCP_PORT = 53;
const NETBIOS_NS_PORT = 137;
/** Zeek's DNS::max_pending_msgs and DNS::max_pending_query_ids. */
const MAX_PENDING_MSGS = 50;
const MAX_PENDING_IDS = 50;
/** Largest first TCP message waited for on a port that is not DNS's. */
const MAX_PROBE_MESSAGE = 16_384;

/** A string field as the Zeek reader gives it back from the log ('' for unset or empty). */
export function loggedText(value: string | undefined): string {
  return value === undefined || value === '' ? '' : zeekString(value);
}

/** One dns.log entry being built (Zeek's DNS::Info). */
interface DnsInfo {
  ts: number;
  uid: string;
  origH: string;
  origP: number;
  respH: string;
  respP: number;
  proto: 'udp' | 'tcp';
  transId: number;
  rtt: number | undefined;
  query: string | undefined;
  qclass: number | undefined;
  qtype: number | undefined;
  qtypeName: string | undefined;
  rcode: number | undefined;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  z: number;
  answers: string[] | undefined;
  ttls: number[] | undefined;
  rejected: boolean;
  opcode: number | undefined;
  opcodeName: string | undefined;
  sawQuery: boolean;
  sawReply: boolean;
}

function isMulticast(addr: string): boolean {
  if (addr.includes(':')) return addr.toLowerCase().startsWith('ff');
  const first = Number(addr.slice(0, addr.indexOf('.')));
  return first >= 224 && first <= 239;
}

function isTracked(opcode: number): boolean {
  return opcode === OPCODE_QUERY || opcode === OPCODE_NOTIFY || opcode === OPCODE_UPDATE;
}

/** The dns.log row of an entry. */
function dnsRow(info: DnsInfo): ZeekValue[] {
  const opt = (v: number | undefined): ZeekValue => v ?? '-';
  const qclassText = info.qclass === undefined ? undefined : qclassName(info.qclass);
  const rcodeText = info.rcode === undefined ? undefined : rcodeName(info.rcode);
  return [
    zeekTime(info.ts), info.uid, info.origH, info.origP, info.respH, info.respP, info.proto, info.transId,
    zeekTime(info.rtt), info.query === undefined ? '-' : zeekString(info.query), opt(info.qclass), qclassText ?? '-',
    opt(info.qtype), info.qtypeName === undefined ? '-' : zeekString(info.qtypeName), opt(info.rcode), rcodeText ?? '-',
    zeekBool(info.aa), zeekBool(info.tc), zeekBool(info.rd), zeekBool(info.ra), info.z, zeekList(info.answers),
    info.ttls === undefined ? '-' : info.ttls.map((t) => zeekTime(t)).join(','), zeekBool(info.rejected),
    opt(info.opcode), info.opcodeName ?? '-',
  ];
}

/** The dns record of an entry. */
function dnsRecord(info: DnsInfo, iface: string): DnsRecord {
  const qclassText = info.qclass === undefined ? undefined : qclassName(info.qclass);
  const rcodeText = info.rcode === undefined ? undefined : rcodeName(info.rcode);
  return {
    kind: 'dns',
    ts: info.ts,
    uid: info.uid,
    saddr: info.origH,
    daddr: info.respH,
    interface: iface,
    source: 'pcap',
    sport: info.origP,
    dport: info.respP,
    proto: info.proto,
    query: loggedText(info.query),
    qclass_name: qclassText ?? '',
    qtype_name: loggedText(info.qtypeName),
    rcode_name: rcodeText ?? '',
    answers: (info.answers ?? []).map((a) => zeekList([a])),
    TTLs: info.ttls ?? [],
  };
}

/** First buffer of a TCP DNS message (Node's pool serves it); grown up to the declared length. */
const INITIAL_MESSAGE_BUFFER = 2048;

/** One direction of a TCP DNS connection: 2-byte length, then the message. */
class TcpFraming {
  readonly stream: TcpStream;
  private lengthBytes: number[] = [];
  /** The current message's bytes so far, in a buffer grown as they come (most streams are not DNS). */
  private message: Buffer | undefined;
  /** The current message's declared length. */
  private messageLength = 0;
  private filled = 0;
  /** A hole in the stream: framing is lost, the direction is ignored. */
  broken = false;

  constructor(private readonly onMessage: (msg: Buffer) => void) {
    this.stream = new TcpStream({ data: (bytes) => this.data(bytes), gap: () => { this.broken = true; } });
  }

  /** Bytes of the current message so far. */
  get partial(): Buffer | undefined {
    return this.message !== undefined && this.filled > 0 ? this.message.subarray(0, this.filled) : undefined;
  }

  private data(bytes: Buffer): void {
    let i = 0;
    while (i < bytes.length && !this.broken) {
      if (this.message === undefined) {
        this.lengthBytes.push(bytes[i++]!);
        if (this.lengthBytes.length < 2) continue;
        this.messageLength = (this.lengthBytes[0]! << 8) | this.lengthBytes[1]!;
        this.message = Buffer.allocUnsafe(Math.min(this.messageLength, INITIAL_MESSAGE_BUFFER));
        this.lengthBytes = [];
        this.filled = 0;
      }
      const n = Math.min(this.messageLength - this.filled, bytes.length - i);
      if (this.filled + n > this.message.length) {
        const bigger = Buffer.allocUnsafe(Math.min(this.messageLength, Math.max(this.filled + n, this.message.length * 2)));
        this.message.copy(bigger, 0, 0, this.filled);
        this.message = bigger;
      }
      bytes.copy(this.message, this.filled, i, i + n);
      this.filled += n;
      i += n;
      if (this.filled === this.messageLength) {
        const msg = this.message;
        this.message = undefined;
        this.filled = 0;
        this.onMessage(msg);
      }
    }
  }

  /** The declared length of the message being read, once known. */
  get expected(): number | undefined {
    return this.message === undefined ? undefined : this.messageLength;
  }
}

/** The DNS analyzer of one connection. */
class DnsSession implements AnalyzerSession {
  /** Taken as DNS (by port, or once a first message looked like DNS). */
  private accepted: boolean;
  private firstMessage = true;
  /** Zeek's c$dns: the entry the current message works on. */
  private current: DnsInfo | undefined;
  private pendingQuery: DnsInfo | undefined;
  private pendingQueries: Map<number, DnsInfo[]> | undefined;
  private pendingReplies: Map<number, DnsInfo[]> | undefined;
  /** TCP: the framing of each endpoint's stream (keyed by endpoint, which stays right if the roles flip). */
  private readonly framing: Map<TrackedConn['orig'], TcpFraming> | undefined;
  /** The analyzer gave up on the connection (too many questions, or not DNS). */
  private dropped = false;

  constructor(private readonly conn: TrackedConn, private readonly out: AnalyzerOutput) {
    const tcp = conn.ipProto === 6;
    this.accepted = tcp ? conn.respP === DNS_TCP_PORT : DNS_UDP_PORTS.has(conn.respP);
    if (tcp) this.framing = new Map();
  }

  private get isNetbios(): boolean {
    return this.conn.ipProto === 17 && this.conn.respP === NETBIOS_NS_PORT;
  }

  payload(isOrig: boolean, seq: number, data: Buffer): boolean {
    if (this.dropped) return false;
    if (this.framing === undefined) {
      this.message(data, isOrig ? 1 : 0);
      return !this.dropped;
    }
    const endpoint = isOrig ? this.conn.orig : this.conn.resp;
    let side = this.framing.get(endpoint);
    if (side === undefined) {
      side = new TcpFraming((msg) => this.message(msg, endpoint === this.conn.orig ? 1 : 0));
      this.framing.set(endpoint, side);
    }
    if (side.broken) return true;
    side.stream.push(seq, data);
    if (!this.accepted) {
      // Cheap rejection of streams that do not start with a DNS-sized length and a DNS header.
      const expected = side.expected;
      if (side.broken || (expected !== undefined && (expected < DNS_HEADER_LEN || expected > MAX_PROBE_MESSAGE))) return false;
      const head = side.partial;
      if (head !== undefined && head.length >= DNS_HEADER_LEN && !looksLikeDnsHeader(head)) return false;
    }
    return !this.dropped;
  }

  /**
   * One DNS message (Zeek's ParseMessage); isQuery 1 from the originator, 0 from the responder,
   * 2 unknown (a partial TCP message at the end).
   */
  private message(msg: Buffer, isQuery: number): void {
    if (this.dropped) return;
    if (!this.accepted) {
      if (!looksLikeDns(msg)) {
        this.dropped = true;
        return;
      }
      this.accepted = true;
    }
    if (msg.length < DNS_HEADER_LEN) return;
    const conn = this.conn;
    const h = parseDnsHeader(msg);
    if (this.firstMessage && h.qr && isQuery === 1 && !isMulticast(conn.respH)) conn.tracker.flipRoles(conn);
    this.firstMessage = false;

    if (isTracked(h.opcode)) this.setSession(h, !h.qr);
    if (h.qdcount > DNS_MAX_QUESTIONS) {
      this.endMessage(h);
      this.dropped = true;
      return;
    }
    const netbios = this.isNetbios;
    const parsed = parseDnsMessage(msg, h, { netbios, answers: h.opcode !== OPCODE_UPDATE || netbios });
    for (const q of parsed.questions) {
      if (!h.qr) this.request(h, q.name, q.qtype, q.qclass);
      else if (h.ancount === 0 && h.nscount === 0 && h.arcount === 0 && this.current !== undefined) this.current.rejected = true;
    }
    for (const a of parsed.answers) {
      if (a.text !== null) this.reply(h, a.name, a.ttl, a.text);
    }
    if (parsed.complete) addService(conn, 'dns');
    this.endMessage(h);
  }

  private newInfo(transId: number): DnsInfo {
    const c = this.conn;
    return {
      ts: c.tracker.now, uid: c.uid, origH: c.origH, origP: c.origP, respH: c.respH, respP: c.respP,
      proto: c.ipProto === 6 ? 'tcp' : 'udp', transId, rtt: undefined, query: undefined, qclass: undefined,
      qtype: undefined, qtypeName: undefined, rcode: undefined, aa: false, tc: false, rd: false, ra: false, z: 0,
      answers: undefined, ttls: undefined, rejected: false, opcode: undefined, opcodeName: undefined,
      sawQuery: false, sawReply: false,
    };
  }

  /** Zeek's DNS::set_session: the entry this message belongs to. */
  private setSession(h: DnsHeader, isQuery: boolean): void {
    let info: DnsInfo;
    if (isMulticast(this.conn.respH)) {
      info = this.newInfo(h.id);
      info.sawQuery = info.sawReply = true;
    } else if (isQuery) {
      const replies = this.pendingReplies?.get(h.id);
      if (replies !== undefined && replies.length > 0) info = pop(this.pendingReplies!, h.id);
      else {
        info = this.newInfo(h.id);
        if (this.pendingQuery === undefined) this.pendingQuery = info;
        else this.enqueue((this.pendingQueries ??= new Map()), h.id, info);
      }
    } else if (this.pendingQuery !== undefined && this.pendingQuery.transId === h.id) {
      info = this.pendingQuery;
      this.pendingQuery = undefined;
      const queries = this.pendingQueries;
      if (queries !== undefined) {
        // Refill the fast path, preferring a query with the same id.
        const same = queries.get(h.id);
        if (same !== undefined && same.length > 0) this.pendingQuery = pop(queries, h.id);
        else {
          for (const [id, queue] of queries) {
            if (queue.length > 0) {
              this.pendingQuery = pop(queries, id);
              break;
            }
          }
        }
      }
    } else {
      const queries = this.pendingQueries?.get(h.id);
      if (queries !== undefined && queries.length > 0) info = pop(this.pendingQueries!, h.id);
      else {
        info = this.newInfo(h.id);
        this.enqueue((this.pendingReplies ??= new Map()), h.id, info);
      }
    }
    if (!isQuery) {
      info.rcode = h.rcode;
      if (h.rcode !== 0 && h.qdcount === 0) info.rejected = true;
    }
    info.opcode = h.opcode;
    info.opcodeName = opcodeName(h.opcode, this.isNetbios);
    this.current = info;
  }

  /** Zeek's enqueue_new_msg: bounded queues; overflowing ones are logged and dropped. */
  private enqueue(queues: Map<number, DnsInfo[]>, id: number, info: DnsInfo): void {
    let queue = queues.get(id);
    if (queue === undefined) {
      if (queues.size > MAX_PENDING_IDS) {
        for (const q of queues.values()) for (const i of q) this.log(i);
        queues.clear();
      }
      queue = [];
      queues.set(id, queue);
    } else if (queue.length > MAX_PENDING_MSGS) {
      for (const i of queue) this.log(i);
      queue = [];
      queues.set(id, queue);
    }
    queue.push(info);
  }

  /** A question of a query (Zeek's dns_request). */
  private request(h: DnsHeader, name: string, qtype: number, qclass: number): void {
    const info = this.current;
    if (!isTracked(h.opcode) || info === undefined) return;
    info.rd = h.rd;
    info.tc = h.tc;
    info.qclass = qclass;
    info.qtype = qtype;
    info.qtypeName = qtypeName(qtype);
    info.z = h.z;
    let query = name;
    if (this.isNetbios) {
      const decoded = decodeNetbiosName(name);
      if (decoded !== '') query = decoded;
      if (info.qtypeName === 'SRV') info.qtypeName = 'NBSTAT';
    }
    info.query = query;
  }

  /** An answer record of a reply (Zeek's DNS::do_reply). */
  private reply(h: DnsHeader, owner: string, ttl: number, text: string): void {
    const info = this.current;
    if (!isTracked(h.opcode) || !h.qr || info === undefined) return;
    if (info.query === undefined) info.query = owner;
    info.aa = h.aa;
    info.ra = h.ra;
    if (info.rtt === undefined) {
      const rtt = this.conn.tracker.now - info.ts;
      info.rtt = rtt === 0 ? undefined : rtt;
    }
    if (text !== '') {
      (info.answers ??= []).push(text);
      (info.ttls ??= []).push(ttl);
    }
  }

  /** Zeek's dns_end: the entry is logged once both its query and its reply ended. */
  private endMessage(h: DnsHeader): void {
    const info = this.current;
    if (info === undefined) return;
    if (h.qr) info.sawReply = true;
    else info.sawQuery = true;
    if (info.sawQuery && info.sawReply) {
      this.log(info);
      this.current = undefined;
    }
  }

  private log(info: DnsInfo): void {
    this.out.record(dnsRecord(info, this.conn.iface));
    if (this.out.logging) this.out.log(DNS_LOG, dnsRow(info));
  }

  /** Partial TCP messages are parsed; entries still waiting for their other half are logged. */
  finish(_finished: FinishedConn): void {
    if (this.framing !== undefined && !this.dropped) {
      for (const side of this.framing.values()) {
        side.stream.flush();
        const partial = side.partial;
        if (partial !== undefined && !side.broken) this.message(partial, 2);
      }
    }
    if (this.pendingQuery !== undefined) this.log(this.pendingQuery);
    for (const queues of [this.pendingQueries, this.pendingReplies]) {
      if (queues === undefined) continue;
      for (const queue of queues.values()) for (const info of queue) this.log(info);
    }
    this.pendingQuery = undefined;
    this.pendingQueries = undefined;
    this.pendingReplies = undefined;
  }
}

/** Zeek's pop_msg: the head of an id's queue (the queue goes once empty). */
function pop(queues: Map<number, DnsInfo[]>, id: number): DnsInfo {
  const queue = queues.get(id)!;
  const info = queue.shift()!;
  if (queue.length === 0) queues.delete(id);
  return info;
}

export class DnsAnalyzer implements ProtocolAnalyzer {
  constructor(private readonly out: AnalyzerOutput) {}

  open(conn: TrackedConn): AnalyzerSession | undefined {
    return conn.ipProto === 17 || conn.ipProto === 6 ? new DnsSession(conn, this.out) : undefined;
  }
}
