// nfdump reader: nfcapd binary files are decoded by the nfdump tool itself
// (`nfdump -b -N -o csv -r <file>`, bidirectional flows, plain numbers), run as a child process;
// its CSV stdout is streamed line by line into conn records.
//
// Columns: Slips runs nfdump with -q (no header) and reads fixed column positions. The installed
// nfdump (1.7.x) prints a header line without -q (ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,
// ibyt,opkt,obyt,...,dir,...) followed by the flows and a block starting with a line `Summary`.
// We run it without -q and map the columns by that header, so a version that moves columns still
// reads right, and ignore everything from the `Summary` line on. Output without a recognisable header falls back to Slips'
// positions (0 ts, 1 te, 2 td, 3 sa, 4 da, 5 sp, 6 dp, 7 pr, 8 flg, 11 ipkt, 12 ibyt, 13 opkt,
// 14 obyt, 22 dir).
//
// Differences from Slips, on purpose: counts, ports and durations are numbers (Slips bug #3:
// strings, so its sums concatenated); ICMP type and code, which nfdump packs into the destination
// port (type * 256 + code), become sport and dport as Zeek writes them.

import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { LocalTimeParser, randomUid } from './argus.js';
import type { ErrorSink } from './errors.js';
import { readStreamLines, type LineBatch } from './lineReader.js';
import type { FlowReader } from './reader.js';
import type { ConnRecord, FlowRecord } from './records.js';
import { LineInput, type LineParser } from './stdin.js';

/** nfdump arguments before the file: bidirectional aggregation, plain numbers, CSV. */
const NFDUMP_ARGS: readonly string[] = ['-b', '-N', '-o', 'csv'];

const STDERR_LIMIT = 4096;
const NO_MAC = '00:00:00:00:00:00';
/** What nfdump prints instead of flows when a file has none (or could not be read). */
const NO_FLOWS = 'No matching flows';

/** Column positions of the fields a record needs (-1: absent). */
interface NfdumpColumns {
  count: number;
  ts: number; te: number; td: number; sa: number; da: number; sp: number; dp: number; pr: number;
  flg: number; ipkt: number; ibyt: number; opkt: number; obyt: number; dir: number; ismc: number; idmc: number;
}

const COLUMN_NAMES = ['ts', 'te', 'td', 'sa', 'da', 'sp', 'dp', 'pr', 'flg', 'ipkt', 'ibyt', 'opkt', 'obyt', 'dir', 'ismc', 'idmc'] as const;

/** Slips' fixed positions, for output without a header. */
const SLIPS_POSITIONS: NfdumpColumns = {
  count: 23, ts: 0, te: 1, td: 2, sa: 3, da: 4, sp: 5, dp: 6, pr: 7, flg: 8, ipkt: 11, ibyt: 12, opkt: 13, obyt: 14,
  dir: 22, ismc: -1, idmc: -1,
};

function columnsOfHeader(names: readonly string[]): NfdumpColumns | undefined {
  const trimmed = names.map((name) => name.trim());
  if (!trimmed.includes('ts') || !trimmed.includes('sa') || !trimmed.includes('da')) return undefined;
  const columns: NfdumpColumns = { ...SLIPS_POSITIONS, count: trimmed.length };
  for (const name of COLUMN_NAMES) columns[name] = trimmed.indexOf(name);
  return columns;
}

function amount(fields: readonly string[], column: number): number {
  if (column < 0) return 0;
  const n = +fields[column]!;
  return n >= 0 ? n : 0;
}

function cell(fields: readonly string[], column: number): string {
  return column >= 0 ? fields[column]!.trim() : '';
}

function mac(fields: readonly string[], column: number): string {
  const value = cell(fields, column);
  return value === NO_MAC ? '' : value;
}

function transport(name: string): string {
  const lower = name.toLowerCase();
  return lower === 'icmp6' ? 'ipv6-icmp' : lower;
}

/** Parses nfdump's CSV lines into conn records. */
export class NfdumpParser implements LineParser {
  /** Flow lines seen (good and bad); the header and the Summary block are not counted. */
  dataLines = 0;
  private columns: NfdumpColumns | undefined;
  /** Past the flows: nfdump's `Summary` line was seen. */
  private inSummary = false;
  private readonly time = new LocalTimeParser();

  constructor(private readonly sink: ErrorSink, private readonly name: string) {}

  parse(batch: LineBatch, out: FlowRecord[]): void {
    let lineNumber = batch.firstLine;
    for (const line of batch.lines) {
      const at = lineNumber++;
      if (this.inSummary) continue;
      if (line.length === 0 || line === NO_FLOWS) continue;
      if (line === 'Summary') {
        this.inSummary = true;
        continue;
      }
      const fields = line.split(',');
      if (this.columns === undefined) {
        const header = columnsOfHeader(fields);
        this.columns = header ?? SLIPS_POSITIONS;
        if (header !== undefined) continue;
      }
      this.dataLines++;
      const record = this.convert(fields, at);
      if (record !== undefined) out.push(record);
    }
  }

