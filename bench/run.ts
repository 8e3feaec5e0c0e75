// Benchmark: in one process and one run, measures the parse-only rate of an input (reader only)
// and the end-to-end rate of a full analysis of the same input (parse + profiler + detections +
// Redis writes + output files, with a private redis-server), plus peak RSS, and prints the ratio.
// It also compares the engine rate with only the core issue's detectors and with all of them.
// Usage: node dist/bench/run.js <conn.log or Zeek dir> [--runs N] [--detectors-only]
// (--engine-child N is how the comparison runs the engine with N detectors in a child process)

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { runAnalysis } from '../core/analysis.js';
import { parseCli } from '../core/cli.js';
import { loadConfig } from '../core/config.js';
import { Printer } from '../core/console.js';
import { prepareOutputDir } from '../core/outputDir.js';
import type { DetectorFactory } from '../detections/api.js';
import { DETECTORS } from '../detections/index.js';
import { findFreeSlipsPort } from '../core/redisServer.js';
import { CollectingErrorSink } from '../inputs/errors.js';
import { openInput } from '../inputs/open.js';
import { PROJECT_ROOT, runEngine } from './engineRun.js';


function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

function nullStream(): Writable {
  return new Writable({ write: (_chunk, _encoding, done) => done() });
}

async function parseOnly(input: string): Promise<{ records: number; seconds: number }> {
  const sink = new CollectingErrorSink();
  const reader = await openInput(input, sink);
  const started = process.hrtime.bigint();
  let records = 0;
  for await (const batch of reader.batches()) records += batch.length;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (sink.problems.length > 0) console.error(`parse-only: ${sink.problems.length} bad input lines`);
  for (const warning of sink.warnings) console.error(`parse-only: ${warning}`);
  return { records, seconds };
}

/** Parse + profiler + detections + evidence handling, without Redis or output files. */
async function engineOnly(input: string, detectors: readonly DetectorFactory[] = DETECTORS): Promise<{ seconds: number; evidence: number }> {
  let evidence = 0;
  const listener = { evidenceAdded: () => void (evidence += 1), alertRaised: () => undefined };
  const seconds = await runEngine(input, { detectors, listener });
  return { seconds, evidence };
}

async function endToEnd(input: string, outputDir: string): Promise<{ seconds: number; code: number }> {
  const configPath = path.join(PROJECT_ROOT, 'config', 'slips.yaml');
  const config = loadConfig(configPath);
  prepareOutputDir(outputDir, { keepSlipsOutput: false });
  const printer = new Printer({
    verbose: 0,
    debug: 0,
    errorsLogPath: path.join(outputDir, 'errors.log'),
    stdout: nullStream(),
    stderr: process.stderr,
    isTTY: false,
  });
  const port = await findFreeSlipsPort();
  const started = process.hrtime.bigint();
  const code = await runAnalysis({
    cli: parseCli(['-f', input, '-o', outputDir]),
    config,
    configPath,
    inputPath: input,
    outputDir,
    printer,
    projectRoot: PROJECT_ROOT,
    redisPort: port,
    command: `bench ${input}`,
  });
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, code };
}

/** The detectors of the core issue: port scans, per-connection checks, non-HTTP 80, non-SSL 443. */
const CORE_DETECTOR_COUNT = 4;
/** Required rate with all detectors, as a fraction of the rate with the core ones. */
const DETECTOR_COST_TARGET = 0.8;

/**
 * Engine seconds for the input with the first `detectors` detectors, measured in a fresh node
 * process (same flags) so that neither run inherits the other's heap or JIT state.
 */
function engineSecondsInChild(input: string, detectors: number): number {
  const child = spawnSync(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), input, '--engine-child', String(detectors)],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const seconds = Number(child.stdout.trim());
  if (child.status !== 0 || !(seconds > 0)) throw new Error(`engine run with ${detectors} detectors failed (exit ${child.status})`);
  return seconds;
}

/**
 * Engine rate with only the core detectors and with all of them, alternated `runs` times so both
 * see the same machine load; the best run of each counts (the least disturbed by other processes).
 */
