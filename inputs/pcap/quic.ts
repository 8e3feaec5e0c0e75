// QUIC analyzer for the pcap input (UDP, any port), chosen by content: the connection's first
// client datagram must hold a QUIC v1 (RFC 9000) or v2 (RFC 9369) long-header Initial packet
// that decrypts with the Initial keys derived from its Destination Connection ID (RFC 9001:
// HKDF-SHA256 with the version's salt, AES-128-GCM, AES-ECB header protection). Client and
// server Initial packets are decrypted, their CRYPTO frames reassembled into TLS handshake
// messages for the shared handshake layer (tlsHandshake.ts: ClientHello SNI / ALPN / ja3,
// ServerHello version / cipher / key_share curve), which writes the ssl.log line Zeek writes for
// QUIC connections. quic.log carries what Zeek's base/protocols/quic keeps: version, the
// client's first DCID, the last client / server SCIDs, SNI, first ALPN, and the history letters
// (I Initial, S TLS hello, H Handshake, Z 0-RTT, R Retry, C CONNECTION_CLOSE, O short-header
// packets at the 1st, 2nd, 4th, 8th... of a direction; client upper case). Service becomes
// 'quic', then 'quic,ssl' once the ServerHello parsed. Handshake and 1-RTT packets stay
// encrypted (their keys need the TLS secrets). Memory: CRYPTO data up to MAX_CRYPTO bytes per
// direction.

import crypto from 'node:crypto';
import { addService, type AnalyzerOutput, type AnalyzerSession, type ProtocolAnalyzer } from './analyzer.js';
import type { FinishedConn, TrackedConn } from './conntrack.js';
import { HandshakeBuffer, HS_CLIENT_HELLO, HS_SERVER_HELLO, TlsHandshake } from './tlsHandshake.js';
import { type ZeekLogSpec, zeekOptional, zeekString, zeekTime } from './zeekLog.js';

export const QUIC_LOG: ZeekLogSpec = {
  path: 'quic',
  fields: [
    ['ts', 'time'], ['uid', 'string'], ['id.orig_h', 'addr'], ['id.orig_p', 'port'], ['id.resp_h', 'addr'],
    ['id.resp_p', 'port'], ['version', 'string'], ['client_initial_dcid', 'string'], ['client_scid', 'string'],
    ['server_scid', 'string'], ['server_name', 'string'], ['client_protocol', 'string'], ['history', 'string'],
  ],
};

/** Zeek's QUIC::max_history_length. */
const MAX_HISTORY = 100;
/** CRYPTO stream bytes kept per direction (a ClientHello with post-quantum key shares fits). */
const MAX_CRYPTO = 64 * 1024;

const VERSION_1 = 0x00000001;
const VERSION_2 = 0x6b3343cf;

export interface VersionParams {
  name: string;
  salt: Buffer;
  labelPrefix: string;
  /** Long-header packet type numbers of this version. */
  initial: number;
  zeroRtt: number;
  handshake: number;
  retry: number;
}

const VERSIONS: ReadonlyMap<number, VersionParams> = new Map([
  [VERSION_1, {
    name: '1', salt: Buffer.from('38762cf7f55934b34d179ae6a4c80cadccbb7f0a', 'hex'), labelPrefix: 'quic',
    initial: 0, zeroRtt: 1, handshake: 2, retry: 3,
  }],
  [VERSION_2, {
    name: 'quicv2', salt: Buffer.from('0dede3def700a6db819381be6e269dcbf9bd2ed9', 'hex'), labelPrefix: 'quicv2',
    initial: 1, zeroRtt: 2, handshake: 3, retry: 0,
  }],
]);

/** The parameters of a QUIC version this analyzer decrypts (1 and 0x6b3343cf), if any. */
export function quicVersion(version: number): VersionParams | undefined {
  return VERSIONS.get(version);
}

/** TLS 1.3's HKDF-Expand-Label with SHA-256 (outputs of at most 32 bytes). */
function expandLabel(secret: Buffer, label: string, length: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.concat([Buffer.from([length >> 8, length & 0xff, full.length]), full, Buffer.from([0])]);
  return crypto.createHmac('sha256', secret).update(Buffer.concat([info, Buffer.from([1])])).digest().subarray(0, length);
}

export interface Keys { key: Buffer; iv: Buffer; hp: Buffer }

