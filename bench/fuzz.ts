// Fuzzer of the flow readers (npm run fuzz): feeds every reader random and mutated inputs built
// from the sample files in dataset/ and test/fixtures/ (byte flips, truncation, line duplication
// and deletion, column shuffles, odd cell and JSON values, header changes, huge lines, invalid
// UTF-8, random bytes, empty inputs, chunk splits for streams) and counts, per reader:
//   inputs    inputs fed
//   crashes   exceptions escaping the reader (from opening it or iterating its batches), and
//             uncaught errors while it ran; an open() refusing the input with its documented
//             error (unsupported type, no supported log) is counted as `rejected`, not a crash
//   hangs     inputs that took longer than 2 s (the watchdog ends the worker and goes on)
//   reports   bad-input reports and warnings the readers gave (and how many inputs had any)
// Every input is derived from (seed, reader, index) alone, so a finding is reproduced by its
// index; crashing and hanging inputs are written to --out. Exits 1 on any crash or hang.
//
//   node dist/bench/fuzz.js [--seed N] [--per-reader N] [--readers a,b] [--jobs N] [--out DIR]
//
// Readers: zeek-tsv, zeek-json, zeek-dir, argus-comma, argus-tab, suricata, stdin-zeek,
// stdin-suricata, stdin-argus, nfdump-csv (nfdump's CSV text through its parser), auto (type
// detection + the chosen reader, on any sample).
// Then the packet path (bench/pcapFuzz.ts): --packets mutated packets per target (decode, pcap
// = decode + tunnels + conntrack + protocol analyzers, capture-file); --skip-readers runs only those.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { CollectingErrorSink } from '../inputs/errors.js';
import { readStreamLines } from '../inputs/lineReader.js';
import { NfdumpParser } from '../inputs/nfdump.js';
import { openArgusInput, openInput, openSuricataInput } from '../inputs/open.js';
import type { FlowReader } from '../inputs/reader.js';
import type { FlowRecord } from '../inputs/records.js';
import { interpretState } from '../inputs/state.js';
import { LineInput, openStdinInput } from '../inputs/stdin.js';
import { openZeekInput } from '../inputs/zeek/reader.js';
import { fuzzPcapTarget, formatPcapResult, inputsForPackets, PCAP_TARGETS, type PcapFinding, type PcapTarget } from './pcapFuzz.js';
import { Rng } from './rng.js';

export const READERS = [
  'zeek-tsv', 'zeek-json', 'zeek-dir', 'argus-comma', 'argus-tab', 'suricata', 'stdin-zeek', 'stdin-suricata',
  'stdin-argus', 'nfdump-csv', 'auto',
] as const;
export type ReaderName = (typeof READERS)[number];

/** An input taking longer than this is a hang. */
export const HANG_MS = 2000;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));


function hashName(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return h >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Samples

interface Sample {
  /** Zeek log kind from the file name ('' for other formats). */
  kind: string;
  text: Buffer;
}

interface Corpus {
  zeekTsv: Sample[];
  zeekJson: Sample[];
  argusComma: Sample[];
  argusTab: Sample[];
  suricata: Sample[];
  nfdumpCsv: Sample[];
}

/** nfdump -b -N -o csv output of test/fixtures/inputs/nfdump/nfcapd.small (nfdump 1.7). */
const NFDUMP_CSV = [
  'ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das,smk,dmk,dtos,dir,nh,nhb,svln,dvln,ismc,odmc,idmc,osmc,mpls1,mpls2,mpls3,mpls4,mpls5,mpls6,mpls7,mpls8,mpls9,mpls10,cl,sl,al,ra,eng,exid,tr',
  '2023-11-14 22:13:22,2023-11-14 22:13:22,0.000,192.168.1.10,10.0.0.5,40001,22,TCP,......S.,0,0,1,40,0,0,0,0,0,0,0,0,0,0,0.0.0.0,0.0.0.0,0,0,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,    0.000,    0.000,    0.000,0.0.0.0,17/1,0,2026-11-23 09:38:35.473',
  '2023-11-14 22:13:20,2023-11-14 22:13:20,0.700,192.168.1.10,93.184.216.34,40000,80,TCP,...AP.SF,0,0,5,218,3,144,0,0,0,0,0,0,0,0,0.0.0.0,0.0.0.0,0,0,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,    0.000,    0.000,    0.000,0.0.0.0,17/1,0,2026-11-23 09:38:35.473',
  '2023-11-14 22:13:22,2023-11-14 22:13:22,0.000,192.168.1.10,8.8.8.8,0,2048,ICMP,........,0,0,1,32,0,0,0,0,0,0,0,0,0,0,0.0.0.0,0.0.0.0,0,0,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,    0.000,    0.000,    0.000,0.0.0.0,17/1,0,2026-11-23 09:38:35.473',
  '2023-11-14 22:13:21,2023-11-14 22:13:21,0.100,192.168.1.10,192.168.1.1,50000,53,UDP,........,0,0,1,57,1,57,0,0,0,0,0,0,0,0,0.0.0.0,0.0.0.0,0,0,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,    0.000,    0.000,    0.000,0.0.0.0,17/1,0,2026-11-23 09:38:35.473',
  'Summary',
  'flows,bytes,packets,avg_bps,avg_pps,avg_bpp',
  '6,548,12,1753,4,45',
].join('\n') + '\n';

function listFiles(dir: string): string[] {
  const out: string[] = [];
  if (!fs.existsSync(dir)) return out;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(full));
    else if (entry.isFile()) out.push(full);
  }
  return out.sort();
}

