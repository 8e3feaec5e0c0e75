// Reader benchmark: the parse rate (records/s, reader only: open, split, parse, convert) of each
// flow reader on ~1M-record inputs generated in a temp dir from one seeded traffic model:
// Zeek conn.log TSV and JSON come from bench/generateConnLog.js (run as a child process), and
// the same flows are converted into an Argus binetflow file and a Suricata eve.json (a flow
// event per connection, plus dns query/answer, tls and http events for those services).
// Each input is opened with openInput, as a real run opens it (type detection and the line
// count for the progress line included). Prints one line per reader with its target.
//
//   node dist/bench/readers.js [--records 1000000] [--seed 42] [--runs 2] [--readers zeek-tsv,...] [--keep DIR]

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CollectingErrorSink } from '../inputs/errors.js';
import { readLines } from '../inputs/lineReader.js';
import { openInput } from '../inputs/open.js';

const GENERATOR = fileURLToPath(new URL('./generateConnLog.js', import.meta.url));

interface BenchReader {
  name: string;
  /** Records per second the reader must reach. */
  target: number;
  file: string;
}

/** What generateConnLog writes in JSON, the fields the converters use. */
interface ZeekConn {
  ts: number;
  uid: string;
  'id.orig_h': string;
  'id.orig_p': number;
  'id.resp_h': string;
  'id.resp_p': number;
  proto: string;
  service?: string;
  duration?: number;
  orig_bytes?: number;
  resp_bytes?: number;
  conn_state: string;
  history?: string;
  orig_pkts: number;
  resp_pkts: number;
  orig_ip_bytes: number;
  resp_ip_bytes: number;
}