/** The Initial packet protection keys of one side for a client's first DCID. */
export function initialKeys(params: VersionParams, dcid: Buffer, isClient: boolean): Keys {
  const initial = crypto.createHmac('sha256', params.salt).update(dcid).digest();
  const secret = expandLabel(initial, isClient ? 'client in' : 'server in', 32);
  return {
    key: expandLabel(secret, `${params.labelPrefix} key`, 16),
    iv: expandLabel(secret, `${params.labelPrefix} iv`, 12),
    hp: expandLabel(secret, `${params.labelPrefix} hp`, 16),
  };
}

/** A QUIC variable-length integer at `pos`: [value, next position], or undefined when short. */
function varint(buf: Buffer, pos: number): [number, number] | undefined {
  if (pos >= buf.length) return undefined;
  const len = 1 << (buf[pos]! >> 6);
  if (pos + len > buf.length) return undefined;
  let v = buf[pos]! & 0x3f;
  for (let i = 1; i < len; i++) v = v * 256 + buf[pos + i]!;
  return [v, pos + len];
}

/** RFC 9000 A.3: the full packet number closest to the next expected one. */
function decodePacketNumber(largest: number, truncated: number, bits: number): number {
  const expected = largest + 1;
  const win = 2 ** bits;
  const half = win / 2;
  const candidate = Math.floor(expected / win) * win + truncated;
  if (candidate <= expected - half && candidate < 2 ** 62 - win) return candidate + win;
  if (candidate > expected + half && candidate >= win) return candidate - win;
  return candidate;
}

/** One long-header packet's header fields. */
interface LongHeader {
  type: number;
  version: number;
  dcid: Buffer;
  scid: Buffer;
  /** Offset of the packet number (Initial / 0-RTT / Handshake), -1 for Retry. */
  pnOffset: number;
  /** Offset just past this packet in the datagram. */
  end: number;
}

function parseLongHeader(d: Buffer, start: number): LongHeader | undefined {
  if (start + 7 > d.length) return undefined;
  const version = d.readUInt32BE(start + 1);
  const params = VERSIONS.get(version);
  if (params === undefined) return undefined;
  const type = (d[start]! >> 4) & 0x03;
  let pos = start + 5;
  const dcidLen = d[pos++]!;
  if (dcidLen > 20 || pos + dcidLen + 1 > d.length) return undefined;
  const dcid = d.subarray(pos, pos + dcidLen);
  pos += dcidLen;
  const scidLen = d[pos++]!;
  if (scidLen > 20 || pos + scidLen > d.length) return undefined;
  const scid = d.subarray(pos, pos + scidLen);
  pos += scidLen;
  if (type === params.retry) return { type, version, dcid, scid, pnOffset: -1, end: d.length };
  if (type === params.initial) {
    const token = varint(d, pos);
    if (token === undefined) return undefined;
    pos = token[1] + token[0];
  }
  const length = varint(d, pos);
  if (length === undefined || length[1] + length[0] > d.length) return undefined;
  return { type, version, dcid, scid, pnOffset: length[1], end: length[1] + length[0] };
}

/** Removes header protection and decrypts a packet; the plaintext frames, or undefined. */
function decryptPacket(d: Buffer, start: number, h: LongHeader, keys: Keys, largest: number): { pn: number; payload: Buffer } | undefined {
  if (h.pnOffset + 4 + 16 > h.end) return undefined;
  const sample = d.subarray(h.pnOffset + 4, h.pnOffset + 20);
  const ecb = crypto.createCipheriv('aes-128-ecb', keys.hp, null);
  const mask = ecb.update(sample);
  const first = d[start]! ^ (mask[0]! & 0x0f);
  const pnLen = (first & 0x03) + 1;
  const header = Buffer.from(d.subarray(start, h.pnOffset + pnLen));
  header[0] = first;
  let truncated = 0;
  for (let i = 0; i < pnLen; i++) {
    const b = d[h.pnOffset + i]! ^ mask[1 + i]!;
    header[h.pnOffset - start + i] = b;
    truncated = truncated * 256 + b;
  }
  const pn = decodePacketNumber(largest, truncated, pnLen * 8);
  const nonce = Buffer.from(keys.iv);
  for (let i = 0, v = pn; i < 8 && v > 0; i++, v = Math.floor(v / 256)) nonce[11 - i]! ^= v & 0xff;
  const body = d.subarray(h.pnOffset + pnLen, h.end);
  if (body.length < 16) return undefined;
  try {
    const gcm = crypto.createDecipheriv('aes-128-gcm', keys.key, nonce);
    gcm.setAAD(header);
    gcm.setAuthTag(body.subarray(body.length - 16));
    const payload = Buffer.concat([gcm.update(body.subarray(0, body.length - 16)), gcm.final()]);
    return { pn, payload };
  } catch {
    return undefined;
  }
}

