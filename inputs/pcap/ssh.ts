// SSH analyzer for the pcap input, chosen by content like Zeek's DPD signature (a side's stream
// starting with "SSH-"), not by port. It reads the protocol banner of each side
// ("SSH-<protoversion>-<softwareversion>[ comments]\r\n"; the server may send other lines
// first), marks the connection's service 'ssh' once the server's banner is seen, and produces
// what Zeek logs: an ssh.log record when the connection ends (ts = when the first banner was
// seen, as Zeek's set_session; version from Zeek's set_version) and software.log records for the
// client (SSH::CLIENT) and server (SSH::SERVER) banners, parsed like Zeek's Software::parse and,
// like Zeek's default asset tracking, only for local hosts and once per host + software + version.
//
// After the banners (SSH 2 only) it follows the cleartext binary packets of each side up to
// NEWKEYS: both KEXINITs give the negotiated algorithms (the first client choice the server also
// offers, as Zeek's find_alg), the server's key-exchange reply gives the host key, logged as
// OpenSSH's "SHA256:<base64>" fingerprint. Then Zeek's size heuristic for authentication: the
// first encrypted server segment after the client's is the service accept; a later one 16 bytes
// smaller is a USERAUTH_SUCCESS, one of another size the USERAUTH_FAILURE size (a first one more
// than 256 bytes larger is skipped as a login banner), each repeat of it a failed attempt. Like
// Zeek: no guess on compressed streams or after a gap.
// Memory per direction: the current line before the banner (at most BANNER_LIMIT bytes, other
// lines at most MAX_PRE_BANNER), then one cleartext packet (at most MAX_PACKET bytes).

import type { SshRecord } from '../records.js';
import { addService, connFields, type AnalyzerOutput, type AnalyzerSession, type ProtocolAnalyzer } from './analyzer.js';
import { createHash } from 'node:crypto';
import type { FinishedConn, TrackedConn } from './conntrack.js';
import { NO_BYTES, TcpStream } from './stream.js';
import { parseSoftwareVersion, type SoftwareTracker } from './software.js';
import { isLocalAddr, type ZeekLogSpec, zeekBool, zeekOptional, zeekTime } from './zeekLog.js';

/** Most bytes buffered per direction while looking for the banner line. */
const BANNER_LIMIT = 256;
/** Most bytes of other lines a side may send before its banner (RFC 4253 allows them). */
const MAX_PRE_BANNER = 16_384;
/** Largest cleartext binary packet followed (RFC 4253 requires support for 35000). */
const MAX_PACKET = 65_536;
/** Zeek's SSH::compression_algorithms: no authentication guess on such streams. */
const COMPRESSION_ALGORITHMS = new Set(['zlib', 'zlib@openssh.com']);
const MSG_KEXINIT = 20;
const MSG_NEWKEYS = 21;
const MSG_KEX_REPLY = 31;
const MSG_KEX_GEX_REPLY = 33;

