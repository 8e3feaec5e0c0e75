// SSH analyzer for the pcap input, chosen by content like Zeek's DPD signature (a side's stream
// starting with "SSH-"), not by port. It reads the protocol banner of each side
// ("SSH-<protoversion>-<softwareversion>[ comments]\r\n"; the server may send other lines
// first), marks the connection's service 'ssh' once the server's banner is seen, and produces
// what Zeek logs: an ssh.log record when the connection ends (ts = when the first banner was
// seen, as Zeek's set_session; version from Zeek's set_version) and software.log records for the
// client (SSH::CLIENT) and server (SSH::SERVER) banners, parsed like Zeek's Software::parse and,
// like Zeek's default asset tracking, only for local hosts and once per host + software + version.
//
// Not done: Zeek's size-based authentication heuristic (it needs the SSH packet framing up to
// NEWKEYS and the sizes of the encrypted server messages), so auth_success stays null (unknown)
// and auth_attempts 0; KEXINIT algorithm lists and the host key are not parsed ('' fields).
// Memory per direction: the current line only (at most BANNER_LIMIT bytes), other lines before
// the banner are dropped (at most MAX_PRE_BANNER bytes of them). Bytes are taken in sequence
// order from the first payload seen (retransmitted overlap is trimmed; a gap ends the search).

import type { SshRecord } from '../records.js';
import type { AnalyzerOutput, AnalyzerSession, ProtocolAnalyzer } from './analyzer.js';
import type { FinishedConn, TrackedConn } from './conntrack.js';
import { parseSoftwareVersion, type SoftwareTracker } from './software.js';
import { isLocalAddr, type ZeekLogSpec, zeekBool, zeekOptional, zeekTime } from './zeekLog.js';

/** Most bytes buffered per direction while looking for the banner line. */
const BANNER_LIMIT = 256;
/** Most bytes of other lines a side may send before its banner (RFC 4253 allows them). */
const MAX_PRE_BANNER = 16_384;

export const SSH_LOG: ZeekLogSpec = {
  path: 'ssh',
  fields: [
    ['ts', 'time'], ['uid', 'string'], ['id.orig_h', 'addr'], ['id.orig_p', 'port'], ['id.resp_h', 'addr'],
    ['id.resp_p', 'port'], ['version', 'count'], ['auth_success', 'bool'], ['auth_attempts', 'count'],
    ['direction', 'enum'], ['client', 'string'], ['server', 'string'], ['cipher_alg', 'string'], ['mac_alg', 'string'],
    ['compression_alg', 'string'], ['kex_alg', 'string'], ['host_key_alg', 'string'], ['host_key', 'string'],
  ],
};

/** Zeek's set_version: the SSH major version from the two banners (0 when incompatible). */
export function sshVersion(client: string, server: string): number | undefined {
  if (client.length <= 4 || server.length <= 4) return undefined;
  const is199 = (s: string): boolean => s.length > 7 && s[6] === '9' && s[7] === '9';
  const c = client[4];
  const s = server[4];
  if (c === '1' && s === '2') return is199(client) ? 2 : 0;
  if (c === '2' && s === '1') return is199(server) ? 2 : 0;
  if (c === '1' && s === '1') return is199(server) ? (is199(client) ? 2 : 1) : 1;
  if (c === '2' && s === '2') return 2;
  return undefined;
}

type Endpoint = TrackedConn['orig'];

/** One direction's stream start. */
interface Side {
  endpoint: Endpoint;
  /** The first 4 bytes of the stream (less while fewer arrived). */
  head: string;
  /** The current incomplete line (at most BANNER_LIMIT bytes). */
  line: Buffer;
  /** Relative sequence number of the next expected byte. */
  next: number;
  /** Bytes of complete lines that were not the banner. */
  skipped: number;
  /** The banner line without its line end; undefined while not (or never) found. */
  banner: string | undefined;
  /** The banner went to the software framework. */
  announced: boolean;
  /** No more bytes are looked at (banner found, a limit reached, or a gap). */
  done: boolean;
}

/** Whether a stream starting with these bytes is SSH (Zeek's signature is case-insensitive). */
function startsSsh(head: string): boolean | undefined {
  return head.length < 4 ? undefined : head.toUpperCase() === 'SSH-';
}

/** Zeek's ssh.log direction (set_session): only when exactly one side is local. */
function sshDirection(r: SshRecord): string {
  const origLocal = isLocalAddr(r.saddr);
  if (origLocal === isLocalAddr(r.daddr)) return '-';
  return origLocal ? 'OUTBOUND' : 'INBOUND';
}

/** The ssh.log row of an ssh record. */
export function sshRow(r: SshRecord): (string | number)[] {
  return [
    zeekTime(r.ts), r.uid, r.saddr, r.sport, r.daddr, r.dport, sshVersion(r.client, r.server) ?? '-',
    zeekBool(r.auth_success), r.auth_attempts, sshDirection(r), zeekOptional(r.client), zeekOptional(r.server),
    zeekOptional(r.cipher_alg), zeekOptional(r.mac_alg), zeekOptional(r.compression_alg), zeekOptional(r.kex_alg),
    zeekOptional(r.host_key_alg), zeekOptional(r.host_key),
  ];
}

