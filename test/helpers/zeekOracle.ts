// Agreement of our pcap analyzer's Zeek logs with the logs Zeek wrote (the oracle traces in
// ../shared/datasets/zeek-traces): runs each trace that has a given log through the pcap input
// once per test process (logs into a temporary directory) and reports zeek-compare's verdict.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CollectingErrorSink } from '../../inputs/errors.js';
import { openPcapInput } from '../../inputs/pcap/reader.js';
import { ZEEK_COMPARE, ZEEK_TRACES } from './shared.js';

export const haveOracle = fs.existsSync(ZEEK_TRACES) && fs.existsSync(ZEEK_COMPARE);

export interface OracleResult {
  trace: string;
  /** "R/E": matched records of the expected ones. */
  matched: string;
  /** Percent of compared fields that agree over the matched records. */
  agreement: number;
  /** zeek-compare's whole report. */
  report: string;
}

const outputs = new Map<string, Promise<string>>();
let workDir: string | undefined;

/** The zeek_files directory our reader wrote for a trace (run once per process). */
function ourLogs(trace: string): Promise<string> {
  let pending = outputs.get(trace);
  if (pending === undefined) {
    pending = (async () => {
      workDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'zeek-oracle-'));
      const dir = path.join(ZEEK_TRACES, trace);
      const pcap = fs.readdirSync(dir).find((f) => /\.pcap(ng)?$/.test(f));
      if (pcap === undefined) throw new Error(`${trace}: no pcap`);
      const out = path.join(workDir, trace);
      const reader = await openPcapInput(path.join(dir, pcap), new CollectingErrorSink(), { zeekLogDir: out });
      for await (const batch of reader.batches()) void batch;
      return out;
    })();
    outputs.set(trace, pending);
  }
  return pending;
}

process.on('exit', () => {
  if (workDir !== undefined) fs.rmSync(workDir, { recursive: true, force: true });
});

/** Traces whose directory holds `<log>.log` and a pcap. */
export function tracesWithLog(log: string): string[] {
  if (!haveOracle) return [];
  return fs.readdirSync(ZEEK_TRACES).sort().filter((name) => {
    const dir = path.join(ZEEK_TRACES, name);
    return fs.existsSync(path.join(dir, `${log}.log`)) && fs.readdirSync(dir).some((f) => /\.pcap(ng)?$/.test(f));
  });
}

/** zeek-compare of our `<log>.log` against Zeek's for one trace (`fields` = zeek-compare's default set when omitted). */
export async function compareWithZeek(trace: string, log: string, fields?: string): Promise<OracleResult> {
  const out = await ourLogs(trace);
  const ours = path.join(out, `${log}.log`);
  const args = [path.join(ZEEK_TRACES, trace, `${log}.log`), fs.existsSync(ours) ? ours : '/dev/null'];
  if (fields !== undefined) args.push('--fields', fields);
  let report: string;
  try {
    report = execFileSync(ZEEK_COMPARE, args, { encoding: 'utf8' });
  } catch (error) {
    report = String((error as { stdout?: string }).stdout ?? '');
  }
  const last = report.trim().split('\n').at(-1) ?? '';
  const m = /matched (\d+\/\d+) expected records.*agreement ([\d.]+)%/.exec(last);
  return { trace, matched: m?.[1] ?? '?', agreement: m === null ? 0 : Number(m[2]), report };
}
