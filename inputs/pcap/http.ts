// HTTP/1.x analyzer for the pcap input, chosen by content (no port): the client's first line is
// a request line ("METHOD SP URI SP HTTP/x.y", HTTP/0.9 without version) or the server's first
// line a status line ("HTTP/x.y code reason"). It parses both directions of the TCP stream like
// Zeek's HTTP analyzer: pipelined requests are matched to replies in order (Zeek's pending
// table: 1xx interim replies such as "100 Continue" stay on the same transaction as info_code /
// info_msg), bodies are delimited by chunked transfer coding, Content-Length or the end of the
// connection (replies only; none for HEAD, 1xx, 204 and 304), gzip / deflate content codings
// are decompressed (at the message end, the first MAX_COMPRESSED bytes) (body lengths are uncompressed sizes, as Zeek's), multipart bodies are split
// into MIME parts. Every non-empty body (or part) is a file of the files framework (source HTTP,
// MD5/SHA1/SHA256, MIME type by magic, filename from Content-Disposition); its fuid and MIME type
// go to orig_/resp_ fuids / mime_types. An http.log record is written when a reply ends (and
// for every unanswered request when the connection ends), with the columns of Zeek's default
// http.log. User-Agent and Server headers go to the software framework (HTTP::BROWSER,
// HTTP::SERVER) and a recognised request sets conn.service 'http'. After a CONNECT answered
// with 200 (or a 101 protocol switch) the rest of both streams goes to the tunnelled analyzers
// (e.g. SMTP through an HTTP proxy), as Zeek hands it to dynamic protocol detection.
//
// Memory per connection: one header line per side (MAX_LINE), at most MAX_PENDING transactions,
// the hash states and first SNIFF_BYTES of the open files, up to MAX_COMPRESSED bytes of a
// compressed body and at most MAX_CONNECT_WAIT bytes of client data waiting for a CONNECT's reply.

import zlib from 'node:zlib';
import type { HttpRecord } from '../records.js';
import { addService, connFields, type AnalyzerOutput, type AnalyzerSession, type ProtocolAnalyzer } from './analyzer.js';
import type { FinishedConn, TrackedConn } from './conntrack.js';
import { type FileTracker, type FileTransfer, loggedList, loggedText } from './files.js';
import { filenameFromDisposition, parseRequestLine, parseStatusLine, unescapeUri } from './httpParse.js';
import { LineReader, MimeMessage } from './mime.js';
import { parseSoftwareVersion, type SoftwareTracker, type SoftwareVersion } from './software.js';
import { TcpStream } from './stream.js';
import { reportTunnel } from './tunnel.js';
import { type ZeekLogSpec, zeekList, zeekString, zeekTime } from './zeekLog.js';

/** Longest request/status/header line (and multipart body line) followed. */
const MAX_LINE = 65_536;
/** Most headers per message. */
const MAX_HEADERS = 1000;
/** Most transactions waiting for replies (Zeek's HTTP::max_pending_requests). */
const MAX_PENDING = 100;
/** Most files listed per transaction and side (Zeek's HTTP::max_files_orig / max_files_resp). */
const MAX_FILES = 15;
/** Client bytes kept while a CONNECT waits for its reply. */
const MAX_CONNECT_WAIT = 65_536;
/** Zeek's HTTP::proxy_headers. */
const PROXY_HEADERS = new Set(['FORWARDED', 'X-FORWARDED-FOR', 'X-FORWARDED-FROM', 'CLIENT-IP', 'VIA', 'XROXY-CONNECTION', 'PROXY-CONNECTION']);

