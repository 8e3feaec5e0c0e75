// Fuzzer of the packet path (part of npm run fuzz): mutated packets through the decoder alone
// ('decode') and through the whole pcap input ('pcap': capture parsing, decode, tunnels,
// connection tracking and every registered protocol analyzer of inputs/pcap/analyzers.ts),
// plus mutated capture files ('capture-file': pcap / pcapng framing). Seeds are the packets of
// the Zeek oracle traces and Slips' sample pcaps (when the shared datasets are there) and
// conversations built with test/helpers/packets.ts (HTTP, TLS-like, SSH, DNS, DHCP-like UDP,
// GRE / VXLAN / GTP / Teredo tunnels). Mutations: bit flips, interesting byte values, header
// fields (lengths, flags, ports set to analyzers' ports), truncation, extension, splices of
// two packets, payload replacement; conversations keep most packets intact so that protocol
// state machines go deep. Each input is derived from (seed, target, index) alone. A worker
// runs each target; the main thread's watchdog counts an input running over HANG_MS as a hang.

import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { CollectingErrorSink } from '../inputs/errors.js';
import { Decoder } from '../inputs/pcap/decode.js';
import { CaptureFile, CaptureFormatError } from '../inputs/pcap/file.js';
import { PcapInput } from '../inputs/pcap/reader.js';
import { A, eth, ipv4, ipv6, type Pkt, pcapFile, pcapngFile, tcp, tcpConversation, udp, udpExchange } from '../test/helpers/packets.js';
import { Rng } from './rng.js';

export const PCAP_TARGETS = ['decode', 'pcap', 'capture-file'] as const;
export type PcapTarget = (typeof PCAP_TARGETS)[number];

/** An input running longer than this is a hang. */
const HANG_MS = 2000;
/** Packets per capture fed to the 'pcap' target (one input = one capture). */
const PACKETS_PER_CAPTURE = 100;
/** Ports of the analyzers and tunnels, so mutated packets reach them. */
const INTERESTING_PORTS = [22, 53, 67, 68, 80, 123, 137, 443, 2152, 3544, 4789, 5353, 6081, 8080, 25, 21];
const INTERESTING_BYTES = [0, 1, 0x7f, 0x80, 0xfe, 0xff, 0x40, 0x45, 0x60, 0x08, 0x11, 0x06];
const LINK_ETHERNET = 1;

interface SeedPacket {
  linkType: number;
  data: Buffer;
}

/** Seed packets in capture order (conversations stay together). */
export interface PacketCorpus {
  packets: SeedPacket[];
  /** Small whole capture files. */
  captures: Buffer[];
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SHARED_CANDIDATES = [path.join(ROOT, '..', 'shared'), '/work/shared'];

function sharedPcaps(): string[] {
  const shared = SHARED_CANDIDATES.find((dir) => fs.existsSync(dir));
  if (shared === undefined) return [];
  const out: string[] = [];
  const walk = (dir: string, depth: number): void => {
    if (!fs.existsSync(dir) || depth > 2) return;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full, depth + 1);
      else if (/\.pcap(ng)?$/.test(entry.name) && fs.statSync(full).size < 20 * 1024 * 1024) out.push(full);
    }
  };
  walk(path.join(shared, 'datasets', 'zeek-traces'), 0);
  walk(path.join(shared, 'datasets', 'slips'), 0);
  return out;
}

/** Most packets taken from one seed file. */
const MAX_PER_FILE = 3000;

async function packetsOf(file: string): Promise<SeedPacket[]> {
  const out: SeedPacket[] = [];
  const capture = await CaptureFile.open(file, new CollectingErrorSink());
  try {
    while (out.length < MAX_PER_FILE && (await capture.fill())) {
      capture.parse((pkt) => {
        if (out.length < MAX_PER_FILE) out.push({ linkType: pkt.linkType, data: Buffer.from(pkt.data) });
      });
    }
  } finally {
    await capture.close();
  }
  return out;
}

