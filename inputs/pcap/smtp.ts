// SMTP analyzer for the pcap input, chosen by content like Zeek's DPD signatures (the server's
// first line is a "220" greeting and the client's first command HELO/EHLO), on any port. It
// follows the commands and replies of both sides in order (pipelined commands are answered in
// order; multi-line replies end with "NNN "), the message of DATA (dot-unstuffed, up to the lone
// ".") and of BDAT chunks, and writes what Zeek's smtp.log holds: one record per mail
// transaction (a new one after each message's final reply, or at MAIL FROM when the previous
// one saw client activity, the last one when the connection ends), with helo, MAIL FROM /
// RCPT TO addresses, last_reply (every reply line overwrites it, as in Zeek; Slips' bad-login
// detection reads it), the top-level message headers (date, from, to, cc, reply_to, msg_id,
// in_reply_to, subject, x_originating_ip, received headers and the "path" of relays, user agent)
// and the fuids of the message's MIME parts, which go to the files framework (source SMTP,
// depth = MIME entity count of the session). After a STARTTLS accepted with 220 the record gets
// tls = T and the rest of the connection (TLS) is not parsed. A BDAT size that is no number or
// is absurdly large (Zeek's smtp_huge_bdat_chunk) is taken as a plain command. Set members are
// written in the order seen (Zeek writes its sets in hash order).
//
// Memory per connection: one line per side (MAX_LINE), the pending command names (capped) and
// the fields of the current transaction (sets capped like Zeek's max_*_addresses).

import type { SmtpRecord } from '../records.js';
import { addService, connFields, type AnalyzerOutput, type AnalyzerSession, type ProtocolAnalyzer } from './analyzer.js';
import type { FinishedConn, TrackedConn } from './conntrack.js';
import { type FileTracker, type FileTransfer, loggedList, loggedText } from './files.js';
import { filenameFromDisposition } from './httpParse.js';
import { LineReader, MimeMessage } from './mime.js';
import { TcpStream } from './stream.js';
import { type ZeekLogSpec, zeekBool, zeekList, zeekOptional, zeekTime } from './zeekLog.js';

/** Longest command, reply or message line; a longer command line ends the analysis. */
const MAX_LINE = 65_536;
/** Most commands waiting for their replies. */
const MAX_PENDING_COMMANDS = 1000;
/** Most members of rcptto / to / cc and entries of path (Zeek's max_*_addresses, max_path_length). */
const MAX_ADDRESSES = 1000;
/** Largest BDAT chunk followed as data (larger sizes are Zeek's smtp_huge_bdat_chunk). */
const MAX_BDAT_CHUNK = 2 ** 32 - 1;

export const SMTP_LOG: ZeekLogSpec = {
  path: 'smtp',
  fields: [
    ['ts', 'time'], ['uid', 'string'], ['id.orig_h', 'addr'], ['id.orig_p', 'port'], ['id.resp_h', 'addr'],
    ['id.resp_p', 'port'], ['trans_depth', 'count'], ['helo', 'string'], ['mailfrom', 'string'], ['rcptto', 'set[string]'],
    ['date', 'string'], ['from', 'string'], ['to', 'set[string]'], ['cc', 'set[string]'], ['reply_to', 'string'],
    ['msg_id', 'string'], ['in_reply_to', 'string'], ['subject', 'string'], ['x_originating_ip', 'addr'],
    ['first_received', 'string'], ['second_received', 'string'], ['last_reply', 'string'], ['path', 'vector[addr]'],
    ['user_agent', 'string'], ['tls', 'bool'], ['fuids', 'vector[string]'],
  ],
};

/** Email addresses in a command argument or header, like Zeek's extract_email_addrs_vec. */
export function extractEmailAddresses(text: string): string[] {
  const out: string[] = [];
  const pattern = /(?:^|[<,:\t ])[^<,:\t @]+@[^>,;\t ]+(?=[>,;\t ]|$)/g;
  for (const match of text.matchAll(pattern)) out.push(match[0].replace(/[<>,:;\t ]/g, ''));
  return out;
}

