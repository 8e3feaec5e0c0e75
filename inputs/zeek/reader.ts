// Zeek log reader: opens a single Zeek log file or a directory of Zeek logs, parses each file
// as TSV (columns from its #fields header) or JSON (one object per line), chosen from the
// file's content, converts every line with the field maps, and merges the logs of a directory
// into one stream in timestamp order (each file keeps its own order; the pending record with
// the lowest ts among the files always goes next). Bad lines are reported and skipped.

import { constants } from 'node:fs';
import { access, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ErrorSink } from '../errors.js';
import { countLines, readLines, type LineBatch } from '../lineReader.js';
import type { FlowReader } from '../reader.js';
import type { FlowRecord } from '../records.js';
import {
  ZEEK_LOG_SCHEMAS, isSupportedZeekKind, rawText, zeekTimestamp, type AnyZeekLogSchema, type ZeekLogKind, type ZeekRowContext,
} from './fieldMaps.js';

export interface ZeekInputOptions {
  /** Capture interface written into every record (default 'default'). */
  interface?: string;
}

/** Records per yielded batch (and lines per parsed batch). */
const BATCH_SIZE = 2048;
/** Up to this many bytes in all, files are counted exactly for totalLines; beyond, estimated. */
const EXACT_COUNT_BYTES = 1024 * 1024 * 1024;
/** Bytes sampled from a file whose line count is estimated. */
const ESTIMATE_SAMPLE_BYTES = 8 * 1024 * 1024;

const HASH = 0x23;
const OPEN_BRACE = 0x7b;

/**
 * Standard Zeek logs (and Slips' extra ones) that carry nothing the pipeline uses: a directory
 * may hold them and they are skipped without a warning. ftp and login are supported by Slips
 * but have no normalized record kind yet.
 */
export const IGNORED_ZEEK_KINDS: ReadonlySet<string> = new Set([
  'analyzer', 'analyzer_debug', 'broker', 'capture_loss', 'cluster', 'config', 'dce_rpc', 'dnp3', 'dpd', 'ftp',
  'intel', 'irc', 'kerberos', 'known_certs', 'known_hosts', 'known_modbus', 'known_services', 'loaded_scripts',
  'modbus', 'mqtt_connect', 'mqtt_publish', 'mqtt_subscribe', 'mysql', 'netcontrol', 'netcontrol_drop',
  'netcontrol_shunt', 'notice_alarm', 'ntlm', 'ntp', 'ocsp', 'openflow', 'packet_filter', 'pe', 'print', 'quic',
  'radius', 'rdp', 'reporter', 'signatures', 'sip', 'smb_files', 'smb_mapping', 'snmp', 'socks', 'software_vuln',
  'stats', 'stderr', 'stdout', 'syslog', 'telemetry', 'traceroute', 'unified2', 'websocket', 'weird_stats',
]);

/** Log kind of a Zeek file: its basename up to the first dot (conn.2024-01-01.log -> conn). */
export function zeekLogKind(path: string): string {
  const name = basename(path);
  const dot = name.indexOf('.');
  return dot === -1 ? name : name.slice(0, dot);
}

