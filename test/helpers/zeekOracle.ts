// Agreement of our pcap analyzer's Zeek logs with the logs Zeek wrote (the oracle traces in
// ../shared/datasets/zeek-traces): runs each trace through the pcap input once per test process
// (logs into a temporary directory) and reports zeek-compare's verdict on one log, optionally on
// chosen fields, against another baseline file (a `zeek-cut -m` file such as conn.log.cut), or
// after rewriting rows of either side. zeek-compare runs in one Python process per test process.

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { CollectingErrorSink } from '../../inputs/errors.js';
import { openPcapInput } from '../../inputs/pcap/reader.js';
import { ZEEK_COMPARE, ZEEK_TRACES } from './shared.js';

export const haveOracle = fs.existsSync(ZEEK_TRACES) && fs.existsSync(ZEEK_COMPARE);

/** One log line, keyed by column name. */
export type ZeekRow = Record<string, string>;

export interface CompareOptions {
  /**
   * Zeek's baseline file in the trace directory (default `<log>.log`). A `zeek-cut -m` file (a
   * plain header line instead of `#fields`) is compared with our log cut to the same columns.
   */
  expectedFile?: string;
  /** Fields compared (zeek-compare's default set for the log when omitted). */
  fields?: readonly string[];
  /** Rewrites each row of our log before comparing. */
  ours?: (row: ZeekRow) => ZeekRow;
  /** Rewrites each row of Zeek's log before comparing. */
  expected?: (row: ZeekRow) => ZeekRow;
  /** Read the trace dropping packets with bad TCP/UDP checksums (as Zeek without -C). */
  verifyChecksums?: boolean;
}

export interface OracleResult {
  trace: string;
  /** "R/E": matched records of the expected ones. */
  matched: string;
  /** Records of ours no expected record matched. */
  extra: number;
  /** Percent of compared fields that agree over the matched records. */
  agreement: number;
  /** zeek-compare's whole report. */
  report: string;
}

const outputs = new Map<string, Promise<string>>();
let workDir: string | undefined;
let comparisons = 0;

function work(): string {
  workDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'zeek-oracle-'));
  return workDir;
}

process.on('exit', () => {
  if (workDir !== undefined) fs.rmSync(workDir, { recursive: true, force: true });
});

function pcapOf(trace: string): string | undefined {
  return fs.readdirSync(path.join(ZEEK_TRACES, trace)).find((f) => /\.pcap(ng)?$/.test(f));
}

/** The directory of Zeek logs our reader wrote for a trace (the trace is read once per process). */
export function analyzeTrace(trace: string, verifyChecksums = false): Promise<string> {
  const key = verifyChecksums ? `${trace}+checksums` : trace;
  let pending = outputs.get(key);
  if (pending === undefined) {
    pending = (async () => {
      const pcap = pcapOf(trace);
      if (pcap === undefined) throw new Error(`${trace}: no pcap`);
      const out = path.join(work(), key);
      const reader = await openPcapInput(path.join(ZEEK_TRACES, trace, pcap), new CollectingErrorSink(), { zeekLogDir: out, verifyChecksums });
      for await (const batch of reader.batches()) void batch;
      return out;
    })();
    outputs.set(key, pending);
  }
  return pending;
}

/** Traces whose directory holds a pcap and Zeek's `file` (e.g. `dns.log`, `conn.log.cut`). */
export function tracesWith(file: string): string[] {
  if (!haveOracle) return [];
  return fs.readdirSync(ZEEK_TRACES).sort().filter((trace) => fs.existsSync(path.join(ZEEK_TRACES, trace, file)) && pcapOf(trace) !== undefined);
}

/**
 * Runs zeek-compare's main() once per request inside one Python process (a Python start per
 * comparison costs more than the whole trace analysis): a JSON argument list per input line, its
 * report (stdout and any exit message) as one JSON string per output line.
 */
const COMPARE_SERVER = `
import contextlib, io, json, runpy, sys
compare = runpy.run_path(sys.argv[1])["main"]
for line in sys.stdin:
    sys.argv = ["zeek-compare"] + json.loads(line)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            compare()
        except SystemExit as end:
            if isinstance(end.code, str):
                print(end.code)
        except Exception as error:
            print(f"zeek-compare failed: {error!r}")
    sys.stdout.write(json.dumps(out.getvalue()) + "\\n")
    sys.stdout.flush()
`;

