// The one line splitter of the text inputs (Zeek, Argus, Suricata, nfdump, stdin, followed Zeek
// logs). LineSplitter holds the splitting rules and takes bytes in any chunking; its entry
// points are readLines (a file, read in large chunks), readStreamLines (any byte stream:
// standard input, nfdump's stdout) and the Zeek follower, which pushes the bytes a growing log
// gained. The rules, the same for every source:
// - lines end at \n; one \r before it is dropped (\r\n); the last line may lack its newline
//   (an empty one does not count);
// - a UTF-8 byte order mark at the very start of the input is dropped;
// - lines are numbered from 1, every line counts (also skipped and empty ones, the latter are
//   yielded as "" and the caller decides what they mean);
// - a line that is not valid UTF-8 is reported to the ErrorSink and skipped;
// - a line longer than maxLineBytes (without its \r\n) is reported as soon as that is known
//   and skipped without being held in memory;
// - lines come in batches of consecutive line numbers: a batch ends where a line is skipped and
//   after maxBatchLines lines.

import { open } from 'node:fs/promises';
import { isAscii, isUtf8 } from 'node:buffer';
import type { Readable } from 'node:stream';
import type { ErrorSink, InputProblem } from './errors.js';

/** Consecutive lines: lines[i] is line number firstLine + i of the file. */
export interface LineBatch {
  readonly firstLine: number;
  readonly lines: string[];
}

export interface LineReaderOptions {
  /** Bytes read per filesystem call (default 1 MiB). */
  chunkBytes?: number;
  /** Longest accepted line in bytes, without its newline (default 1 MiB). */
  maxLineBytes?: number;
  /** Most lines in one batch (default 4096). */
  maxBatchLines?: number;
}

const MIB = 1024 * 1024;
const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const DEFAULT_MAX_BATCH_LINES = 4096;
/** First allocation for an unfinished line carried from one chunk to the next. */
const PARTIAL_INITIAL_BYTES = 16 * 1024;

/** How the bytes of a line are known to be encoded. */
const enum Encoding {
  /** Plain ASCII: decoded as latin1 (fastest, identical result). */
  Ascii,
  /** Valid UTF-8. */
  Utf8,
  /** Not checked yet. */
  Unknown,
}

