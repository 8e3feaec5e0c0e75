// Input type detection (Slips' rules, core.md §3.1) and the choice of reader for a path.
// The type comes from the content, not the file name (except Slips' nfdump name rule).

import fs from 'node:fs';
import type { ErrorSink } from './errors.js';
import type { FlowReader } from './reader.js';
import { openZeekInput } from './zeek/reader.js';

export type InputType = 'pcap' | 'nfdump' | 'binetflow' | 'binetflow-tabs' | 'suricata' | 'zeek_folder' | 'zeek_log_file';

/** A recognised input whose reader this version does not have yet (exit code 2 at the CLI). */
export class UnsupportedInputError extends Error {
  constructor(readonly inputType: InputType, file: string) {
    super(`${file}: ${inputType} input is not available in this version yet. Supported now: Zeek log files and Zeek log directories (TSV or JSON).`);
  }
}

const PCAP_MAGICS = new Set([0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1, 0x0a0d0d0a]);
const SNIFF_BYTES = 64 * 1024;

function firstDataLine(head: string): string | undefined {
  for (const line of head.split('\n')) {
    const trimmed = line.replace(/\r$/, '');
    if (trimmed !== '' && !trimmed.startsWith('#')) return trimmed;
  }
  return undefined;
}

function isJsonObject(line: string): boolean {
  if (!line.startsWith('{')) return false;
  try {
    return typeof JSON.parse(line) === 'object';
  } catch {
    return false;
  }
}

/** Slips' input type of an existing path, or an Error naming the path and the supported types. */
export function detectInputType(path: string): InputType {
  const stat = fs.statSync(path);
  if (stat.isDirectory()) return 'zeek_folder';
  const fd = fs.openSync(path, 'r');
  let head: Buffer;
  try {
    const buffer = Buffer.alloc(Math.min(SNIFF_BYTES, stat.size));
    const read = fs.readSync(fd, buffer, 0, buffer.length, 0);
    head = buffer.subarray(0, read);
  } finally {
    fs.closeSync(fd);
  }
  if (head.length >= 4 && (PCAP_MAGICS.has(head.readUInt32BE(0)) || PCAP_MAGICS.has(head.readUInt32LE(0)))) return 'pcap';
  if (path.includes('nfcap') || path.includes('nfdump')) return 'nfdump';
  const line = firstDataLine(head.toString('utf8'));
  if (line === undefined) {
    throw new Error(`${path}: the file has no data lines; cannot tell its type. Supported: Zeek logs (TSV/JSON), Argus binetflow, Suricata eve.json, nfdump, pcap.`);
  }
  if (line.includes('flow_id')) return 'suricata';
  if (isJsonObject(line)) return 'zeek_log_file';
  if (line.includes('\t') || /\s+-\s+/.test(line)) {
    return line.includes('->') || line.includes('StartTime') ? 'binetflow-tabs' : 'zeek_log_file';
  }
  if (line.includes(',') && (line.includes('->') || line.includes('StartTime'))) return 'binetflow';
  throw new Error(`${path}: unrecognized file type. Supported: Zeek logs (TSV/JSON), Argus binetflow, Suricata eve.json, nfdump, pcap.`);
}

/** Open the reader for a path (file or directory). Throws for missing paths and unsupported types. */
export async function openInput(path: string, sink: ErrorSink): Promise<FlowReader> {
  const type = detectInputType(path);
  if (type === 'zeek_folder' || type === 'zeek_log_file') return openZeekInput(path, sink);
  throw new UnsupportedInputError(type, path);
}