  private convert(fields: readonly string[], lineNumber: number): ConnRecord | undefined {
    const c = this.columns!;
    if (c === SLIPS_POSITIONS ? fields.length < c.count : fields.length !== c.count) {
      this.sink.badInput({ file: this.name, line: lineNumber, message: `expected ${c.count} fields, got ${fields.length}` });
      return undefined;
    }
    const startText = cell(fields, c.ts);
    const ts = this.time.parse(startText);
    if (ts !== ts) {
      this.sink.badInput({ file: this.name, line: lineNumber, message: `invalid start time '${startText.slice(0, 40)}'` });
      return undefined;
    }
    let dur = c.td >= 0 ? +fields[c.td]! : NaN;
    if (!(dur >= 0) && c.te >= 0) dur = this.time.parse(cell(fields, c.te)) - ts;
    const proto = transport(cell(fields, c.pr));
    let sport = amount(fields, c.sp);
    let dport = amount(fields, c.dp);
    if ((proto === 'icmp' || proto === 'ipv6-icmp') && sport === 0) {
      sport = dport >> 8;
      dport &= 0xff;
    }
    return {
      kind: 'conn',
      ts,
      uid: randomUid(),
      saddr: cell(fields, c.sa),
      daddr: cell(fields, c.da),
      interface: 'default',
      source: 'nfdump',
      sport,
      dport,
      proto,
      appproto: '',
      dur: dur >= 0 ? dur : 0,
      sbytes: amount(fields, c.ibyt),
      dbytes: amount(fields, c.obyt),
      spkts: amount(fields, c.ipkt),
      dpkts: amount(fields, c.opkt),
      state: cell(fields, c.flg),
      history: '',
      smac: mac(fields, c.ismc),
      dmac: mac(fields, c.idmc),
      dir: cell(fields, c.dir),
    };
  }
}

/** Full path of an executable found on PATH, or undefined. */
function findExecutable(name: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/**
 * Runs nfdump on `path` and yields its stdout lines. A failing nfdump (non-zero exit, or
 * anything on stderr, e.g. for a corrupt file) is reported with its first stderr line. Ending
 * early (stop, or the consumer returning) ends the child process.
 */
async function* nfdumpLines(binary: string, path: string, sink: ErrorSink, signal: AbortSignal): AsyncGenerator<LineBatch> {
  if (signal.aborted) return;
  const child = spawn(binary, [...NFDUMP_ARGS, '-r', path], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    if (stderr.length < STDERR_LIMIT) stderr += text;
  });
  let spawnError: Error | undefined;
  const ended = new Promise<number | null>((resolve) => {
    child.once('error', (err) => {
      spawnError = err;
      resolve(null);
    });
    child.once('close', (code) => resolve(code));
  });
  const onAbort = (): void => {
    child.kill();
  };
  signal.addEventListener('abort', onAbort, { once: true });
  let complete = false;
  try {
    yield* readStreamLines(child.stdout, path, sink);
    complete = true;
  } finally {
    signal.removeEventListener('abort', onAbort);
    if (!complete && child.exitCode === null) child.kill();
    const code = await ended;
    if (spawnError !== undefined) {
      sink.badInput({ file: path, message: `cannot run nfdump: ${spawnError.message}` });
    } else if (complete && !signal.aborted && (code !== 0 || stderr.trim() !== '')) {
      // nfdump exits 0 even for a file it cannot read; only its stderr tells.
      const reason = stderr.trim().split('\n')[0] ?? '';
      const what = code !== 0 ? `nfdump exited with code ${code}` : 'nfdump could not read the file';
      sink.badInput({ file: path, message: reason === '' ? what : `${what}: ${reason}` });
    }
  }
}

/**
 * Opens an nfcapd/nfdump file through the nfdump tool. Throws when nfdump is not installed;
 * the number of flows is not known up front.
 */
export function openNfdumpInput(path: string, sink: ErrorSink): FlowReader {
  const binary = findExecutable('nfdump');
  if (binary === undefined) {
    throw new Error(`nfdump is not installed; it is needed to read ${path}. Install it with: apt-get install -y nfdump`);
  }
  const controller = new AbortController();
  return new LineInput(nfdumpLines(binary, path, sink, controller.signal), new NfdumpParser(sink, path), sink, {
    inputType: 'nfdump',
    name: path,
    onStop: () => controller.abort(),
  });
}
