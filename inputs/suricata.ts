// Suricata eve.json reader: one JSON event per line. flow, dns, http, tls, ssh, smtp and fileinfo
// events become the matching normalized records, alert events suricata_alert records; every
// other event type (anomaly, stats, ...) is counted and skipped, and the counts are reported once
// at the end.
//
// Differences from Slips, on purpose:
// - Alerts are read (Slips skips them): the signature, its ids, category, severity and action
//   go into a suricata_alert record, which the suricata detector turns into evidence.
// - Connection state (Slips bug #14: `new` counted as established, a rejected SYN -> RST `closed`
//   flow as not established only by luck). Suricata's flow.state tells where its flow engine was,
//   not whether a connection was made, so conn records carry a Zeek conn_state derived from the
//   packet counts and TCP flags instead (see zeekStateOf).
// - app_proto names become Zeek service names (tls -> ssl, dcerpc -> dce_rpc, krb5 -> krb,
//   failed -> ""), TLS versions Zeek's spelling ("TLS 1.2" -> "TLSv12"), so detections written
//   for Zeek records read Suricata records alike.
// - DNS: Suricata logs a query and its answer as two events; Zeek (and our records) have one
//   record per transaction. A query waits for its answer (same flow, DNS id, name and type) and
//   the answer record keeps the query's time; queries that get no answer are emitted alone once
//   the input has moved DNS_ANSWER_WAIT seconds past them, or at the end.

import type { ErrorSink } from './errors.js';
import type { LineBatch } from './lineReader.js';
import type {
  ConnRecord, DnsRecord, FilesRecord, FlowRecord, HttpRecord, SmtpRecord, SshRecord, SslRecord, SuricataAlertRecord,
} from './records.js';

type Json = Record<string, unknown>;

/** Event types that become records; all others are counted and skipped. */
const HANDLED_EVENTS: ReadonlySet<string> = new Set(['flow', 'dns', 'http', 'tls', 'ssh', 'smtp', 'fileinfo', 'alert']);
/** How far (seconds) the input may move past an unanswered DNS query before it is emitted alone. */
const DNS_ANSWER_WAIT = 30;
/** Most DNS queries held back waiting for their answers; the oldest go out beyond this. */
const MAX_PENDING_QUERIES = 10000;

const EVENT_TYPE_KEY = '"event_type":"';

const APP_PROTO_TO_ZEEK: Readonly<Record<string, string>> = {
  tls: 'ssl', dcerpc: 'dce_rpc', krb5: 'krb', failed: '',
};

const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_RST = 0x04;
const TCP_ACK = 0x10;

// ---------------------------------------------------------------------------------------------
// Value helpers

function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined || value === null) return '';
  // JSON objects and arrays as JSON: String() would call a `toString` key of the data itself.
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function num(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value !== '') {
    const n = +value;
    return n === n ? n : 0;
  }
  return 0;
}

