// Streaming text inputs: runs line batches (from lineReader's splitter: files, standard input,
// nfdump's stdout) through a format parser as a FlowReader (LineInput, also used for the Argus
// and Suricata files), and reads Slips' stdin input
// (`-f zeek|suricata|argus`): flows of that format on standard input until end of input or a
// line `done`. Zeek lines on stdin are conn.log lines, JSON (as Slips requires) or TSV after a
// `#fields` header.

import type { Readable } from 'node:stream';
import { ArgusParser } from './argus.js';
import type { ErrorSink } from './errors.js';
import { readStreamLines, type LineBatch } from './lineReader.js';
import type { FlowReader } from './reader.js';
import type { FlowRecord } from './records.js';
import { SuricataParser } from './suricata.js';
import { ZEEK_LOG_SCHEMAS, rawText, zeekTimestamp, type ZeekRowContext } from './zeek/fieldMaps.js';

// The stream splitter lived here first; callers may still import it from this module.
export { readStreamLines, type StreamLineOptions } from './lineReader.js';

// ---------------------------------------------------------------------------------------------
// Line batches -> record batches

/** A format parser over line batches (Argus, Suricata, nfdump, Zeek conn on stdin). */
export interface LineParser {
  /** Data lines seen so far (good and bad), for the progress line. */
  readonly dataLines: number;
  /** Converts one batch, appending the good records to `out` and reporting the bad lines. */
  parse(batch: LineBatch, out: FlowRecord[]): void;
  /** End of input: appends records held back, reports summaries. */
  finish?(out: FlowRecord[]): void;
}

export interface LineInputOptions {
  /** Slips' input type name. */
  inputType: string;
  /** File name for reports ('stdin' for standard input). */
  name: string;
  /** Data lines of the whole input, when known up front. */
  totalLines?: number;
  /** Called once by stop(), e.g. to end a stream or a child process. */
  onStop?: () => void;
}

/** A FlowReader that feeds a line source through a parser; one record batch per line batch. */
export class LineInput implements FlowReader {
  readonly inputType: string;
  readonly totalLines: number | undefined;
  private stopped = false;
  private started = false;

  constructor(
    private readonly lines: AsyncIterable<LineBatch>,
    private readonly parser: LineParser,
    private readonly sink: ErrorSink,
    private readonly options: LineInputOptions,
  ) {
    this.inputType = options.inputType;
    this.totalLines = options.totalLines;
  }

  get linesRead(): number {
    return this.parser.dataLines;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.options.onStop?.();
  }

  async *batches(): AsyncGenerator<FlowRecord[]> {
    if (this.started) throw new Error(`${this.options.inputType} input batches() can only be iterated once`);
    this.started = true;
    let sawLine = false;
    for await (const batch of this.lines) {
      sawLine = true;
      const out: FlowRecord[] = [];
      this.parser.parse(batch, out);
      if (out.length > 0) yield out;
      if (this.stopped) break;
    }
    if (!sawLine && !this.stopped) this.sink.badInput({ file: this.options.name, line: 1, message: 'empty input, no lines to read' });
    const rest: FlowRecord[] = [];
    this.parser.finish?.(rest);
    if (rest.length > 0 && !this.stopped) yield rest;
  }
}

// ---------------------------------------------------------------------------------------------
// Zeek conn lines on stdin

const HASH = 0x23;
const OPEN_BRACE = 0x7b;

/** conn.log lines: JSON objects, or TSV once a `#fields` header has named the columns. */
class ZeekConnLineParser implements LineParser {
  dataLines = 0;
  private readonly schema = ZEEK_LOG_SCHEMAS.conn;
  /** Per slot: the Zeek names that may hold its value, preferred first. */
  private readonly slotNames: string[][];
  private readonly values: unknown[];
  private readonly jsonContext: ZeekRowContext = { interface: 'default', setSeparator: null };
  private readonly tsvContext: ZeekRowContext = { interface: 'default', setSeparator: ',' };
  private separator = '\t';
  /** Schema slot of every TSV column (-1: unused); null until a #fields line. */
  private columnSlots: Int32Array | null = null;

  constructor(private readonly sink: ErrorSink) {
    this.slotNames = this.schema.slots.map((slot) => slot.split('|'));
    this.values = new Array<unknown>(this.slotNames.length).fill(undefined);
  }

