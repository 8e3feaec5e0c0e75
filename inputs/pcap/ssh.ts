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

import type { SoftwareRecord, SshRecord } from '../records.js';
import type { TrackedConn } from './conntrack.js';
import { isLocalAddr } from './zeekLog.js';

/** Most bytes buffered per direction while looking for the banner line. */
const BANNER_LIMIT = 256;
/** Most host + software entries remembered for the once-per-version rule. */
const MAX_TRACKED_SOFTWARE = 100_000;
/** Most bytes of other lines a side may send before its banner (RFC 4253 allows them). */
const MAX_PRE_BANNER = 16_384;

/** A software version as Zeek's Software::Version ('' for an unset part). */
export interface SoftwareVersion {
  name: string;
  major: string;
  minor: string;
  minor2: string;
  minor3: string;
  addl: string;
}

/** The separator + number run Zeek's Software::parse splits a version string at. */
const VERSION_RUN = /([/\-_]|( [(v]+))?[0-9\-._, ]{2,}/;

/** Zeek's Software::parse for non-browser strings: name, then up to four numbers and an addl. */
export function parseSoftwareVersion(unparsed: string): SoftwareVersion {
  const out: SoftwareVersion = { name: unparsed.trim(), major: '', minor: '', minor2: '', minor3: '', addl: '' };
  const match = VERSION_RUN.exec(unparsed);
  if (match === null) return out;
  out.name = unparsed.slice(0, match.index).replace(/[[\]()]/g, '').trim();
  const numbers = match[0].replace(/^[/\-_. (v]+/, '').split(/[-._,[\]\s]/, 4);
  const count = (s: string | undefined): string => (s !== undefined && /^\d+/.test(s) ? String(Number(/^\d+/.exec(s)![0])) : '');
  out.major = count(numbers[0]);
  out.minor = count(numbers[1]);
  out.minor2 = count(numbers[2]);
  out.minor3 = count(numbers[3]);
  const rest = unparsed.slice(match.index + match[0].length);
  const parenthesized = /^\s*\(([a-zA-Z0-9\-._\s]*)\)/.exec(rest);
  out.addl = parenthesized !== null ? parenthesized[1]! : (rest.split(/[-._,;[\]\s]/)[0] ?? '').trim();
  return out;
}

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

interface SshState {
  sides: Side[];
  /** Decided SSH (service set) / not SSH / undecided. */
  isSsh: boolean | undefined;
  /** Network time of the first banner (Zeek's set_session). */
  ts: number;
}

export interface SshAnalyzerOptions {
  /** A software.log record (a new banner of a local host), with its full parsed version. */
  onSoftware: (record: SoftwareRecord, version: SoftwareVersion) => void;
}

/** Whether a stream starting with these bytes is SSH (Zeek's signature is case-insensitive). */
function startsSsh(head: string): boolean | undefined {
  return head.length < 4 ? undefined : head.toUpperCase() === 'SSH-';
}

export class SshAnalyzer {
  private readonly states = new WeakMap<TrackedConn, SshState>();
  /** Last logged version per host + software type + name (Zeek's Software::tracked). */
  private readonly tracked = new Map<string, string>();

  constructor(private readonly options: SshAnalyzerOptions) {}

  /** ConnTracker's onPayload hook. */
  payload(conn: TrackedConn, isOrig: boolean, seq: number, data: Buffer): void {
    if (conn.ipProto !== 6) return;
    let state = this.states.get(conn);
    if (state === undefined) {
      state = { sides: [], isSsh: undefined, ts: 0 };
      this.states.set(conn, state);
    }
    if (state.isSsh === false) return;
    const endpoint = isOrig ? conn.orig : conn.resp;
    let side = state.sides.find((s) => s.endpoint === endpoint);
    if (side === undefined) {
      side = { endpoint, head: '', line: Buffer.alloc(0), next: seq, skipped: 0, banner: undefined, announced: false, done: false };
      state.sides.push(side);
    }
    if (side.done) return;
    if (seq > side.next) {
      // A gap: the stream start is incomplete, stop here.
      side.done = true;
      if (side.head.length < 4) side.head = '----';
    } else if (seq + data.length > side.next) {
      const fresh = data.subarray(side.next - seq);
      side.next += fresh.length;
      if (side.head.length < 4) side.head += fresh.subarray(0, 4 - side.head.length).toString('latin1');
      this.scan(side, fresh);
      if (side.banner !== undefined && state.ts === 0) state.ts = conn.tracker.now;
    }
    if (this.decide(state)) this.announce(conn, state);
  }

  /** Looks for the banner line in the next bytes of a side, keeping only the current line. */
  private scan(side: Side, fresh: Buffer): void {
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

  /**
   * SSH once a side starts with "SSH-"; not SSH once both sides do not. Returns whether the
   * connection is SSH.
   */
  private decide(state: SshState): boolean {
    if (state.isSsh !== undefined) return state.isSsh;
    if (state.sides.some((s) => startsSsh(s.head) === true)) {
      state.isSsh = true;
      return true;
    }
    if (state.sides.length === 2 && state.sides.every((s) => startsSsh(s.head) === false)) {
      state.isSsh = false;
      state.sides = [];
    }
    return false;
  }

  /**
   * Software records for the banners found on an SSH connection; the server's banner confirms
   * the protocol (service 'ssh'; Zeek leaves it unset when only the client side was seen).
   */
  private announce(conn: TrackedConn, state: SshState): void {
    for (const side of state.sides) {
      if (side.banner === undefined || side.announced) continue;
      side.announced = true;
      const isOrig = side.endpoint === conn.orig;
      if (!isOrig) conn.service = 'ssh';
      this.software(conn, side.banner, isOrig);
    }
  }

  /** Zeek's ssh/software.zeek: the banner without "SSH-x.y-" goes to the software framework. */
  private software(conn: TrackedConn, banner: string, isOrig: boolean): void {
    const host = isOrig ? conn.origH : conn.respH;
    if (!isLocalAddr(host)) return;
    const unparsed = banner.replace(/^SSH[0-9.-]+/, '');
    const version = parseSoftwareVersion(unparsed);
    const type = isOrig ? 'SSH::CLIENT' : 'SSH::SERVER';
    const key = `${host}\0${type}\0${version.name}`;
    const versionKey = [version.major, version.minor, version.minor2, version.minor3, version.addl].join('.');
    if (this.tracked.get(key) === versionKey) return;
    if (this.tracked.size >= MAX_TRACKED_SOFTWARE && !this.tracked.has(key)) this.tracked.clear();
    this.tracked.set(key, versionKey);
    this.options.onSoftware(
      {
        kind: 'software',
        ts: conn.tracker.now,
        uid: '',
        saddr: host,
        daddr: '',
        interface: conn.iface,
        source: 'pcap',
        sport: isOrig ? 0 : conn.respP,
        software: type,
        software_name: version.name,
        version_major: version.major,
        version_minor: version.minor,
        unparsed_version: unparsed,
        http_browser: false,
      },
      version,
    );
  }

  /** The ssh.log record of a connection that ended (undefined when no banner was seen). */
  finish(conn: TrackedConn): SshRecord | undefined {
    const state = this.states.get(conn);
    if (state === undefined) return undefined;
    this.states.delete(conn);
    if (state.isSsh !== true) return undefined;
    const client = state.sides.find((s) => s.endpoint === conn.orig)?.banner;
    const server = state.sides.find((s) => s.endpoint === conn.resp)?.banner;
    if (client === undefined && server === undefined) return undefined;
    return {
      kind: 'ssh',
      ts: state.ts,
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
  }
}