/** The SSH analyzer of one connection. */
class SshSession implements AnalyzerSession {
  private readonly sides: Side[] = [];
  /** Decided SSH (service set) / undecided; a session that decided "not SSH" is dropped. */
  private isSsh = false;
  /** Network time of the first banner (Zeek's set_session). */
  private ts = 0;

  constructor(private readonly conn: TrackedConn, private readonly out: AnalyzerOutput, private readonly software: SoftwareTracker) {}

  payload(isOrig: boolean, seq: number, data: Buffer): boolean {
    const conn = this.conn;
    const endpoint = isOrig ? conn.orig : conn.resp;
    let side = this.sides.find((s) => s.endpoint === endpoint);
    if (side === undefined) {
      side = { endpoint, head: '', line: Buffer.alloc(0), next: seq, skipped: 0, banner: undefined, announced: false, done: false };
      this.sides.push(side);
    }
    if (!side.done) {
      if (seq > side.next) {
        // A gap: the stream start is incomplete, stop here.
        side.done = true;
        if (side.head.length < 4) side.head = '----';
      } else if (seq + data.length > side.next) {
        const fresh = data.subarray(side.next - seq);
        side.next += fresh.length;
        if (side.head.length < 4) side.head += fresh.subarray(0, 4 - side.head.length).toString('latin1');
        scanForBanner(side, fresh);
        if (side.banner !== undefined && this.ts === 0) this.ts = conn.tracker.now;
      }
    }
    if (!this.isSsh) {
      // SSH once a side starts with "SSH-"; not SSH once both sides do not.
      if (this.sides.some((s) => startsSsh(s.head) === true)) this.isSsh = true;
      else return !(this.sides.length === 2 && this.sides.every((s) => startsSsh(s.head) === false));
    }
    this.announce();
    return true;
  }

  /**
   * Software records for the banners found; the server's banner confirms the protocol (service
   * 'ssh'; Zeek leaves it unset when only the client side was seen). The banner without
   * "SSH-x.y-" goes to the software framework (Zeek's ssh/software.zeek).
   */
  private announce(): void {
    const conn = this.conn;
    for (const side of this.sides) {
      if (side.banner === undefined || side.announced) continue;
      side.announced = true;
      const isOrig = side.endpoint === conn.orig;
      if (!isOrig) conn.service = 'ssh';
      const unparsed = side.banner.replace(/^SSH[0-9.-]+/, '');
      this.software.report({ conn, isOrig, type: isOrig ? 'SSH::CLIENT' : 'SSH::SERVER', unparsed, version: parseSoftwareVersion(unparsed) });
    }
  }

  /** The ssh.log record, when a banner was seen. */
  finish(finished: FinishedConn): void {
    const conn = finished.conn;
    if (!this.isSsh) return;
    const client = this.sides.find((s) => s.endpoint === conn.orig)?.banner;
    const server = this.sides.find((s) => s.endpoint === conn.resp)?.banner;
    if (client === undefined && server === undefined) return;
    const record: SshRecord = {
      kind: 'ssh',
      ts: this.ts,
      uid: conn.uid,
      saddr: conn.origH,
      daddr: conn.respH,
      interface: conn.iface,
      source: 'pcap',
      sport: conn.origP,
      dport: conn.respP,
      version: sshVersion(client ?? '', server ?? '') ?? 0,
      auth_success: null,
      auth_attempts: 0,
      client: client ?? '',
      server: server ?? '',
      cipher_alg: '',
      mac_alg: '',
      compression_alg: '',
      kex_alg: '',
      host_key_alg: '',
      host_key: '',
    };
    this.out.record(record);
    this.out.log(SSH_LOG, sshRow(record));
  }
}

/** Looks for the banner line in the next bytes of a side, keeping only the current line. */
function scanForBanner(side: Side, fresh: Buffer): void {
  let start = 0;
  while (start < fresh.length) {
    const end = fresh.indexOf(0x0a, start);
    const piece = fresh.subarray(start, end < 0 ? fresh.length : end);
    if (side.line.length + piece.length > BANNER_LIMIT || side.skipped > MAX_PRE_BANNER) {
      side.done = true;
      break;
    }
    side.line = side.line.length === 0 ? Buffer.from(piece) : Buffer.concat([side.line, piece]);
    if (end < 0) return;
    const line = side.line.toString('latin1').replace(/\r$/, '');
    side.skipped += side.line.length + 1;
    side.line = Buffer.alloc(0);
    start = end + 1;
    if (line.startsWith('SSH-')) {
      side.banner = line;
      side.done = true;
      break;
    }
  }
  side.line = Buffer.alloc(0);
}

export class SshAnalyzer implements ProtocolAnalyzer {
  constructor(private readonly out: AnalyzerOutput, private readonly software: SoftwareTracker) {}

  open(conn: TrackedConn): AnalyzerSession | undefined {
    return conn.ipProto === 6 ? new SshSession(conn, this.out, this.software) : undefined;
  }
}
