// The interface every input reader implements: a stream of record batches in timestamp order,
// plus what the progress line needs (lines read, total when cheaply known).

import type { FlowRecord } from './records.js';

export interface FlowReader {
  /** Slips' input type name: zeek_log_file, zeek_folder, binetflow, suricata, nfdump, pcap, stdin, ... */
  readonly inputType: string;
  /** Lines (or records) consumed so far, including bad ones. */
  readonly linesRead: number;
  /** Number of data lines in the whole input when known up front (for the progress %), else undefined. */
  readonly totalLines: number | undefined;
  /** Batches of records; order across batches is timestamp order as far as the format allows. */
  batches(): AsyncIterable<FlowRecord[]>;
  /** Ask the reader to stop early (SIGINT): the current batch ends, then iteration ends. */
  stop(): void;
}