export const SSH_LOG: ZeekLogSpec = {
  path: 'ssh',
  fields: [
    ['ts', 'time'], ['uid', 'string'], ['id.orig_h', 'addr'], ['id.orig_p', 'port'], ['id.resp_h', 'addr'],
    ['id.resp_p', 'port'], ['version', 'count'], ['auth_success', 'bool'], ['auth_attempts', 'count'],
    ['direction', 'enum'], ['client', 'string'], ['server', 'string'], ['cipher_alg', 'string'], ['mac_alg', 'string'],
    ['compression_alg', 'string'], ['kex_alg', 'string'], ['host_key_alg', 'string'], ['host_key_fingerprint', 'string'],
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

/** Name-lists of a KEXINIT (RFC 4253 §7.1), in order. */
interface KexInit {
  kex: string[];
  hostKey: string[];
  cipherCs: string[];
  cipherSc: string[];
  macCs: string[];
  macSc: string[];
  compressionCs: string[];
  compressionSc: string[];
}

/** One direction of the connection. */
interface Side {
  isOrig: boolean;
  stream: TcpStream;
  /** The first 4 bytes of the stream (less while fewer arrived). */
  head: string;
  /** The current incomplete line while looking for the banner (at most BANNER_LIMIT bytes). */
  line: Buffer;
  /** Bytes of complete lines that were not the banner. */
  skipped: number;
  /** The banner line without its line end; undefined while not (or never) found. */
  banner: string | undefined;
  /** The banner went to the software framework. */
  announced: boolean;
  /** Cleartext bytes after the banner not yet forming a whole binary packet. */
  packet: Buffer;
  kexInit: KexInit | undefined;
  /** NEWKEYS was sent: everything after it is encrypted. */
  encrypted: boolean;
  /** Nothing more is looked at on this side (limit reached or unparsable). */
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

/** Reads SSH wire strings (uint32 length + bytes) from a packet payload; undefined past the end. */
class WireReader {
  constructor(private readonly data: Buffer, private at: number) {}

  bytes(): Buffer | undefined {
    if (this.at + 4 > this.data.length) return undefined;
    const len = this.data.readUInt32BE(this.at);
    const start = this.at + 4;
    if (start + len > this.data.length) return undefined;
    this.at = start + len;
    return this.data.subarray(start, start + len);
  }

  nameList(): string[] | undefined {
    const raw = this.bytes();
    if (raw === undefined) return undefined;
    return raw.length === 0 ? [] : raw.toString('latin1').split(',');
  }
}

function parseKexInit(payload: Buffer): KexInit | undefined {
  // type byte, 16-byte cookie, then the name-lists.
  const r = new WireReader(payload, 17);
  const lists: string[][] = [];
  for (let i = 0; i < 8; i++) {
    const list = r.nameList();
    if (list === undefined) return undefined;
    lists.push(list);
  }
  const [kex, hostKey, cipherCs, cipherSc, macCs, macSc, compressionCs, compressionSc] = lists as [string[], string[], string[], string[], string[], string[], string[], string[]];
  return { kex, hostKey, cipherCs, cipherSc, macCs, macSc, compressionCs, compressionSc };
}

/** Zeek's find_alg: the first client algorithm the server also offers. */
function negotiate(client: string[], server: string[]): string {
  return client.find((a) => server.includes(a)) ?? 'Algorithm negotiation failed';
}

/** Zeek's find_bidirectional_alg. */
function negotiateBoth(clientCs: string[], clientSc: string[], serverCs: string[], serverSc: string[]): string {
  const cs = negotiate(clientCs, serverCs);
  const sc = negotiate(clientSc, serverSc);
  return cs === sc ? cs : `To server: ${cs}, to client: ${sc}`;
}

/** The negotiated algorithms of two KEXINITs. */
interface Algorithms {
  cipher: string;
  mac: string;
  compression: string;
  kex: string;
  hostKey: string;
}

function negotiateAll(client: KexInit, server: KexInit): Algorithms {
  return {
    cipher: negotiateBoth(client.cipherCs, client.cipherSc, server.cipherCs, server.cipherSc),
    mac: negotiateBoth(client.macCs, client.macSc, server.macCs, server.macSc),
    compression: negotiateBoth(client.compressionCs, client.compressionSc, server.compressionCs, server.compressionSc),
    kex: negotiate(client.kex, server.kex),
    hostKey: negotiate(client.hostKey, server.hostKey),
  };
}

/** The SSH analyzer of one connection. */
class SshSession implements AnalyzerSession {
  private readonly sides: Side[];
  /** Decided SSH (service set) / undecided; a session that decided "not SSH" is dropped. */
  private isSsh = false;
  /** Network time of the first banner (Zeek's set_session). */
  private ts = 0;
  /** A content gap on either side stops the binary-packet analysis (Zeek's had_gap). */
  private hadGap = false;
  private algorithms: Algorithms | undefined;
  private hostKey = '';
  // Zeek's authentication heuristic state.
  private sawEncryptedClientData = false;
  private serviceAcceptSize = 0;
  private userauthFailureSize = 0;
  private skippedBanner = false;
  private authDecided = false;
  private authSuccess: boolean | null = null;
  private authAttempts = 0;

  constructor(private readonly conn: TrackedConn, private readonly out: AnalyzerOutput, private readonly software: SoftwareTracker) {
    this.sides = [this.newSide(true), this.newSide(false)];
  }

  private newSide(isOrig: boolean): Side {
    const side: Side = {
      isOrig, head: '', line: NO_BYTES, skipped: 0, banner: undefined, announced: false,
      packet: NO_BYTES, kexInit: undefined, encrypted: false, done: false,
      stream: new TcpStream({
        data: (bytes) => this.data(side, bytes),
        gap: () => {
          this.hadGap = true;
          if (side.head.length < 4) side.head = '----';
        },
      }),
    };
    return side;
  }

  payload(isOrig: boolean, seq: number, data: Buffer): boolean {
    const side = this.sides[isOrig ? 0 : 1]!;
    if (!side.done) side.stream.push(seq, data);
    if (!this.isSsh) {
      // SSH once a side starts with "SSH-"; not SSH once both sides do not.
      if (this.sides.some((s) => startsSsh(s.head) === true)) this.isSsh = true;
      else return !this.sides.every((s) => startsSsh(s.head) === false);
    }
    this.announce();
    return true;
  }

  /** In-order bytes of a side. */
  private data(side: Side, bytes: Buffer): void {
    if (side.done) return;
    if (side.head.length < 4) side.head += bytes.subarray(0, 4 - side.head.length).toString('latin1');
    if (side.banner === undefined) {
      const rest = this.scanForBanner(side, bytes);
      if (side.banner !== undefined && this.ts === 0) this.ts = this.conn.tracker.now;
      if (rest === undefined || rest.length === 0) return;
      bytes = rest;
    }
    if (this.hadGap || this.protocolVersion() !== 2) return;
    if (side.encrypted) this.encryptedSegment(side, bytes.length);
    else this.cleartext(side, bytes);
  }

  /** 2 when both banners say SSH 2 (the client's may be missing while the server's is not yet). */
  private protocolVersion(): number | undefined {
    const client = this.sides[0]!.banner;
    const server = this.sides[1]!.banner;
    if (client === undefined || server === undefined) {
      // Zeek's binpac analyzer takes the version from the first banner it sees.
      const seen = client ?? server;
      return seen === undefined ? undefined : seen.startsWith('SSH-2') || seen.startsWith('SSH-1.99') ? 2 : 1;
    }
    return sshVersion(client, server);
  }

  /**
   * Looks for the banner line in the next bytes of a side, keeping only the current line.
   * Returns the bytes after the banner line (undefined while it is not found).
   */
  private scanForBanner(side: Side, fresh: Buffer): Buffer | undefined {
    let start = 0;
    while (start < fresh.length) {
      const end = fresh.indexOf(0x0a, start);
      const stop = end < 0 ? fresh.length : end;
      if (side.line.length + (stop - start) > BANNER_LIMIT || side.skipped > MAX_PRE_BANNER) {
        side.done = true;
        return undefined;
      }
      if (end < 0) {
        // An incomplete line waits (copied) for the rest.
        side.line = side.line.length === 0 ? Buffer.from(fresh.subarray(start, stop)) : Buffer.concat([side.line, fresh.subarray(start, stop)]);
        return undefined;
      }
      // A complete line: only a banner is made into text.
      const line = side.line.length === 0 ? fresh.subarray(start, stop) : Buffer.concat([side.line, fresh.subarray(start, stop)]);
      side.skipped += line.length + 1;
      side.line = NO_BYTES;
      start = end + 1;
      if (line.length >= 4 && line[0] === 0x53 && line[1] === 0x53 && line[2] === 0x48 && line[3] === 0x2d) {
        side.banner = line.toString('latin1').replace(/\r$/, '');
        return fresh.subarray(start);
      }
    }
    return undefined;
  }

  /** Cleartext binary packets (RFC 4253 §6) up to and including NEWKEYS. */
  private cleartext(side: Side, bytes: Buffer): void {
    let buf = side.packet.length === 0 ? bytes : Buffer.concat([side.packet, bytes]);
    while (buf.length >= 5) {
      const total = 4 + buf.readUInt32BE(0);
      if (total > MAX_PACKET || total < 6) {
        side.done = true;
        side.packet = NO_BYTES;
        return;
      }
      if (buf.length < total) break;
      const paddingLength = buf[4]!;
      const payload = buf.subarray(5, Math.max(5, total - paddingLength));
      buf = buf.subarray(total);
      if (payload.length > 0) this.message(side, payload);
      if (side.encrypted) {
        side.packet = NO_BYTES;
        if (buf.length > 0) this.encryptedSegment(side, buf.length);
        return;
      }
    }
    side.packet = Buffer.from(buf);
  }

  private message(side: Side, payload: Buffer): void {
    const type = payload[0]!;
    if (type === MSG_KEXINIT) {
      side.kexInit = parseKexInit(payload);
      const client = this.sides[0]!.kexInit;
      const server = this.sides[1]!.kexInit;
      if (client !== undefined && server !== undefined) this.algorithms = negotiateAll(client, server);
    } else if (type === MSG_NEWKEYS) {
      side.encrypted = true;
    } else if (!side.isOrig && (type === MSG_KEX_REPLY || type === MSG_KEX_GEX_REPLY)) {
      // In group exchange, 31 is the group and 33 the reply; elsewhere 31 is the reply.
      const groupExchange = this.algorithms?.kex.startsWith('diffie-hellman-group-exchange') ?? false;
      if ((type === MSG_KEX_GEX_REPLY) !== groupExchange) return;
      const key = new WireReader(payload, 1).bytes();
      if (key !== undefined && key.length > 0) this.hostKey = `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
    }
  }

  /** Zeek's authentication guess from the sizes of encrypted segments. */
  private encryptedSegment(side: Side, len: number): void {
    if (this.authDecided) return;
    if (side.isOrig) {
      this.sawEncryptedClientData = true;
      return;
    }
    if (!this.sawEncryptedClientData) return;
    if (this.serviceAcceptSize === 0) {
      this.serviceAcceptSize = len;
      return;
    }
    if (this.userauthFailureSize === 0 && len + 16 === this.serviceAcceptSize) {
      this.authDecided = true;
      this.authAttempted(true);
      return;
    }
    if (this.userauthFailureSize === 0) {
      if (!this.skippedBanner && len - this.serviceAcceptSize > 256) this.skippedBanner = true;
      else this.userauthFailureSize = len;
      return;
    }
    if (len === this.userauthFailureSize) this.authAttempted(false);
    else if (len - this.serviceAcceptSize === -16) {
      this.authDecided = true;
      this.authAttempted(true);
    }
  }

  /** Zeek's ssh_auth_attempted handler. */
  private authAttempted(authenticated: boolean): void {
    if (this.authSuccess === true) return;
    if (this.algorithms !== undefined && COMPRESSION_ALGORITHMS.has(this.algorithms.compression)) return;
    this.authSuccess = authenticated;
    this.authAttempts += 1;
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
      if (!side.isOrig) addService(conn, 'ssh');
      const unparsed = side.banner.replace(/^SSH[0-9.-]+/, '');
      this.software.report({ conn, isOrig: side.isOrig, type: side.isOrig ? 'SSH::CLIENT' : 'SSH::SERVER', unparsed, parse: parseSoftwareVersion });
    }
  }

  /** The ssh.log record, when a banner was seen. */
  finish(finished: FinishedConn): void {
    const conn = finished.conn;
    if (!this.isSsh) return;
    const client = this.sides[0]!.banner;
    const server = this.sides[1]!.banner;
    if (client === undefined && server === undefined) return;
    const alg = this.algorithms;
    const record: SshRecord = {
      kind: 'ssh',
      ts: this.ts,
      ...connFields(conn),
      version: sshVersion(client ?? '', server ?? '') ?? 0,
      auth_success: this.authSuccess,
      auth_attempts: this.authAttempts,
      client: client ?? '',
      server: server ?? '',
      cipher_alg: alg?.cipher ?? '',
      mac_alg: alg?.mac ?? '',
      compression_alg: alg?.compression ?? '',
      kex_alg: alg?.kex ?? '',
      host_key_alg: alg?.hostKey ?? '',
      host_key: this.hostKey,
    };
    this.out.record(record);
    if (this.out.logging) this.out.log(SSH_LOG, sshRow(record));
  }
}

export class SshAnalyzer implements ProtocolAnalyzer {
  constructor(private readonly out: AnalyzerOutput, private readonly software: SoftwareTracker) {}

  open(conn: TrackedConn): AnalyzerSession | undefined {
    return conn.ipProto === 6 ? new SshSession(conn, this.out, this.software) : undefined;
  }
}