/** A Zeek TSV log as JSON lines (values typed as Zeek's JSON writer would, roughly). */
function tsvToJson(text: string): string {
  let fields: string[] = [];
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#fields\t')) fields = line.split('\t').slice(1);
    if (line === '' || line.startsWith('#') || fields.length === 0) continue;
    const cells = line.split('\t');
    const row: Record<string, unknown> = {};
    fields.forEach((name, i) => {
      const cell = cells[i];
      if (cell === undefined || cell === '-') return;
      if (cell !== '' && /^-?\d+(\.\d+)?$/.test(cell)) row[name] = Number(cell);
      else if (cell === 'T' || cell === 'F') row[name] = cell === 'T';
      else if (cell.includes(',') && name !== 'addl') row[name] = cell.split(',');
      else row[name] = cell === '(empty)' ? '' : cell;
    });
    out.push(JSON.stringify(row));
  }
  return out.join('\n') + '\n';
}

/** The first `maxBytes` of a big sample, cut at a line end. */
function head(text: Buffer, maxBytes: number): Buffer {
  if (text.length <= maxBytes) return text;
  const end = text.lastIndexOf(0x0a, maxBytes);
  return text.subarray(0, end === -1 ? maxBytes : end + 1);
}

export function loadCorpus(root = ROOT): Corpus {
  const corpus: Corpus = { zeekTsv: [], zeekJson: [], argusComma: [], argusTab: [], suricata: [], nfdumpCsv: [] };
  const zeekFiles = [...listFiles(path.join(root, 'dataset')), ...listFiles(path.join(root, 'test/fixtures/zeek'))]
    .filter((file) => file.endsWith('.log'));
  for (const file of zeekFiles) {
    const text = head(fs.readFileSync(file), 64 * 1024);
    const kind = path.basename(file).split('.')[0]!;
    const first = text.toString('utf8').split('\n').find((line) => line !== '' && !line.startsWith('#')) ?? '';
    if (first.startsWith('{')) corpus.zeekJson.push({ kind, text });
    else {
      corpus.zeekTsv.push({ kind, text });
      corpus.zeekJson.push({ kind, text: Buffer.from(tsvToJson(text.toString('utf8'))) });
    }
  }
  for (const file of listFiles(path.join(root, 'test/fixtures/inputs/argus'))) {
    const text = fs.readFileSync(file);
    (text.includes('\t') ? corpus.argusTab : corpus.argusComma).push({ kind: '', text });
    const other = text.includes('\t')
      ? text.toString('utf8').replace(/\t/g, ',')
      : text.toString('utf8').replace(/,/g, '\t');
    (text.includes('\t') ? corpus.argusComma : corpus.argusTab).push({ kind: '', text: Buffer.from(other) });
  }
  for (const file of listFiles(path.join(root, 'test/fixtures/inputs/suricata'))) {
    corpus.suricata.push({ kind: '', text: fs.readFileSync(file) });
  }
  corpus.nfdumpCsv.push({ kind: '', text: Buffer.from(NFDUMP_CSV) });
  for (const [name, samples] of Object.entries(corpus)) {
    if ((samples as Sample[]).length === 0) throw new Error(`fuzz: no ${name} samples found under ${root}`);
  }
  return corpus;
}

// ---------------------------------------------------------------------------------------------
// Mutations

/** Cell values that tend to break parsers. */
const ODD_CELLS = [
  '', '-', '(empty)', '0', '-1', '-0', '1e309', '-1e309', 'NaN', 'Infinity', '0x10', '0x', '0xZZ', '99999999999999999999',
  '1.5', '.', ' ', '  \t ', ',', ';', '"', "'", '{', '}', '[', ']', '[]', '{}', 'null', 'true', 'F', 'T', '\\x09',
  '\\x', '\u{1F642}', '\u0000', '\ufeff', 'a'.repeat(5000), '2019/04/04 16:23:00.325010', '2019/13/45 25:61:61.9',
  '2019/02/30 10:00:00', '2021-06-06T16:00:00.5Z', '2021-06-06T16:00:00.500000+0200', '2021-06-06T16:00:00+99:99',
  '1700000000.123456', '1e12', '-1700000000', '->', '<->', '<?>', 'who', '#fields', '#separator \\x2c', 'done',
  '::1', '2001:db8::1', '256.256.256.256', 'CON', 'S0', 'tcp', 'icmp', 'ipv6-icmp', 'TCP', 'constructor', '__proto__',
  'toString', 'hasOwnProperty', 'constructor_x', '__proto___FA', 'ECO_x', 'S_SA', 'PA_PA',
];

/** JSON values that tend to break converters. */
const ODD_JSON: readonly unknown[] = [
  null, true, false, 0, -1, 1.5, 1e308, -1e308, 2 ** 53, '', '-', 'x', '1e999', [], [1, 'a', null], {}, { a: 1 },
  { toString: 1 }, [[[]]], '2021-06-06T16:00:00.5Z', 'TLS 1.2', 'ffffffff', 'zz', '\u0000', 'a'.repeat(3000),
];

const KEY_NAMES = [
  'ts', 'uid', 'id.orig_h', 'id.resp_h', 'id.orig_p', 'id.resp_p', 'proto', 'event_type', 'flow', 'flow_id', 'dns',
  'alert', 'http', 'tls', 'answers', 'TTLs', 'timestamp', 'src_ip', 'dest_ip', 'src_port', 'dest_port', 'icmp_type',
  'icmp_code', 'start', 'end', 'state', 'tcp', 'tcp_flags_ts', 'tcp_flags_tc', 'queries', 'grouped', 'rrname', 'rrtype',
  'type', 'id', 'severity', 'signature_id', '__proto__', 'constructor', 'toString', 'valueOf', 'length',
];

