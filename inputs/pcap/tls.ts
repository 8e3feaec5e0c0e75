// TLS analyzer for the pcap input (TCP, any port), chosen by content like Zeek's DPD: a stream
// that starts with a TLS handshake record (0x16 0x03 0x00-0x03) holding a ClientHello or a
// ServerHello, or a text protocol's STARTTLS / STLS / AUTH TLS exchange followed by one (SMTP,
// IMAP, POP3, FTP). Each direction is rebuilt in order (TcpStream) and cut into TLS records as
// Zeek's SSL analyzer does: records after a side's ChangeCipherSpec (or, in TLS 1.3, its first
// application data record) are ciphertext and only counted; plaintext handshake records go to
// the shared handshake layer (tlsHandshake.ts), alerts and CCS to ssl_history. The session is
// established when a ciphertext record arrives while both sides encrypt; then the ssl.log line
// is written and the connection is left alone, as Zeek detaches its analyzer. A record version
// outside SSLv3..TLS 1.2, an unknown content type or a malformed hello is Zeek's protocol
// violation: what was seen is logged and analysis stops. The service becomes 'ssl' (appended
// to a STARTTLS carrier's) once a ServerHello parsed. SSLv2 hellos are not analysed.
// Memory per direction: one record (at most MAX_RECORD bytes) and one handshake message.

import { addService, type AnalyzerOutput, type AnalyzerSession, type ProtocolAnalyzer } from './analyzer.js';
import type { FinishedConn, TrackedConn } from './conntrack.js';
import { NO_BYTES, TcpStream } from './stream.js';
import { HandshakeBuffer, HS_CLIENT_HELLO, HS_SERVER_HELLO, TlsHandshake } from './tlsHandshake.js';
import { isTls13 } from './tlsTables.js';
import { KnownCertificates } from './x509.js';

/** Largest record accepted (2^14 plus the expansion TLS allows for ciphertext). */
const MAX_RECORD = 16384 + 2048;
/** Text read per side while waiting for a STARTTLS command. */
const MAX_TEXT = 16 * 1024;
/** Client commands that switch a text protocol to TLS. */
const STARTTLS_COMMAND = /^(?:[A-Za-z0-9.]+ )?(?:STARTTLS|STLS|AUTH TLS|AUTH SSL)\s*$/i;

const CT_CHANGE_CIPHER_SPEC = 20;
const CT_ALERT = 21;
const CT_HANDSHAKE = 22;
const CT_APPLICATION_DATA = 23;
const CT_HEARTBEAT = 24;

type Mode = 'start' | 'text' | 'tls' | 'done';

/** One direction of the connection. */
class Side {
  mode: Mode = 'start';
  readonly stream: TcpStream;
  /** Bytes of a record (header included) not complete yet, or the current text line. */
  pending: Buffer = NO_BYTES;
  /** Ciphertext bytes still to skip. */
  skip = 0;
  encrypted = false;
  textBytes = 0;
  readonly handshake = new HandshakeBuffer();

  constructor(readonly isOrig: boolean, session: TlsSession) {
    this.stream = new TcpStream({
      data: (bytes) => session.data(this, bytes),
      gap: () => {
        this.mode = 'done';
      },
    });
  }
}

class TlsSession implements AnalyzerSession {
  private readonly orig: Side;
  private readonly resp: Side;
  private readonly tls: TlsHandshake;
  /** Which side is the TLS client (the one that sent the ClientHello); undefined before. */
  private clientIsOrig: boolean | undefined;
  /** The client asked for STARTTLS; the server's next line is its answer. */
  private starttlsAsked = false;
  /** Not TLS (or analysis ended): the session is dropped. */
  private finished = false;
  private confirmed = false;

  constructor(private readonly conn: TrackedConn, out: AnalyzerOutput, knownCerts: KnownCertificates) {
    this.orig = new Side(true, this);
    this.resp = new Side(false, this);
    this.tls = new TlsHandshake(conn, out, knownCerts);
  }