export const HTTP_LOG: ZeekLogSpec = {
  path: 'http',
  fields: [
    ['ts', 'time'], ['uid', 'string'], ['id.orig_h', 'addr'], ['id.orig_p', 'port'], ['id.resp_h', 'addr'],
    ['id.resp_p', 'port'], ['trans_depth', 'count'], ['method', 'string'], ['host', 'string'], ['uri', 'string'],
    ['referrer', 'string'], ['version', 'string'], ['user_agent', 'string'], ['origin', 'string'],
    ['request_body_len', 'count'], ['response_body_len', 'count'], ['status_code', 'count'], ['status_msg', 'string'],
    ['info_code', 'count'], ['info_msg', 'string'], ['tags', 'set[enum]'], ['username', 'string'], ['password', 'string'],
    ['proxied', 'set[string]'], ['orig_fuids', 'vector[string]'], ['orig_filenames', 'vector[string]'],
    ['orig_mime_types', 'vector[string]'], ['resp_fuids', 'vector[string]'], ['resp_filenames', 'vector[string]'],
    ['resp_mime_types', 'vector[string]'],
  ],
};

/** One request/response pair (Zeek's HTTP::Info). */
interface Transaction {
  ts: number;
  transDepth: number;
  method?: string;
  host?: string;
  uri?: string;
  referrer?: string;
  version?: string;
  userAgent?: string;
  origin?: string;
  requestBodyLen: number;
  responseBodyLen: number;
  statusCode?: number;
  statusMsg?: string;
  infoCode?: number;
  infoMsg?: string;
  username?: string;
  proxied?: string[];
  origFuids?: string[];
  origFilenames?: string[];
  origMimeTypes?: string[];
  respFuids?: string[];
  respFilenames?: string[];
  respMimeTypes?: string[];
}

