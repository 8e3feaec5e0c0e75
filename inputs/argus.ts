// Argus binetflow reader: turns comma- or tab-separated Argus flow lines (`ra -c ,` output, as in
// the Stratosphere .binetflow datasets) into conn records. Columns are found from the header line
// by Slips' substring rules; a file without a header uses the standard binetflow column layout.
// Also home of the helpers the other flow-export readers share: local-time parsing of
// "YYYY/MM/DD HH:MM:SS.ffffff" timestamps and Zeek-like random connection uids.

import { randomFillSync } from 'node:crypto';
import type { ErrorSink } from './errors.js';
import type { LineBatch } from './lineReader.js';
import type { ConnRecord, FlowRecord } from './records.js';

// ---------------------------------------------------------------------------------------------
// Shared helpers

const UID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UID_LENGTH = 17;
const uidPool = Buffer.alloc(16 * 1024);
let uidPosition = uidPool.length;

/** A random Zeek-like connection uid: 'C' followed by 17 base62 characters. */
export function randomUid(): string {
  if (uidPosition + UID_LENGTH > uidPool.length) {
    randomFillSync(uidPool);
    for (let i = 0; i < uidPool.length; i++) uidPool[i] = UID_ALPHABET.charCodeAt(uidPool[i]! % 62);
    uidPosition = 0;
  }
  const uid = 'C' + uidPool.toString('latin1', uidPosition, uidPosition + UID_LENGTH);
  uidPosition += UID_LENGTH;
  return uid;
}

const COLON = 0x3a;