/** The CRYPTO frames of a decrypted Initial payload, and whether it closes the connection. */
function readFrames(p: Buffer): { crypto: { offset: number; data: Buffer }[]; close: boolean } {
  const out: { offset: number; data: Buffer }[] = [];
  let close = false;
  let pos = 0;
  const next = (): number | undefined => {
    const v = varint(p, pos);
    if (v === undefined) return undefined;
    pos = v[1];
    return v[0];
  };
  while (pos < p.length) {
    const type = next();
    if (type === undefined) break;
    if (type === 0x00 || type === 0x01) continue;
    if (type === 0x02 || type === 0x03) {
      next();
      next();
      const ranges = next();
      if (ranges === undefined || next() === undefined) break;
      for (let i = 0; i < ranges * 2; i++) if (next() === undefined) return { crypto: out, close };
      if (type === 0x03) for (let i = 0; i < 3; i++) next();
    } else if (type === 0x06) {
      const offset = next();
      const length = next();
      if (offset === undefined || length === undefined || pos + length > p.length) break;
      out.push({ offset, data: p.subarray(pos, pos + length) });
      pos += length;
    } else if (type === 0x1c || type === 0x1d) {
      close = true;
      break;
    } else {
      break;
    }
  }
  return { crypto: out, close };
}

/** One direction's CRYPTO stream, reassembled from frames at any offset. */
class CryptoStream {
  private next = 0;
  private readonly waiting = new Map<number, Buffer>();
  private waitingBytes = 0;
  readonly handshake = new HandshakeBuffer();

  add(offset: number, data: Buffer, deliver: (bytes: Buffer) => void): void {
    if (offset + data.length <= this.next || offset > MAX_CRYPTO) return;
    if (offset > this.next) {
      if (this.waitingBytes + data.length > MAX_CRYPTO || this.waiting.has(offset)) return;
      this.waiting.set(offset, Buffer.from(data));
      this.waitingBytes += data.length;
      return;
    }
    deliver(data.subarray(this.next - offset));
    this.next = offset + data.length;
    for (let found = true; found; ) {
      found = false;
      for (const [at, bytes] of this.waiting) {
        if (at > this.next) continue;
        this.waiting.delete(at);
        this.waitingBytes -= bytes.length;
        if (at + bytes.length > this.next) {
          deliver(bytes.subarray(this.next - at));
          this.next = at + bytes.length;
        }
        found = true;
      }
    }
  }
}

interface Direction {
  keys: Keys | undefined;
  largestPn: number;
  shortPackets: number;
  crypto: CryptoStream;
}

class QuicSession implements AnalyzerSession {
  private params: VersionParams | undefined;
  private readonly tls: TlsHandshake;
  private ts = 0;
  private clientInitialDcid: Buffer | undefined;
  private clientScid = '';
  private serverScid: string | undefined;
  private history = '';
  private logged = false;
  private readonly client: Direction = { keys: undefined, largestPn: -1, shortPackets: 0, crypto: new CryptoStream() };
  private readonly server: Direction = { keys: undefined, largestPn: -1, shortPackets: 0, crypto: new CryptoStream() };

  constructor(private readonly conn: TrackedConn, private readonly out: AnalyzerOutput) {
    this.tls = new TlsHandshake(conn, out, undefined);
  }

  payload(isOrig: boolean, _seq: number, d: Buffer): boolean {
    if (this.params === undefined) return isOrig && this.firstDatagram(d);
    if (!this.logged) this.datagram(isOrig, d);
    return true;
  }