function hasUtf8Bom(buf: Buffer, start: number, end: number): boolean {
  return end - start >= 3 && buf[start] === 0xef && buf[start + 1] === 0xbb && buf[start + 2] === 0xbf;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Splits bytes pushed in any chunking into numbered line batches (the rules are at the top of
 * this file). push() chunks, end() at the end of input, and drain() the batches that are
 * ready; flush() closes the batch being filled, for sources that hand lines on as they arrive.
 * Lines are decoded when their newline arrives, so a pushed chunk may be reused right after
 * push(). Skipped lines are reported by drain() in line order: after the batch before them was
 * handed on, so reports of the parser and of the splitter stay in line order.
 */
export class LineSplitter {
  private readonly maxLineBytes: number;
  private readonly maxBatchLines: number;
  private lineNumber = 1;
  /** The unfinished line: partial[0, partialLength). */
  private partial: Buffer | null = null;
  private partialLength = 0;
  /** Inside a line already reported as too long: bytes up to its newline are dropped. */
  private skippingLongLine = false;
  private lines: string[] = [];
  private firstLine = 1;
  /** Completed batches and the problems between them, in line order. */
  private ready: (LineBatch | InputProblem)[] = [];

  constructor(
    /** File name for reports ('stdin' for standard input). */
    readonly name: string,
    private readonly sink: ErrorSink,
    options: Pick<LineReaderOptions, 'maxLineBytes' | 'maxBatchLines'> = {},
  ) {
    this.maxLineBytes = options.maxLineBytes ?? MIB;
    this.maxBatchLines = options.maxBatchLines ?? DEFAULT_MAX_BATCH_LINES;
  }

  /** Number the next line will get. */
  get nextLine(): number {
    return this.lineNumber;
  }

  /** Splits a chunk; its complete lines join the batches. */
  push(chunk: Buffer): void {
    const length = chunk.length;
    const firstNewline = chunk.indexOf(NEWLINE);
    if (firstNewline === -1) {
      this.hold(chunk, 0, length);
      return;
    }
    // The line the previous chunks started ends at the first newline.
    if (this.skippingLongLine) this.skippingLongLine = false;
    else if (this.partialLength > 0) {
      if (this.partialLength + firstNewline > this.maxLineBytes + 1) {
        this.partialLength = 0;
        this.skipLine(`line longer than ${this.maxLineBytes} bytes, skipped`);
      } else {
        this.hold(chunk, 0, firstNewline);
        const held = this.partialLength;
        this.partialLength = 0;
        this.emit(this.partial!, 0, held, Encoding.Unknown);
      }
    } else this.emit(chunk, 0, firstNewline, Encoding.Unknown);

    // Complete lines after it: one encoding check for all of them (ASCII is the usual case).
    const lastNewline = chunk.lastIndexOf(NEWLINE);
    if (lastNewline > firstNewline) {
      const complete = chunk.subarray(firstNewline + 1, lastNewline);
      const encoding = isAscii(complete) ? Encoding.Ascii : isUtf8(complete) ? Encoding.Utf8 : Encoding.Unknown;
      let pos = firstNewline + 1;
      while (pos <= lastNewline) {
        const newline = chunk.indexOf(NEWLINE, pos);
        this.emit(chunk, pos, newline, encoding);
        pos = newline + 1;
      }
    }
    this.hold(chunk, lastNewline + 1, length);
  }

  /** End of input: an unfinished last line is a line of its own. */
  end(): void {
    if (this.skippingLongLine) this.skippingLongLine = false;
    else if (this.partialLength > 0) {
      const held = this.partialLength;
      this.partialLength = 0;
      const start = this.lineNumber === 1 && hasUtf8Bom(this.partial!, 0, held) ? 3 : 0;
      if (held > start) this.emit(this.partial!, 0, held, Encoding.Unknown);
    }
    this.flush();
  }

  /** Closes the batch being filled, so drain() hands it on. */
  flush(): void {
    if (this.lines.length > 0) {
      this.ready.push({ firstLine: this.firstLine, lines: this.lines });
      this.lines = [];
    }
  }

  /** Whether drain() has anything to hand on. */
  get hasReady(): boolean {
    return this.ready.length > 0;
  }

  /**
   * Yields the batches completed so far (each once) and reports the skipped lines between
   * them, each when the consumer asks for what comes after the batch before it.
   */
  *drain(): Generator<LineBatch, void, undefined> {
    while (this.ready.length > 0) {
      const items = this.ready;
      this.ready = [];
      for (const item of items) {
        if ('lines' in item) yield item;
        else this.sink.badInput(item);
      }
    }
  }

  /** Keeps chunk[from, to) as (the next part of) the unfinished line, unless it is already too long. */
  private hold(chunk: Buffer, from: number, to: number): void {
    const bytes = to - from;
    if (bytes === 0 || this.skippingLongLine) return;
    const needed = this.partialLength + bytes;
    // One byte of slack for the \r of a \r\n split from its \n.
    if (needed > this.maxLineBytes + 1) {
      this.partialLength = 0;
      this.skipLine(`line longer than ${this.maxLineBytes} bytes, skipped`);
      this.skippingLongLine = true;
      return;
    }
    if (this.partial === null || this.partial.length < needed) {
      const size = Math.min(Math.max(needed, 2 * (this.partial?.length ?? 0), PARTIAL_INITIAL_BYTES), this.maxLineBytes + 1);
      const grown = Buffer.allocUnsafe(size);
      if (this.partial !== null) this.partial.copy(grown, 0, 0, this.partialLength);
      this.partial = grown;
    }
    chunk.copy(this.partial, this.partialLength, from, to);
    this.partialLength = needed;
  }

  /** Decodes buf[start, end) (a line without its \n) into the batch, or reports why it cannot be. */
  private emit(buf: Buffer, start: number, end: number, encoding: Encoding): void {
    if (this.lineNumber === 1 && hasUtf8Bom(buf, start, end)) {
      start += 3;
      if (encoding === Encoding.Ascii) encoding = Encoding.Utf8;
    }
    if (end > start && buf[end - 1] === CARRIAGE_RETURN) end--;
    if (end - start > this.maxLineBytes) {
      this.skipLine(`line longer than ${this.maxLineBytes} bytes, skipped`);
      return;
    }
    if (encoding === Encoding.Unknown) {
      const line = buf.subarray(start, end);
      if (isAscii(line)) encoding = Encoding.Ascii;
      else if (isUtf8(line)) encoding = Encoding.Utf8;
      else {
        this.skipLine('invalid UTF-8, line skipped');
        return;
      }
    }
    // Each line is its own string, so a field kept from a record pins only its own line.
    if (this.lines.length === 0) this.firstLine = this.lineNumber;
    this.lines.push(buf.toString(encoding === Encoding.Ascii ? 'latin1' : 'utf8', start, end));
    this.lineNumber++;
    if (this.lines.length >= this.maxBatchLines) this.flush();
  }

  private skipLine(message: string): void {
    this.flush();
    this.ready.push({ file: this.name, line: this.lineNumber, message });
    this.lineNumber++;
  }
}

/**
 * Yields the lines of `path` in order, in batches of at most maxBatchLines, without ever
 * holding the whole file. Read errors after the file was opened are reported and end the
 * stream; a failure to open the file is thrown.
 */
export async function* readLines(path: string, sink: ErrorSink, options: LineReaderOptions = {}): AsyncGenerator<LineBatch> {
  const chunkBytes = options.chunkBytes ?? MIB;
  const handle = await open(path, 'r');
  try {
    const splitter = new LineSplitter(path, sink, options);
    const buf = Buffer.allocUnsafe(chunkBytes);
    for (;;) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(buf, 0, chunkBytes, null));
      } catch (err) {
        splitter.flush();
        yield* splitter.drain();
        sink.badInput({ file: path, line: splitter.nextLine, message: `read error, rest of file skipped: ${errorText(err)}` });
        return;
      }
      if (bytesRead === 0) break;
      splitter.push(buf.subarray(0, bytesRead));
      if (splitter.hasReady) yield* splitter.drain();
    }
    splitter.end();
    yield* splitter.drain();
  } finally {
    await handle.close();
  }
}

