// Live capture from a network interface (`-i IFACE`): tcpdump writes the packets as a pcap
// stream (`tcpdump -i IFACE -w - -U -s 0 [BPF filter]`), read by the pcap input as it arrives
// (inputs/pcap/reader.ts in live mode). Opening waits until tcpdump says it listens, so a bad
// interface, a bad filter or missing privileges fail at once with tcpdump's own message.
// stop() ends tcpdump; the input then reports every connection still open and finishes.

import { type ChildProcessByStdio, spawn } from 'node:child_process';
import fs from 'node:fs';
import type { Readable } from 'node:stream';
import type { ErrorSink } from '../errors.js';
import type { FlowReader } from '../reader.js';
import type { FlowRecord } from '../records.js';
import { CaptureFile } from './file.js';
import { PcapInput } from './reader.js';

/** Longest wait for tcpdump to start listening. */
const START_TIMEOUT_MS = 10_000;

export interface LiveCaptureOptions {
  /** BPF filter (Slips' -F / pcapfilter); empty for none. */
  filter?: string;
  /** Also write the Zeek logs into this directory. */
  zeekLogDir?: string;
  /** Drop packets with a bad TCP/UDP checksum (PcapInputOptions.verifyChecksums). */
  verifyChecksums?: boolean;
}

/** Thrown when the capture cannot start; the message is for the user. */
export class LiveCaptureError extends Error {}

/** Control characters out of tcpdump's messages before they reach a terminal. */
function printable(text: string): string {
  return text.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '').trim();
}

class LiveCapture implements FlowReader {
  readonly inputType = 'interface';
  readonly totalLines = undefined;
  private input: PcapInput | undefined;
  private stopped = false;

  constructor(
    private readonly tcpdump: ChildProcessByStdio<null, Readable, Readable>,
    private readonly iface: string,
    private readonly sink: ErrorSink,
    private readonly zeekLogDir: string | undefined,
    private readonly verifyChecksums: boolean,
  ) {}

  get linesRead(): number {
    return this.input?.linesRead ?? 0;
  }

  stop(): void {
    this.stopped = true;
    if (this.tcpdump.exitCode === null && this.tcpdump.signalCode === null) this.tcpdump.kill('SIGTERM');
  }

  async *batches(): AsyncIterable<FlowRecord[]> {
    let file: CaptureFile;
    try {
      // tcpdump writes the pcap header with its first packet: this waits for traffic.
      file = await CaptureFile.fromStream(this.tcpdump.stdout, `interface ${this.iface}`, this.sink);
    } catch (error) {
      if (this.stopped) return;
      throw error;
    }
    const options = {
      interfaceName: this.iface, live: true, verifyChecksums: this.verifyChecksums,
      ...(this.zeekLogDir !== undefined ? { zeekLogDir: this.zeekLogDir } : {}),
    };
    this.input = new PcapInput(file, options);
    try {
      yield* this.input.batches();
    } finally {
      this.stop();
    }
  }
}

/** Starts tcpdump on `iface`; resolves once it listens. */
export async function openLiveCapture(iface: string, sink: ErrorSink, options: LiveCaptureOptions = {}): Promise<FlowReader> {
  if (iface === '' || iface.includes('/') || !fs.existsSync(`/sys/class/net/${iface}`)) {
    throw new LiveCaptureError(`${iface} is not a valid interface. Stopping Slips`);
  }
  const filter = options.filter?.trim() ?? '';
  const args = ['-i', iface, '-w', '-', '-U', '-s', '0', '-n', ...(filter !== '' ? [filter] : [])];
  const tcpdump = spawn('tcpdump', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let said = '';
    const timer = setTimeout(() => fail(`tcpdump did not start listening on ${iface} within ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
    const fail = (message: string): void => {
      clearTimeout(timer);
      tcpdump.kill('SIGKILL');
      reject(new LiveCaptureError(message));
    };
    tcpdump.once('error', (error: NodeJS.ErrnoException) => {
      fail(error.code === 'ENOENT' ? 'Live capture needs tcpdump, which is not installed.' : `tcpdump: ${error.message}`);
    });
    tcpdump.once('exit', () => fail(`Cannot capture on ${iface}: ${printable(said) || 'tcpdump exited'}`));
    tcpdump.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      said += chunk;
      if (!/listening on /.test(said)) return;
      clearTimeout(timer);
      tcpdump.removeAllListeners('exit');
      tcpdump.removeAllListeners('error');
      tcpdump.stderr.removeAllListeners('data');
      // Later messages (e.g. the packet counts at exit) are not ours to print; keep the pipe drained.
      tcpdump.stderr.resume();
      tcpdump.on('error', () => undefined);
      sink.warn(`Capturing on interface ${iface}${filter !== '' ? ` with filter '${printable(filter)}'` : ''}`);
      resolve();
    });
  });
  return new LiveCapture(tcpdump, iface, sink, options.zeekLogDir, options.verifyChecksums === true);
}