const EVENT_TYPES = ['flow', 'dns', 'http', 'tls', 'ssh', 'smtp', 'fileinfo', 'alert', 'stats', 'anomaly', 'constructor', '__proto__', ''];

function splitLines(buf: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  for (;;) {
    const nl = buf.indexOf(0x0a, start);
    if (nl === -1) {
      if (start < buf.length) lines.push(buf.subarray(start));
      return lines;
    }
    lines.push(buf.subarray(start, nl));
    start = nl + 1;
  }
}

function joinLines(lines: Buffer[], trailingNewline = true): Buffer {
  const parts: Buffer[] = [];
  for (const line of lines) parts.push(line, NL);
  if (!trailingNewline && parts.length > 0) parts.pop();
  return Buffer.concat(parts);
}

const NL = Buffer.from('\n');

function randomBytes(rng: Rng, n: number): Buffer {
  const buf = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) buf[i] = rng.below(256);
  return buf;
}

const BAD_UTF8: readonly number[][] = [
  [0xff], [0xfe], [0xc3], [0xc0, 0x80], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x80],
  [0xe2, 0x82], [0xf0, 0x9f, 0x99],
];

/** A JSON value with one random change somewhere inside. */
function mutateJson(rng: Rng, value: unknown, depth = 0): unknown {
  if (typeof value !== 'object' || value === null || depth > 6 || rng.chance(0.15)) {
    return rng.chance(0.5) ? rng.pick(ODD_JSON) : rng.pick(ODD_CELLS);
  }
  if (Array.isArray(value)) {
    const copy = [...value];
    if (copy.length === 0 || rng.chance(0.2)) copy.push(rng.pick(ODD_JSON));
    else {
      const i = rng.below(copy.length);
      copy[i] = mutateJson(rng, copy[i], depth + 1);
    }
    return copy;
  }
  const object = { ...(value as Record<string, unknown>) };
  const keys = Object.keys(object);
  const op = rng.below(10);
  if (keys.length === 0 || op === 0) {
    const key = rng.pick(KEY_NAMES);
    Object.defineProperty(object, key, { value: rng.pick(ODD_JSON), enumerable: true, writable: true, configurable: true });
  } else if (op === 1) delete object[rng.pick(keys)];
  else if (op === 2 && 'event_type' in object) object['event_type'] = rng.pick(EVENT_TYPES);
  else {
    const key = rng.pick(keys);
    object[key] = mutateJson(rng, object[key], depth + 1);
  }
  return object;
}

function separatorOf(line: string): string {
  return line.includes('\t') ? '\t' : ',';
}