/** A browser's name and version from a User-Agent, like Zeek's Software parsing of HTTP::BROWSER. */
export function parseBrowserVersion(userAgent: string): SoftwareVersion {
  const product = (name: string, version: string): SoftwareVersion => {
    const parts = version.split(/[.,]/);
    const n = (s: string | undefined): string => (s !== undefined && /^\d+/.test(s) ? String(Number(/^\d+/.exec(s)![0])) : '');
    return { name, major: n(parts[0]), minor: n(parts[1]), minor2: n(parts[2]), minor3: n(parts[3]), addl: '' };
  };
  if (userAgent.startsWith('Mozilla') || userAgent.startsWith('Opera')) {
    const rules: [RegExp, string | undefined][] = [
      [/AdobeAIR\/([0-9.]+)/, 'AdobeAIR'], [/MSIE ([0-9.]+)/, 'MSIE'], [/Edge?\/([0-9.]+)/, 'Edge'],
      [/OPR\/([0-9.]+)/, 'Opera'], [/Opera[/ ]([0-9.]+)/, 'Opera'], [/Chrome\/([0-9.]+)/, 'Chrome'],
      [/Firefox\/([0-9.]+)/, 'Firefox'], [/Version\/([0-9.]+).*Safari\//, 'Safari'], [/Trident\/[0-9.]+.*rv:([0-9.]+)/, 'MSIE'],
    ];
    for (const [pattern, name] of rules) {
      const match = pattern.exec(userAgent);
      if (match !== null && name !== undefined) return product(name, match[1]!);
    }
  }
  return parseSoftwareVersion(userAgent);
}

type Coding = '' | 'gzip' | 'deflate';

/** Most compressed bytes of a body kept for decompression; the rest of a larger body is taken as is. */
const MAX_COMPRESSED = 4 * 1024 * 1024;

/** A compressed body's content: Node's zlib has no synchronous streaming API, so it is inflated at once. */
function inflate(coding: Coding, compressed: Buffer): Buffer {
  const options = { finishFlush: zlib.constants.Z_SYNC_FLUSH };
  try {
    return coding === 'gzip' ? zlib.gunzipSync(compressed, options) : zlib.inflateSync(compressed, options);
  } catch {
    try {
      return coding === 'deflate' ? zlib.inflateRawSync(compressed, options) : Buffer.alloc(0);
    } catch {
      return Buffer.alloc(0);
    }
  }
}

/** One HTTP message (request or reply) being read. */
interface Message {
  txn: Transaction;
  isOrig: boolean;
  contentLength: number | undefined;
  chunked: boolean;
  coding: Coding;
  contentType: string;
  filename: string;
  /** Announced size of the file (Content-Length, or the total of a Content-Range). */
  totalBytes: number | undefined;
  bodyLen: number;
  /** Compressed body bytes waiting to be inflated (at most MAX_COMPRESSED). */
  compressed: Buffer[];
  compressedBytes: number;
  file: FileTransfer | undefined;
  /** Multipart bodies: their MIME parser, fed lines. */
  mime: MimeMessage | undefined;
  mimeLines: LineReader | undefined;
  partFilename: string;
}

type State = 'line' | 'headers' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailer' | 'eof' | 'connect-wait' | 'nothing';

/** One direction's parser. */
class Side {
  state: State = 'line';
  readonly lines = new LineReader(MAX_LINE);
  message: Message | undefined;
  /** Bytes left in a Content-Length body or chunk. */
  remaining = 0;
  headerCount = 0;
  /** The header being read (folded continuation lines are appended). */
  header: string | undefined;
  /** A line was seen (the first line decides the protocol). */
  sawLine = false;
  /** The first bytes were checked. */
  checked = false;
  /** Bytes handed to the tunnelled sessions (their sequence numbers). */
  tunnelled = 0;
  /** Client bytes after a CONNECT request, until its reply. */
  waiting: Buffer[] = [];
  waitingBytes = 0;

  constructor(readonly isOrig: boolean) {}
}

class HttpSession implements AnalyzerSession {
  private readonly client = new Side(true);
  private readonly server = new Side(false);
  private readonly clientStream: TcpStream;
  private readonly serverStream: TcpStream;
  private readonly pending = new Map<number, Transaction>();
  private currentRequest = 0;
  private currentResponse = 0;
  private transDepth = 0;
  /** Methods of requests not answered yet (decide whether a reply has a body). */
  private readonly unanswered: string[] = [];
  private confirmed = false;
  private failed = false;
  /** The next reply answers an HTTP/0.9 request: the whole server stream is its body. */
  private http09Reply = false;
  private connectRequest = false;
  /** Sessions of the tunnelled protocol after CONNECT / 101, once switched. */
  private tunnel: AnalyzerSession[] | undefined;

  constructor(
    private readonly conn: TrackedConn,
    private readonly out: AnalyzerOutput,
    private readonly software: SoftwareTracker,
    private readonly files: FileTracker,
    private readonly tunnelAnalyzers: readonly ProtocolAnalyzer[],
  ) {
    this.clientStream = new TcpStream({ data: (bytes) => this.data(this.client, bytes), gap: (n) => this.gap(this.client, n) });
    this.serverStream = new TcpStream({ data: (bytes) => this.data(this.server, bytes), gap: (n) => this.gap(this.server, n) });
  }

  payload(isOrig: boolean, seq: number, data: Buffer): boolean {
    if (this.failed) return false;
    (isOrig ? this.clientStream : this.serverStream).push(seq, data);
    return !this.failed;
  }

  finish(finished: FinishedConn): void {
    // Bytes still waiting behind a hole are delivered after it (the hole becomes a gap).
    if (!this.failed) {
      this.clientStream.flush();
      this.serverStream.flush();
    }
    if (this.tunnel !== undefined) for (const session of this.tunnel) session.finish(finished);
    if (this.failed) return;
    for (const side of [this.client, this.server]) {
      if (side.message !== undefined) this.messageDone(side);
    }
    for (const [index, txn] of [...this.pending].sort((a, b) => a[0] - b[0])) {
      if (index !== 0) this.write(txn);
    }
    this.pending.clear();
  }

  // -------------------------------------------------------------------------------------------
  // Transactions (Zeek's HTTP::State)

  private newTransaction(): Transaction {
    return { ts: this.conn.tracker.now, transDepth: ++this.transDepth, requestBodyLen: 0, responseBodyLen: 0 };
  }

  private transactionOf(isOrig: boolean): Transaction {
    const index = isOrig ? this.currentRequest : this.currentResponse;
    let txn = this.pending.get(index);
    if (txn === undefined) {
      txn = this.newTransaction();
      this.pending.set(index, txn);
    }
    return txn;
  }

  private request(method: string, uri: string): Transaction {
    if (this.currentRequest < this.currentResponse) this.currentRequest = this.currentResponse;
    if (this.pending.size > MAX_PENDING) {
      if (this.currentResponse === 0) this.currentResponse++;
      while (this.currentResponse < this.currentRequest) {
        const txn = this.pending.get(this.currentResponse);
        if (txn !== undefined) {
          this.write(txn);
          this.pending.delete(this.currentResponse);
        }
        this.currentResponse++;
      }
    }
    this.currentRequest++;
    const txn = this.transactionOf(true);
    txn.method = method;
    txn.uri = unescapeUri(uri);
    return txn;
  }

  private reply(version: string, code: number, reason: string | undefined): Transaction {
    const current = this.pending.get(this.currentResponse);
    if (current === undefined || (current.statusCode !== undefined && !(current.statusCode >= 100 && current.statusCode <= 199))) {
      this.currentResponse++;
    }
    const txn = this.transactionOf(false);
    txn.statusCode = code;
    txn.statusMsg = reason ?? '<empty>';
    txn.version = version;
    if (code >= 100 && code <= 199) {
      txn.infoCode = code;
      txn.infoMsg = txn.statusMsg;
    }
    return txn;
  }

  // -------------------------------------------------------------------------------------------
  // Stream parsing

  private gap(side: Side, bytes: number): void {
    if (this.tunnel !== undefined) {
      side.tunnelled += bytes;
      return;
    }
    const message = side.message;
    message?.file?.gap(bytes);
    // Like Zeek: a hole inside a body of known length (or inside a chunk) is counted as body and
    // parsing goes on after it; any other hole ends the side's parsing.
    if (message !== undefined && message.bodyLen > 0 && (side.state === 'length' || side.state === 'chunk-data') && side.remaining >= bytes) {
      message.bodyLen += bytes;
      side.remaining -= bytes;
      if (side.remaining === 0) {
        if (side.state === 'length') this.messageDone(side);
        else side.state = 'chunk-end';
      }
      return;
    }
    if (message !== undefined) this.messageDone(side);
    side.state = 'nothing';
  }

  private data(side: Side, bytes: Buffer): void {
    if (this.tunnel !== undefined) {
      this.toTunnel(side, bytes);
      return;
    }
    if (!side.checked) {
      this.firstBytes(side, bytes);
      if (this.failed) return;
    }
    let at = 0;
    while (at < bytes.length && !this.failed) {
      if (this.tunnel !== undefined) {
        this.toTunnel(side, bytes.subarray(at));
        return;
      }
      switch (side.state) {
        case 'nothing':
          return;
        case 'connect-wait':
          this.wait(side, bytes.subarray(at));
          return;
        case 'eof':
          this.body(side, bytes.subarray(at));
          return;
        case 'length':
        case 'chunk-data': {
          const take = Math.min(side.remaining, bytes.length - at);
          this.body(side, bytes.subarray(at, at + take));
          at += take;
          side.remaining -= take;
          if (side.remaining === 0) {
            if (side.state === 'length') this.messageDone(side);
            else side.state = 'chunk-end';
          }
          break;
        }
        default: {
          if (!side.isOrig && this.http09Reply && side.state === 'line' && side.lines.pending === 0) {
            this.http09Reply = false;
            this.startMessage(side, this.reply('0.9', 0, undefined));
            side.state = 'eof';
            break;
          }
          const { line, next, overflow } = side.lines.next(bytes, at);
          at = next;
          if (overflow) {
            this.violation(side);
            return;
          }
          if (line === undefined) return;
          this.line(side, line.toString('latin1'));
        }
      }
    }
  }

  /**
   * A side is not HTTP (anymore): it is not parsed further. Before the protocol is confirmed and
   * while no transaction exists, a bad server side (or a bad client side once the server side
   * is bad too) drops the session.
   */
  private violation(side: Side): void {
    if (side.message !== undefined) this.messageDone(side);
    side.state = 'nothing';
    if (this.confirmed || this.pending.size > 0) return;
    if (!side.isOrig || this.server.state === 'nothing') this.failed = true;
  }

  /** Cheap rejection on the first bytes of a side: a request starts with a token, a reply with "HTTP/". */
  private firstBytes(side: Side, bytes: Buffer): void {
    side.checked = true;
    if (side.isOrig) {
      if (!/^[\s!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(String.fromCharCode(bytes[0]!))) this.violation(side);
      return;
    }
    const head = bytes.subarray(0, 5).toString('latin1').toUpperCase();
    if (!this.http09Reply && !'HTTP/'.startsWith(head)) this.violation(side);
  }

  private line(side: Side, text: string): void {
    switch (side.state) {
      case 'line':
        if (side.isOrig) this.requestLine(side, text);
        else this.statusLine(side, text);
        return;
      case 'headers':
        this.headerLine(side, text);
        return;
      case 'chunk-size': {
        const size = /^\s*([0-9a-fA-F]+)/.exec(text);
        if (size === null) {
          this.violation(side);
          return;
        }
        const n = parseInt(size[1]!, 16);
        if (n === 0) side.state = 'trailer';
        else {
          side.remaining = n;
          side.state = 'chunk-data';
        }
        return;
      }
      case 'chunk-end':
        side.state = 'chunk-size';
        return;
      case 'trailer':
        if (text === '') this.messageDone(side);
        return;
      default:
        return;
    }
  }

  private requestLine(side: Side, text: string): void {
    if (text === '') return;
    const first = !side.sawLine;
    side.sawLine = true;
    const parsed = parseRequestLine(text);
    if (parsed === undefined) {
      this.violation(side);
      return;
    }
    if (first && !this.confirmed) {
      this.confirmed = true;
      addService(this.conn, 'http');
    }
    const txn = this.request(parsed.method, parsed.uri);
    if (this.unanswered.length < MAX_PENDING) this.unanswered.push(parsed.method.toUpperCase());
    this.connectRequest = parsed.method.toUpperCase() === 'CONNECT';
    // An HTTP/0.9 request: its reply is the whole server stream (headers may still follow).
    if (parsed.version === '0.9') this.http09Reply = true;
    this.startMessage(side, txn);
    side.state = 'headers';
  }

  private statusLine(side: Side, text: string): void {
    const first = !side.sawLine;
    side.sawLine = true;
    const parsed = parseStatusLine(text);
    if (parsed === undefined) {
      if (text !== '' || first) this.violation(side);
      return;
    }
    if (!this.confirmed && this.unanswered.length > 0) {
      this.confirmed = true;
      addService(this.conn, 'http');
    }
    const txn = this.reply(parsed.version, parsed.code, parsed.reason);
    if (this.connectRequest && parsed.code !== 200) {
      this.connectRequest = false;
      this.resumeClient();
    }
    this.startMessage(side, txn);
    side.state = 'headers';
  }

  private startMessage(side: Side, txn: Transaction): void {
    side.message = {
      txn, isOrig: side.isOrig, contentLength: undefined, chunked: false, coding: '', contentType: '', filename: '',
      totalBytes: undefined, bodyLen: 0, compressed: [], compressedBytes: 0, file: undefined, mime: undefined, mimeLines: undefined,
      partFilename: '',
    };
    side.headerCount = 0;
    side.header = undefined;
  }

  private headerLine(side: Side, text: string): void {
    if (text !== '' && (text[0] === ' ' || text[0] === '\t') && side.header !== undefined) {
      if (side.header.length + text.length <= MAX_LINE) side.header += text;
      return;
    }
    if (side.header !== undefined) this.header(side, side.header);
    side.header = undefined;
    if (text === '') {
      this.headersDone(side);
      return;
    }
    if (side.headerCount++ < MAX_HEADERS) side.header = text;
  }

  private header(side: Side, text: string): void {
    const colon = text.indexOf(':');
    if (colon <= 0) return;
    const message = side.message!;
    const txn = message.txn;
    const name = text.slice(0, colon).trim().toUpperCase();
    const value = text.slice(colon + 1).trim();
    switch (name) {
      case 'CONTENT-LENGTH':
        if (/^\d+$/.test(value)) message.contentLength = Number(value);
        break;
      case 'TRANSFER-ENCODING':
        if (/chunked/i.test(value)) message.chunked = true;
        break;
      case 'CONTENT-ENCODING': {
        const coding = value.toLowerCase();
        if (coding === 'gzip' || coding === 'x-gzip') message.coding = 'gzip';
        else if (coding === 'deflate') message.coding = 'deflate';
        break;
      }
      case 'CONTENT-RANGE': {
        const total = /\/\s*(\d+)/.exec(value);
        if (total !== null) message.totalBytes = Number(total[1]);
        break;
      }
      case 'CONTENT-TYPE':
        message.contentType = value;
        if (/name[ \t]*=/i.test(value)) message.filename = filenameFromDisposition(value);
        break;
      case 'CONTENT-DISPOSITION':
        if (/filename[ \t]*\*?=/i.test(value)) message.filename = filenameFromDisposition(value);
        break;
      default:
        break;
    }
    if (side.isOrig) {
      if (name === 'REFERER') txn.referrer = value;
      else if (name === 'HOST') txn.host = value;
      else if (name === 'ORIGIN') txn.origin = value;
      else if (name === 'USER-AGENT') {
        txn.userAgent = value;
        this.software.report({ conn: this.conn, isOrig: true, type: 'HTTP::BROWSER', unparsed: value, parse: parseBrowserVersion, browser: true });
      } else if (PROXY_HEADERS.has(name)) {
        txn.proxied ??= [];
        const entry = `${name} -> ${value}`;
        if (!txn.proxied.includes(entry)) txn.proxied.push(entry);
      } else if ((name === 'AUTHORIZATION' || name === 'PROXY-AUTHORIZATION') && /^basic /i.test(value)) {
        const decoded = Buffer.from(value.replace(/^basic[ \t]+/i, ''), 'base64').toString('latin1');
        const colonAt = decoded.indexOf(':');
        txn.username = colonAt >= 0 ? decoded.slice(0, colonAt) : `<problem-decoding> (${value})`;
      }
    } else if (name === 'SERVER') {
      this.software.report({ conn: this.conn, isOrig: false, type: 'HTTP::SERVER', unparsed: value, parse: parseSoftwareVersion });
    }
  }

  private headersDone(side: Side): void {
    const message = side.message!;
    if (message.contentLength !== undefined && message.totalBytes === undefined && message.coding === '') {
      message.totalBytes = message.contentLength;
    }
    const multipart = /^multipart\/[^;]*;.*boundary/i.test(message.contentType);
    if (multipart) {
      message.mime = this.partParser(side, message);
      message.mime.line(Buffer.from(`Content-Type: ${message.contentType}`, 'latin1'));
      message.mime.line(Buffer.alloc(0));
      message.mimeLines = new LineReader(MAX_LINE);
    }
    if (!side.isOrig) {
      const code = message.txn.statusCode ?? 0;
      if (this.connectRequest && code === 200) {
        this.connectRequest = false;
        this.messageDone(side);
        // Zeek logs the proxy connection as a Tunnel::HTTP (no uid, originator port 0).
        const conn = this.conn;
        reportTunnel(this.out, conn.iface, { uid: '', type: 'Tunnel::HTTP', origH: conn.origH, origP: 0, respH: conn.respH, respP: conn.respP }, 'Tunnel::DISCOVER', conn.tracker.now);
        this.startTunnel();
        return;
      }
      if (code === 101) {
        this.messageDone(side);
        this.startTunnel();
        return;
      }
      const method = this.unanswered[0];
      if (method === 'HEAD' || (code >= 100 && code < 200) || code === 204 || code === 304) {
        this.messageDone(side);
        return;
      }
    }
    if (message.chunked) side.state = 'chunk-size';
    else if (message.contentLength !== undefined && message.contentLength > 0) {
      side.remaining = message.contentLength;
      side.state = 'length';
    } else if (message.contentLength === undefined && !side.isOrig) side.state = 'eof';
    else this.messageDone(side);
    if (side.isOrig && side.state === 'line' && message.txn.method?.toUpperCase() === 'CONNECT') side.state = 'connect-wait';
  }

  /** The MIME parser of a multipart body: each part with content is a file. */
  private partParser(side: Side, message: Message): MimeMessage {
    return new MimeMessage({
      beginEntity: () => {
        message.partFilename = '';
      },
      header: (name, value) => {
        if (name === 'CONTENT-DISPOSITION' && /filename[ \t]*\*?=/i.test(value)) message.partFilename = filenameFromDisposition(value);
        else if (name === 'CONTENT-TYPE' && /name[ \t]*=/i.test(value)) message.partFilename = filenameFromDisposition(value);
      },
      data: (bytes) => this.fileData(side, message, bytes, message.partFilename),
      endEntity: () => this.endFile(side, message),
    });
  }

  /** Body bytes as sent (de-chunked already): compressed ones wait, the others are content. */
  private body(side: Side, bytes: Buffer): void {
    const message = side.message;
    if (message === undefined || bytes.length === 0) return;
    if (message.coding === '') {
      this.content(side, message, bytes);
      return;
    }
    message.compressed.push(Buffer.from(bytes));
    message.compressedBytes += bytes.length;
    if (message.compressedBytes > MAX_COMPRESSED) this.inflateBody(side, message);
  }

  /** The compressed body so far becomes content; what follows is taken as is. */
  private inflateBody(side: Side, message: Message): void {
    const coding = message.coding;
    if (coding === '') return;
    message.coding = '';
    const compressed = Buffer.concat(message.compressed);
    message.compressed = [];
    this.content(side, message, inflate(coding, compressed));
  }

  /** Body content: counted, then to the MIME parser (multipart) or the body's file. */
  private content(side: Side, message: Message, content: Buffer): void {
    message.bodyLen += content.length;
    if (message.mime !== undefined) {
      const lines = message.mimeLines!;
      let at = 0;
      while (at < content.length) {
        const { line, next } = lines.next(content, at);
        at = next;
        if (line === undefined) break;
        message.mime.line(line);
      }
      return;
    }
    this.fileData(side, message, content, message.filename);
  }

  private fileData(side: Side, message: Message, bytes: Buffer, filename: string): void {
    if (bytes.length === 0) return;
    if (message.file === undefined) {
      const file = this.files.open({ conn: this.conn, isOrig: side.isOrig, source: 'HTTP', depth: 0, filename, totalBytes: message.mime === undefined ? message.totalBytes : undefined });
      message.file = file;
      const txn = message.txn;
      const fuids = side.isOrig ? (txn.origFuids ??= []) : (txn.respFuids ??= []);
      if (fuids.length < MAX_FILES) {
        fuids.push(file.fuid);
        if (filename !== '') (side.isOrig ? (txn.origFilenames ??= []) : (txn.respFilenames ??= [])).push(filename);
      }
    }
    message.file.data(bytes);
  }

  private endFile(side: Side, message: Message): void {
    const file = message.file;
    if (file === undefined) return;
    message.file = undefined;
    file.end();
    const mime = file.mimeType;
    if (mime === '') return;
    const txn = message.txn;
    const types = side.isOrig ? (txn.origMimeTypes ??= []) : (txn.respMimeTypes ??= []);
    if (types.length < MAX_FILES) types.push(mime);
  }

  /** A message ended: body length recorded, files closed; a final reply is logged. */
  private messageDone(side: Side): void {
    const message = side.message;
    if (message === undefined) return;
    side.message = undefined;
    this.inflateBody(side, message);
    message.mime?.end();
    this.endFile(side, message);
    const txn = message.txn;
    if (side.isOrig) {
      txn.requestBodyLen = message.bodyLen;
      side.state = 'line';
      return;
    }
    txn.responseBodyLen = message.bodyLen;
    side.state = 'line';
    const code = txn.statusCode ?? 0;
    if (code >= 100 && code <= 199) return;
    if (this.unanswered.length > 0) this.unanswered.shift();
    this.write(txn);
    this.pending.delete(this.currentResponse);
  }

  // -------------------------------------------------------------------------------------------
  // CONNECT tunnels

  private wait(side: Side, bytes: Buffer): void {
    if (side.waitingBytes + bytes.length > MAX_CONNECT_WAIT) {
      side.state = 'nothing';
      side.waiting = [];
      return;
    }
    side.waiting.push(Buffer.from(bytes));
    side.waitingBytes += bytes.length;
  }

  /** A CONNECT was refused: the client's waiting bytes are HTTP again. */
  private resumeClient(): void {
    const client = this.client;
    if (client.state !== 'connect-wait') return;
    client.state = 'line';
    const waiting = client.waiting;
    client.waiting = [];
    client.waitingBytes = 0;
    for (const bytes of waiting) this.data(client, bytes);
  }

  private startTunnel(): void {
    this.tunnel = [];
    for (const analyzer of this.tunnelAnalyzers) {
      const session = analyzer.open(this.conn);
      if (session !== undefined) this.tunnel.push(session);
    }
    const waiting = this.client.waiting;
    this.client.waiting = [];
    for (const bytes of waiting) this.toTunnel(this.client, bytes);
  }

  private toTunnel(side: Side, bytes: Buffer): void {
    const sessions = this.tunnel!;
    for (let i = 0; i < sessions.length;) {
      if (sessions[i]!.payload(side.isOrig, side.tunnelled, bytes)) i++;
      else sessions.splice(i, 1);
    }
    side.tunnelled += bytes.length;
  }

  // -------------------------------------------------------------------------------------------
  // Output

  private write(txn: Transaction): void {
    const conn = this.conn;
    const text = (v: string | undefined): string => (v === undefined ? '-' : zeekString(v));
    const list = (v: string[] | undefined): string => zeekList(v);
    const record: HttpRecord = {
      kind: 'http',
      ts: txn.ts,
      ...connFields(conn),
      method: loggedText(txn.method ?? ''),
      host: loggedText(txn.host ?? ''),
      uri: loggedText(txn.uri ?? ''),
      version: loggedText(txn.version ?? ''),
      user_agent: loggedText(txn.userAgent ?? ''),
      request_body_len: txn.requestBodyLen,
      response_body_len: txn.responseBodyLen,
      status_code: txn.statusCode ?? 0,
      status_msg: loggedText(txn.statusMsg ?? ''),
      resp_mime_types: loggedList(txn.respMimeTypes ?? []),
      resp_fuids: loggedList(txn.respFuids ?? []),
    };
    this.out.record(record);
    if (!this.out.logging) return;
    this.out.log(HTTP_LOG, [
      zeekTime(txn.ts), conn.uid, conn.origH, conn.origP, conn.respH, conn.respP, txn.transDepth, text(txn.method),
      text(txn.host), text(txn.uri), text(txn.referrer), text(txn.version), text(txn.userAgent), text(txn.origin),
      txn.requestBodyLen, txn.responseBodyLen, txn.statusCode ?? '-', text(txn.statusMsg), txn.infoCode ?? '-',
      text(txn.infoMsg), '(empty)', text(txn.username), '-', list(txn.proxied), list(txn.origFuids),
      list(txn.origFilenames), list(txn.origMimeTypes), list(txn.respFuids), list(txn.respFilenames),
      list(txn.respMimeTypes),
    ]);
  }
}

export class HttpAnalyzer implements ProtocolAnalyzer {
  /**
   * @param tunnelAnalyzers analyzers tried on what follows a CONNECT (or protocol switch) reply.
   */
  constructor(
    private readonly out: AnalyzerOutput,
    private readonly software: SoftwareTracker,
    private readonly files: FileTracker,
    private readonly tunnelAnalyzers: readonly ProtocolAnalyzer[] = [],
  ) {}

  open(conn: TrackedConn): AnalyzerSession | undefined {
    return conn.ipProto === 6 ? new HttpSession(conn, this.out, this.software, this.files, this.tunnelAnalyzers) : undefined;
  }
}