/** Whether a directory entry is a Zeek log by name: ends in .log or .log.labeled. */
export function hasZeekLogExtension(name: string): boolean {
  return name.endsWith('.log') || name.endsWith('.log.labeled');
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Replaces \xNN escapes, as Zeek writes them in `#separator \x09`. */
function unescapeHex(value: string): string {
  return value.replace(/\\x([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/**
 * Parse state of one Zeek log file: format, TSV header facts, and the reusable slot array.
 * Also used by the follower of growing directories (zeek/follow.ts), one per followed file.
 */
export class ZeekLogParser {
  /** Data lines seen (good and bad); header and empty lines are not counted. */
  dataLines = 0;
  private readonly schema: AnyZeekLogSchema;
  private readonly context: ZeekRowContext;
  /** Raw value per schema slot for the line being converted. */
  private readonly values: unknown[];
  /** Per slot: the JSON key to read first, and the other accepted keys. */
  private readonly jsonKeys: string[];
  private readonly jsonFallbackKeys: (string[] | null)[];
  /** Decided by the first #fields line or, before any, by the first data line ('{' means JSON). */
  private format: 'unknown' | 'tsv' | 'json' = 'unknown';
  private separator = '\t';
  private tsvSetSeparator = ',';
  private unsetField = '-';
  private emptyField = '(empty)';
  /** Schema slot of every TSV column (-1: column not used); null until a usable #fields line. */
  private columnSlots: Int32Array | null = null;
  /** Set once lines are being skipped for lack of a usable #fields line, so that is reported once. */
  private skipReported = false;

  constructor(
    readonly path: string,
    kind: ZeekLogKind,
    interfaceName: string,
    private readonly sink: ErrorSink,
  ) {
    this.schema = ZEEK_LOG_SCHEMAS[kind];
    this.context = { interface: interfaceName, setSeparator: ',' };
    this.values = new Array<unknown>(this.schema.slots.length).fill(undefined);
    this.jsonKeys = this.schema.slots.map((slot) => slot.split('|')[0] ?? slot);
    this.jsonFallbackKeys = this.schema.slots.map((slot) => {
      const names = slot.split('|');
      return names.length > 1 ? names.slice(1) : null;
    });
  }

  /** Parses one batch of lines, appending the good records to `out`. */
  parse(batch: LineBatch, out: FlowRecord[]): void {
    const lines = batch.lines;
    let lineNumber = batch.firstLine;
    for (let i = 0; i < lines.length; i++, lineNumber++) {
      const line = lines[i]!;
      if (line.length === 0) continue;
      const first = line.charCodeAt(0);
      if (first === HASH) {
        this.readHeaderLine(line, lineNumber);
        continue;
      }
      this.dataLines++;
      if (this.format === 'unknown') this.setFormat(first === OPEN_BRACE ? 'json' : 'tsv');
      const parsed = this.format === 'json' ? this.readJsonLine(line, lineNumber) : this.readTsvLine(line, lineNumber);
      if (!parsed) continue;
      const ts = zeekTimestamp(this.values[0]);
      if (ts !== ts) {
        const raw = this.values[0];
        this.report(lineNumber, raw === undefined ? 'missing ts' : `invalid ts '${rawText(raw).slice(0, 40)}'`);
        continue;
      }
      out.push(this.schema.convert(this.values, ts, this.context));
    }
  }

  private report(line: number, message: string): void {
    this.sink.badInput({ file: this.path, line, message });
  }

  private setFormat(format: 'tsv' | 'json'): void {
    this.format = format;
    this.context.setSeparator = format === 'json' ? null : this.tsvSetSeparator;
  }

  private readHeaderLine(line: string, lineNumber: number): void {
    if (line.startsWith('#separator')) {
      const value = unescapeHex(line.slice('#separator'.length).trimStart());
      if (value.length > 0) this.separator = value;
      return;
    }
    const split = line.indexOf(this.separator);
    const directive = split === -1 ? line : line.slice(0, split);
    const value = split === -1 ? '' : line.slice(split + this.separator.length);
    switch (directive) {
      case '#fields':
        this.setFormat('tsv');
        this.useFields(value === '' ? [] : value.split(this.separator), lineNumber);
        break;
      case '#set_separator':
        this.tsvSetSeparator = value;
        if (this.format !== 'json') this.context.setSeparator = value;
        break;
      case '#unset_field':
        this.unsetField = value;
        break;
      case '#empty_field':
        this.emptyField = value;
        break;
      default:
        // #types, #path, #open, #close and comments carry nothing the conversion needs.
        break;
    }
  }

  private useFields(names: string[], lineNumber: number): void {
    const columnSlots = new Int32Array(names.length).fill(-1);
    const slots = this.schema.slots;
    for (let slot = 0; slot < slots.length; slot++) {
      for (const name of slots[slot]!.split('|')) {
        const column = names.indexOf(name);
        if (column !== -1) {
          columnSlots[column] = slot;
          break;
        }
      }
    }
    this.values.fill(undefined);
    if (names.indexOf('ts') === -1) {
      this.columnSlots = null;
      this.skipReported = true;
      this.report(lineNumber, '#fields has no ts column; lines skipped until the next #fields');
      return;
    }
    this.columnSlots = columnSlots;
    this.skipReported = false;
  }

  /** Splits a TSV line into the slot array; false (and reported) when the line is unusable. */
  private readTsvLine(line: string, lineNumber: number): boolean {
    const columnSlots = this.columnSlots;
    if (columnSlots === null) {
      if (!this.skipReported) {
        this.skipReported = true;
        this.report(lineNumber, 'data line before any #fields header; lines skipped until one');
      }
      return false;
    }
    const values = this.values;
    const separator = this.separator;
    const unset = this.unsetField;
    const empty = this.emptyField;
    const columns = columnSlots.length;
    let column = 0;
    let start = 0;
    for (;;) {
      let end = line.indexOf(separator, start);
      const last = end === -1;
      if (last) end = line.length;
      if (column < columns) {
        const slot = columnSlots[column]!;
        if (slot >= 0) {
          const width = end - start;
          values[slot] =
            width === unset.length && line.startsWith(unset, start)
              ? undefined
              : width === empty.length && line.startsWith(empty, start)
                ? ''
                : line.slice(start, end);
        }
      }
      column++;
      if (last) break;
      start = end + separator.length;
    }
    if (column !== columns) {
      this.report(lineNumber, `expected ${columns} fields, got ${column}`);
      return false;
    }
    return true;
  }

  /** Parses a JSON line into the slot array; false (and reported) when it is not a JSON object. */
  private readJsonLine(line: string, lineNumber: number): boolean {
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      this.report(lineNumber, 'invalid JSON');
      return false;
    }
    if (typeof row !== 'object' || row === null || Array.isArray(row)) {
      this.report(lineNumber, 'JSON line is not an object');
      return false;
    }
    const object = row as Record<string, unknown>;
    const values = this.values;
    const keys = this.jsonKeys;
    for (let slot = 0; slot < keys.length; slot++) {
      let value = object[keys[slot]!];
      if (value === undefined) {
        const fallbacks = this.jsonFallbackKeys[slot];
        if (fallbacks) {
          for (const key of fallbacks) {
            value = object[key];
            if (value !== undefined) break;
          }
        }
      }
      values[slot] = value === null || value === '-' ? undefined : value;
    }
    return true;
  }
}

/** One file of the merge: its parser, its line stream and the parsed records not yet emitted. */
class LogCursor {
  records: FlowRecord[] = [];
  position = 0;
  private ended = false;
  private lines: AsyncGenerator<LineBatch> | null = null;

  constructor(
    /** Order of the file among the inputs; breaks ts ties. */
    readonly order: number,
    readonly parser: ZeekLogParser,
    private readonly sink: ErrorSink,
  ) {}

  /** Parses further line batches until a record is pending; false once the file is exhausted. */
  async fill(): Promise<boolean> {
    while (this.position >= this.records.length) {
      if (this.ended) return false;
      this.lines ??= readLines(this.parser.path, this.sink, { maxBatchLines: BATCH_SIZE });
      let next: IteratorResult<LineBatch>;
      try {
        next = await this.lines.next();
      } catch (err) {
        this.sink.warn(`Cannot read Zeek log '${this.parser.path}': ${errorText(err)}`);
        this.ended = true;
        return false;
      }
      if (next.done) {
        this.ended = true;
        return false;
      }
      const records: FlowRecord[] = [];
      this.parser.parse(next.value, records);
      this.records = records;
      this.position = 0;
    }
    return true;
  }

  async close(): Promise<void> {
    if (this.lines) await this.lines.return(undefined);
  }
}

interface ZeekLogFile {
  path: string;
  kind: ZeekLogKind;
}

class ZeekInput implements FlowReader {
  private readonly parsers: ZeekLogParser[];
  private stopped = false;
  private started = false;

  constructor(
    readonly inputType: 'zeek_folder' | 'zeek_log_file',
    files: readonly ZeekLogFile[],
    private readonly sink: ErrorSink,
    interfaceName: string,
    readonly totalLines: number | undefined,
  ) {
    this.parsers = files.map((file) => new ZeekLogParser(file.path, file.kind, interfaceName, sink));
  }

  get linesRead(): number {
    let lines = 0;
    for (const parser of this.parsers) lines += parser.dataLines;
    return lines;
  }

  stop(): void {
    this.stopped = true;
  }

  async *batches(): AsyncGenerator<FlowRecord[]> {
    if (this.started) throw new Error('Zeek input batches() can only be iterated once');
    this.started = true;
    const cursors = this.parsers.map((parser, order) => new LogCursor(order, parser, this.sink));
    try {
      let active: LogCursor[] = [];
      for (const cursor of cursors) if (await cursor.fill()) active.push(cursor);
      let out: FlowRecord[] = [];
      while (active.length > 0 && !this.stopped) {
        if (active.length === 1) {
          // Only one file left: hand its parsed records on as they are.
          const cursor = active[0]!;
          const records = cursor.records;
          const position = cursor.position;
          cursor.position = records.length;
          if (out.length === 0 && position === 0) {
            yield records;
          } else {
            for (let i = position; i < records.length; i++) out.push(records[i]!);
            if (out.length >= BATCH_SIZE) {
              yield out;
              out = [];
            }
          }
          if (this.stopped) break;
          if (!(await cursor.fill())) active = [];
          continue;
        }

        // The cursor with the lowest pending ts (ties: earlier file) emits until its next
        // record would come after the runner-up's pending record.
        let best = active[0]!;
        let bestTs = best.records[best.position]!.ts;
        let next: LogCursor | null = null;
        let nextTs = Infinity;
        for (let i = 1; i < active.length; i++) {
          const cursor = active[i]!;
          const ts = cursor.records[cursor.position]!.ts;
          if (ts < bestTs) {
            next = best;
            nextTs = bestTs;
            best = cursor;
            bestTs = ts;
          } else if (ts < nextTs) {
            next = cursor;
            nextTs = ts;
          }
        }
        const nextOrder = next!.order;
        const records = best.records;
        let position = best.position;
        while (position < records.length) {
          const record = records[position]!;
          if (record.ts > nextTs || (record.ts === nextTs && best.order > nextOrder)) break;
          out.push(record);
          position++;
          if (out.length >= BATCH_SIZE) {
            best.position = position;
            yield out;
            out = [];
            if (this.stopped) break;
          }
        }
        best.position = position;
        if (this.stopped) break;
        if (position >= records.length && !(await best.fill())) active = active.filter((cursor) => cursor !== best);
      }
      if (out.length > 0 && !this.stopped) yield out;
    } finally {
      await Promise.all(cursors.map((cursor) => cursor.close()));
    }
  }
}

/**
 * Data lines in the given files (lines that are neither empty nor `#` headers): exact while
 * the files add up to EXACT_COUNT_BYTES, estimated from a sample of each further file.
 */
async function countDataLines(paths: readonly string[]): Promise<number> {
  let total = 0;
  let exactBudget = EXACT_COUNT_BYTES;
  for (const path of paths) {
    const { size } = await stat(path);
    if (size <= exactBudget) {
      exactBudget -= size;
      total += (await countLines(path, { commentByte: HASH })).lines;
    } else {
      const sample = await countLines(path, { commentByte: HASH, maxBytes: ESTIMATE_SAMPLE_BYTES });
      if (sample.bytes > 0) total += Math.round((sample.lines * size) / sample.bytes);
    }
  }
  return total;
}

async function listZeekDirectory(dir: string, sink: ErrorSink): Promise<ZeekLogFile[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw new Error(`Cannot read Zeek log directory '${dir}': ${errorText(err)}`);
  }
  names.sort();
  const files: ZeekLogFile[] = [];
  for (const name of names) {
    if (!hasZeekLogExtension(name)) continue;
    const path = join(dir, name);
    const kind = zeekLogKind(name);
    if (!isSupportedZeekKind(kind)) {
      if (!IGNORED_ZEEK_KINDS.has(kind)) sink.warn(`Skipping unsupported Zeek log file '${path}'`);
      continue;
    }
    try {
      if (!(await stat(path)).isFile()) continue;
      await access(path, constants.R_OK);
    } catch (err) {
      sink.warn(`Skipping unreadable Zeek log file '${path}': ${errorText(err)}`);
      continue;
    }
    files.push({ path, kind });
  }
  return files;
}

/**
 * Opens a Zeek log file or a directory of Zeek logs. Throws when the path is missing or
 * unreadable, or when a directory holds no supported log; everything else that is wrong
 * (unsupported files, bad lines) goes to `sink` and the input goes on.
 */
export async function openZeekInput(path: string, sink: ErrorSink, options: ZeekInputOptions = {}): Promise<FlowReader> {
  const interfaceName = options.interface ?? 'default';
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    throw new Error(`Cannot read Zeek input '${path}': ${errorText(err)}`);
  }

  if (info.isDirectory()) {
    const files = await listZeekDirectory(path, sink);
    if (files.length === 0) {
      throw new Error(
        `Log files in ${path} are not supported\n` +
          'Make sure all log files inside the given directory end with .log or .log.labeled',
      );
    }
    const totalLines = await countDataLines(files.map((file) => file.path));
    return new ZeekInput('zeek_folder', files, sink, interfaceName, totalLines);
  }

  try {
    await access(path, constants.R_OK);
  } catch (err) {
    throw new Error(`Cannot read Zeek input '${path}': ${errorText(err)}`);
  }
  const kind = zeekLogKind(path);
  if (!isSupportedZeekKind(kind)) {
    sink.warn(`Unsupported Zeek log file '${path}'. Only these log types are supported: (${Object.keys(ZEEK_LOG_SCHEMAS).join(', ')})`);
    return new ZeekInput('zeek_log_file', [], sink, interfaceName, 0);
  }
  // A pipe or device cannot be scanned twice, so its size stays unknown.
  const totalLines = info.isFile() ? await countDataLines([path]) : undefined;
  return new ZeekInput('zeek_log_file', [{ path, kind }], sink, interfaceName, totalLines);
}