  payload(isOrig: boolean, seq: number, payload: Buffer): boolean {
    if (this.finished) return false;
    (isOrig ? this.orig : this.resp).stream.push(seq, payload);
    if (this.orig.mode === 'done' && this.resp.mode === 'done') this.stop();
    return !this.finished;
  }

  finish(finished: FinishedConn): void {
    void finished;
    if (!this.finished) this.stop();
  }

  /** Ends the analysis: the ssl.log line if a hello was seen. */
  private stop(): void {
    this.finished = true;
    this.orig.mode = 'done';
    this.resp.mode = 'done';
    this.tls.log();
  }

  /** Contiguous bytes of one direction. */
  data(side: Side, bytes: Buffer): void {
    let rest = bytes;
    while (rest.length > 0 && !this.finished) {
      if (side.mode === 'done') return;
      if (side.mode === 'start') rest = this.classify(side, rest);
      if (side.mode === 'text') rest = this.text(side, rest);
      else if (side.mode === 'tls') rest = this.records(side, rest);
    }
  }

  /**
   * Decides from a side's first bytes whether they are TLS, text (maybe STARTTLS) or neither;
   * returns the bytes still to read (the first ones are kept back until 6 are there).
   */
  private classify(side: Side, bytes: Buffer): Buffer {
    const head = side.pending.length > 0 ? Buffer.concat([side.pending, bytes]) : bytes;
    side.pending = NO_BYTES;
    if (head[0] === 0x16) {
      if (head.length < 6) {
        side.pending = Buffer.from(head);
        return NO_BYTES;
      }
      if (head[1] === 0x03 && head[2]! <= 0x03 && (head[5] === HS_CLIENT_HELLO || head[5] === HS_SERVER_HELLO)) {
        side.mode = 'tls';
        return head;
      }
    } else if (isText(head[0]!) && this.tls.ts === undefined) {
      side.mode = 'text';
      return head;
    }
    this.notTls(side);
    return NO_BYTES;
  }

  /** A side's bytes are neither TLS nor text: a session that saw no hello is not TLS. */
  private notTls(side: Side): void {
    side.mode = 'done';
    if (!this.tls.seen) this.finished = true;
  }

  /**
   * Text lines before STARTTLS: returns the bytes after the line that ends the text part. Only
   * the client's lines are read (kept across segments while incomplete); the server's answer
   * is its next complete line, whatever it says.
   */
  private text(side: Side, bytes: Buffer): Buffer {
    let pos = 0;
    while (pos < bytes.length) {
      const nl = bytes.indexOf(0x0a, pos);
      const end = nl < 0 ? bytes.length : nl + 1;
      side.textBytes += end - pos;
      if (side.textBytes > MAX_TEXT) {
        this.notTls(side);
        return NO_BYTES;
      }
      const start = pos;
      pos = end;
      if (nl < 0) {
        if (side.isOrig) side.pending = side.pending.length === 0 ? Buffer.from(bytes.subarray(start, end)) : Buffer.concat([side.pending, bytes.subarray(start, end)]);
        break;
      }
      if (side.isOrig) {
        // The line with its line end: STARTTLS_COMMAND's trailing \s* takes the \r\n.
        const line = side.pending.length === 0 ? bytes.toString('latin1', start, end) : Buffer.concat([side.pending, bytes.subarray(start, end)]).toString('latin1');
        side.pending = NO_BYTES;
        if (STARTTLS_COMMAND.test(line)) {
          this.starttlsAsked = true;
          side.mode = 'start';
          return bytes.subarray(pos);
        }
      } else if (this.starttlsAsked) {
        side.mode = 'start';
        return bytes.subarray(pos);
      }
    }
    return NO_BYTES;
  }

