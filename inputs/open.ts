// Input type detection (Slips' rules, core.md §3.1) and the choice of reader for a path.
// The type comes from the content, not the file name, except Slips' nfdump name rule.
// Differences from Slips, on purpose: nfcapd files are also recognised by their magic number,
// the nfdump name rule looks at the file name only (Slips bug #11: any path containing
// `nfdump`), and a JSON first line with an `event_type` key is Suricata even without `flow_id`
// (eve.json files may start with a stats event).

import fs from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { ArgusParser } from './argus.js';
import type { ErrorSink } from './errors.js';
import { countLines, readLines } from './lineReader.js';
import { openNfdumpInput } from './nfdump.js';
import type { FlowReader } from './reader.js';
import { openPcapInput } from './pcap/reader.js';
import { LineInput, type LineParser } from './stdin.js';
import { SuricataParser } from './suricata.js';
import { openZeekInput } from './zeek/reader.js';

export type InputType = 'pcap' | 'nfdump' | 'binetflow' | 'binetflow-tabs' | 'suricata' | 'zeek_folder' | 'zeek_log_file';

/** What every error about an input's type ends with. */
export const SUPPORTED_INPUTS =
  'Supported input types: Zeek log files and directories of Zeek logs (TSV or JSON), ' +
  'Argus binetflow files (comma or tab separated), Suricata eve.json files, nfdump/nfcapd files, pcap/pcapng files; ' +
  'and on stdin (-f zeek|suricata|argus): Zeek conn lines, Suricata eve lines, Argus lines.';

const PCAP_MAGICS = new Set([0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1, 0x0a0d0d0a]);
/** nfcapd files start with the little-endian magic 0xA50C and layout version 1 or 2. */
const NFCAPD_MAGIC = 0xa50c;
const SNIFF_BYTES = 64 * 1024;
/** Up to this size a file's lines are counted exactly for the progress line; beyond, estimated. */
const EXACT_COUNT_BYTES = 1024 * 1024 * 1024;
const ESTIMATE_SAMPLE_BYTES = 8 * 1024 * 1024;

function firstDataLine(head: string): string | undefined {
  for (const line of head.split('\n')) {
    const trimmed = line.replace(/\r$/, '');
    if (trimmed !== '' && !trimmed.startsWith('#')) return trimmed;
  }
  return undefined;
}

function jsonObject(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function isNfcapd(head: Buffer): boolean {
  if (head.length < 4 || head.readUInt16LE(0) !== NFCAPD_MAGIC) return false;
  const layout = head.readUInt16LE(2);
  return layout === 1 || layout === 2;
}

/** The first bytes of a file (at most SNIFF_BYTES). */
function readHead(path: string, size: number): Buffer {
  const fd = fs.openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(Math.min(SNIFF_BYTES, size));
    const read = fs.readSync(fd, buffer, 0, buffer.length, 0);
    return buffer.subarray(0, read);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Slips' input type of an existing path; undefined for a file without any data line (nothing
 * tells its type). Throws an Error naming the path and the supported types for anything else.
 */
export function detectInputType(path: string): InputType | undefined {
  const info = fs.statSync(path);
  if (info.isDirectory()) return 'zeek_folder';
  const head = readHead(path, info.size);
  if (head.length >= 4 && (PCAP_MAGICS.has(head.readUInt32BE(0)) || PCAP_MAGICS.has(head.readUInt32LE(0)))) return 'pcap';
  const name = basename(path);
  if (isNfcapd(head) || name.includes('nfcap') || name.includes('nfdump')) return 'nfdump';
  const line = firstDataLine(head.toString('utf8'));
  if (line === undefined) return undefined;
  if (line.includes('flow_id')) return 'suricata';
  const json = jsonObject(line);
  if (json !== undefined) return typeof json['event_type'] === 'string' ? 'suricata' : 'zeek_log_file';
  // Slips' /\s+-\s+/, written so that it cannot backtrack (same matches; the original takes
  // quadratic time on a long run of spaces).
  if (line.includes('\t') || /\s-\s/.test(line)) {
    return line.includes('->') || line.includes('StartTime') ? 'binetflow-tabs' : 'zeek_log_file';
  }
  if (line.includes(',') && (line.includes('->') || line.includes('StartTime'))) return 'binetflow';
  throw new Error(`${path}: unrecognized file type. ${SUPPORTED_INPUTS}`);
}

/** Non-empty lines of a file: exact up to EXACT_COUNT_BYTES, else estimated from a sample. */
async function countFileLines(path: string): Promise<number> {
  const { size } = await stat(path);
  if (size <= EXACT_COUNT_BYTES) return (await countLines(path)).lines;
  const sample = await countLines(path, { maxBytes: ESTIMATE_SAMPLE_BYTES });
  return sample.bytes > 0 ? Math.round((sample.lines * size) / sample.bytes) : 0;
}

async function openTextInput(
  path: string, sink: ErrorSink, inputType: string, parser: LineParser, headerLines: number,
): Promise<FlowReader> {
  const totalLines = Math.max((await countFileLines(path)) - headerLines, 0);
  return new LineInput(readLines(path, sink), parser, sink, { inputType, name: path, totalLines });
}

/** Opens the Argus binetflow file at `path` (comma or tab separated, header optional). */
export function openArgusInput(path: string, sink: ErrorSink, inputType: 'binetflow' | 'binetflow-tabs' = 'binetflow'): Promise<FlowReader> {
  return openTextInput(path, sink, inputType, new ArgusParser(sink, { name: path }), 1);
}

/** Opens the Suricata eve.json file at `path`. */
export function openSuricataInput(path: string, sink: ErrorSink): Promise<FlowReader> {
  return openTextInput(path, sink, 'suricata', new SuricataParser(sink, { name: path }), 0);
}

/** A reader with nothing to read, for a file without data lines (reported to the sink). */
function emptyInput(path: string, sink: ErrorSink): FlowReader {
  sink.badInput({ file: path, line: 1, message: 'no data lines, nothing to analyse' });
  return { inputType: 'file', linesRead: 0, totalLines: 0, batches: async function* () {}, stop: () => undefined };
}

export interface OpenInputOptions {
  /** Where readers that analyse packets write the Zeek logs they produce (Slips' zeek_files). */
  zeekLogDir?: string;
  /** Packet inputs drop packets with a bad TCP/UDP checksum (config parameters.verify_checksums). */
  verifyChecksums?: boolean;
}

/** Open the reader for a path (file or directory). Throws for missing paths and unsupported types. */
export async function openInput(path: string, sink: ErrorSink, options: OpenInputOptions = {}): Promise<FlowReader> {
  const type = detectInputType(path);
  switch (type) {
    case undefined:
      return emptyInput(path, sink);
    case 'zeek_folder':
    case 'zeek_log_file':
      return openZeekInput(path, sink);
    case 'binetflow':
    case 'binetflow-tabs':
      return openArgusInput(path, sink, type);
    case 'suricata':
      return openSuricataInput(path, sink);
    case 'nfdump':
      return openNfdumpInput(path, sink);
    case 'pcap':
      return openPcapInput(path, sink, {
        verifyChecksums: options.verifyChecksums === true,
        ...(options.zeekLogDir !== undefined ? { zeekLogDir: options.zeekLogDir } : {}),
      });
  }
}