export interface StreamLineOptions extends Pick<LineReaderOptions, 'maxLineBytes' | 'maxBatchLines'> {
  /** Aborting destroys the stream and ends the lines quietly. */
  signal?: AbortSignal;
}

/**
 * Yields the lines of a byte stream in order, with the same rules as readLines. Every chunk's
 * complete lines are yielded as soon as it arrives, so interactive input is not held back;
 * only an unfinished line is kept between chunks. `name` names the input in reports.
 */
export async function* readStreamLines(
  stream: Readable, name: string, sink: ErrorSink, options: StreamLineOptions = {},
): AsyncGenerator<LineBatch> {
  const signal = options.signal;
  const onAbort = (): void => {
    stream.destroy();
  };
  if (signal?.aborted) stream.destroy();
  signal?.addEventListener('abort', onAbort, { once: true });
  const splitter = new LineSplitter(name, sink, options);
  let failure: unknown;
  try {
    for await (const data of stream) {
      splitter.push(typeof data === 'string' ? Buffer.from(data, 'utf8') : (data as Buffer));
      splitter.flush();
      if (splitter.hasReady) yield* splitter.drain();
    }
    splitter.end();
  } catch (err) {
    splitter.flush();
    if (!signal?.aborted) failure = err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  yield* splitter.drain();
  if (failure !== undefined) {
    sink.badInput({ file: name, line: splitter.nextLine, message: `read error, rest of input skipped: ${errorText(failure)}` });
  }
}

export interface LineCount {
  /** Non-empty lines that do not start with the comment byte. */
  lines: number;
  /** Bytes scanned (the whole file unless maxBytes stopped the scan). */
  bytes: number;
}

/**
 * Counts the non-empty lines of a file, leaving out lines that start with `commentByte`
 * (e.g. 0x23 '#') when given. Scans at most `maxBytes` bytes (default: the whole file).
 */
export async function countLines(path: string, options: { commentByte?: number; maxBytes?: number } = {}): Promise<LineCount> {
  const commentByte = options.commentByte ?? -1;
  const maxBytes = options.maxBytes ?? Infinity;
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(4 * MIB);
    let lines = 0;
    let bytes = 0;
    let atLineStart = true;
    while (bytes < maxBytes) {
      const want = Math.min(buf.length, maxBytes - bytes);
      const { bytesRead } = await handle.read(buf, 0, want, null);
      if (bytesRead === 0) break;
      const view = buf.subarray(0, bytesRead);
      let pos = bytes === 0 && hasUtf8Bom(buf, 0, bytesRead) ? 3 : 0;
      bytes += bytesRead;
      while (pos < bytesRead) {
        if (atLineStart) {
          const first = view[pos];
          if (first !== NEWLINE && first !== CARRIAGE_RETURN && first !== commentByte) lines++;
          atLineStart = false;
        }
        const newline = view.indexOf(NEWLINE, pos);
        if (newline === -1) break;
        pos = newline + 1;
        atLineStart = true;
      }
    }
    return { lines, bytes };
  } finally {
    await handle.close();
  }
}