let server: ChildProcessWithoutNullStreams | undefined;
const waiting: ((report: string) => void)[] = [];

function zeekCompare(args: string[]): Promise<string> {
  if (server === undefined) {
    const started = spawn('python3', ['-c', COMPARE_SERVER, ZEEK_COMPARE]);
    started.stderr.setEncoding('utf8');
    started.stderr.on('data', (text: string) => process.stderr.write(text));
    readline.createInterface({ input: started.stdout }).on('line', (line) => waiting.shift()?.(JSON.parse(line) as string));
    started.on('exit', (code) => {
      for (const resolve of waiting.splice(0)) resolve(`zeek-compare server exited with ${code}`);
      server = undefined;
    });
    server = started;
  }
  return new Promise((resolve) => {
    waiting.push(resolve);
    server!.stdin.write(`${JSON.stringify(args)}\n`);
  });
}

/** Ends the zeek-compare process (its pipes would keep the test process alive): call it in `test.after.always`. */
export function closeOracle(): void {
  server?.stdin.end();
}

interface TsvLog {
  fields: string[];
  rows: ZeekRow[];
  /** True for a `zeek-cut -m` file: a plain header line, no `#` metadata. */
  cut: boolean;
}

/** A Zeek TSV log (btest `###` lines skipped) or a `zeek-cut -m` file. */
function readTsv(file: string): TsvLog {
  let fields: string[] | undefined;
  let cut = false;
  const rows: ZeekRow[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line === '' || line.startsWith('###')) continue;
    if (line.startsWith('#fields\t')) {
      fields = line.split('\t').slice(1);
    } else if (line.startsWith('#')) {
      continue;
    } else if (fields === undefined) {
      fields = line.split('\t');
      cut = true;
    } else {
      const cells = line.split('\t');
      rows.push(Object.fromEntries(fields.map((f, i) => [f, cells[i] ?? '-'])));
    }
  }
  return { fields: fields ?? [], rows, cut };
}

function writeTsv(file: string, fields: string[], rows: ZeekRow[]): void {
  const lines = [`#fields\t${fields.join('\t')}`, ...rows.map((r) => fields.map((f) => r[f] ?? '-').join('\t'))];
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
}

/** zeek-compare of our `<log>.log` against Zeek's baseline for one trace. */
export async function compareWithZeek(trace: string, log: string, options: CompareOptions = {}): Promise<OracleResult> {
  const out = await analyzeTrace(trace, options.verifyChecksums === true);
  let expected = path.join(ZEEK_TRACES, trace, options.expectedFile ?? `${log}.log`);
  const oursFile = path.join(out, `${log}.log`);
  let ours = fs.existsSync(oursFile) ? oursFile : '/dev/null';
  const baseline = readTsv(expected);
  if (baseline.cut || options.ours !== undefined || options.expected !== undefined) {
    // Rewritten copies; zeek-compare takes the log kind from the expected file's name.
    const dir = path.join(work(), `compare-${++comparisons}`);
    fs.mkdirSync(dir);
    expected = path.join(dir, `${log}.expected.log`);
    writeTsv(expected, baseline.fields, baseline.rows.map(options.expected ?? ((r) => r)));
    if (ours !== '/dev/null') {
      const mine = readTsv(ours);
      ours = path.join(dir, `${log}.ours.log`);
      writeTsv(ours, baseline.cut ? baseline.fields : mine.fields, mine.rows.map(options.ours ?? ((r) => r)));
    }
  }
  const args = [expected, ours];
  if (options.fields !== undefined) args.push('--fields', options.fields.join(','));
  const report = await zeekCompare(args);
  const last = report.trim().split('\n').at(-1) ?? '';
  const m = /matched (\d+\/\d+) expected records \((\d+) extra\), agreement ([\d.]+)%/.exec(last);
  return { trace, matched: m?.[1] ?? '?', extra: m === null ? 0 : Number(m[2]), agreement: m === null ? 0 : Number(m[3]), report };
}
