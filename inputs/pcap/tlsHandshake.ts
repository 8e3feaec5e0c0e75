// The TLS handshake layer shared by TLS over TCP (tls.ts) and QUIC (quic.ts): handshake messages
// (reassembled from records or CRYPTO frames), ClientHello / ServerHello parsing, and the state
// Zeek's base/protocols/ssl scripts keep for ssl.log: version (supported_versions overrides the
// hello's), cipher, curve (ServerKeyExchange or key_share), SNI, ALPN, resumption (session id,
// empty-id session ticket, accepted PSK), last alert, ssl_history letters (client's upper case),
// certificates (x509.log, cert_chain_fps, subject / issuer / self-signed status of the server's
// chain) and the ja3 / ja3s fingerprints of the ja3 Zeek package Slips loads. One ssl.log line
// and ssl record per connection, written once (at establishment, a violation or the end).

import crypto from 'node:crypto';
import type { SslRecord } from '../records.js';
import { type AnalyzerOutput, connFields } from './analyzer.js';
import type { TrackedConn } from './conntrack.js';
import { alertName, cipherHasEcdhParams, cipherName, curveName, isGrease, isTls13, versionName } from './tlsTables.js';
import { certMatchesHost, type Certificate, type KnownCertificates, loggedText, parseCertificate, selfSignedStatus, X509_LOG, x509Record, x509Row } from './x509.js';
import { type ZeekLogSpec, zeekBool, zeekList, zeekOptional, zeekString, zeekTime } from './zeekLog.js';

/** Zeek's SSL::max_ssl_history_length. */
const MAX_HISTORY = 100;
/** Largest handshake message buffered (certificate chains included). */
const MAX_HANDSHAKE_MESSAGE = 256 * 1024;
/** Most certificates read from one Certificate message. */
const MAX_CHAIN = 16;

/** Zeek's default ssl.log columns, then those of Slips' Zeek (subject, issuer, validation_status, ja3, ja3s). */
export const SSL_LOG: ZeekLogSpec = {
  path: 'ssl',
  fields: [
    ['ts', 'time'], ['uid', 'string'], ['id.orig_h', 'addr'], ['id.orig_p', 'port'], ['id.resp_h', 'addr'],
    ['id.resp_p', 'port'], ['version', 'string'], ['cipher', 'string'], ['curve', 'string'], ['server_name', 'string'],
    ['resumed', 'bool'], ['last_alert', 'string'], ['next_protocol', 'string'], ['established', 'bool'],
    ['ssl_history', 'string'], ['cert_chain_fps', 'vector[string]'], ['client_cert_chain_fps', 'vector[string]'],
    ['sni_matches_cert', 'bool'], ['subject', 'string'], ['issuer', 'string'], ['validation_status', 'string'],
    ['ja3', 'string'], ['ja3s', 'string'],
  ],
};

// Handshake message types and the history letter Zeek writes for each.
export const HS_CLIENT_HELLO = 1;
export const HS_SERVER_HELLO = 2;
const HS_CERTIFICATE = 11;
const HS_SERVER_KEY_EXCHANGE = 12;
const HS_CLIENT_KEY_EXCHANGE = 16;
const HISTORY_LETTERS: ReadonlyMap<number, string> = new Map([
  [0, 'h'], [1, 'c'], [2, 's'], [3, 'v'], [4, 't'], [5, 'e'], [6, 'j'], [8, 'o'], [11, 'x'], [12, 'k'], [13, 'r'],
  [14, 'n'], [15, 'y'], [16, 'g'], [20, 'f'], [21, 'w'], [22, 'u'], [23, 'a'], [24, 'p'], [254, 'm'],
]);

// Extensions read.
const EXT_SERVER_NAME = 0;
const EXT_SUPPORTED_GROUPS = 10;
const EXT_EC_POINT_FORMATS = 11;
const EXT_ALPN = 16;
const EXT_SESSION_TICKET = 35;
const EXT_PRE_SHARED_KEY = 41;
const EXT_SUPPORTED_VERSIONS = 43;
const EXT_KEY_SHARE = 51;

/** The ServerHello random of a HelloRetryRequest (RFC 8446). */
const HRR_RANDOM = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex');