function detectorCost(input: string, records: number, runs: number): void {
  let core = 0;
  let all = 0;
  for (let run = 0; run < runs; run += 1) {
    core = Math.max(core, records / engineSecondsInChild(input, CORE_DETECTOR_COUNT));
    all = Math.max(all, records / engineSecondsInChild(input, DETECTORS.length));
  }
  const ratio = all / core;
  console.log(`detections : engine with the first ${CORE_DETECTOR_COUNT} detectors ${Math.round(core)} flows/s, ` +
    `with all ${DETECTORS.length} ${Math.round(all)} flows/s (best of ${runs}); ratio ${ratio.toFixed(2)} ` +
    `(target >= ${DETECTOR_COST_TARGET}: ${ratio >= DETECTOR_COST_TARGET ? 'PASS' : 'FAIL'})`);
}

interface BenchOptions {
  /** Alternated runs of the detector-cost comparison. */
  runs: number;
  /** Only the parse rate and the detector-cost comparison. */
  detectorsOnly: boolean;
  /** Child mode: run the engine with this many detectors and print its seconds. */
  engineChild: number | undefined;
}

function parseOptions(args: readonly string[]): BenchOptions {
  const valueOf = (flag: string): number | undefined => {
    const at = args.indexOf(flag);
    const value = at === -1 ? Number.NaN : Number(args[at + 1]);
    return Number.isInteger(value) && value > 0 ? value : undefined;
  };
  return { runs: valueOf('--runs') ?? 3, detectorsOnly: args.includes('--detectors-only'), engineChild: valueOf('--engine-child') };
}

async function main(): Promise<void> {
  const input = process.argv[2];
  if (input === undefined || !fs.existsSync(input)) {
    console.error('usage: node dist/bench/run.js <conn.log or Zeek dir> [--runs N] [--detectors-only]');
    process.exitCode = 2;
    return;
  }
  const options = parseOptions(process.argv.slice(3));
  const inputPath = path.resolve(input);
  if (options.engineChild !== undefined) {
    console.log((await engineOnly(inputPath, DETECTORS.slice(0, options.engineChild))).seconds);
    return;
  }
  const sizeMb = fs.statSync(inputPath).size / 1e6;
  console.log(`input: ${inputPath} (${sizeMb.toFixed(0)} MB), node ${process.version}, ${os.cpus().length} cores`);

  const parse = await parseOnly(inputPath);
  const parseRate = parse.records / parse.seconds;
  const rssAfterParse = peakRssMb();
  console.log(`parse-only : ${parse.records} records in ${parse.seconds.toFixed(2)} s = ${Math.round(parseRate)} flows/s (peak RSS ${rssAfterParse.toFixed(0)} MB)`);

  if (options.detectorsOnly) {
    detectorCost(inputPath, parse.records, options.runs);
    return;
  }
  const engine = await engineOnly(inputPath);
  const engineRate = parse.records / engine.seconds;
  console.log(`engine     : ${parse.records} records in ${engine.seconds.toFixed(2)} s = ${Math.round(engineRate)} flows/s ` +
    `(parse + profiler + detections + evidence, no Redis/files; ${engine.evidence} evidence)`);

  const outputDir = fs.mkdtempSync(path.join(os.tmpdir(), 'slips-bench-'));
  try {
    const e2e = await endToEnd(inputPath, outputDir);
    const e2eRate = parse.records / e2e.seconds;
    const alerts = fs.readFileSync(path.join(outputDir, 'alerts', 'alerts.log'), 'utf8').split('\n').filter(Boolean).length;
    console.log(`end-to-end : ${parse.records} records in ${e2e.seconds.toFixed(2)} s = ${Math.round(e2eRate)} flows/s (exit ${e2e.code}, ${alerts} alerts.log lines)`);
    console.log(`peak RSS   : ${peakRssMb().toFixed(0)} MB`);
    console.log(`ratio end-to-end / parse-only: ${(e2eRate / parseRate).toFixed(2)}`);
    const total = e2e.seconds;
    console.log(`time split : parse ${((parse.seconds / total) * 100).toFixed(0)}%, profiler+detections ` +
      `${(((engine.seconds - parse.seconds) / total) * 100).toFixed(0)}%, Redis writes+output files ` +
      `${(((total - engine.seconds) / total) * 100).toFixed(0)}% of the end-to-end time`);
    console.log(`targets: end-to-end >= 150000 flows/s, ratio >= 0.5, peak RSS <= 400 MB`);
    detectorCost(inputPath, parse.records, options.runs);
  } finally {
    fs.rmSync(outputDir, { recursive: true, force: true });
  }
}

await main();