/** A header's address list split at commas outside a leading quoted name (split_mime_email_addresses). */
function splitMimeAddresses(value: string): string[] {
  const out: string[] = [];
  for (const match of value.matchAll(/(?:"[^"]*")?[^,]+/g)) {
    const part = match[0].trim();
    if (part !== '') out.push(part);
  }
  return out;
}

/** IPv4 addresses in a text (Zeek's extract_ip_addresses, IPv4 part). */
function ipv4Addresses(text: string): string[] {
  const out: string[] = [];
  for (const match of text.matchAll(/(?<![0-9.])(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?![0-9])/g)) {
    if (match.slice(1, 5).every((octet) => Number(octet) <= 255)) out.push(match.slice(1, 5).map(Number).join('.'));
  }
  return out;
}

/** One smtp.log record being filled. */
interface Transaction {
  ts: number;
  transDepth: number;
  helo: string;
  mailfrom: string;
  rcptto: string[] | undefined;
  date: string;
  from: string;
  to: string[] | undefined;
  cc: string[] | undefined;
  replyTo: string;
  msgId: string;
  inReplyTo: string;
  subject: string;
  xOriginatingIp: string;
  firstReceived: string;
  secondReceived: string;
  lastReply: string;
  path: string[];
  userAgent: string;
  tls: boolean;
  fuids: string[];
  hasClientActivity: boolean;
  /** MIME entities of this message seen so far (headers are taken from the first only). */
  entities: number;
}

function addMember(list: string[], value: string): void {
  if (list.length < MAX_ADDRESSES && !list.includes(value)) list.push(value);
}

/** What the client side is sending. */
type ClientMode = 'command' | 'data' | 'bdat' | 'done';

class SmtpSession implements AnalyzerSession {
  private readonly clientStream: TcpStream;
  private readonly serverStream: TcpStream;
  private readonly clientLines = new LineReader(MAX_LINE);
  private readonly serverLines = new LineReader(MAX_LINE);
  /** First-line verdicts of each side (undefined until its first line). */
  private clientLooksSmtp: boolean | undefined;
  private serverLooksSmtp: boolean | undefined;
  private confirmed = false;
  private failed = false;
  private mode: ClientMode = 'command';
  private bdatLeft = 0;
  private bdatLast = false;
  /** Commands sent and not answered yet (upper-case names). */
  private readonly pending: string[] = [];
  private helo = '';
  private messagesTransferred = 0;
  private mimeDepth = 0;
  private current: Transaction | undefined;
  private message: MimeMessage | undefined;
  private file: FileTransfer | undefined;
  private filename = '';
  private bdatLastObserved = false;

  constructor(private readonly conn: TrackedConn, private readonly out: AnalyzerOutput, private readonly files: FileTracker) {
    this.clientStream = new TcpStream({ data: (bytes) => this.clientData(bytes), gap: () => this.stopClient() });
    this.serverStream = new TcpStream({ data: (bytes) => this.serverData(bytes), gap: () => this.stopClient() });
  }

  payload(isOrig: boolean, seq: number, data: Buffer): boolean {
    if (this.failed) return false;
    (isOrig ? this.clientStream : this.serverStream).push(seq, data);
    return !this.failed;
  }

  finish(_finished: FinishedConn): void {
    // Bytes still waiting behind a hole come after it (the hole stops the client side).
    this.serverStream.flush();
    this.clientStream.flush();
    if (this.failed || !this.confirmed) return;
    this.endMessage();
    const t = this.current;
    if (t !== undefined && t.hasClientActivity) this.write(t);
    this.current = undefined;
  }

  /** Decides on the protocol once both first lines were seen. */
  private verdict(): void {
    if (this.clientLooksSmtp === false || this.serverLooksSmtp === false) {
      if (!this.confirmed) this.failed = true;
      return;
    }
    if (!this.confirmed && this.clientLooksSmtp === true && this.serverLooksSmtp === true) {
      this.confirmed = true;
      addService(this.conn, 'smtp');
    }
  }

  private transaction(): Transaction {
    if (this.current === undefined) {
      this.current = {
        ts: this.conn.tracker.now, transDepth: this.messagesTransferred + 1, helo: this.helo, mailfrom: '',
        rcptto: undefined, date: '', from: '', to: undefined, cc: undefined, replyTo: '', msgId: '', inReplyTo: '',
        subject: '', xOriginatingIp: '', firstReceived: '', secondReceived: '', lastReply: '',
        path: [this.conn.respH, this.conn.origH], userAgent: '', tls: false, fuids: [], hasClientActivity: false, entities: 0,
      };
    }
    return this.current;
  }

  /** Zeek's smtp_message: the transaction is logged when the client did something in it. */
  private flushTransaction(): void {
    const t = this.current;
    if (t === undefined || !t.hasClientActivity) return;
    this.write(t);
    this.current = undefined;
  }

  // -------------------------------------------------------------------------------------------
  // Client side

  private clientData(bytes: Buffer): void {
    let at = 0;
    while (at < bytes.length && !this.failed && this.mode !== 'done') {
      if (this.mode === 'bdat') {
        const take = Math.min(this.bdatLeft, bytes.length - at);
        this.bdatBytes(bytes.subarray(at, at + take));
        at += take;
        this.bdatLeft -= take;
        if (this.bdatLeft === 0) this.bdatChunkEnd();
        continue;
      }
      const { line, next, overflow } = this.clientLines.next(bytes, at);
      at = next;
      if (overflow) {
        if (this.mode === 'command') this.stopClient();
        continue;
      }
      if (line === undefined) break;
      if (this.mode === 'data') this.dataLine(line);
      else this.commandLine(line.toString('latin1'));
    }
  }

  private stopClient(): void {
    if (!this.confirmed) this.failed = true;
    this.mode = 'done';
  }

  private commandLine(text: string): void {
    if (this.clientLooksSmtp === undefined) {
      this.clientLooksSmtp = /^\s*(?:HELO|EHLO)\b/i.test(text);
      this.verdict();
      if (this.failed) return;
    }
    const space = text.indexOf(' ');
    const command = (space < 0 ? text : text.slice(0, space)).toUpperCase();
    const arg = space < 0 ? '' : text.slice(space + 1).trim();
    if (this.pending.length < MAX_PENDING_COMMANDS) this.pending.push(command);
    const t = this.transaction();
    if (command === 'HELO' || command === 'EHLO') {
      this.helo = arg;
      t.helo = arg;
    } else if (command === 'RCPT' && /^to:/i.test(arg)) {
      t.rcptto ??= [];
      for (const address of extractEmailAddresses(arg)) addMember(t.rcptto, address.replace(/ORCPT=rfc822;?/g, ''));
      t.hasClientActivity = true;
    } else if (command === 'MAIL' && /^from:/i.test(arg)) {
      this.flushTransaction();
      const mailfrom = extractEmailAddresses(arg)[0];
      const next = this.transaction();
      if (mailfrom !== undefined) next.mailfrom = mailfrom;
      next.hasClientActivity = true;
    } else if (command === 'BDAT') {
      const [size, last] = arg.split(/\s+/);
      const chunk = size !== undefined && /^\d+$/.test(size) ? Number(size) : NaN;
      if (chunk <= MAX_BDAT_CHUNK) {
        this.bdatLast = last?.toUpperCase() === 'LAST';
        if (this.bdatLast) this.bdatLastObserved = true;
        this.message ??= this.newMessage();
        this.bdatLeft = chunk;
        if (chunk > 0) this.mode = 'bdat';
        else this.bdatChunkEnd();
      }
    }
  }

  private newMessage(): MimeMessage {
    return new MimeMessage({
      beginEntity: () => {
        this.mimeDepth++;
        this.filename = '';
        this.transaction().entities++;
      },
      header: (name, value) => this.messageHeader(name, value),
      data: (bytes) => {
        if (this.file === undefined) {
          this.file = this.files.open({ conn: this.conn, isOrig: true, source: 'SMTP', depth: this.mimeDepth, filename: this.filename });
          this.transaction().fuids.push(this.file.fuid);
        }
        this.file.data(bytes);
      },
      endEntity: () => {
        this.file?.end();
        this.file = undefined;
      },
    });
  }

  /** A line of a DATA message: the lone "." ends it; dot-stuffing is undone. */
  private dataLine(line: Buffer): void {
    if (line.length === 1 && line[0] === 0x2e) {
      this.endMessage();
      this.mode = 'command';
      if (this.pending.length < MAX_PENDING_COMMANDS) this.pending.push('.');
      return;
    }
    this.message?.line(line.length > 1 && line[0] === 0x2e && line[1] === 0x2e ? line.subarray(1) : line);
  }

  /** BDAT content: lines go to the MIME parser (a chunk may end mid-line). */
  private readonly bdatReader = new LineReader(MAX_LINE);

  private bdatBytes(bytes: Buffer): void {
    let at = 0;
    while (at < bytes.length) {
      const { line, next } = this.bdatReader.next(bytes, at);
      at = next;
      if (line === undefined) break;
      this.message?.line(line);
    }
  }

  private bdatChunkEnd(): void {
    this.mode = 'command';
    if (!this.bdatLast) return;
    this.bdatReader.reset();
    this.endMessage();
  }

  private endMessage(): void {
    this.message?.end();
    this.message = undefined;
  }

  private messageHeader(name: string, value: string): void {
    const t = this.transaction();
    if (name === 'CONTENT-DISPOSITION' && /filename[ \t]*\*?=/i.test(value)) this.filename = filenameFromDisposition(value);
    else if (name === 'CONTENT-TYPE' && /name[ \t]*=/i.test(value)) this.filename = filenameFromDisposition(value);
    if (t.entities > 1) return;
    switch (name) {
      case 'MESSAGE-ID': t.msgId = value; break;
      case 'RECEIVED': {
        if (t.firstReceived !== '') t.secondReceived = t.firstReceived;
        t.firstReceived = value;
        const ips = ipv4Addresses(value);
        const ip = ips.length > 1 ? ips[1]! : ips[0];
        if (ip !== undefined && t.path[t.path.length - 1] !== ip && t.path.length < MAX_ADDRESSES) t.path.push(ip);
        break;
      }
      case 'IN-REPLY-TO': t.inReplyTo = value; break;
      case 'SUBJECT': t.subject = value; break;
      case 'FROM': t.from = value; break;
      case 'REPLY-TO': t.replyTo = value; break;
      case 'DATE': t.date = value; break;
      case 'TO':
        t.to ??= [];
        for (const address of splitMimeAddresses(value)) addMember(t.to, address);
        break;
      case 'CC':
        t.cc ??= [];
        for (const address of splitMimeAddresses(value)) addMember(t.cc, address);
        break;
      case 'X-ORIGINATING-IP': t.xOriginatingIp = ipv4Addresses(value)[0] ?? t.xOriginatingIp; break;
      case 'X-MAILER': case 'USER-AGENT': case 'X-USER-AGENT': t.userAgent = value; break;
      default: break;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Server side

  private serverData(bytes: Buffer): void {
    let at = 0;
    while (at < bytes.length && !this.failed) {
      const { line, next, overflow } = this.serverLines.next(bytes, at);
      at = next;
      if (overflow) continue;
      if (line === undefined) break;
      this.replyLine(line.toString('latin1'));
      if (this.mode === 'done' && this.confirmed) return;
    }
  }

  private replyLine(text: string): void {
    if (this.serverLooksSmtp === undefined) {
      this.serverLooksSmtp = /^\s*220[\s-]/.test(text);
      this.verdict();
      if (this.failed) return;
    }
    const match = /^(\d{3})([ -]?)(.*)$/.exec(text);
    if (match === null) return;
    const code = Number(match[1]);
    const continued = match[2] === '-';
    const t = this.transaction();
    t.lastReply = `${code} ${match[3]!}`;
    if (continued) return;
    const command = this.pending.shift() ?? '';
    if (command === 'DATA' && code === 354) {
      this.mode = 'data';
      this.message ??= this.newMessage();
    } else if (command === '.' || (command === 'BDAT' && this.bdatLastObserved)) {
      this.messagesTransferred++;
      this.bdatLastObserved = false;
      this.flushTransaction();
      this.current = undefined;
      this.transaction();
    } else if (command === 'STARTTLS' && code === 220) {
      t.tls = true;
      t.hasClientActivity = true;
      this.mode = 'done';
    }
  }

  private write(t: Transaction): void {
    const conn = this.conn;
    const record: SmtpRecord = {
      kind: 'smtp',
      ts: t.ts,
      ...connFields(conn),
      helo: loggedText(t.helo),
      mailfrom: loggedText(t.mailfrom),
      rcptto: loggedList(t.rcptto ?? []),
      last_reply: loggedText(t.lastReply),
    };
    this.out.record(record);
    if (!this.out.logging) return;
    this.out.log(SMTP_LOG, [
      zeekTime(t.ts), conn.uid, conn.origH, conn.origP, conn.respH, conn.respP, t.transDepth, zeekOptional(t.helo),
      zeekOptional(t.mailfrom), zeekList(t.rcptto), zeekOptional(t.date), zeekOptional(t.from), zeekList(t.to),
      zeekList(t.cc), zeekOptional(t.replyTo), zeekOptional(t.msgId), zeekOptional(t.inReplyTo), zeekOptional(t.subject),
      t.xOriginatingIp || '-', zeekOptional(t.firstReceived), zeekOptional(t.secondReceived), zeekOptional(t.lastReply),
      zeekList(t.path), zeekOptional(t.userAgent), zeekBool(t.tls), zeekList(t.fuids),
    ]);
  }
}

export class SmtpAnalyzer implements ProtocolAnalyzer {
  constructor(private readonly out: AnalyzerOutput, private readonly files: FileTracker) {}

  open(conn: TrackedConn): AnalyzerSession | undefined {
    return conn.ipProto === 6 ? new SmtpSession(conn, this.out, this.files) : undefined;
  }
}