/** Conversations made with the test builders: protocols and tunnels the traces may lack. */
function builtSeeds(): Pkt[] {
  const pkts: Pkt[] = [];
  const http = tcpConversation(1, { client: '10.0.0.1', server: '10.0.0.2', sport: 40000, dport: 80 }, [
    { fromClient: true, data: 'GET /index.html?lat=50.0876&lon=14.4208 HTTP/1.1\r\nHost: example.org\r\nUser-Agent: fuzz/1.0\r\n\r\n' },
    { fromClient: false, data: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\nhello' },
  ]);
  const clientHello = Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x00, 0x40, 0x01, 0x00, 0x00, 0x3c, 0x03, 0x03]), Buffer.alloc(58, 7)]);
  const tls = tcpConversation(2, { client: '10.0.0.1', server: '10.0.0.3', sport: 40001, dport: 443 }, [
    { fromClient: true, data: clientHello },
    { fromClient: false, data: Buffer.from([0x16, 0x03, 0x03, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00]) },
  ]);
  const ssh = tcpConversation(3, { client: '10.0.0.1', server: '10.0.0.4', sport: 40002, dport: 22 }, [
    { fromClient: false, data: 'SSH-2.0-OpenSSH_8.9p1 Ubuntu-3\r\n' },
    { fromClient: true, data: 'SSH-2.0-PuTTY_Release_0.78\r\n' },
  ]);
  const smtp = tcpConversation(4, { client: '10.0.0.1', server: '10.0.0.5', sport: 40003, dport: 25 }, [
    { fromClient: false, data: '220 mail.example.org ESMTP\r\n' },
    { fromClient: true, data: 'EHLO fuzz\r\nMAIL FROM:<a@b>\r\n' },
  ]);
  const dnsQuery = Buffer.from('123401000001000000000000076578616d706c6503636f6d0000010001', 'hex');
  const dnsAnswer = Buffer.from('123481800001000100000000076578616d706c6503636f6d0000010001c00c000100010000003c00045db8d822', 'hex');
  const dns = udpExchange(5, { client: '10.0.0.1', server: '10.0.0.53', sport: 5353, dport: 53 }, [
    { fromClient: true, data: dnsQuery }, { fromClient: false, data: dnsAnswer },
  ]);
  const dhcp = udpExchange(6, { client: '0.0.0.0', server: '255.255.255.255', sport: 68, dport: 67 }, [
    { fromClient: true, data: Buffer.concat([Buffer.from([1, 1, 6, 0]), Buffer.alloc(232), Buffer.from([0x63, 0x82, 0x53, 0x63, 53, 1, 1, 255])]) },
  ]);
  pkts.push(...http, ...tls, ...ssh, ...smtp, ...dns, ...dhcp);
  const inner = ipv4('10.9.0.1', '10.9.0.2', 6, tcp(40000, 80, 1000, 0, 0x02));
  const gre = Buffer.concat([Buffer.from([0x20, 0, 0x08, 0x00, 0, 0, 0, 1]), inner]);
  const vxlan = Buffer.concat([Buffer.from([0x08, 0, 0, 0, 0, 0, 1, 0]), eth(0x0800, inner)]);
  const gtpHeader = Buffer.from([0x30, 0xff, inner.length >> 8, inner.length & 0xff, 0, 0, 0, 1]);
  const teredoInner = ipv6(1, 2, 17, udp(1, 2, 'x'));
  const tunnels = [
    eth(0x0800, ipv4('192.0.2.1', '192.0.2.2', 47, gre)),
    eth(0x0800, ipv4('192.0.2.1', '192.0.2.2', 4, inner)),
    eth(0x0800, ipv4('192.0.2.1', '192.0.2.2', 17, udp(1000, 4789, vxlan))),
    eth(0x0800, ipv4('192.0.2.1', '192.0.2.2', 17, udp(2152, 2152, Buffer.concat([gtpHeader, inner])))),
    eth(0x0800, ipv4('192.0.2.1', '192.0.2.2', 17, udp(3797, 3544, Buffer.concat([Buffer.alloc(8), teredoInner])))),
    eth(0x0800, ipv4('10.0.0.1', '10.0.0.2', 6, tcp(1, 2, 3, 4, A, Buffer.alloc(40, 0x41)))),
  ];
  pkts.push(...tunnels.map((frame, i) => ({ ts: 7 + i, frame })));
  return pkts;
}