  /** TLS records: returns what is left once the side stops (nothing while it goes on). */
  private records(side: Side, bytes: Buffer): Buffer {
    let pos = 0;
    while (pos < bytes.length) {
      if (side.skip > 0) {
        const n = Math.min(side.skip, bytes.length - pos);
        side.skip -= n;
        pos += n;
        continue;
      }
      const want = side.pending.length < 5 ? 5 : 5 + side.pending.readUInt16BE(3);
      const take = Math.min(want - side.pending.length, bytes.length - pos);
      side.pending = Buffer.concat([side.pending, bytes.subarray(pos, pos + take)]);
      pos += take;
      if (side.pending.length < want) break;
      if (want === 5) {
        if (!this.header(side)) return NO_BYTES;
        continue;
      }
      const record = side.pending;
      side.pending = NO_BYTES;
      this.plaintext(side, record[0]!, record.subarray(5));
      if (this.finished || side.mode !== 'tls') return NO_BYTES;
    }
    return NO_BYTES;
  }

  /** A complete record header; false when analysis stopped. */
  private header(side: Side): boolean {
    const h = side.pending;
    const type = h[0]!;
    const length = h.readUInt16BE(3);
    if (h[1] !== 0x03 || h[2]! > 0x03 || type < CT_CHANGE_CIPHER_SPEC || type > CT_HEARTBEAT || length > MAX_RECORD) {
      this.violation(side);
      return false;
    }
    if (!side.encrypted && type === CT_APPLICATION_DATA && isTls13(this.tls.versionNum)) side.encrypted = true;
    if (!side.encrypted) return true;
    // Ciphertext: counted, never buffered.
    side.pending = NO_BYTES;
    side.skip = length;
    if (this.orig.encrypted && this.resp.encrypted && !this.tls.established) {
      this.tls.established = true;
      this.stop();
      return false;
    }
    return true;
  }

  private violation(side: Side): void {
    if (!this.tls.seen) this.notTls(side);
    else this.stop();
  }

  private isClient(side: Side): boolean {
    return this.clientIsOrig === undefined ? side.isOrig : side.isOrig === this.clientIsOrig;
  }

  private plaintext(side: Side, type: number, body: Buffer): void {
    const isClient = this.isClient(side);
    if (type === CT_CHANGE_CIPHER_SPEC) {
      this.tls.changeCipherSpec(isClient);
      if (!isTls13(this.tls.versionNum)) side.encrypted = true;
    } else if (type === CT_ALERT) {
      const max = isTls13(this.tls.versionNum) ? 2 : body.length;
      for (let i = 0; i + 1 < Math.min(body.length, max); i += 2) this.tls.alert(isClient, body[i + 1]!);
    } else if (type === CT_HEARTBEAT) {
      this.tls.addHistory(isClient, 'b');
    } else if (type === CT_HANDSHAKE) {
      side.handshake.push(body, (msgType, msgBody) => this.handshakeMessage(side, msgType, msgBody));
    }
  }

  private handshakeMessage(side: Side, type: number, body: Buffer): void {
    if (this.clientIsOrig === undefined && type === HS_CLIENT_HELLO) {
      this.clientIsOrig = side.isOrig;
      if (!side.isOrig) this.tls.flipped();
    }
    if (!this.tls.message(this.isClient(side), type, body)) {
      side.handshake.failed = true;
      this.violation(side);
      return;
    }
    if (type === HS_SERVER_HELLO && !this.confirmed) {
      this.confirmed = true;
      addService(this.conn, 'ssl');
    }
  }
}

/** Printable ASCII or a line end: the start of a text protocol. */
function isText(byte: number): boolean {
  return (byte >= 0x20 && byte < 0x7f) || byte === 0x0d || byte === 0x0a;
}

export class TlsAnalyzer implements ProtocolAnalyzer {
  /** x509.log de-duplication across the capture. */
  private readonly knownCerts = new KnownCertificates();

  constructor(private readonly out: AnalyzerOutput) {}

  open(conn: TrackedConn): AnalyzerSession | undefined {
    return conn.ipProto === 6 ? new TlsSession(conn, this.out, this.knownCerts) : undefined;
  }
}