function twoDigits(text: string, at: number): number {
  const a = text.charCodeAt(at) - 48;
  const b = text.charCodeAt(at + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : NaN;
}

/**
 * Parses naive local timestamps `YYYY/MM/DD HH:MM:SS[.frac]` (Argus) and `YYYY-MM-DD HH:MM:SS[.frac]`
 * (nfdump) into unix seconds, using the process time zone (TZ). Plain numbers are taken as unix
 * seconds. The start of the last minute seen is cached, so consecutive flows cost one number
 * parse; minutes are exact across DST changes because each minute is resolved on its own.
 */
export class LocalTimeParser {
  /** "YYYY/MM/DD HH:MM:" of the cached minute. */
  private minutePrefix = '\u0000';
  private minuteStart = NaN;

  /** Unix seconds, or NaN when the text is not a timestamp. */
  parse(text: string): number {
    if (text.length >= 19 && text.charCodeAt(13) === COLON && text.charCodeAt(16) === COLON) {
      if (!text.startsWith(this.minutePrefix)) {
        const start = minuteStartOf(text);
        if (start !== start) return NaN;
        this.minutePrefix = text.slice(0, 17);
        this.minuteStart = start;
      }
      const seconds = +text.slice(17);
      return seconds >= 0 && seconds < 61 ? this.minuteStart + seconds : NaN;
    }
    if (text === '') return NaN;
    const epoch = +text;
    return epoch >= 0 && epoch < Infinity ? epoch : NaN;
  }
}

function minuteStartOf(text: string): number {
  const separator = text.charCodeAt(4);
  if ((separator !== 0x2f && separator !== 0x2d) || text.charCodeAt(7) !== separator) return NaN;
  const between = text.charCodeAt(10);
  if (between !== 0x20 && between !== 0x54) return NaN;
  const year = twoDigits(text, 0) * 100 + twoDigits(text, 2);
  const month = twoDigits(text, 5);
  const day = twoDigits(text, 8);
  const hour = twoDigits(text, 11);
  const minute = twoDigits(text, 14);
  if (!(month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59) || year !== year) return NaN;
  const date = new Date(2000, month - 1, day, hour, minute, 0, 0);
  date.setFullYear(year, month - 1, day);
  if (date.getDate() !== day) return NaN;
  return date.getTime() / 1000;
}

// ---------------------------------------------------------------------------------------------
// Column mapping

type ArgusField =
  | 'starttime' | 'endtime' | 'appproto' | 'dur' | 'proto' | 'saddr' | 'sport' | 'dir' | 'daddr' | 'dport'
  | 'state' | 'pkts' | 'bytes' | 'sbytes' | 'dbytes' | 'spkts' | 'dpkts' | 'smac' | 'dmac';

/**
 * Slips' substring rules on the lower-cased column name, first match wins, with two changes:
 * end-time columns (LastTime, EndTime, ltime) are matched before `time`, so they no longer
 * overwrite the start time (Slips bug #4); and SrcMac/DstMac fill smac/dmac.
 */
const COLUMN_RULES: readonly (readonly [string, ArgusField])[] = [
  ['lasttime', 'endtime'], ['endtime', 'endtime'], ['ltime', 'endtime'],
  ['time', 'starttime'], ['appproto', 'appproto'], ['dur', 'dur'], ['proto', 'proto'], ['srca', 'saddr'],
  ['sport', 'sport'], ['dir', 'dir'], ['dsta', 'daddr'], ['dport', 'dport'], ['state', 'state'],
  ['totpkts', 'pkts'], ['totbytes', 'bytes'], ['srcbytes', 'sbytes'], ['dstbytes', 'dbytes'],
  ['srcpkts', 'spkts'], ['dstpkts', 'dpkts'], ['srcmac', 'smac'], ['dstmac', 'dmac'],
];

/** A field equal to one of these names makes a line a header line (Slips' rule). */
const HEADER_NAMES: ReadonlySet<string> = new Set(['starttime', 'time', 'srcaddr', 'dstaddr', 'totpkts']);

/** The binetflow header of the Stratosphere datasets; used when the input has no header. */
const STANDARD_BINETFLOW_HEADER =
  'StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,sTos,dTos,TotPkts,TotBytes,SrcBytes,SrcPkts,Label';

function fieldOfColumn(name: string): ArgusField | undefined {
  const lower = name.trim().toLowerCase();
  for (const [part, field] of COLUMN_RULES) if (lower.includes(part)) return field;
  return undefined;
}

/** Column index of every field (-1: absent; the first matching column wins) and the header's width. */
class ColumnMap {
  readonly columns: number;
  /** How many fields some column was mapped to. */
  readonly mapped: number;
  readonly starttime: number; readonly endtime: number; readonly appproto: number; readonly dur: number;
  readonly proto: number; readonly saddr: number; readonly sport: number; readonly dir: number;
  readonly daddr: number; readonly dport: number; readonly state: number; readonly pkts: number;
  readonly bytes: number; readonly sbytes: number; readonly dbytes: number; readonly spkts: number;
  readonly dpkts: number; readonly smac: number; readonly dmac: number;

  constructor(names: readonly string[]) {
    const index = new Map<ArgusField, number>();
    names.forEach((name, column) => {
      const field = fieldOfColumn(name);
      if (field !== undefined && !index.has(field)) index.set(field, column);
    });
    const at = (field: ArgusField): number => index.get(field) ?? -1;
    this.columns = names.length;
    this.mapped = index.size;
    this.starttime = at('starttime'); this.endtime = at('endtime'); this.appproto = at('appproto');
    this.dur = at('dur'); this.proto = at('proto'); this.saddr = at('saddr'); this.sport = at('sport');
    this.dir = at('dir'); this.daddr = at('daddr'); this.dport = at('dport'); this.state = at('state');
    this.pkts = at('pkts'); this.bytes = at('bytes'); this.sbytes = at('sbytes'); this.dbytes = at('dbytes');
    this.spkts = at('spkts'); this.dpkts = at('dpkts'); this.smac = at('smac'); this.dmac = at('dmac');
  }
}

/** Slips' separator rule, per line: ',' when the line has more than 5 commas, else a tab. */
function separatorOf(line: string): string {
  let commas = 0;
  let at = line.indexOf(',');
  while (at !== -1) {
    if (++commas > 5) return ',';
    at = line.indexOf(',', at + 1);
  }
  return '\t';
}

/** Every header name contains one of these; data lines are tested in full only when they match. */
const HEADER_HINT = /time|addr|pkts/i;

function isHeader(line: string, fields: readonly string[]): boolean {
  if (!HEADER_HINT.test(line)) return false;
  for (const field of fields) if (HEADER_NAMES.has(field.trim().toLowerCase())) return true;
  return false;
}

// ---------------------------------------------------------------------------------------------
// Value conversion

function cell(fields: readonly string[], column: number): string {
  return column >= 0 ? fields[column]!.trim() : '';
}

function count(fields: readonly string[], column: number): number {
  if (column < 0) return 0;
  const n = +fields[column]!;
  return n >= 0 ? n : 0;
}

/** Ports are decimal, or hex where Argus writes ICMP type and code (`0x0008`: echo request). */
function port(fields: readonly string[], column: number): number {
  if (column < 0) return 0;
  const text = fields[column]!;
  const n = text.charCodeAt(1) === 0x78 && text.charCodeAt(0) === 0x30 ? parseInt(text.slice(2), 16) : +text;
  return n >= 0 ? n : 0;
}

// ---------------------------------------------------------------------------------------------
// Parser

export interface ArgusParserOptions {
  /** File name for bad-input reports ('stdin' for standard input). */
  name: string;
  /** Capture interface written into every record (default 'default'). */
  interface?: string;
}

/**
 * Parses line batches of one Argus input into conn records. The first line is the header when
 * it names columns (a field equal to StartTime/Time/SrcAddr/DstAddr/TotPkts, or at least two
 * columns the rules know); any later line with such a field replaces the header (concatenated
 * files). Data lines before any header use the standard binetflow layout.
 */
export class ArgusParser {
  /** Data lines seen (good and bad); header and empty lines are not counted. */
  dataLines = 0;
  private columns: ColumnMap;
  private sawFirstLine = false;
  private readonly time = new LocalTimeParser();
  private readonly name: string;
  private readonly interfaceName: string;

  constructor(private readonly sink: ErrorSink, options: ArgusParserOptions) {
    this.name = options.name;
    this.interfaceName = options.interface ?? 'default';
    this.columns = new ColumnMap(STANDARD_BINETFLOW_HEADER.split(','));
  }

  parse(batch: LineBatch, out: FlowRecord[]): void {
    const lines = batch.lines;
    let lineNumber = batch.firstLine;
    for (let i = 0; i < lines.length; i++, lineNumber++) {
      const line = lines[i]!;
      if (line.length === 0) continue;
      const fields = line.split(separatorOf(line));
      const first = !this.sawFirstLine;
      this.sawFirstLine = true;
      if (isHeader(line, fields)) {
        this.columns = new ColumnMap(fields);
        continue;
      }
      if (first) {
        const candidate = new ColumnMap(fields);
        if (candidate.mapped >= 2) {
          this.columns = candidate;
          continue;
        }
      }
      this.dataLines++;
      const record = this.convert(fields, lineNumber);
      if (record !== undefined) out.push(record);
    }
  }

  private report(line: number, message: string): void {
    this.sink.badInput({ file: this.name, line, message });
  }

  private convert(fields: readonly string[], lineNumber: number): ConnRecord | undefined {
    const c = this.columns;
    if (fields.length !== c.columns) {
      this.report(lineNumber, `expected ${c.columns} fields, got ${fields.length}`);
      return undefined;
    }
    const startText = cell(fields, c.starttime);
    const ts = this.time.parse(startText);
    if (ts !== ts) {
      this.report(lineNumber, `invalid start time '${startText.slice(0, 40)}'`);
      return undefined;
    }
    let dur = c.dur >= 0 ? +fields[c.dur]! : NaN;
    if (!(dur >= 0) && c.endtime >= 0) dur = this.time.parse(cell(fields, c.endtime)) - ts;
    if (!(dur >= 0)) dur = 0;
    const pkts = count(fields, c.pkts);
    const bytes = count(fields, c.bytes);
    const spkts = count(fields, c.spkts);
    const sbytes = count(fields, c.sbytes);
    // Slips leaves the destination counts at 0 when there is no column for them; derive them
    // from the totals so that spkts + dpkts and sbytes + dbytes are the flow's totals.
    const dpkts = c.dpkts >= 0 ? count(fields, c.dpkts) : Math.max(pkts - spkts, 0);
    const dbytes = c.dbytes >= 0 ? count(fields, c.dbytes) : Math.max(bytes - sbytes, 0);
    return {
      kind: 'conn',
      ts,
      uid: randomUid(),
      saddr: cell(fields, c.saddr),
      daddr: cell(fields, c.daddr),
      interface: this.interfaceName,
      source: 'argus',
      sport: port(fields, c.sport),
      dport: port(fields, c.dport),
      proto: cell(fields, c.proto).toLowerCase(),
      appproto: cell(fields, c.appproto).toLowerCase(),
      dur,
      sbytes,
      dbytes,
      spkts,
      dpkts,
      state: cell(fields, c.state),
      history: '',
      smac: cell(fields, c.smac),
      dmac: cell(fields, c.dmac),
      dir: cell(fields, c.dir),
    };
  }
}