export async function loadPacketCorpus(): Promise<PacketCorpus> {
  const packets: SeedPacket[] = builtSeeds().map((p) => ({ linkType: LINK_ETHERNET, data: p.frame }));
  const captures: Buffer[] = [pcapFile(builtSeeds().slice(0, 12)), pcapngFile([{ linkType: 1, tsresol: 6 }], builtSeeds().slice(0, 8).map((p) => ({ ...p, iface: 0 })))];
  for (const file of sharedPcaps()) {
    packets.push(...(await packetsOf(file)));
    const bytes = fs.readFileSync(file);
    if (bytes.length < 64 * 1024) captures.push(bytes);
  }
  return { packets, captures };
}

// ---------------------------------------------------------------------------------------------
// Mutations

function randomBytes(rng: Rng, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = rng.below(256);
  return b;
}

/** One mutation of a packet's bytes (returns a new buffer). */
function mutatePacket(rng: Rng, input: Buffer, corpus: PacketCorpus): Buffer {
  const b = Buffer.from(input);
  if (b.length === 0) return randomBytes(rng, rng.int(1, 80));
  switch (rng.below(10)) {
    case 0: { // bit flips
      for (let n = rng.int(1, 4); n > 0; n--) b[rng.below(b.length)]! ^= 1 << rng.below(8);
      return b;
    }
    case 1: { // interesting bytes
      for (let n = rng.int(1, 3); n > 0; n--) b[rng.below(b.length)] = rng.pick(INTERESTING_BYTES);
      return b;
    }
    case 2: // truncation
      return b.subarray(0, rng.below(b.length));
    case 3: // extension
      return Buffer.concat([b, randomBytes(rng, rng.int(1, 64))]);
    case 4: { // splice with another packet
      const other = rng.pick(corpus.packets).data;
      const at = rng.below(b.length);
      return Buffer.concat([b.subarray(0, at), other.subarray(rng.below(Math.max(1, other.length)))]);
    }
    case 5: { // 16-bit fields in the IP / transport headers: lengths, ports, ethertypes
      const at = Math.min(b.length - 2, 12 + rng.below(Math.min(60, Math.max(1, b.length - 13))));
      if (at >= 0) b.writeUInt16BE(rng.chance(0.5) ? rng.pick(INTERESTING_PORTS) : rng.pick([0, 0xffff, 0x8000, 0x0800, 0x86dd, 0x6558, rng.below(65536)]), at);
      return b;
    }
    case 6: { // payload replaced by random bytes (keeps the first 54 header bytes)
      const keep = Math.min(b.length, 54);
      return Buffer.concat([b.subarray(0, keep), randomBytes(rng, rng.int(0, 300))]);
    }
    case 7: { // a run of bytes zeroed or set to 0xff
      const at = rng.below(b.length);
      b.fill(rng.chance(0.5) ? 0 : 0xff, at, Math.min(b.length, at + rng.int(1, 16)));
      return b;
    }
    case 8: // whole random packet
      return randomBytes(rng, rng.int(0, 200));
    default: { // a duplicated slice (repeated headers, nested tunnels)
      const at = rng.below(b.length);
      const len = rng.int(1, Math.min(64, b.length - at));
      return Buffer.concat([b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len)]);
    }
  }
}