  parse(batch: LineBatch, out: FlowRecord[]): void {
    let lineNumber = batch.firstLine;
    for (const line of batch.lines) {
      const number = lineNumber++;
      if (line.length === 0) continue;
      if (line.charCodeAt(0) === HASH) {
        this.readHeader(line);
        continue;
      }
      this.dataLines++;
      const json = line.charCodeAt(0) === OPEN_BRACE;
      const problem = json ? this.readJson(line) : this.readTsv(line);
      if (problem !== undefined) {
        this.sink.badInput({ file: 'stdin', line: number, message: problem });
        continue;
      }
      const ts = zeekTimestamp(this.values[0]);
      if (ts !== ts) {
        this.sink.badInput({ file: 'stdin', line: number, message: `invalid ts '${rawText(this.values[0]).slice(0, 40)}'` });
        continue;
      }
      out.push(this.schema.convert(this.values, ts, json ? this.jsonContext : this.tsvContext));
    }
  }

  private readHeader(line: string): void {
    if (line.startsWith('#separator')) {
      const value = line.slice('#separator'.length).trim().replace(/\\x([0-9a-fA-F]{2})/g, (_, hex: string) =>
        String.fromCharCode(parseInt(hex, 16)));
      if (value !== '') this.separator = value;
    } else if (line.startsWith(`#set_separator${this.separator}`)) {
      this.tsvContext.setSeparator = line.slice(`#set_separator${this.separator}`.length);
    } else if (line.startsWith(`#fields${this.separator}`)) {
      const names = line.slice(`#fields${this.separator}`.length).split(this.separator);
      const columnSlots = new Int32Array(names.length).fill(-1);
      this.slotNames.forEach((alternatives, slot) => {
        for (const name of alternatives) {
          const column = names.indexOf(name);
          if (column !== -1) {
            columnSlots[column] = slot;
            break;
          }
        }
      });
      this.columnSlots = columnSlots;
    }
  }

  /** Fills the slots from a JSON line; returns what is wrong, if anything. */
  private readJson(line: string): string | undefined {
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      return 'invalid JSON';
    }
    if (typeof row !== 'object' || row === null || Array.isArray(row)) return 'JSON line is not an object';
    const object = row as Record<string, unknown>;
    this.slotNames.forEach((alternatives, slot) => {
      let value: unknown;
      for (const name of alternatives) {
        value = object[name];
        if (value !== undefined) break;
      }
      this.values[slot] = value === null || value === '-' ? undefined : value;
    });
    return undefined;
  }

  /** Fills the slots from a TSV line; returns what is wrong, if anything. */
  private readTsv(line: string): string | undefined {
    const columnSlots = this.columnSlots;
    if (columnSlots === null) return 'not JSON, and no #fields header came before it';
    const cells = line.split(this.separator);
    if (cells.length !== columnSlots.length) return `expected ${columnSlots.length} fields, got ${cells.length}`;
    this.values.fill(undefined);
    for (let column = 0; column < cells.length; column++) {
      const slot = columnSlots[column]!;
      if (slot < 0) continue;
      const cell = cells[column]!;
      this.values[slot] = cell === '-' ? undefined : cell === '(empty)' ? '' : cell;
    }
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Stdin input

export type StdinFormat = 'zeek' | 'suricata' | 'argus';

export const STDIN_FORMATS: readonly StdinFormat[] = ['zeek', 'suricata', 'argus'];

/** The stdin format a `-f` word names (case-insensitive, as Slips reads it), or undefined. */
export function stdinFormatOf(word: string): StdinFormat | undefined {
  const lower = word.toLowerCase();
  return (STDIN_FORMATS as readonly string[]).includes(lower) ? (lower as StdinFormat) : undefined;
}

/** Passes the batches on up to (not including) a line `done`, then ends the input. */
async function* untilDone(lines: AsyncIterable<LineBatch>): AsyncGenerator<LineBatch> {
  for await (const batch of lines) {
    const done = batch.lines.findIndex((line) => line.length < 16 && line.trim() === 'done');
    if (done === -1) {
      yield batch;
      continue;
    }
    if (done > 0) yield { firstLine: batch.firstLine, lines: batch.lines.slice(0, done) };
    return;
  }
}

function parserFor(format: StdinFormat, sink: ErrorSink): LineParser {
  switch (format) {
    case 'zeek':
      return new ZeekConnLineParser(sink);
    case 'suricata':
      return new SuricataParser(sink, { name: 'stdin' });
    case 'argus':
      return new ArgusParser(sink, { name: 'stdin' });
  }
}

/**
 * Reads flows of `format` from a stream (standard input by default) as they arrive, until end
 * of input or a line `done`. stop() ends the input at once, even while waiting for a line.
 */
export function openStdinInput(format: StdinFormat, sink: ErrorSink, stream: Readable = process.stdin): FlowReader {
  const controller = new AbortController();
  const lines = untilDone(readStreamLines(stream, 'stdin', sink, { signal: controller.signal }));
  return new LineInput(lines, parserFor(format, sink), sink, {
    inputType: 'stdin',
    name: 'stdin',
    onStop: () => controller.abort(),
  });
}