/** One random mutation of the input. */
function mutateOnce(rng: Rng, input: Buffer, corpus: Sample[]): Buffer {
  const op = rng.below(100);
  if (op < 12) {
    // byte flips
    if (input.length === 0) return input;
    const out = Buffer.from(input);
    const flips = 1 + rng.below(8);
    for (let i = 0; i < flips; i++) out[rng.below(out.length)] ^= 1 << rng.below(8);
    return out;
  }
  if (op < 18) return input.subarray(0, rng.below(input.length + 1)); // truncation
  if (op < 22) return input.subarray(rng.below(input.length + 1)); // front cut
  const lines = splitLines(input);
  if (lines.length === 0) return Buffer.from(rng.pick(corpus).text);
  const at = rng.below(lines.length);
  if (op < 30) {
    // line duplication (sometimes many times)
    const copies = rng.chance(0.1) ? 50 + rng.below(200) : 1 + rng.below(3);
    const dup = lines[rng.below(lines.length)]!;
    lines.splice(at, 0, ...Array.from({ length: copies }, () => dup));
    return joinLines(lines);
  }
  if (op < 36) {
    lines.splice(at, 1 + rng.below(3)); // deletion
    return joinLines(lines);
  }
  if (op < 40) {
    const other = rng.below(lines.length);
    [lines[at], lines[other]] = [lines[other]!, lines[at]!]; // swap
    return joinLines(lines);
  }
  if (op < 50) {
    // column shuffle / cell replacement
    const line = lines[at]!.toString('utf8');
    const sep = separatorOf(line);
    const cells = line.split(sep);
    if (rng.chance(0.4)) {
      for (let i = cells.length - 1; i > 0; i--) {
        const j = rng.below(i + 1);
        [cells[i], cells[j]] = [cells[j]!, cells[i]!];
      }
    } else if (rng.chance(0.2)) {
      if (rng.chance(0.5)) cells.splice(rng.below(cells.length), 1);
      else cells.splice(rng.below(cells.length + 1), 0, rng.pick(ODD_CELLS));
    } else {
      cells[rng.below(cells.length)] = rng.pick(ODD_CELLS);
    }
    lines[at] = Buffer.from(cells.join(sep));
    return joinLines(lines);
  }
  if (op < 62) {
    // JSON-aware change of a JSON line
    const candidates = lines.map((line, i) => (line[0] === 0x7b ? i : -1)).filter((i) => i >= 0);
    if (candidates.length === 0) return mutateOnce(rng, input, corpus);
    const i = rng.pick(candidates);
    let value: unknown;
    try {
      value = JSON.parse(lines[i]!.toString('utf8'));
    } catch {
      return mutateOnce(rng, input, corpus);
    }
    lines[i] = Buffer.from(JSON.stringify(mutateJson(rng, value)) ?? 'null');
    return joinLines(lines);
  }
  if (op < 67) {
    // header directives
    const directives = [
      '#separator \\x2c', '#separator ', '#separator \\x', '#separator \\x0', '#separator \\x09', '#set_separator\t',
      '#set_separator\t\t', '#unset_field\t', '#empty_field\t', '#fields', '#fields\t', '#fields\tts\tts\tts',
      '#fields\tuid', '#types\tx', '#close\t2020', '#', '#separator\t\\x09\\x09',
    ];
    lines.splice(at, rng.chance(0.5) ? 1 : 0, Buffer.from(rng.pick(directives)));
    return joinLines(lines);
  }
  if (op < 73) {
    // invalid UTF-8 inside a line
    const line = lines[at]!;
    const pos = rng.below(line.length + 1);
    lines[at] = Buffer.concat([line.subarray(0, pos), Buffer.from(rng.pick(BAD_UTF8)), line.subarray(pos)]);
    return joinLines(lines);
  }
  if (op < 77) {
    // random bytes inserted
    const pos = rng.below(input.length + 1);
    return Buffer.concat([input.subarray(0, pos), randomBytes(rng, 1 + rng.below(64)), input.subarray(pos)]);
  }
  if (op < 80) {
    // line endings: CRLF, lone CR, no final newline, a BOM
    const choice = rng.below(4);
    if (choice === 0) return Buffer.from(input.toString('latin1').replace(/\n/g, '\r\n'), 'latin1');
    if (choice === 1) return Buffer.from(input.toString('latin1').replace(/\n/g, '\r'), 'latin1');
    if (choice === 2) return joinLines(lines, false);
    return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), input]);
  }
  if (op < 84) {
    // lines of another sample (other kind or format)
    const other = splitLines(rng.pick(corpus).text);
    if (other.length === 0) return input;
    const start = rng.below(other.length);
    lines.splice(at, 0, ...other.slice(start, start + 1 + rng.below(5)));
    return joinLines(lines);
  }
  if (op < 86) {
    // a long line (under the 1 MiB limit)
    const long = Buffer.concat([lines[at]!, Buffer.alloc(2000 + rng.below(60000), rng.pick([0x41, 0x09, 0x2c, 0x20]))]);
    lines[at] = long;
    return joinLines(lines);
  }
  if (op < 88) {
    // empty lines and whitespace
    lines.splice(at, 0, Buffer.from(rng.pick(['', ' ', '\t', '\r', ' \t ,', '\f'])));
    return joinLines(lines);
  }
  if (op < 90) {
    // NUL bytes and control characters
    const line = Buffer.from(lines[at]!);
    for (let i = 0; i < 1 + rng.below(4) && line.length > 0; i++) line[rng.below(line.length)] = rng.pick([0, 1, 0x1b, 0x7f, 0x0d]);
    lines[at] = line;
    return joinLines(lines);
  }
  if (op < 95) {
    // a number replaced by an extreme one
    const text = lines[at]!.toString('utf8');
    const numbers = [...text.matchAll(/\d+(\.\d+)?/g)];
    if (numbers.length === 0) return input;
    const match = rng.pick(numbers);
    const replacement = rng.pick(['0', '-1', '99999999999999999999999', '1e400', '4294967296', '65536', '1.7976931348623157e308', '-0.0', '9'.repeat(400)]);
    lines[at] = Buffer.from(text.slice(0, match.index) + replacement + text.slice(match.index! + match[0].length));
    return joinLines(lines);
  }
  // a stretch of the input repeated
  const from = rng.below(input.length + 1);
  const to = Math.min(input.length, from + rng.below(2000));
  return Buffer.concat([input.subarray(0, to), input.subarray(from, to), input.subarray(to)]);
}

/** A window of lines of a sample (keeping its leading header lines), so inputs stay small. */
function window(rng: Rng, text: Buffer): Buffer {
  if (text.length < 16 * 1024 || rng.chance(0.3)) return text;
  const lines = splitLines(text);
  let headerEnd = 0;
  while (headerEnd < lines.length && (lines[headerEnd]![0] === 0x23 || headerEnd === 0)) headerEnd++;
  const start = headerEnd + rng.below(Math.max(1, lines.length - headerEnd));
  const count = 1 + rng.below(120);
  return joinLines([...lines.slice(0, headerEnd), ...lines.slice(start, start + count)]);
}

/** A fuzz input from samples: mostly mutated samples, sometimes degenerate inputs. */
function makeText(rng: Rng, samples: Sample[], all: Sample[]): { text: Buffer; kind: string } {
  const sample = rng.pick(samples);
  const roll = rng.below(1000);
  if (roll < 15) return { text: Buffer.alloc(0), kind: sample.kind };
  if (roll < 22) return { text: Buffer.from(rng.pick(['\n', '\n\n\n', '\ufeff', '\r\n', ' ', '#fields\tts\n', '{}\n', 'done\n'])), kind: sample.kind };
  if (roll < 40) return { text: randomBytes(rng, rng.below(rng.chance(0.1) ? 70000 : 600)), kind: sample.kind };
  if (roll < 48) {
    // a line over the 1 MiB line limit, between normal lines
    const lines = splitLines(window(rng, sample.text));
    const huge = Buffer.alloc(1024 * 1024 + 1 + rng.below(600 * 1024), rng.pick([0x41, 0x7b, 0x09, 0x2c]));
    lines.splice(rng.below(lines.length + 1), 0, huge);
    return { text: joinLines(lines, rng.chance(0.8)), kind: sample.kind };
  }
  let text = window(rng, sample.text);
  if (roll < 120) return { text, kind: sample.kind }; // unchanged sample
  const mutations = 1 + (rng.chance(0.5) ? 0 : rng.below(rng.chance(0.2) ? 30 : 5));
  for (let i = 0; i < mutations; i++) text = mutateOnce(rng, text, rng.chance(0.8) ? samples : all);
  return { text, kind: sample.kind };
}

