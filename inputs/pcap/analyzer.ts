// The contract between the pcap reader and its protocol analyzers (SSH, DNS, HTTP, TLS, ...),
// and the dispatcher that runs them. Analyzers are chosen by content, like Zeek's dynamic protocol
// detection: every new TCP/UDP connection gets a session from each analyzer that applies to its
// transport; each session sees the payloads in capture order and returns false as soon as it is
// sure the connection is not its protocol, which drops it. A session that recognises its protocol
// sets `conn.service`. Sessions emit records (released by the reader in timestamp order) and
// Zeek log lines through an AnalyzerOutput; `finish` is called once when the connection ends,
// before its conn record is written. Like Zeek, a partial TCP connection (picked up without its
// handshake: no SYN or SYN-ACK in its history) gets no application analysis.

import type { FlowRecord } from '../records.js';
import type { FinishedConn, TrackedConn } from './conntrack.js';
import type { ZeekLogSpec, ZeekValue } from './zeekLog.js';

/** History letters of a SYN (S) or SYN-ACK (h, H): the connection is not partial. */
const HANDSHAKE_SEEN = /[ShH]/;

/** Where analyzers put what they produce. */
export interface AnalyzerOutput {
  /** A record for the analysis pipeline (any ts: the reader reorders). */
  record(record: FlowRecord): void;
  /** A line of a Zeek log in zeek_files/ (dropped when no logs are written). */
  log(spec: ZeekLogSpec, values: readonly ZeekValue[]): void;
  /** Zeek logs are written: analyzers build log lines only then. */
  readonly logging: boolean;
}

/** One analyzer's view of one connection. */
export interface AnalyzerSession {
  /**
   * A payload of the connection, in capture order: TCP segments as captured (not reassembled;
   * `seq` relative to the direction's initial sequence number, see TcpStream), or a whole UDP /
   * ICMP payload (`seq` 0). `payload` is only valid during the call (copy what is kept).
   * Returns false once the connection is known not to be this analyzer's protocol.
   */
  payload(isOrig: boolean, seq: number, payload: Buffer): boolean;
  /** The connection ended (timer, reuse or end of input). */
  finish(finished: FinishedConn): void;
}

export interface ProtocolAnalyzer {
  /** A session for a new connection, or undefined when the analyzer cannot apply (e.g. transport). */
  open(conn: TrackedConn): AnalyzerSession | undefined;
}

/** The fields every connection-bound record takes from its connection (originator to responder). */
export function connFields(conn: TrackedConn): { uid: string; saddr: string; daddr: string; interface: string; source: 'pcap'; sport: number; dport: number } {
  return { uid: conn.uid, saddr: conn.origH, daddr: conn.respH, interface: conn.iface, source: 'pcap', sport: conn.origP, dport: conn.respP };
}

/** Adds a recognised protocol to the connection's service, Zeek style ("smtp,ssl", in the order found). */
export function addService(conn: TrackedConn, service: string): void {
  if (conn.service === '') conn.service = service;
  else if (!conn.service.split(',').includes(service)) conn.service += `,${service}`;
}

/** Runs the analyzers over the connections of one capture. */
export class AnalyzerSet {
  constructor(private readonly analyzers: readonly ProtocolAnalyzer[]) {}

  /** ConnTracker's onPayload hook. */
  payload(conn: TrackedConn, isOrig: boolean, seq: number, data: Buffer): void {
    let sessions = conn.sessions;
    if (sessions === undefined) {
      sessions = [];
      conn.sessions = sessions;
      if (conn.ipProto === 6 && !HANDSHAKE_SEEN.test(conn.history)) return;
      for (const analyzer of this.analyzers) {
        const session = analyzer.open(conn);
        if (session !== undefined) sessions.push(session);
      }
    }
    for (let i = 0; i < sessions.length; ) {
      if (sessions[i]!.payload(isOrig, seq, data)) i++;
      else sessions.splice(i, 1);
    }
  }

  /** To be called when a connection ended, before its conn record is taken. */
  finish(finished: FinishedConn): void {
    const sessions = finished.conn.sessions;
    if (sessions === undefined) return;
    finished.conn.sessions = undefined;
    for (const session of sessions) session.finish(finished);
  }
}