function object(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

function textList(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(text);
  return value === undefined || value === null || value === '' ? [] : [text(value)];
}

function isDigit(text: string, at: number): boolean {
  const code = text.charCodeAt(at);
  return code >= 0x30 && code <= 0x39;
}

function digit(text: string, at: number): number {
  return isDigit(text, at) ? text.charCodeAt(at) - 0x30 : NaN;
}

function digits(text: string, at: number, length: number): number {
  let n = 0;
  for (let i = 0; i < length; i++) n = n * 10 + digit(text, at + i);
  return n;
}

/**
 * Suricata's ISO 8601 timestamps (`2021-07-30T14:48:04.640125+0200`, also `Z` or `+02:00`) as
 * unix seconds with the full fraction; NaN when malformed. Without an offset the time is local.
 */
export function suricataTime(value: unknown): number {
  if (typeof value !== 'string' || value.length < 19) return NaN;
  const t = value;
  if (t.charCodeAt(4) !== 0x2d || t.charCodeAt(7) !== 0x2d || t.charCodeAt(13) !== 0x3a || t.charCodeAt(16) !== 0x3a) return NaN;
  const sep = t.charCodeAt(10);
  if (sep !== 0x54 && sep !== 0x20) return NaN;
  const year = digits(t, 0, 4);
  const month = digits(t, 5, 2);
  const day = digits(t, 8, 2);
  const hour = digits(t, 11, 2);
  const minute = digits(t, 14, 2);
  const second = digits(t, 17, 2);
  if (!(month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 && second <= 60) || year !== year) {
    return NaN;
  }
  let at = 19;
  let fraction = 0;
  if (t.charCodeAt(at) === 0x2e) {
    let units = 0;
    let scale = 1;
    for (at++; isDigit(t, at); at++) {
      units = units * 10 + t.charCodeAt(at) - 0x30;
      scale *= 10;
    }
    fraction = units / scale;
  }
  if (at === t.length) {
    return new Date(year, month - 1, day, hour, minute, second).getTime() / 1000 + fraction;
  }
  let offset = 0;
  const sign = t.charCodeAt(at);
  if (sign === 0x5a && at + 1 === t.length) offset = 0;
  else if (sign === 0x2b || sign === 0x2d) {
    const rest = t.length - at - 1;
    const colon = rest === 5 && t.charCodeAt(at + 3) === 0x3a;
    if (rest !== 4 && !colon) return NaN;
    const minutes = digits(t, at + 1, 2) * 60 + digits(t, at + (colon ? 4 : 3), 2);
    if (minutes !== minutes) return NaN;
    offset = (sign === 0x2b ? minutes : -minutes) * 60;
  } else return NaN;
  return Date.UTC(year, month - 1, day, hour, minute, second) / 1000 + fraction - offset;
}

function appProto(value: unknown): string {
  const name = text(value).toLowerCase();
  // Own keys only: app_proto `constructor` must not find Object.prototype.constructor.
  return Object.hasOwn(APP_PROTO_TO_ZEEK, name) ? APP_PROTO_TO_ZEEK[name]! : name;
}

/** "TLS 1.2" -> "TLSv12", "SSLv3" stays: Zeek's spelling of the version. */
function tlsVersion(value: unknown): string {
  const version = text(value);
  const match = /^(TLS|SSL|DTLS) ?v?(\d)\.(\d)$/.exec(version);
  return match ? `${match[1]}v${match[2]}${match[3]}` : version;
}

function hexFlags(value: unknown): number {
  if (typeof value !== 'string' || value === '') return -1;
  const n = parseInt(value, 16);
  return n >= 0 ? n : -1;
}

/**
 * The Zeek conn_state a Suricata flow corresponds to (fixes Slips bug #14):
 * - no packet from the responder: S0 (attempt, not established), whatever flow.state says;
 * - TCP with flags: responder SYN+ACK to an originator SYN is a handshake: SF once Suricata
 *   closed the flow or saw a FIN or RST, S1 while it was open; a responder RST without SYN is
 *   REJ; anything else (mid-stream flows, odd flag sets) is OTH;
 * - TCP without flags (tcp logging off): established -> S1, closed -> SF, new -> S0 (no handshake);
 * - other protocols with packets both ways: SF.
 * interpretState reads S1/SF/OTH as Established and S0/REJ as Not Established.
 */
export function zeekStateOf(proto: string, flow: Json, tcp: Json | undefined, dpkts: number): string {
  if (dpkts === 0) return 'S0';
  const state = text(flow['state']);
  if (proto !== 'tcp') return 'SF';
  const fromOrig = hexFlags(tcp?.['tcp_flags_ts']);
  const fromResp = hexFlags(tcp?.['tcp_flags_tc']);
  if (fromOrig < 0 || fromResp < 0) {
    if (state === 'established') return 'S1';
    if (state === 'closed') return 'SF';
    return 'S0';
  }
  if ((fromOrig & TCP_SYN) !== 0 && (fromResp & TCP_SYN) !== 0 && (fromResp & TCP_ACK) !== 0) {
    return state === 'closed' || ((fromOrig | fromResp) & (TCP_FIN | TCP_RST)) !== 0 ? 'SF' : 'S1';
  }
  if ((fromResp & TCP_SYN) === 0 && (fromResp & TCP_RST) !== 0) return 'REJ';
  return 'OTH';
}

// ---------------------------------------------------------------------------------------------
// Parser

export interface SuricataParserOptions {
  /** File name for bad-input reports ('stdin' for standard input). */
  name: string;
}

/** The fields every event shares, read once per event. */
interface Common {
  uid: string;
  saddr: string;
  daddr: string;
  interface: string;
  sport: number;
  dport: number;
  proto: string;
}

/** Parses line batches of one eve.json input into records. */
export class SuricataParser {
  /** Event lines seen (good, bad and skipped); empty lines are not counted. */
  dataLines = 0;
  private readonly name: string;
  private readonly skipped = new Map<string, number>();
  /** DNS queries waiting for their answer, oldest first, by pairing key. */
  private readonly pending = new Map<string, DnsRecord[]>();
  private pendingCount = 0;
  /** Latest event time seen, for releasing unanswered queries. */
  private latest = 0;

  constructor(private readonly sink: ErrorSink, options: SuricataParserOptions) {
    this.name = options.name;
  }

  parse(batch: LineBatch, out: FlowRecord[]): void {
    const lines = batch.lines;
    let lineNumber = batch.firstLine;
    for (let i = 0; i < lines.length; i++, lineNumber++) {
      const line = lines[i]!;
      if (line.length === 0) continue;
      this.dataLines++;
      // Events nobody reads are counted from the raw text, without parsing them.
      const typeAt = line.indexOf(EVENT_TYPE_KEY);
      const typeEnd = typeAt === -1 ? -1 : line.indexOf('"', typeAt + EVENT_TYPE_KEY.length);
      if (typeEnd !== -1) {
        const type = line.slice(typeAt + EVENT_TYPE_KEY.length, typeEnd);
        if (!HANDLED_EVENTS.has(type)) {
          this.skip(type);
          continue;
        }
      }
      let event: unknown;
      try {
        event = JSON.parse(line);
      } catch {
        this.report(lineNumber, 'invalid JSON');
        continue;
      }
      const json = object(event);
      if (json === undefined) {
        this.report(lineNumber, 'JSON line is not an object');
        continue;
      }
      this.convert(json, lineNumber, out);
    }
    if (this.pendingCount > 0) this.releaseQueries(out, this.latest - DNS_ANSWER_WAIT);
  }

  /** End of input: unanswered DNS queries go out, skipped event counts are reported. */
  finish(out: FlowRecord[]): void {
    this.releaseQueries(out, Infinity);
    if (this.skipped.size === 0) return;
    const counts = [...this.skipped]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .map(([type, n]) => `${type} ${n}`);
    this.sink.warn(`Skipped Suricata events: ${counts.join(', ')}`);
  }

  private skip(type: string): void {
    this.skipped.set(type, (this.skipped.get(type) ?? 0) + 1);
  }

  private report(line: number, message: string): void {
    this.sink.badInput({ file: this.name, line, message });
  }

  private convert(event: Json, lineNumber: number, out: FlowRecord[]): void {
    const type = event['event_type'];
    if (typeof type !== 'string') {
      this.report(lineNumber, 'event has no event_type');
      return;
    }
    if (!HANDLED_EVENTS.has(type)) {
      this.skip(type);
      return;
    }
    const body = object(event[type]);
    if (body === undefined) {
      this.report(lineNumber, `${type} event without its '${type}' object`);
      return;
    }
    // A flow record starts when the flow started, not when Suricata logged it.
    let ts = type === 'flow' ? suricataTime(body['start']) : NaN;
    if (ts !== ts) ts = suricataTime(event['timestamp']);
    if (ts !== ts) {
      this.report(lineNumber, `invalid timestamp '${text(event['timestamp']).slice(0, 40)}'`);
      return;
    }
    if (ts > this.latest) this.latest = ts;
    const common = commonOf(event);
    switch (type) {
      case 'flow':
        out.push(flowRecord(event, body, ts, common));
        break;
      case 'dns':
        this.dns(body, ts, common, out);
        break;
      case 'http':
        out.push(httpRecord(body, ts, common));
        break;
      case 'tls':
        out.push(tlsRecord(body, ts, common));
        break;
      case 'ssh':
        out.push(sshRecord(body, ts, common));
        break;
      case 'smtp':
        out.push(smtpRecord(body, ts, common));
        break;
      case 'fileinfo':
        out.push(filesRecord(event, body, ts, common));
        break;
      case 'alert':
        out.push(alertRecord(event, body, ts, common));
        break;
    }
  }

  private dns(dns: Json, ts: number, common: Common, out: FlowRecord[]): void {
    const kind = text(dns['type']);
    const query = object(Array.isArray(dns['queries']) ? dns['queries'][0] : undefined);
    const rrname = text(dns['rrname'] ?? query?.['rrname']);
    const rrtype = text(dns['rrtype'] ?? query?.['rrtype']);
    const key = `${common.uid}|${text(dns['id'])}|${rrname}|${rrtype}`;
    if (kind === 'query' || kind === 'request') {
      const record = dnsRecord(ts, common, rrname, rrtype, '', [], []);
      const queue = this.pending.get(key);
      if (queue === undefined) this.pending.set(key, [record]);
      else queue.push(record);
      if (++this.pendingCount > MAX_PENDING_QUERIES) this.releaseOldest(out);
      return;
    }
    const { answers, ttls } = dnsAnswers(dns);
    let queryTs = ts;
    const queue = this.pending.get(key);
    if (queue !== undefined) {
      queryTs = queue.shift()!.ts;
      this.pendingCount--;
      if (queue.length === 0) this.pending.delete(key);
    }
    out.push(dnsRecord(queryTs, common, rrname, rrtype, text(dns['rcode']), answers, ttls));
  }

  /** Emits the unanswered queries asked before `before` (all of them for Infinity). */
  private releaseQueries(out: FlowRecord[], before: number): void {
    for (const [key, queue] of this.pending) {
      while (queue.length > 0 && queue[0]!.ts < before) {
        out.push(queue.shift()!);
        this.pendingCount--;
      }
      if (queue.length === 0) this.pending.delete(key);
    }
  }

  private releaseOldest(out: FlowRecord[]): void {
    const first = this.pending.entries().next();
    if (first.done) return;
    const [key, queue] = first.value;
    out.push(queue.shift()!);
    this.pendingCount--;
    if (queue.length === 0) this.pending.delete(key);
  }
}

function commonOf(event: Json): Common {
  const proto = text(event['proto']).toLowerCase();
  let sport = event['src_port'];
  let dport = event['dest_port'];
  // ICMP has no ports; like Zeek, the type and code stand in for them.
  if (sport === undefined && event['icmp_type'] !== undefined) {
    sport = event['icmp_type'];
    dport = event['icmp_code'];
  }
  return {
    uid: text(event['flow_id']),
    saddr: text(event['src_ip']),
    daddr: text(event['dest_ip']),
    interface: typeof event['in_iface'] === 'string' ? event['in_iface'] : 'default',
    sport: num(sport),
    dport: num(dport),
    proto: proto === 'ipv6-icmp' || proto === 'icmpv6' ? 'ipv6-icmp' : proto,
  };
}

function flowRecord(event: Json, flow: Json, ts: number, c: Common): ConnRecord {
  const dpkts = num(flow['pkts_toclient']);
  const ether = object(event['ether']);
  const dur = suricataTime(flow['end']) - ts;
  return {
    kind: 'conn',
    ts,
    uid: c.uid,
    saddr: c.saddr,
    daddr: c.daddr,
    interface: c.interface,
    source: 'suricata',
    sport: c.sport,
    dport: c.dport,
    proto: c.proto,
    appproto: appProto(event['app_proto']),
    dur: dur >= 0 ? dur : 0,
    sbytes: num(flow['bytes_toserver']),
    dbytes: num(flow['bytes_toclient']),
    spkts: num(flow['pkts_toserver']),
    dpkts,
    state: zeekStateOf(c.proto, flow, object(event['tcp']), dpkts),
    history: '',
    smac: text(ether?.['src_mac']),
    dmac: text(ether?.['dest_mac']),
    dir: '->',
  };
}

/** Answers and their TTLs: the `answers` array (in wire order) or, without it, `grouped`. */
function dnsAnswers(dns: Json): { answers: string[]; ttls: number[] } {
  const answers: string[] = [];
  const ttls: number[] = [];
  const list = dns['answers'];
  if (Array.isArray(list)) {
    for (const item of list) {
      const answer = object(item);
      if (answer === undefined || answer['rdata'] === undefined) continue;
      answers.push(text(answer['rdata']));
      ttls.push(num(answer['ttl']));
    }
    return { answers, ttls };
  }
  const grouped = object(dns['grouped']);
  if (grouped !== undefined) {
    // CNAMEs first, as Zeek lists the chain before the addresses.
    const types = Object.keys(grouped).sort((a, b) => (a === 'CNAME' ? -1 : b === 'CNAME' ? 1 : 0));
    for (const type of types) {
      const values = grouped[type];
      if (!Array.isArray(values)) continue;
      for (const value of values) if (typeof value === 'string' || typeof value === 'number') answers.push(String(value));
    }
    return { answers, ttls };
  }
  // eve DNS version 1: one event per answer record.
  if (dns['rdata'] !== undefined) {
    answers.push(text(dns['rdata']));
    if (dns['ttl'] !== undefined) ttls.push(num(dns['ttl']));
  }
  return { answers, ttls };
}

function dnsRecord(
  ts: number, c: Common, query: string, qtype: string, rcode: string, answers: string[], ttls: number[],
): DnsRecord {
  return {
    kind: 'dns',
    ts,
    uid: c.uid,
    saddr: c.saddr,
    daddr: c.daddr,
    interface: c.interface,
    source: 'suricata',
    sport: c.sport,
    dport: c.dport,
    proto: c.proto,
    query,
    qclass_name: '',
    qtype_name: qtype,
    rcode_name: rcode,
    answers,
    TTLs: ttls,
  };
}

function httpRecord(http: Json, ts: number, c: Common): HttpRecord {
  const contentType = text(http['http_content_type']);
  const semicolon = contentType.indexOf(';');
  const mime = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim();
  return {
    kind: 'http',
    ts,
    uid: c.uid,
    saddr: c.saddr,
    daddr: c.daddr,
    interface: c.interface,
    source: 'suricata',
    sport: c.sport,
    dport: c.dport,
    method: text(http['http_method']),
    host: text(http['hostname']),
    uri: text(http['url']),
    version: text(http['protocol']).replace(/^HTTP\//, ''),
    user_agent: text(http['http_user_agent']),
    request_body_len: num(http['request_body_len']),
    response_body_len: num(http['length']),
    status_code: num(http['status']),
    status_msg: '',
    resp_mime_types: mime === '' ? [] : [mime],
    resp_fuids: [],
  };
}

function tlsRecord(tls: Json, ts: number, c: Common): SslRecord {
  const subject = text(tls['subject']);
  const resumed = tls['session_resumed'] === true;
  return {
    kind: 'ssl',
    ts,
    uid: c.uid,
    saddr: c.saddr,
    daddr: c.daddr,
    interface: c.interface,
    source: 'suricata',
    sport: c.sport,
    dport: c.dport,
    version: tlsVersion(tls['version']),
    cipher: '',
    resumed,
    // Suricata logs the certificate only once the server sent it in a handshake.
    established: resumed || subject !== '',
    cert_chain_fuids: [],
    client_cert_chain_fuids: [],
    subject,
    issuer: text(tls['issuerdn']),
    server_name: text(tls['sni']),
    validation_status: '',
    curve: '',
    ja3: text(object(tls['ja3'])?.['hash']),
    ja3s: text(object(tls['ja3s'])?.['hash']),
    is_DoH: false,
  };
}

function sshRecord(ssh: Json, ts: number, c: Common): SshRecord {
  const client = object(ssh['client']);
  const server = object(ssh['server']);
  return {
    kind: 'ssh',
    ts,
    uid: c.uid,
    saddr: c.saddr,
    daddr: c.daddr,
    interface: c.interface,
    source: 'suricata',
    sport: c.sport,
    dport: c.dport,
    version: Math.trunc(num(client?.['proto_version'])),
    auth_success: null,
    auth_attempts: 0,
    client: text(client?.['software_version']),
    server: text(server?.['software_version']),
    cipher_alg: '',
    mac_alg: '',
    compression_alg: '',
    kex_alg: '',
    host_key_alg: '',
    host_key: '',
  };
}

function smtpRecord(smtp: Json, ts: number, c: Common): SmtpRecord {
  return {
    kind: 'smtp',
    ts,
    uid: c.uid,
    saddr: c.saddr,
    daddr: c.daddr,
    interface: c.interface,
    source: 'suricata',
    sport: c.sport,
    dport: c.dport,
    helo: text(smtp['helo']),
    mailfrom: text(smtp['mail_from']),
    rcptto: textList(smtp['rcpt_to']),
    last_reply: '',
  };
}

/** Suricata writes file events from the sender (src) to the receiver (dest). */
function filesRecord(event: Json, file: Json, ts: number, c: Common): FilesRecord {
  const fileId = file['file_id'];
  return {
    kind: 'files',
    ts,
    uid: fileId === undefined ? `${c.uid}-${text(file['tx_id'])}` : text(fileId),
    saddr: c.saddr,
    daddr: c.daddr,
    interface: c.interface,
    source: 'suricata',
    conn_uids: [c.uid],
    tx_hosts: [c.saddr],
    rx_hosts: [c.daddr],
    file_source: text(event['app_proto']).toUpperCase(),
    analyzers: [],
    mime_type: '',
    md5: text(file['md5']),
    sha1: text(file['sha1']),
    sha256: text(file['sha256']),
    size: num(file['size']),
  };
}

/** Suricata's default severity, for alerts whose signature has no classification. */
const DEFAULT_SEVERITY = 3;

/** Alert severity as 1 (most severe) .. 4: missing or invalid values are 3, larger ones 4. */
function severityOf(value: unknown): number {
  const n = Math.trunc(num(value));
  if (!(n >= 1)) return DEFAULT_SEVERITY;
  return n > 4 ? 4 : n;
}

function alertRecord(event: Json, alert: Json, ts: number, c: Common): SuricataAlertRecord {
  return {
    kind: 'suricata_alert',
    ts,
    uid: c.uid,
    saddr: c.saddr,
    daddr: c.daddr,
    interface: c.interface,
    source: 'suricata',
    sport: c.sport,
    dport: c.dport,
    proto: c.proto,
    appproto: appProto(event['app_proto']),
    signature: text(alert['signature']),
    signature_id: Math.trunc(num(alert['signature_id'])),
    gid: Math.trunc(num(alert['gid'])),
    rev: Math.trunc(num(alert['rev'])),
    category: text(alert['category']),
    severity: severityOf(alert['severity']),
    action: text(alert['action']),
  };
}