/** Splits bytes into stream chunks at random places (sometimes byte by byte). */
function chunks(rng: Rng, text: Buffer): Buffer[] {
  if (text.length === 0) return rng.chance(0.5) ? [] : [Buffer.alloc(0)];
  if (text.length < 200 && rng.chance(0.2)) return Array.from(text, (byte) => Buffer.from([byte]));
  const n = 1 + rng.below(8);
  const cuts = Array.from({ length: n - 1 }, () => rng.below(text.length)).sort((a, b) => a - b);
  const out: Buffer[] = [];
  let start = 0;
  for (const cut of [...cuts, text.length]) {
    out.push(text.subarray(start, cut));
    start = cut;
  }
  return out;
}

const ZEEK_KINDS = ['conn', 'dns', 'http', 'ssl', 'ssh', 'smtp', 'dhcp', 'arp', 'notice', 'files', 'software', 'x509', 'tunnel', 'login', 'weird'];
const OTHER_KINDS = ['mystery', 'loaded_scripts', 'capture_loss', 'reporter', 'x'];

/** The files (or stream chunks) of input `index` for `reader`: a function of (seed, reader, index) only. */
export interface FuzzInput {
  files: { name: string; text: Buffer }[];
  stream?: Buffer[];
}

export function makeInput(corpus: Corpus, reader: ReaderName, seed: number, index: number): FuzzInput {
  const rng = new Rng(seed, hashName(reader), index);
  const zeek = [...corpus.zeekTsv, ...corpus.zeekJson];
  const all = [...zeek, ...corpus.argusComma, ...corpus.argusTab, ...corpus.suricata, ...corpus.nfdumpCsv];
  const zeekName = (kind: string): string => {
    const k = rng.chance(0.8) && kind !== '' ? kind : rng.pick(rng.chance(0.9) ? ZEEK_KINDS : OTHER_KINDS);
    return rng.pick([`${k}.log`, `${k}.log`, `${k}.2024-01-01-00-00-00.log`, `${k}.log.labeled`]);
  };
  switch (reader) {
    case 'zeek-tsv':
    case 'zeek-json': {
      const { text, kind } = makeText(rng, reader === 'zeek-tsv' ? corpus.zeekTsv : corpus.zeekJson, all);
      return { files: [{ name: zeekName(kind), text }] };
    }
    case 'zeek-dir': {
      const files: { name: string; text: Buffer }[] = [];
      const count = 1 + rng.below(4);
      for (let i = 0; i < count; i++) {
        const { text, kind } = makeText(rng, zeek, all);
        const name = zeekName(kind);
        if (!files.some((file) => file.name === name)) files.push({ name, text });
      }
      if (rng.chance(0.05)) files.push({ name: 'notes.txt', text: Buffer.from('not a log\n') });
      return { files };
    }
    case 'argus-comma':
      return { files: [{ name: 'input.binetflow', text: makeText(rng, corpus.argusComma, all).text }] };
    case 'argus-tab':
      return { files: [{ name: 'input.binetflow', text: makeText(rng, corpus.argusTab, all).text }] };
    case 'suricata':
      return { files: [{ name: 'eve.json', text: makeText(rng, corpus.suricata, all).text }] };
    case 'stdin-zeek': {
      const text = makeText(rng, zeek.filter((sample) => sample.kind === 'conn'), all).text;
      return { files: [], stream: chunks(rng, text) };
    }
    case 'stdin-suricata':
      return { files: [], stream: chunks(rng, makeText(rng, corpus.suricata, all).text) };
    case 'stdin-argus':
      return { files: [], stream: chunks(rng, makeText(rng, [...corpus.argusComma, ...corpus.argusTab], all).text) };
    case 'nfdump-csv':
      return { files: [], stream: chunks(rng, makeText(rng, corpus.nfdumpCsv, all).text) };
    case 'auto':
      return { files: [{ name: 'input', text: makeText(rng, all, all).text }] };
  }
}

// ---------------------------------------------------------------------------------------------
// Running one input

export interface InputOutcome {
  records: number;
  reports: number;
  /** open() refused the input with its documented error. */
  rejected: boolean;
}

/** Errors open*() throws by design for inputs it does not take. */
const REJECTIONS = [
  /are not supported/, /unrecognized file type/, /not available in this version/, /nfdump is not installed/,
];

class Rejected extends Error {}

/** Per record kind: the type of every field, from the first record of that kind seen. */
const SHAPES = new Map<string, Map<string, string>>();

function typeOf(value: unknown): string {
  if (value === null || typeof value === 'boolean') return 'boolean|null';
  if (Array.isArray(value)) {
    if (value.length === 0) return 'empty[]';
    if (value.every((item) => typeof item === 'string')) return 'string[]';
    return value.every((item) => typeof item === 'number') ? 'number[]' : 'mixed[]';
  }
  return typeof value;
}