  /** The first client datagram decides: a decryptable Initial, or not QUIC. */
  private firstDatagram(d: Buffer): boolean {
    if (d.length < 7 || (d[0]! & 0xc0) !== 0xc0) return false;
    const h = parseLongHeader(d, 0);
    const params = h === undefined ? undefined : VERSIONS.get(h.version);
    if (h === undefined || params === undefined || h.type !== params.initial || h.dcid.length === 0) return false;
    const keys = initialKeys(params, h.dcid, true);
    if (decryptPacket(d, 0, h, keys, -1) === undefined) return false;
    this.params = params;
    this.clientInitialDcid = Buffer.from(h.dcid);
    this.client.keys = keys;
    this.server.keys = initialKeys(params, h.dcid, false);
    this.ts = this.conn.tracker.now;
    addService(this.conn, 'quic');
    this.datagram(true, d);
    return true;
  }

  private addHistory(isClient: boolean, letter: string): void {
    if (this.history.length >= MAX_HISTORY) return;
    this.history += isClient ? letter.toUpperCase() : letter.toLowerCase();
  }

  /** The packets of one datagram (long-header packets may be coalesced; a short one ends it). */
  private datagram(isClient: boolean, d: Buffer): void {
    const params = this.params!;
    const dir = isClient ? this.client : this.server;
    for (let start = 0; start < d.length; ) {
      if ((d[start]! & 0x80) === 0) {
        if ((d[start]! & 0x40) !== 0) this.shortPacket(isClient, dir);
        return;
      }
      const h = parseLongHeader(d, start);
      if (h === undefined) return;
      const scid = h.scid.toString('hex');
      if (isClient) this.clientScid = scid;
      else this.serverScid = scid;
      if (h.type === params.initial) {
        this.addHistory(isClient, 'I');
        this.initialPacket(isClient, dir, d, start, h);
      } else if (h.type === params.handshake) {
        this.addHistory(isClient, 'H');
      } else if (h.type === params.zeroRtt) {
        this.addHistory(isClient, 'Z');
      } else {
        this.addHistory(isClient, 'R');
        this.logQuic();
        return;
      }
      if (this.logged) return;
      start = h.end;
    }
  }

  private shortPacket(isClient: boolean, dir: Direction): void {
    dir.shortPackets++;
    if ((dir.shortPackets & (dir.shortPackets - 1)) === 0) this.addHistory(isClient, 'O');
  }

  private initialPacket(isClient: boolean, dir: Direction, d: Buffer, start: number, h: LongHeader): void {
    if (dir.keys === undefined) return;
    const plain = decryptPacket(d, start, h, dir.keys, dir.largestPn);
    if (plain === undefined) return;
    dir.largestPn = Math.max(dir.largestPn, plain.pn);
    const frames = readFrames(plain.payload);
    for (const frame of frames.crypto) {
      dir.crypto.add(frame.offset, frame.data, (bytes) => {
        dir.crypto.handshake.push(bytes, (type, body) => this.handshakeMessage(isClient, type, body));
      });
    }
    if (frames.close) {
      this.addHistory(isClient, 'C');
      this.logQuic();
    }
  }

  private handshakeMessage(isClient: boolean, type: number, body: Buffer): void {
    if (!this.tls.message(isClient, type, body)) return;
    if (type === HS_CLIENT_HELLO && isClient) this.addHistory(true, 'S');
    if (type === HS_SERVER_HELLO && !isClient) {
      this.addHistory(false, 'S');
      addService(this.conn, 'ssl');
    }
  }

  /** The quic.log line (once). */
  private logQuic(): void {
    if (this.logged) return;
    this.logged = true;
    const conn = this.conn;
    const hello = this.tls.clientHelloInfo();
    this.out.log(QUIC_LOG, [
      zeekTime(this.ts), conn.uid, conn.origH, conn.origP, conn.respH, conn.respP, zeekString(this.params!.name),
      zeekOptional(this.clientInitialDcid?.toString('hex')), zeekString(this.clientScid),
      this.serverScid === undefined ? '-' : zeekString(this.serverScid), zeekOptional(hello.serverName),
      zeekOptional(hello.protocol), zeekString(this.history),
    ]);
  }

  finish(finished: FinishedConn): void {
    void finished;
    if (this.params === undefined) return;
    this.logQuic();
    this.tls.log();
  }
}

export class QuicAnalyzer implements ProtocolAnalyzer {
  constructor(private readonly out: AnalyzerOutput) {}

  open(conn: TrackedConn): AnalyzerSession | undefined {
    return conn.ipProto === 17 ? new QuicSession(conn, this.out) : undefined;
  }
}
