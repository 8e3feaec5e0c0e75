// Runs the oracle traces (/work/shared/datasets/zeek-traces: pcaps with the logs Zeek wrote from
// them) through the pcap input and compares one of our Zeek logs with Zeek's using
// shared/bin/zeek-compare. Tests skip when the shared datasets are absent.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CollectingErrorSink } from '../../inputs/errors.js';
import { openPcapInput } from '../../inputs/pcap/reader.js';
import { SHARED_DIR } from './shared.js';

export const ORACLE_TRACES = path.join(SHARED_DIR, 'datasets', 'zeek-traces');
const COMPARE = path.join(SHARED_DIR, 'bin', 'zeek-compare');
export const HAVE_ORACLE = fs.existsSync(ORACLE_TRACES) && fs.existsSync(COMPARE);

export interface OracleResult {
  trace: string;
  /** "R/E": matched expected records. */
  matched: string;
  /** Agreement in percent over the compared fields of matched records. */
  agreement: number;
  /** zeek-compare's whole report. */
  report: string;
}

/** Every trace that has Zeek's `<log>.log`, run through the pcap input into `outDir/<trace>/`. */
export async function compareWithOracle(log: string, outDir: string, fields?: string): Promise<OracleResult[]> {
  const results: OracleResult[] = [];
  for (const trace of fs.readdirSync(ORACLE_TRACES).sort()) {
    const dir = path.join(ORACLE_TRACES, trace);
    const expected = path.join(dir, `${log}.log`);
    if (!fs.existsSync(expected)) continue;
    const pcap = fs.readdirSync(dir).find((f) => /\.pcap(ng)?$/.test(f));
    if (pcap === undefined) continue;
    const out = path.join(outDir, trace);
    const reader = await openPcapInput(path.join(dir, pcap), new CollectingErrorSink(), { zeekLogDir: out });
    for await (const batch of reader.batches()) void batch;
    const actual = path.join(out, `${log}.log`);
    const args = [expected, fs.existsSync(actual) ? actual : '/dev/null', ...(fields !== undefined ? ['--fields', fields] : [])];
    let report: string;
    try {
      report = execFileSync(COMPARE, args, { encoding: 'utf8' });
    } catch (error) {
      report = String((error as { stdout?: string }).stdout ?? error);
    }
    const last = report.trim().split('\n').at(-1) ?? '';
    const m = /matched (\d+\/\d+) expected records.*agreement ([\d.]+)%/.exec(last);
    results.push({ trace, matched: m?.[1] ?? '?', agreement: m !== null ? Number(m[2]) : 0, report });
  }
  return results;
}