/** Records must be normalized: a finite ts, no NaN, and the same field types as every other record of their kind. */
function checkRecord(record: FlowRecord): void {
  if (typeof record.ts !== 'number' || !Number.isFinite(record.ts)) throw new Error(`${record.kind} record with ts ${String(record.ts)}`);
  let shape = SHAPES.get(record.kind);
  const fresh = shape === undefined;
  if (shape === undefined) SHAPES.set(record.kind, (shape = new Map()));
  for (const [key, value] of Object.entries(record)) {
    if (typeof value === 'number' && Number.isNaN(value)) throw new Error(`${record.kind} record with ${key} NaN`);
    const type = typeOf(value);
    if (type === 'mixed[]') throw new Error(`${record.kind} record with a mixed list in ${key}`);
    const expected = shape.get(key);
    if (fresh || (expected === 'empty[]' && type.endsWith('[]'))) shape.set(key, type);
    else if (expected !== type && !(type === 'empty[]' && expected?.endsWith('[]'))) {
      // (An empty list fits either list type.)
      throw new Error(`${record.kind} record: ${key} is ${type}, expected ${expected ?? 'no such field'}`);
    }
  }
  if (!fresh && Object.keys(record).length !== shape.size) throw new Error(`${record.kind} record with other fields than before`);
  if (record.kind === 'conn') {
    const state = interpretState(record.state, record.spkts + record.dpkts);
    if (!INTERPRETED_STATES.has(state)) throw new Error(`conn state '${record.state}' interpreted as ${typeof state} ${String(state)}`);
  }
}

const INTERPRETED_STATES: ReadonlySet<unknown> = new Set([
  'Established', 'Not Established', 'ICMP Echo', 'ICMP Reply', 'ICMP Host Unreachable', 'ICMP Port Unreachable',
]);

async function drain(reader: FlowReader): Promise<number> {
  let records = 0;
  for await (const batch of reader.batches()) {
    records += batch.length;
    for (const record of batch) checkRecord(record);
  }
  return records;
}

async function open(opener: () => Promise<FlowReader> | FlowReader): Promise<FlowReader> {
  try {
    return await opener();
  } catch (err) {
    if (err instanceof Error && err.constructor === Error && REJECTIONS.some((pattern) => pattern.test(err.message))) {
      throw new Rejected(err.message);
    }
    throw err;
  }
}

