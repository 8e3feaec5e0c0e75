// Benchmark of the pcap path (called by scripts/bench.sh): reads a large capture through the
// pcap input (capture parsing, decoding, tunnels, connection tracking and every registered
// protocol analyzer; no Zeek log writing) and prints packets/s, MB/s, records and the peak
// RSS, against the targets (>= 500,000 packets/s on one core, <= 400 MB peak RSS on 1 GB).
// The capture is made by bench/pcapGenerate.ts when missing or not of the requested size.
//
//   node dist/bench/pcapBench.js [--file bench/data/bench.pcap] [--size-mb 1024] [--seed 42]

import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { CollectingErrorSink } from '../inputs/errors.js';
import { openPcapInput } from '../inputs/pcap/reader.js';
import { generatePcap } from './pcapGenerate.js';

const TARGET_PPS = 500_000;
const TARGET_RSS_MB = 400;

export interface PcapBenchResult {
  packets: number;
  bytes: number;
  records: number;
  seconds: number;
  peakRssMb: number;
}

/** Reads `file` through the pcap input; returns the throughput figures. */
export async function benchPcap(file: string): Promise<PcapBenchResult> {
  const bytes = fs.statSync(file).size;
  const sink = new CollectingErrorSink();
  const started = process.hrtime.bigint();
  const reader = await openPcapInput(file, sink);
  let records = 0;
  for await (const batch of reader.batches()) records += batch.length;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { packets: reader.linesRead, bytes, records, seconds, peakRssMb: process.resourceUsage().maxRSS / 1024 };
}

async function main(): Promise<void> {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const { values } = parseArgs({
    options: {
      file: { type: 'string', default: path.join(root, 'bench', 'data', 'bench.pcap') },
      'size-mb': { type: 'string', default: '1024' },
      seed: { type: 'string', default: '42' },
    },
  });
  const file = values.file;
  const wanted = Number(values['size-mb']) * 1024 * 1024;
  // Made again when missing or of another size (delete it after changing the generator).
  if (!fs.existsSync(file) || Math.abs(fs.statSync(file).size - wanted) > wanted * 0.01) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const made = generatePcap(file, wanted, Number(values.seed));
    console.log(`pcap bench: generated ${file} (${made.packets} packets, ${(made.bytes / 1048576).toFixed(0)} MB)`);
  }
  const r = await benchPcap(file);
  const pps = r.packets / r.seconds;
  console.log(`pkts/s     : ${Math.round(pps)} (pcap path: parse + decode + conntrack + analyzers; target >= ${TARGET_PPS})`);
  console.log(`pcap       : ${r.packets} packets, ${(r.bytes / 1048576).toFixed(0)} MB in ${r.seconds.toFixed(2)} s ` +
    `(${(r.bytes / 1048576 / r.seconds).toFixed(0)} MB/s), ${r.records} records`);
  console.log(`pcap RSS   : peak ${r.peakRssMb.toFixed(0)} MB (target <= ${TARGET_RSS_MB} MB on a 1 GB capture)`);
  if (pps < TARGET_PPS || r.peakRssMb > TARGET_RSS_MB) process.exitCode = 1;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