/** A capture's packets: a run of consecutive seed packets, some of them mutated. */
function makePackets(rng: Rng, corpus: PacketCorpus, count: number): { pkts: Pkt[]; linkType: number } {
  const start = rng.below(corpus.packets.length);
  const linkType = corpus.packets[start]!.linkType;
  const mutateRate = rng.pick([0.05, 0.2, 0.5, 1]);
  const pkts: Pkt[] = [];
  let ts = 1_000_000 + rng.below(1_000_000);
  for (let i = 0; i < count; i++) {
    let seed = corpus.packets[(start + i) % corpus.packets.length]!;
    if (seed.linkType !== linkType || rng.chance(0.05)) seed = { linkType, data: rng.pick(corpus.packets).data };
    let frame = seed.data;
    if (rng.chance(mutateRate)) for (let n = rng.int(1, 3); n > 0; n--) frame = mutatePacket(rng, frame, corpus);
    if (rng.chance(0.02)) pkts.push({ ts, frame }); // duplicates
    // Mostly small steps; sometimes long idle gaps (timers) or time going back.
    ts += rng.chance(0.9) ? rng.float() * 0.05 : rng.chance(0.7) ? rng.float() * 400 : -rng.float() * 10;
    pkts.push({ ts, frame });
  }
  return { pkts, linkType };
}

function mutateCapture(rng: Rng, corpus: PacketCorpus): Buffer {
  let b = Buffer.from(rng.pick(corpus.captures));
  for (let n = rng.int(1, 6); n > 0; n--) {
    if (b.length === 0) break;
    const at = rng.below(b.length);
    switch (rng.below(5)) {
      case 0: b[at]! ^= 1 << rng.below(8); break;
      case 1: b[at] = rng.pick(INTERESTING_BYTES); break;
      case 2: b = b.subarray(0, at); break;
      case 3: if (at + 4 <= b.length) b.writeUInt32LE(rng.pick([0, 0xffffffff, 0x7fffffff, 65535, 65536, 262145, rng.u32()]), at); break;
      default: b = Buffer.concat([b.subarray(0, at), randomBytes(rng, rng.int(1, 32)), b.subarray(at)]); break;
    }
  }
  return b;
}

function targetHash(target: PcapTarget): number {
  return PCAP_TARGETS.indexOf(target) + 101;
}

// ---------------------------------------------------------------------------------------------
// Running inputs

async function drainCapture(capture: Buffer): Promise<number> {
  const sink = new CollectingErrorSink();
  let file: CaptureFile;
  try {
    file = await CaptureFile.fromStream(Readable.from([capture]), 'fuzz', sink);
  } catch (error) {
    if (error instanceof CaptureFormatError) return 0;
    throw error;
  }
  const input = new PcapInput(file, {});
  let records = 0;
  for await (const batch of input.batches()) {
    for (const record of batch) {
      if (typeof record.kind !== 'string' || !Number.isFinite(record.ts)) throw new Error(`bad record ${JSON.stringify(record)}`);
      records += 1;
    }
  }
  return records;
}

/** Runs input `index` of `target`; returns the packets it fed. */
export async function runPcapInput(target: PcapTarget, corpus: PacketCorpus, seed: number, index: number, decoder: Decoder): Promise<number> {
  const rng = new Rng(seed, targetHash(target), index);
  switch (target) {
    case 'decode': {
      const { pkts, linkType } = makePackets(rng, corpus, 1);
      const types = [linkType, linkType, linkType, 1, 101, 113, 276, 0, 9, 228, 229, 12345];
      decoder.decode(pkts[0]!.frame, rng.pick(types), pkts[0]!.ts);
      return 1;
    }
    case 'pcap': {
      const { pkts, linkType } = makePackets(rng, corpus, PACKETS_PER_CAPTURE);
      await drainCapture(pcapFile(pkts, { linkType }));
      return pkts.length;
    }
    case 'capture-file':
      await drainCapture(mutateCapture(rng, corpus));
      return 1;
  }
}

export interface PcapFuzzResult {
  target: PcapTarget;
  inputs: number;
  packets: number;
  crashes: number;
  hangs: number;
  slowestMs: number;
  seconds: number;
}

export interface PcapFinding {
  target: PcapTarget;
  index: number;
  kind: 'crash' | 'hang';
  error: string;
}

enum Slot { Inputs, Packets, Crashes, Current, StartedAt, SlowestMs, Size }

interface WorkerJob {
  pcapFuzzWorker: true;
  target: PcapTarget;
  seed: number;
  from: number;
  to: number;
  shared: SharedArrayBuffer;
}