/** Feeds one input to a reader in `dir` (emptied first). Throws when the reader crashes. */
export async function runInput(reader: ReaderName, input: FuzzInput, dir: string): Promise<InputOutcome> {
  for (const name of fs.readdirSync(dir)) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
  const inputDir = reader === 'zeek-dir' ? path.join(dir, 'logs') : dir;
  if (reader === 'zeek-dir') fs.mkdirSync(inputDir);
  for (const file of input.files) fs.writeFileSync(path.join(inputDir, file.name), file.text);
  const sink = new CollectingErrorSink();
  const first = input.files[0] ? path.join(inputDir, input.files[0].name) : '';
  const stream = (): Readable => Readable.from(input.stream ?? [], { objectMode: false });
  try {
    let flowReader: FlowReader;
    switch (reader) {
      case 'zeek-tsv':
      case 'zeek-json':
        flowReader = await open(() => openZeekInput(first, sink));
        break;
      case 'zeek-dir':
        flowReader = await open(() => openZeekInput(inputDir, sink));
        break;
      case 'argus-comma':
        flowReader = await open(() => openArgusInput(first, sink, 'binetflow'));
        break;
      case 'argus-tab':
        flowReader = await open(() => openArgusInput(first, sink, 'binetflow-tabs'));
        break;
      case 'suricata':
        flowReader = await open(() => openSuricataInput(first, sink));
        break;
      case 'stdin-zeek':
        flowReader = openStdinInput('zeek', sink, stream());
        break;
      case 'stdin-suricata':
        flowReader = openStdinInput('suricata', sink, stream());
        break;
      case 'stdin-argus':
        flowReader = openStdinInput('argus', sink, stream());
        break;
      case 'nfdump-csv':
        flowReader = new LineInput(readStreamLines(stream(), 'nfdump', sink), new NfdumpParser(sink, 'nfdump'), sink, {
          inputType: 'nfdump', name: 'nfdump',
        });
        break;
      case 'auto':
        flowReader = await open(() => openInput(first, sink));
        break;
    }
    const records = await drain(flowReader);
    return { records, reports: sink.problems.length + sink.warnings.length, rejected: false };
  } catch (err) {
    if (err instanceof Rejected) return { records: 0, reports: sink.problems.length + sink.warnings.length, rejected: true };
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Workers and the watchdog

/** Shared counters of one worker (Float64Array slots). */
const enum Slot {
  /** Index of the input running now (-1: none). */
  Current,
  /** Date.now() when it started. */
  StartedAt,
  Inputs,
  Crashes,
  Reports,
  InputsWithReports,
  Rejected,
  Records,
  /** Longest time one input took (ms). */
  SlowestMs,
  Size,
}

interface WorkerJob {
  fuzzWorker: true;
  reader: ReaderName;
  seed: number;
  from: number;
  to: number;
  shared: SharedArrayBuffer;
}

interface CrashMessage {
  index: number;
  error: string;
}

async function workerMain(job: WorkerJob): Promise<void> {
  const counters = new Float64Array(job.shared);
  const corpus = loadCorpus();
  const dir = fs.mkdtempSync(path.join(tmpBase(), `slips-fuzz-${job.reader}-`));
  try {
    for (let index = job.from; index < job.to; index++) {
      const input = makeInput(corpus, job.reader, job.seed, index);
      counters[Slot.StartedAt] = Date.now();
      counters[Slot.Current] = index;
      try {
        const outcome = await runInput(job.reader, input, dir);
        counters[Slot.Records]! += outcome.records;
        counters[Slot.Reports]! += outcome.reports;
        if (outcome.reports > 0) counters[Slot.InputsWithReports]! += 1;
        if (outcome.rejected) counters[Slot.Rejected]! += 1;
      } catch (err) {
        counters[Slot.Crashes]! += 1;
        const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
        parentPort!.postMessage({ index, error } satisfies CrashMessage);
      }
      const took = Date.now() - counters[Slot.StartedAt]!;
      if (took > counters[Slot.SlowestMs]!) counters[Slot.SlowestMs] = took;
      counters[Slot.Inputs]! += 1;
      counters[Slot.Current] = -1;
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function tmpBase(): string {
  return fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
}

export interface Finding {
  reader: ReaderName;
  index: number;
  kind: 'crash' | 'hang';
  error: string;
  /** Where the input was written, when an output directory was given. */
  saved?: string;
}

export interface ReaderResult {
  reader: ReaderName;
  inputs: number;
  crashes: number;
  hangs: number;
  reports: number;
  inputsWithReports: number;
  rejected: number;
  records: number;
  slowestMs: number;
  seconds: number;
}

export interface FuzzOptions {
  seed: number;
  perReader: number;
  readers?: readonly ReaderName[];
  /** Workers running at once (default: CPUs - 1, at least 1). */
  jobs?: number;
  /** Directory for crashing and hanging inputs (none: not saved). */
  out?: string;
  /** Called when a reader is done. */
  onResult?: (result: ReaderResult) => void;
  onFinding?: (finding: Finding) => void;
}

function saveInput(out: string | undefined, corpus: Corpus, finding: Finding, seed: number): void {
  if (out === undefined) return;
  const dir = path.join(out, `${finding.reader}-${finding.index}-${finding.kind}`);
  fs.mkdirSync(dir, { recursive: true });
  const input = makeInput(corpus, finding.reader, seed, finding.index);
  for (const file of input.files) fs.writeFileSync(path.join(dir, file.name), file.text);
  if (input.stream) {
    fs.writeFileSync(path.join(dir, 'stream.bin'), Buffer.concat(input.stream));
    fs.writeFileSync(path.join(dir, 'chunks.json'), JSON.stringify(input.stream.map((chunk) => chunk.length)));
  }
  fs.writeFileSync(path.join(dir, 'error.txt'), `${finding.error}\n`);
  finding.saved = dir;
}

/** Fuzzes one reader over inputs [0, perReader), restarting the worker after a hang. */
async function fuzzReader(reader: ReaderName, options: FuzzOptions, corpus: Corpus, findings: Finding[]): Promise<ReaderResult> {
  const started = Date.now();
  const total: ReaderResult = {
    reader, inputs: 0, crashes: 0, hangs: 0, reports: 0, inputsWithReports: 0, rejected: 0, records: 0, slowestMs: 0, seconds: 0,
  };
  const record = (finding: Finding): void => {
    saveInput(options.out, corpus, finding, options.seed);
    findings.push(finding);
    options.onFinding?.(finding);
  };
  let from = 0;
  while (from < options.perReader) {
    const shared = new SharedArrayBuffer(Slot.Size * 8);
    const counters = new Float64Array(shared);
    counters[Slot.Current] = -1;
    const job: WorkerJob = { fuzzWorker: true, reader, seed: options.seed, from, to: options.perReader, shared };
    const worker = new Worker(new URL(import.meta.url), { workerData: job });
    const outcome = await new Promise<{ next: number }>((resolve) => {
      let settled = false;
      const finish = (next: number): void => {
        if (settled) return;
        settled = true;
        clearInterval(watchdog);
        resolve({ next });
      };
      const watchdog = setInterval(() => {
        const current = counters[Slot.Current]!;
        if (current >= 0 && Date.now() - counters[Slot.StartedAt]! > HANG_MS) {
          total.hangs++;
          record({ reader, index: current, kind: 'hang', error: `input took longer than ${HANG_MS} ms` });
          void worker.terminate();
          finish(current + 1);
        }
      }, 100);
      worker.on('message', (message: CrashMessage) => {
        record({ reader, index: message.index, kind: 'crash', error: message.error });
      });
      worker.on('error', (err) => {
        // An uncaught error inside the worker: the reader threw from a callback.
        const current = counters[Slot.Current]!;
        const index = current >= 0 ? current : from + counters[Slot.Inputs]!;
        total.crashes++;
        record({ reader, index, kind: 'crash', error: `uncaught: ${err.stack ?? err.message}` });
        finish(index + 1);
      });
      worker.on('exit', () => finish(options.perReader));
    });
    total.inputs += counters[Slot.Inputs]!;
    total.crashes += counters[Slot.Crashes]!;
    total.reports += counters[Slot.Reports]!;
    total.inputsWithReports += counters[Slot.InputsWithReports]!;
    total.rejected += counters[Slot.Rejected]!;
    total.records += counters[Slot.Records]!;
    total.slowestMs = Math.max(total.slowestMs, counters[Slot.SlowestMs]!);
    // A hung or crashed input counts as fed.
    const fed = counters[Slot.Inputs]! + from;
    if (outcome.next > fed) total.inputs += outcome.next - fed;
    from = outcome.next;
  }
  total.seconds = (Date.now() - started) / 1000;
  return total;
}

/** Runs the fuzzer; resolves with the per-reader counts and the findings. */
export async function runFuzz(options: FuzzOptions): Promise<{ results: ReaderResult[]; findings: Finding[] }> {
  const readers = [...(options.readers ?? READERS)];
  const corpus = loadCorpus();
  const jobs = Math.max(1, Math.min(options.jobs ?? Math.max(1, os.cpus().length - 1), readers.length));
  const findings: Finding[] = [];
  const results: ReaderResult[] = [];
  const queue = [...readers];
  await Promise.all(Array.from({ length: jobs }, async () => {
    for (let reader = queue.shift(); reader !== undefined; reader = queue.shift()) {
      const result = await fuzzReader(reader, options, corpus, findings);
      results.push(result);
      options.onResult?.(result);
    }
  }));
  results.sort((a, b) => readers.indexOf(a.reader) - readers.indexOf(b.reader));
  return { results, findings };
}

// ---------------------------------------------------------------------------------------------
// Command line

function formatResult(r: ReaderResult): string {
  return `${r.reader.padEnd(15)} inputs ${String(r.inputs).padStart(8)}  crashes ${String(r.crashes).padStart(4)}  ` +
    `hangs ${String(r.hangs).padStart(3)}  bad-input reports ${String(r.reports).padStart(9)} ` +
    `(${r.inputsWithReports} inputs)  rejected ${String(r.rejected).padStart(6)}  records ${String(r.records).padStart(9)}  ` +
    `slowest ${r.slowestMs} ms  ${r.seconds.toFixed(1)} s`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string', default: '1' },
      'per-reader': { type: 'string', default: '100000' },
      readers: { type: 'string' },
      jobs: { type: 'string' },
      out: { type: 'string' },
      packets: { type: 'string', default: '100000' },
      'pcap-targets': { type: 'string' },
      'skip-readers': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log('Usage: node dist/bench/fuzz.js [--seed N] [--per-reader N] [--readers a,b] [--jobs N] [--out DIR]\n' +
      '                            [--packets N] [--pcap-targets a,b] [--skip-readers]\n' +
      `Readers: ${READERS.join(', ')}\nPacket targets: ${PCAP_TARGETS.join(', ')}`);
    return;
  }
  const seed = Number(values.seed);
  const perReader = Number(values['per-reader']);
  if (!Number.isInteger(seed) || !Number.isInteger(perReader) || perReader < 1) {
    console.error('fuzz: --seed and --per-reader must be integers (per-reader >= 1)');
    process.exit(2);
  }
  const readers = values.readers === undefined ? [...READERS] : values.readers.split(',').map((name) => name.trim());
  for (const name of readers) {
    if (!(READERS as readonly string[]).includes(name)) {
      console.error(`fuzz: unknown reader '${name}'. Readers: ${READERS.join(', ')}`);
      process.exit(2);
    }
  }
  const packets = Number(values.packets);
  const targets = values['pcap-targets'] === undefined ? [...PCAP_TARGETS] : values['pcap-targets'].split(',').map((name) => name.trim());
  if (!Number.isInteger(packets) || packets < 0 || targets.some((name) => !(PCAP_TARGETS as readonly string[]).includes(name))) {
    console.error(`fuzz: --packets must be an integer >= 0; packet targets: ${PCAP_TARGETS.join(', ')}`);
    process.exit(2);
  }
  const out = values.out ?? path.join(os.tmpdir(), `slips-fuzz-findings-${seed}`);
  const jobs = values.jobs === undefined ? undefined : Number(values.jobs);
  const started = Date.now();
  const pcapFindings: PcapFinding[] = [];
  if (packets > 0) {
    console.log(`fuzz: seed ${seed}, ${packets} mutated packets per packet target: ${targets.join(', ')}`);
    const pcapResults = await Promise.all(targets.map(async (target) => {
      const result = await fuzzPcapTarget(target as PcapTarget, seed, inputsForPackets(target as PcapTarget, packets), pcapFindings);
      console.log(formatPcapResult(result));
      return result;
    }));
    for (const finding of pcapFindings) console.log(`  ${finding.kind.toUpperCase()} pcap:${finding.target} #${finding.index}: ${finding.error.split('\n').slice(0, 3).join(' | ')}`);
    console.log(`packets total: ${pcapResults.reduce((n, r) => n + r.packets, 0)} packets, ${pcapResults.reduce((n, r) => n + r.crashes, 0)} crashes, ` +
      `${pcapResults.reduce((n, r) => n + r.hangs, 0)} hangs`);
    if (pcapFindings.length > 0) process.exitCode = 1;
  }
  if (values['skip-readers']) return;
  console.log(`fuzz: seed ${seed}, ${perReader} inputs per reader, readers: ${readers.join(', ')}`);
  const { results, findings } = await runFuzz({
    seed, perReader, readers: readers as ReaderName[], jobs, out,
    onResult: (result) => console.log(formatResult(result)),
    onFinding: (finding) => {
      const firstLine = finding.error.split('\n').slice(0, 3).join(' | ');
      console.log(`  ${finding.kind.toUpperCase()} ${finding.reader} #${finding.index}: ${firstLine}${finding.saved ? ` (input: ${finding.saved})` : ''}`);
    },
  });
  const sum = (key: 'inputs' | 'crashes' | 'hangs' | 'reports'): number => results.reduce((n, r) => n + r[key], 0);
  console.log(`total: ${sum('inputs')} inputs, ${sum('crashes')} crashes, ${sum('hangs')} hangs, ${sum('reports')} bad-input reports ` +
    `in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (findings.length > 0) {
    console.log(`findings written to ${out}`);
    process.exitCode = 1;
  }
}

if (!isMainThread && (workerData as WorkerJob | undefined)?.fuzzWorker === true) {
  await workerMain(workerData as WorkerJob);
} else if (isMainThread && process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
