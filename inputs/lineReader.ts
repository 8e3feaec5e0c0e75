// Streaming line splitter shared by the text readers (Zeek, Argus, Suricata): reads a file in
// large chunks and yields batches of complete lines with their 1-based line numbers, without
// ever holding the whole file. Handles \r\n, a UTF-8 byte order mark and a last line without
// a newline. Lines that are not valid UTF-8 or longer than the limit are reported to the
// ErrorSink and skipped; the numbering of the following lines stays right.

import { open } from 'node:fs/promises';
import { isAscii, isUtf8 } from 'node:buffer';
import type { ErrorSink } from './errors.js';

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

function hasUtf8Bom(buf: Buffer, end: number): boolean {
  return end >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Yields the lines of `path` in order, in batches of at most maxBatchLines. A batch ends early
 * where a line had to be skipped, so every batch is a run of consecutive line numbers.
 * Empty lines are yielded as "" (the caller decides what they mean). Read errors after the
 * file was opened are reported and end the stream; a failure to open the file is thrown.
 */
export async function* readLines(path: string, sink: ErrorSink, options: LineReaderOptions = {}): AsyncGenerator<LineBatch> {
  const chunkBytes = options.chunkBytes ?? MIB;
  const maxLineBytes = options.maxLineBytes ?? MIB;
  const maxBatchLines = options.maxBatchLines ?? DEFAULT_MAX_BATCH_LINES;
  const handle = await open(path, 'r');
  try {
    // An unfinished line (at most maxLineBytes) stays at the front of buf while the next chunk is read behind it.
    const buf = Buffer.allocUnsafe(maxLineBytes + chunkBytes);
    let carry = 0;
    let lineNumber = 1;
    let skippingLongLine = false;
    let atFileStart = true;
    let lines: string[] = [];
    let firstLine = 1;

    const skipLine = (message: string): void => {
      sink.badInput({ file: path, line: lineNumber, message });
      lineNumber++;
    };

    for (;;) {
      let bytesRead: number;
      try {
        ({ bytesRead } = await handle.read(buf, carry, chunkBytes, null));
      } catch (err) {
        sink.badInput({ file: path, line: lineNumber, message: `read error, rest of file skipped: ${errorText(err)}` });
        break;
      }
      const filled = carry + bytesRead;
      let start = 0;
      if (atFileStart && filled > 0) {
        atFileStart = false;
        if (hasUtf8Bom(buf, filled)) start = 3;
      }

      if (bytesRead === 0) {
        // End of file: what is left is a last line without a newline.
        if (filled > start && !skippingLongLine) {
          let end = filled;
          if (buf[end - 1] === CARRIAGE_RETURN) end--;
          if (!isUtf8(buf.subarray(start, end))) skipLine('invalid UTF-8, line skipped');
          else {
            if (lines.length === 0) firstLine = lineNumber;
            lines.push(buf.toString('utf8', start, end));
            lineNumber++;
          }
        }
        break;
      }

      const view = buf.subarray(0, filled);
      if (skippingLongLine) {
        const newline = view.indexOf(NEWLINE, start);
        if (newline === -1) {
          carry = 0;
          continue;
        }
        start = newline + 1;
        skippingLongLine = false;
      }

      const lastNewline = view.lastIndexOf(NEWLINE);
      if (lastNewline < start) {
        // No complete line yet: keep the partial line, unless it is already too long.
        const partial = filled - start;
        if (partial > maxLineBytes) {
          if (lines.length > 0) {
            yield { firstLine, lines };
            lines = [];
          }
          skipLine(`line longer than ${maxLineBytes} bytes, skipped`);
          skippingLongLine = true;
          carry = 0;
        } else {
          buf.copyWithin(0, start, filled);
          carry = partial;
        }
        continue;
      }

      // Each line is decoded on its own, so a field kept from a record pins only its own line,
      // never the whole chunk. ASCII (the usual case) decodes fastest as latin1, which is then
      // identical to UTF-8; otherwise lines are checked one by one only if the chunk fails.
      const complete = view.subarray(start, lastNewline);
      const ascii = isAscii(complete);
      const encoding = ascii ? 'latin1' : 'utf8';
      const checkEachLine = !ascii && !isUtf8(complete);
      let pos = start;
      while (pos <= lastNewline) {
        const newline = view.indexOf(NEWLINE, pos);
        let end = newline;
        if (end > pos && buf[end - 1] === CARRIAGE_RETURN) end--;
        const tooLong = end - pos > maxLineBytes;
        if (tooLong || (checkEachLine && !isUtf8(view.subarray(pos, end)))) {
          if (lines.length > 0) {
            yield { firstLine, lines };
            lines = [];
          }
          skipLine(tooLong ? `line longer than ${maxLineBytes} bytes, skipped` : 'invalid UTF-8, line skipped');
        } else {
          if (lines.length === 0) firstLine = lineNumber;
          lines.push(buf.toString(encoding, pos, end));
          lineNumber++;
          if (lines.length >= maxBatchLines) {
            yield { firstLine, lines };
            lines = [];
          }
        }
        pos = newline + 1;
      }
      buf.copyWithin(0, lastNewline + 1, filled);
      carry = filled - lastNewline - 1;
    }
    if (lines.length > 0) yield { firstLine, lines };
  } finally {
    await handle.close();
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
      let pos = bytes === 0 && hasUtf8Bom(buf, bytesRead) ? 3 : 0;
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