function generateZeek(records: number, seed: number, format: 'tsv' | 'json', out: string): void {
  const result = spawnSync(process.execPath, [GENERATOR, '--flows', String(records), '--out', out, '--format', format, '--seed', String(seed)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (result.status !== 0) throw new Error(`generateConnLog failed (${result.status ?? result.signal})`);
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** Argus' local time `YYYY/MM/DD HH:MM:SS.ffffff`. */
function argusTime(ts: number): string {
  const date = new Date(Math.floor(ts) * 1000);
  const micros = Math.round((ts - Math.floor(ts)) * 1e6);
  return `${date.getFullYear()}/${pad(date.getMonth() + 1)}/${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:` +
    `${pad(date.getSeconds())}.${pad(Math.min(micros, 999999), 6)}`;
}

/** Suricata's `2023-11-24T00:00:00.035797+0000`. */
function eveTime(ts: number): string {
  const seconds = Math.floor(ts);
  const micros = Math.min(Math.round((ts - seconds) * 1e6), 999999);
  return `${new Date(seconds * 1000).toISOString().slice(0, 19)}.${pad(micros, 6)}+0000`;
}

const ARGUS_STATE: Readonly<Record<string, [string, string]>> = {
  SF: ['FIN', 'CON'], S0: ['REQ', 'INT'], S1: ['CON', 'CON'], REJ: ['RST', 'INT'], RSTO: ['RST', 'CON'],
  RSTR: ['RST', 'CON'], OTH: ['CON', 'CON'],
};

const LABELS = ['flow=Background-UDP-Established', 'flow=From-Normal-V42-Stribrny', 'flow=Background-TCP-Attempt', 'flow=To-Background-CVUT-Proxy'];

function argusLine(f: ZeekConn, n: number): string {
  const [tcpState, otherState] = ARGUS_STATE[f.conn_state] ?? ['CON', 'CON'];
  const pkts = f.orig_pkts + f.resp_pkts;
  const bytes = f.orig_ip_bytes + f.resp_ip_bytes;
  return [
    argusTime(f.ts), (f.duration ?? 0).toFixed(6), f.proto, f['id.orig_h'], f['id.orig_p'], f.resp_pkts > 0 ? '  <->' : '   ->',
    f['id.resp_h'], f['id.resp_p'], f.proto === 'tcp' ? tcpState : otherState, 0, f.resp_pkts > 0 ? 0 : '', pkts, bytes,
    f.orig_ip_bytes, f.orig_pkts, LABELS[n % LABELS.length],
  ].join(',');
}

const TCP_FLAGS: Readonly<Record<string, [string, string]>> = {
  SF: ['1b', '1b'], S0: ['02', '00'], S1: ['1a', '12'], REJ: ['02', '14'], RSTO: ['1e', '12'], RSTR: ['1a', '16'], OTH: ['18', '18'],
};

function eveLines(f: ZeekConn, n: number): string[] {
  const common = {
    timestamp: eveTime(f.ts + (f.duration ?? 0)), flow_id: 1_000_000_000 + n, in_iface: 'eth0', event_type: 'flow',
    src_ip: f['id.orig_h'], src_port: f['id.orig_p'], dest_ip: f['id.resp_h'], dest_port: f['id.resp_p'],
    proto: f.proto.toUpperCase(),
  };
  const appProto = f.service === 'ssl' ? 'tls' : f.service;
  const flow: Record<string, unknown> = {
    ...common,
    ...(appProto ? { app_proto: appProto } : {}),
    flow: {
      pkts_toserver: f.orig_pkts, pkts_toclient: f.resp_pkts, bytes_toserver: f.orig_ip_bytes, bytes_toclient: f.resp_ip_bytes,
      start: eveTime(f.ts), end: eveTime(f.ts + (f.duration ?? 0)), age: Math.round(f.duration ?? 0),
      state: f.conn_state === 'S1' ? 'established' : f.conn_state === 'S0' ? 'new' : 'closed', reason: 'timeout', alerted: false,
    },
  };
  if (f.proto === 'tcp') {
    const [ts, tc] = TCP_FLAGS[f.conn_state] ?? ['18', '18'];
    flow['tcp'] = { tcp_flags: ts, tcp_flags_ts: ts, tcp_flags_tc: tc, syn: true, ack: true, state: 'closed' };
  }
  const lines = [JSON.stringify(flow)];
  const at = eveTime(f.ts);
  if (f.service === 'dns' && f.resp_pkts > 0) {
    const name = `host${n % 5000}.example.com`;
    lines.push(JSON.stringify({ ...common, timestamp: at, event_type: 'dns', dns: { type: 'query', id: n % 65536, rrname: name, rrtype: 'A', tx_id: 0 } }));
    lines.push(JSON.stringify({
      ...common, timestamp: at, event_type: 'dns',
      dns: { version: 2, type: 'answer', id: n % 65536, flags: '8180', qr: true, rrname: name, rrtype: 'A', rcode: 'NOERROR',
        answers: [{ rrname: name, rrtype: 'A', ttl: 300, rdata: `93.184.${(n >> 8) & 255}.${n & 255}` }] },
    }));
  } else if (f.service === 'ssl') {
    lines.push(JSON.stringify({
      ...common, timestamp: at, event_type: 'tls',
      tls: { subject: `CN=site${n % 3000}.example.org`, issuerdn: 'C=US, O=Let\'s Encrypt, CN=R3', serial: '04:A1', fingerprint: 'aa:bb:cc',
        sni: `site${n % 3000}.example.org`, version: 'TLS 1.2', notbefore: '2023-10-01T00:00:00', notafter: '2024-01-01T00:00:00',
        ja3: { hash: 'b7202231ff2db28363c109cedc6d1642' }, ja3s: { hash: 'ad90cab724fafab2660fbf61673c91a9' } },
    }));
  } else if (f.service === 'http') {
    lines.push(JSON.stringify({
      ...common, timestamp: at, event_type: 'http', tx_id: 0,
      http: { hostname: `www${n % 2000}.example.net`, url: `/index${n % 100}.html`, http_user_agent: 'Mozilla/5.0 (X11; Linux x86_64)',
        http_content_type: 'text/html', http_method: 'GET', protocol: 'HTTP/1.1', status: 200, length: f.resp_bytes ?? 0 },
    }));
  }
  return lines;
}

/**
 * Converts the generated Zeek JSON conn.log into an Argus binetflow file (one line per flow) and
 * a Suricata eve.json of about `records` records (a flow's app events make more than one).
 */
async function convert(zeekJson: string, argusOut: string, eveOut: string, records: number): Promise<void> {
  const argus = fs.openSync(argusOut, 'w');
  const eve = fs.openSync(eveOut, 'w');
  try {
    fs.writeSync(argus, 'StartTime,Dur,Proto,SrcAddr,Sport,Dir,DstAddr,Dport,State,sTos,dTos,TotPkts,TotBytes,SrcBytes,SrcPkts,Label\n');
    let n = 0;
    let eveRecords = 0;
    for await (const batch of readLines(zeekJson, new CollectingErrorSink())) {
      const argusText: string[] = [];
      const eveText: string[] = [];
      for (const line of batch.lines) {
        if (line === '') continue;
        const flow = JSON.parse(line) as ZeekConn;
        argusText.push(argusLine(flow, n));
        if (eveRecords < records) {
          const lines = eveLines(flow, n);
          eveText.push(...lines);
          // A DNS query and its answer make one record.
          eveRecords += flow.service === 'dns' && lines.length === 3 ? 2 : lines.length;
        }
        n++;
      }
      fs.writeSync(argus, argusText.join('\n') + '\n');
      if (eveText.length > 0) fs.writeSync(eve, eveText.join('\n') + '\n');
    }
  } finally {
    fs.closeSync(argus);
    fs.closeSync(eve);
  }
}

/** Parse-only run: open (as a real run does) and read every batch. */
async function measure(file: string): Promise<{ records: number; lines: number; seconds: number; problems: number }> {
  const sink = new CollectingErrorSink();
  const started = process.hrtime.bigint();
  const reader = await openInput(file, sink);
  let records = 0;
  for await (const batch of reader.batches()) records += batch.length;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { records, lines: reader.linesRead, seconds, problems: sink.problems.length };
}

const number = (n: number): string => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      records: { type: 'string', default: '1000000' },
      seed: { type: 'string', default: '42' },
      runs: { type: 'string', default: '2' },
      readers: { type: 'string' },
      keep: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log('Usage: node dist/bench/readers.js [--records 1000000] [--seed 42] [--runs 2] [--readers zeek-tsv,zeek-json,argus,suricata] [--keep DIR]');
    return;
  }
  const records = Number(values.records);
  const seed = Number(values.seed);
  const runs = Number(values.runs);
  if (!Number.isInteger(records) || records < 1000 || !Number.isInteger(seed) || !Number.isInteger(runs) || runs < 1) {
    console.error('readers bench: --records (>= 1000), --seed and --runs (>= 1) must be integers');
    process.exit(2);
  }
  const dir = values.keep ?? fs.mkdtempSync(path.join(os.tmpdir(), 'slips-bench-readers-'));
  fs.mkdirSync(path.join(dir, 'tsv'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'json'), { recursive: true });
  const readers: BenchReader[] = [
    { name: 'zeek-tsv', target: 300_000, file: path.join(dir, 'tsv', 'conn.log') },
    { name: 'zeek-json', target: 200_000, file: path.join(dir, 'json', 'conn.log') },
    { name: 'argus', target: 300_000, file: path.join(dir, 'flows.binetflow') },
    { name: 'suricata', target: 200_000, file: path.join(dir, 'eve.json') },
  ];
  const wanted = values.readers?.split(',').map((name) => name.trim()) ?? readers.map((reader) => reader.name);
  try {
    const started = Date.now();
    const ready = (file: string): boolean => values.keep !== undefined && fs.existsSync(file);
    if (!ready(readers[0]!.file)) generateZeek(records, seed, 'tsv', readers[0]!.file);
    if (!ready(readers[1]!.file)) generateZeek(records, seed, 'json', readers[1]!.file);
    if (!ready(readers[2]!.file) || !ready(readers[3]!.file)) await convert(readers[1]!.file, readers[2]!.file, readers[3]!.file, records);
    console.log(`inputs: ${records} flows (seed ${seed}) in ${dir}, made in ${((Date.now() - started) / 1000).toFixed(1)} s`);

    let failed = false;
    for (const reader of readers) {
      if (!wanted.includes(reader.name)) continue;
      let best: Awaited<ReturnType<typeof measure>> | undefined;
      for (let run = 0; run < runs; run++) {
        const result = await measure(reader.file);
        if (best === undefined || result.seconds < best.seconds) best = result;
      }
      const rate = best!.records / best!.seconds;
      const ok = rate >= reader.target;
      if (!ok) failed = true;
      const size = fs.statSync(reader.file).size / 1024 / 1024;
      console.log(
        `${reader.name.padEnd(10)} ${number(rate).padStart(9)} records/s  (${number(best!.records)} records from ` +
          `${number(best!.lines)} lines, ${number(best!.lines / best!.seconds)} lines/s, ${size.toFixed(0)} MiB, ` +
          `${best!.seconds.toFixed(2)} s${best!.problems > 0 ? `, ${best!.problems} bad lines` : ''})  ` +
          `target >= ${number(reader.target)}/s ${ok ? 'ok' : 'MISSED'}`,
      );
    }
    if (failed) process.exitCode = 1;
  } finally {
    if (values.keep === undefined) fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