async function workerMain(job: WorkerJob): Promise<void> {
  const counters = new Float64Array(job.shared);
  const corpus = await loadPacketCorpus();
  const decoder = new Decoder();
  for (let index = job.from; index < job.to; index++) {
    counters[Slot.StartedAt] = Date.now();
    counters[Slot.Current] = index;
    try {
      counters[Slot.Packets]! += await runPcapInput(job.target, corpus, job.seed, index, decoder);
    } catch (err) {
      counters[Slot.Crashes]! += 1;
      parentPort!.postMessage({ index, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    }
    const took = Date.now() - counters[Slot.StartedAt]!;
    if (took > counters[Slot.SlowestMs]!) counters[Slot.SlowestMs] = took;
    counters[Slot.Inputs]! += 1;
    counters[Slot.Current] = -1;
  }
}

/** Inputs needed for `packets` mutated packets of a target. */
export function inputsForPackets(target: PcapTarget, packets: number): number {
  return target === 'pcap' ? Math.ceil(packets / PACKETS_PER_CAPTURE) : packets;
}

/** Fuzzes one target over inputs [0, inputs), in a worker restarted after a hang. */
export async function fuzzPcapTarget(target: PcapTarget, seed: number, inputs: number, findings: PcapFinding[]): Promise<PcapFuzzResult> {
  const started = Date.now();
  const total: PcapFuzzResult = { target, inputs: 0, packets: 0, crashes: 0, hangs: 0, slowestMs: 0, seconds: 0 };
  let from = 0;
  while (from < inputs) {
    const shared = new SharedArrayBuffer(Slot.Size * 8);
    const counters = new Float64Array(shared);
    counters[Slot.Current] = -1;
    const job: WorkerJob = { pcapFuzzWorker: true, target, seed, from, to: inputs, shared };
    const worker = new Worker(new URL(import.meta.url), { workerData: job });
    const next = await new Promise<number>((resolve) => {
      let settled = false;
      const finish = (n: number): void => {
        if (settled) return;
        settled = true;
        clearInterval(watchdog);
        resolve(n);
      };
      const watchdog = setInterval(() => {
        const current = counters[Slot.Current]!;
        if (current >= 0 && Date.now() - counters[Slot.StartedAt]! > HANG_MS) {
          total.hangs += 1;
          findings.push({ target, index: current, kind: 'hang', error: `input took longer than ${HANG_MS} ms` });
          void worker.terminate();
          finish(current + 1);
        }
      }, 100);
      worker.on('message', (message: { index: number; error: string }) => {
        findings.push({ target, index: message.index, kind: 'crash', error: message.error });
      });
      worker.on('error', (err) => {
        const current = counters[Slot.Current]!;
        const index = current >= 0 ? current : from + counters[Slot.Inputs]!;
        total.crashes += 1;
        findings.push({ target, index, kind: 'crash', error: `uncaught: ${err.stack ?? err.message}` });
        finish(index + 1);
      });
      worker.on('exit', () => finish(inputs));
    });
    total.inputs += counters[Slot.Inputs]!;
    total.packets += counters[Slot.Packets]!;
    total.crashes += counters[Slot.Crashes]!;
    total.slowestMs = Math.max(total.slowestMs, counters[Slot.SlowestMs]!);
    const fed = from + counters[Slot.Inputs]!;
    if (next > fed) total.inputs += next - fed;
    from = next;
  }
  total.seconds = (Date.now() - started) / 1000;
  return total;
}

export function formatPcapResult(r: PcapFuzzResult): string {
  return `${`pcap:${r.target}`.padEnd(17)} inputs ${String(r.inputs).padStart(8)}  packets ${String(r.packets).padStart(9)}  ` +
    `crashes ${String(r.crashes).padStart(4)}  hangs ${String(r.hangs).padStart(3)}  slowest ${r.slowestMs} ms  ${r.seconds.toFixed(1)} s`;
}

if (!isMainThread && (workerData as WorkerJob | undefined)?.pcapFuzzWorker === true) {
  await workerMain(workerData as WorkerJob);
}
