// Zeek's files framework for the pcap analyzers: each file carried by a protocol (an HTTP body,
// a MIME part of a mail) is a FileTransfer that streams its content once through MD5, SHA1 and
// SHA256 (Node's crypto) and keeps only its first bytes (SNIFF_BYTES) to find its MIME type by
// magic (filesMagic.ts). When the transfer ends it writes a files.log line (the columns of Zeek's
// default files.log) and the files record the Zeek reader would make of that line. File ids are
// Zeek-like ('F' + base62), deterministic per capture.
//
// Also the text of strings and string lists as a record read back from a Zeek log holds them
// (escaped like Zeek's ASCII writer), shared by the analyzers that log strings from traffic.

import crypto from 'node:crypto';
import type { FilesRecord } from '../records.js';
import type { AnalyzerOutput } from './analyzer.js';
import type { TrackedConn } from './conntrack.js';
import { SNIFF_BYTES, sniffMimeType } from './filesMagic.js';
import { ZeekIds } from './zeekIds.js';
import { isLocalAddr, type ZeekLogSpec, zeekBool, zeekList, zeekOptional, zeekString, zeekTime } from './zeekLog.js';

/** The hash analyzers run on every file, as Zeek names them in files.log `analyzers`. */
const HASH_ANALYZERS = ['MD5', 'SHA1', 'SHA256'];

export const FILES_LOG: ZeekLogSpec = {
  path: 'files',
  fields: [
    ['ts', 'time'], ['fuid', 'string'], ['uid', 'string'], ['id.orig_h', 'addr'], ['id.orig_p', 'port'],
    ['id.resp_h', 'addr'], ['id.resp_p', 'port'], ['source', 'string'], ['depth', 'count'], ['analyzers', 'set[string]'],
    ['mime_type', 'string'], ['filename', 'string'], ['duration', 'interval'], ['local_orig', 'bool'], ['is_orig', 'bool'],
    ['seen_bytes', 'count'], ['total_bytes', 'count'], ['missing_bytes', 'count'], ['overflow_bytes', 'count'],
    ['timedout', 'bool'], ['parent_fuid', 'string'], ['md5', 'string'], ['sha1', 'string'], ['sha256', 'string'],
    ['extracted', 'string'], ['extracted_cutoff', 'bool'], ['extracted_size', 'count'],
  ],
};

/** A string as the Zeek reader returns it from the log cell this analyzer writes ('' stays ''). */
export function loggedText(value: string): string {
  return value === '' ? '' : zeekString(value);
}

/** A string list as the Zeek reader returns it from the log cell this analyzer writes. */
export function loggedList(values: readonly string[]): string[] {
  return values.map((v) => zeekString(v).replace(/,/g, '\\x2c'));
}

/** Where a file comes from. */
export interface FileOrigin {
  conn: TrackedConn;
  /** The originator of the connection sends the file. */
  isOrig: boolean;
  /** Zeek's files.log source: 'HTTP', 'SMTP'. */
  source: string;
  /** MIME depth (SMTP) or 0. */
  depth: number;
  /** From Content-Disposition / Content-Type name (''). */
  filename: string;
  /** The announced size (e.g. Content-Length), when known. */
  totalBytes?: number;
}

/** One file being transferred. */
export class FileTransfer {
  private readonly md5 = crypto.createHash('md5');
  private readonly sha1 = crypto.createHash('sha1');
  private readonly sha256 = crypto.createHash('sha256');
  private head: Buffer[] = [];
  private headBytes = 0;
  private sniffed: string | undefined;
  private readonly firstTime: number;
  private lastTime: number;
  private seen = 0;
  private missing = 0;
  private ended = false;

  constructor(readonly fuid: string, private readonly origin: FileOrigin, private readonly out: AnalyzerOutput) {
    this.firstTime = origin.conn.tracker.now;
    this.lastTime = this.firstTime;
  }

  /** Bytes of content seen so far. */
  get seenBytes(): number {
    return this.seen;
  }

  /** The MIME type by magic ('' when unknown); final once SNIFF_BYTES arrived or the file ended. */
  get mimeType(): string {
    if (this.sniffed !== undefined) return this.sniffed;
    return sniffMimeType(Buffer.concat(this.head));
  }

  data(bytes: Buffer): void {
    if (this.ended || bytes.length === 0) return;
    this.seen += bytes.length;
    this.lastTime = this.origin.conn.tracker.now;
    this.md5.update(bytes);
    this.sha1.update(bytes);
    this.sha256.update(bytes);
    if (this.sniffed === undefined) {
      const keep = Math.min(bytes.length, SNIFF_BYTES - this.headBytes);
      this.head.push(Buffer.from(bytes.subarray(0, keep)));
      this.headBytes += keep;
      if (this.headBytes >= SNIFF_BYTES) this.sniff();
    }
  }

  /** Content lost in a capture gap. */
  gap(bytes: number): void {
    if (!this.ended) this.missing += bytes;
  }

  private sniff(): void {
    this.sniffed = sniffMimeType(Buffer.concat(this.head));
    this.head = [];
  }

  /** The transfer is over: files.log line and files record. */
  end(): void {
    if (this.ended) return;
    if (this.sniffed === undefined) this.sniff();
    this.ended = true;
    const { conn, isOrig, source, depth, filename, totalBytes } = this.origin;
    const md5 = this.md5.digest('hex');
    const sha1 = this.sha1.digest('hex');
    const sha256 = this.sha256.digest('hex');
    const tx = isOrig ? conn.origH : conn.respH;
    const rx = isOrig ? conn.respH : conn.origH;
    const mime = this.sniffed ?? '';
    const record: FilesRecord = {
      kind: 'files',
      ts: this.firstTime,
      uid: this.fuid,
      saddr: tx,
      daddr: rx,
      interface: conn.iface,
      source: 'pcap',
      conn_uids: [conn.uid],
      tx_hosts: [tx],
      rx_hosts: [rx],
      file_source: loggedText(source),
      analyzers: [...HASH_ANALYZERS],
      mime_type: loggedText(mime),
      md5,
      sha1,
      sha256,
      size: totalBytes ?? 0,
    };
    this.out.record(record);
    if (!this.out.logging) return;
    this.out.log(FILES_LOG, [
      zeekTime(this.firstTime), this.fuid, conn.uid, conn.origH, conn.origP, conn.respH, conn.respP, zeekString(source),
      depth, zeekList(HASH_ANALYZERS), zeekOptional(mime), zeekOptional(filename), zeekTime(this.lastTime - this.firstTime),
      zeekBool(isLocalAddr(tx)), zeekBool(isOrig), this.seen, totalBytes ?? '-', this.missing,
      0, 'F', '-', md5, sha1, sha256, '-', '-', '-',
    ]);
  }
}

/** Hands out file transfers with Zeek-like unique ids for one capture. */
export class FileTracker {
  private readonly fuids = new ZeekIds('F', 0x5eed_f11e);

  constructor(private readonly out: AnalyzerOutput) {}

  open(origin: FileOrigin): FileTransfer {
    return new FileTransfer(this.fuids.next(), origin, this.out);
  }
}