/** A bounded big-endian reader; out-of-range reads throw RangeError (caught by the parsers). */
class Reader {
  constructor(readonly buf: Buffer, public pos = 0, readonly end = buf.length) {}
  u8(): number {
    if (this.pos + 1 > this.end) throw new RangeError('short');
    return this.buf[this.pos++]!;
  }
  u16(): number {
    if (this.pos + 2 > this.end) throw new RangeError('short');
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  u24(): number {
    return this.u8() * 65536 + this.u16();
  }
  bytes(n: number): Buffer {
    if (this.pos + n > this.end) throw new RangeError('short');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  /** A sub-reader over the next n bytes. */
  sub(n: number): Reader {
    const start = this.pos;
    this.bytes(n);
    return new Reader(this.buf, start, this.pos);
  }
  get left(): number {
    return this.end - this.pos;
  }
}

interface Extension { type: number; data: Buffer }

function readExtensions(r: Reader): Extension[] {
  const out: Extension[] = [];
  if (r.left < 2) return out;
  const list = r.sub(r.u16());
  while (list.left >= 4) {
    const type = list.u16();
    out.push({ type, data: list.bytes(list.u16()) });
  }
  return out;
}

export interface ClientHello {
  version: number;
  sessionId: Buffer;
  ciphers: number[];
  extensions: Extension[];
  serverNames: string[];
  alpn: string[];
  groups: number[];
  pointFormats: number[];
}

export interface ServerHello {
  version: number;
  random: Buffer;
  sessionId: Buffer;
  cipher: number;
  extensions: Extension[];
}

/** A ClientHello body; undefined when malformed. */
export function parseClientHello(body: Buffer): ClientHello | undefined {
  try {
    const r = new Reader(body);
    const version = r.u16();
    r.bytes(32);
    const sessionId = r.bytes(r.u8());
    const cipherBytes = r.bytes(r.u16());
    if (cipherBytes.length < 2 || cipherBytes.length % 2 !== 0) return undefined;
    const ciphers: number[] = [];
    for (let i = 0; i < cipherBytes.length; i += 2) ciphers.push(cipherBytes.readUInt16BE(i));
    if (r.bytes(r.u8()).length === 0) return undefined;
    const hello: ClientHello = { version, sessionId, ciphers, extensions: readExtensions(r), serverNames: [], alpn: [], groups: [], pointFormats: [] };
    for (const ext of hello.extensions) {
      const e = new Reader(ext.data);
      if (ext.type === EXT_SERVER_NAME && e.left >= 2) {
        const list = e.sub(e.u16());
        while (list.left >= 3) {
          const type = list.u8();
          const name = list.bytes(list.u16());
          if (type === 0) hello.serverNames.push(name.toString('latin1'));
        }
      } else if (ext.type === EXT_ALPN && e.left >= 2) {
        hello.alpn = readAlpn(e);
      } else if (ext.type === EXT_SUPPORTED_GROUPS && e.left >= 2) {
        const list = e.sub(e.u16());
        while (list.left >= 2) hello.groups.push(list.u16());
      } else if (ext.type === EXT_EC_POINT_FORMATS && e.left >= 1) {
        const list = e.sub(e.u8());
        while (list.left >= 1) hello.pointFormats.push(list.u8());
      }
    }
    return hello;
  } catch (error) {
    if (error instanceof RangeError) return undefined;
    throw error;
  }
}

function readAlpn(e: Reader): string[] {
  const out: string[] = [];
  const list = e.sub(e.u16());
  while (list.left >= 1) out.push(list.bytes(list.u8()).toString('latin1'));
  return out;
}

/** A ServerHello body; undefined when malformed. */
export function parseServerHello(body: Buffer): ServerHello | undefined {
  try {
    const r = new Reader(body);
    const version = r.u16();
    const random = r.bytes(32);
    const sessionId = r.bytes(r.u8());
    const cipher = r.u16();
    r.u8();
    return { version, random, sessionId, cipher, extensions: readExtensions(r) };
  } catch (error) {
    if (error instanceof RangeError) return undefined;
    throw error;
  }
}

/** JA3: md5 of "version,ciphers,extensions,groups,point formats" (GREASE left out). */
export function ja3(hello: ClientHello): string {
  const list = (values: number[]): string => values.filter((v) => !isGrease(v)).join('-');
  const text = `${hello.version},${list(hello.ciphers)},${list(hello.extensions.map((e) => e.type))},${list(hello.groups)},${hello.pointFormats.join('-')}`;
  return crypto.createHash('md5').update(text).digest('hex');
}

/** JA3S: md5 of "version,cipher,extensions". */
export function ja3s(hello: ServerHello): string {
  const exts = hello.extensions.map((e) => e.type).filter((v) => !isGrease(v)).join('-');
  return crypto.createHash('md5').update(`${hello.version},${hello.cipher},${exts}`).digest('hex');
}

/** Handshake messages of one direction, rebuilt from fragments (records or CRYPTO frames). */
export class HandshakeBuffer {
  private pending: Buffer = Buffer.alloc(0);
  /** A message was too large or malformed: nothing more is read. */
  failed = false;

  /** Appends bytes; calls `message` for each complete message. */
  push(bytes: Buffer, message: (type: number, body: Buffer) => void): void {
    if (this.failed) return;
    this.pending = this.pending.length === 0 ? Buffer.from(bytes) : Buffer.concat([this.pending, bytes]);
    let pos = 0;
    while (this.pending.length - pos >= 4) {
      const len = this.pending.readUIntBE(pos + 1, 3);
      if (len > MAX_HANDSHAKE_MESSAGE) {
        this.failed = true;
        this.pending = Buffer.alloc(0);
        return;
      }
      if (this.pending.length - pos < 4 + len) break;
      const type = this.pending[pos]!;
      const body = this.pending.subarray(pos + 4, pos + 4 + len);
      pos += 4 + len;
      message(type, body);
      if (this.failed) return;
    }
    this.pending = pos === this.pending.length ? Buffer.alloc(0) : this.pending.subarray(pos);
  }
}

/** The ssl.log state of one connection. */
export class TlsHandshake {
  ts: number | undefined;
  /** The negotiated version (0 until the ServerHello). */
  versionNum = 0;
  private version = '';
  private cipher = '';
  private cipherNum = -1;
  private curve = '';
  private serverName = '';
  /** The first ALPN protocol the client offered. */
  private clientProtocol = '';
  private sessionId = '';
  resumed = false;
  private clientTicketEmptySession = false;
  private clientKeyExchangeSeen = false;
  private clientPskSeen = false;
  private hrrSeen = false;
  private lastAlert = '';
  private nextProtocol = '';
  established = false;
  private history = '';
  private certChain: Certificate[] | undefined;
  private clientCertChain: Certificate[] | undefined;
  private ja3 = '';
  private ja3s = '';
  /** The ssl.log line was written. */
  logged = false;
  /** A ClientHello or ServerHello was parsed (there is something to log). */
  seen = false;

  constructor(
    private readonly conn: TrackedConn,
    private readonly out: AnalyzerOutput,
    private readonly knownCerts: KnownCertificates | undefined,
  ) {}

  private start(): void {
    if (this.ts === undefined) this.ts = this.conn.tracker.now;
  }

  addHistory(isClient: boolean, letter: string): void {
    this.start();
    if (this.history.length >= MAX_HISTORY) return;
    this.history += isClient ? letter.toUpperCase() : letter;
  }

  /** The client is the responder (Zeek's ssl_connection_flipped). */
  flipped(): void {
    this.start();
    this.history += '^';
  }

  /**
   * A complete handshake message. Returns false when the message is malformed (Zeek's analyzer
   * violation: the caller stops).
   */
  message(isClient: boolean, type: number, body: Buffer): boolean {
    this.start();
    if (type === HS_CLIENT_HELLO && isClient) {
      const hello = parseClientHello(body);
      if (hello === undefined) return false;
      this.clientHello(hello);
    } else if (type === HS_SERVER_HELLO && !isClient) {
      const hello = parseServerHello(body);
      if (hello === undefined) return false;
      this.serverHello(hello);
    } else if (type === HS_CERTIFICATE && !isTls13(this.versionNum)) {
      this.certificates(isClient, body);
    } else if (type === HS_SERVER_KEY_EXCHANGE && !isClient && cipherHasEcdhParams(this.cipherNum) && body.length >= 3 && body[0] === 3) {
      this.curve = curveName(body.readUInt16BE(1));
    } else if (type === HS_CLIENT_KEY_EXCHANGE && isClient) {
      this.clientKeyExchangeSeen = true;
    }
    let letter = HISTORY_LETTERS.get(type) ?? 'z';
    if (type === HS_SERVER_HELLO && this.hrrSeen) {
      letter = 'j';
      this.hrrSeen = false;
    }
    this.addHistory(isClient, letter);
    return true;
  }

  private clientHello(hello: ClientHello): void {
    this.seen = true;
    if (hello.sessionId.length > 0 && !hello.sessionId.every((b) => b === 0)) {
      this.sessionId = hello.sessionId.toString('hex');
      this.clientTicketEmptySession = false;
    } else {
      this.clientTicketEmptySession = hello.extensions.some((e) => e.type === EXT_SESSION_TICKET && e.data.length > 0);
    }
    if (hello.extensions.some((e) => e.type === EXT_PRE_SHARED_KEY)) this.clientPskSeen = true;
    if (hello.serverNames.length > 0) this.serverName = hello.serverNames[0]!;
    if (hello.alpn.length > 0) this.clientProtocol = hello.alpn[0]!;
    this.ja3 = ja3(hello);
  }

  private serverHello(hello: ServerHello): void {
    this.seen = true;
    let version = hello.version;
    for (const ext of hello.extensions) {
      if (ext.type === EXT_SUPPORTED_VERSIONS && ext.data.length === 2) version = ext.data.readUInt16BE(0);
      else if (ext.type === EXT_KEY_SHARE && ext.data.length >= 2) this.curve = curveName(ext.data.readUInt16BE(0));
      else if (ext.type === EXT_ALPN && ext.data.length >= 3) {
        const names = safeAlpn(ext.data);
        if (names.length > 0) this.nextProtocol = names[0]!;
      } else if (ext.type === EXT_PRE_SHARED_KEY && this.clientPskSeen) this.resumed = true;
    }
    this.versionNum = version;
    this.version = versionName(version);
    this.cipherNum = hello.cipher;
    this.cipher = cipherName(hello.cipher);
    if (hello.random.equals(HRR_RANDOM)) this.hrrSeen = true;
    if (this.sessionId !== '' && this.sessionId === hello.sessionId.toString('hex') && version >> 8 !== 0x7f && version !== 0x0304) this.resumed = true;
    this.ja3s = ja3s(hello);
  }

  /** A Certificate message: the chain's certificates go to x509.log and the chain fingerprints. */
  private certificates(isClient: boolean, body: Buffer): void {
    if (this.certChain === undefined) {
      this.certChain = [];
      this.clientCertChain = [];
    }
    const chain = isClient ? this.clientCertChain! : this.certChain;
    if (body.length < 3) return;
    const end = Math.min(body.length, 3 + body.readUIntBE(0, 3));
    const now = this.conn.tracker.now;
    for (let pos = 3, index = 0; pos + 3 <= end && index < MAX_CHAIN; index++) {
      const len = body.readUIntBE(pos, 3);
      const der = body.subarray(pos + 3, Math.min(end, pos + 3 + len));
      pos += 3 + len;
      const cert = parseCertificate(Buffer.from(der));
      if (cert === undefined) continue;
      chain.push(cert);
      const hostCert = !isClient && index === 0;
      const clientCert = isClient && index === 0;
      if (this.knownCerts === undefined || this.knownCerts.shouldLog(cert.fingerprint, hostCert, clientCert, now)) {
        if (this.out.logging) this.out.log(X509_LOG, x509Row(now, cert, hostCert, clientCert));
        this.out.record(x509Record(now, cert, this.conn.iface));
      }
    }
  }

  /** The client's SNI and first ALPN protocol ('' when not sent). */
  clientHelloInfo(): { serverName: string; protocol: string } {
    return { serverName: this.serverName, protocol: this.clientProtocol };
  }

  /** A ChangeCipherSpec from one side. */
  changeCipherSpec(isClient: boolean): void {
    this.addHistory(isClient, 'i');
    if (isClient && this.clientTicketEmptySession && !this.clientKeyExchangeSeen) this.resumed = true;
  }

  alert(isClient: boolean, description: number): void {
    this.addHistory(isClient, 'l');
    this.lastAlert = alertName(description);
  }

  /** Writes the ssl.log line and the ssl record (once). */
  log(): void {
    if (this.logged || !this.seen || this.ts === undefined) return;
    this.logged = true;
    const conn = this.conn;
    const leaf = this.certChain?.[0];
    const validation = this.certChain !== undefined ? selfSignedStatus(this.certChain) : '';
    const sniMatches = this.serverName !== '' && leaf !== undefined ? certMatchesHost(leaf, this.serverName) : undefined;
    const fps = (chain: Certificate[] | undefined): string[] | undefined => chain?.map((c) => c.fingerprint);
    if (this.out.logging) {
      this.out.log(SSL_LOG, [
        zeekTime(this.ts), conn.uid, conn.origH, conn.origP, conn.respH, conn.respP, zeekOptional(this.version),
        zeekOptional(this.cipher), zeekOptional(this.curve), zeekOptional(this.serverName), zeekBool(this.resumed),
        zeekOptional(this.lastAlert), zeekOptional(this.nextProtocol), zeekBool(this.established), zeekString(this.history),
        zeekList(fps(this.certChain)), zeekList(fps(this.clientCertChain)), zeekBool(sniMatches),
        zeekOptional(leaf?.subject), zeekOptional(leaf?.issuer), zeekOptional(validation), zeekOptional(this.ja3),
        zeekOptional(this.ja3s),
      ]);
    }
    const record: SslRecord = {
      kind: 'ssl', ts: this.ts, ...connFields(conn),
      version: this.version,
      cipher: this.cipher,
      resumed: this.resumed,
      established: this.established,
      cert_chain_fuids: fps(this.certChain) ?? [],
      client_cert_chain_fuids: fps(this.clientCertChain) ?? [],
      subject: loggedText(leaf?.subject ?? ''),
      issuer: loggedText(leaf?.issuer ?? ''),
      server_name: loggedText(this.serverName),
      validation_status: validation,
      curve: this.curve,
      ja3: this.ja3,
      ja3s: this.ja3s,
      is_DoH: false,
    };
    this.out.record(record);
  }
}

function safeAlpn(data: Buffer): string[] {
  try {
    return readAlpn(new Reader(data));
  } catch (error) {
    if (error instanceof RangeError) return [];
    throw error;
  }
}
