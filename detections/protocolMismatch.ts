// The mechanism behind NON_HTTP_PORT_80_CONNECTION and NON_SSL_PORT_443_CONNECTION (detections
// spec §3.3, §4.4, fix #10): an established, non-empty TCP connection to the protocol's port that
// Zeek did not recognise as that protocol is suspicious unless the same (saddr, daddr) pair spoke
// the protocol within 300 s before or after it. Slips waits 5 minutes of wall-clock time for the
// "after" part; here a candidate is held until network time passes ts + 300 (or input ends), and
// dropped as soon as a confirming connection, http.log or ssl.log record shows up.

import type { ConnRecord } from '../inputs/records.js';
import type { FlowContext } from './api.js';

/** Seconds before and after a candidate in which a confirmed connection clears it. */
const CONFIRMATION_WINDOW = 300;
/** Candidates waiting for their window to pass; beyond this the oldest is dropped unreported. */
const MAX_PENDING = 10_000;
/** How often (network seconds) stale confirmation timestamps are swept. */
const SWEEP_INTERVAL = 60;

/** The fields of a record this mechanism looks at. */
export interface PairRecord {
  ts: number;
  uid: string;
  saddr: string;
  daddr: string;
}

/** A connection waiting for its confirmation window to pass. */
interface Candidate extends PairRecord {
  pair: string;
  /** Pairs already reported in the candidate's profile + time window (its twState set). */
  reported: Set<string>;
  settled: boolean;
}

export interface ProtocolMismatchOptions {
  /** Well-known port of the protocol (80, 443). */
  port: number;
  /** Zeek service name of the protocol ('http', 'ssl'). */
  service: string;
  /** twState key of the per-time-window set of reported pairs. */
  stateKey: string;
  /** Emit the evidence for a connection that stayed unconfirmed. */
  report(connection: PairRecord): void;
}

function pairKey(saddr: string, daddr: string): string {
  return `${saddr}>${daddr}`;
}

/** Zeek's service field may list several analyzers ("http,websocket"). */
function speaks(appproto: string, service: string): boolean {
  return appproto.toLowerCase().split(',').some((name) => name.trim() === service);
}

export class ProtocolMismatchTracker {
  /** Per pair, the sorted timestamps of confirmed connections within [last − 300, last]. */
  private readonly confirmedAt = new Map<string, number[]>();
  private readonly pendingByPair = new Map<string, Candidate[]>();
  /** Candidates in arrival order; settled ones are skipped lazily. */
  private queue: Candidate[] = [];
  private queueHead = 0;
  private pendingCount = 0;
  private lastSweep = -Infinity;

  constructor(private readonly options: ProtocolMismatchOptions) {}

  /** A conn record: a confirmation, a new candidate, or nothing. */
  onConn(flow: ConnRecord, ctx: FlowContext): void {
    const { port, service, stateKey } = this.options;
    if (flow.dport !== port || flow.proto !== 'tcp' || ctx.state !== 'Established') return;
    if (flow.sbytes + flow.dbytes === 0) return;
    if (speaks(flow.appproto, service)) {
      this.onConfirmation(flow);
      return;
    }
    const pair = pairKey(flow.saddr, flow.daddr);
    const reported = ctx.twState(stateKey, () => new Set<string>());
    if (reported.has(pair) || this.isConfirmedNear(pair, flow.ts)) return;
    this.hold({ ts: flow.ts, uid: flow.uid, saddr: flow.saddr, daddr: flow.daddr, pair, reported, settled: false });
  }

  /**
   * The pair spoke the protocol at record.ts (a recognised conn, an http.log or ssl.log record):
   * remember it and clear the candidates it confirms.
   */
  onConfirmation(record: PairRecord): void {
    const pair = pairKey(record.saddr, record.daddr);
    let times = this.confirmedAt.get(pair);
    if (times === undefined) this.confirmedAt.set(pair, (times = []));
    let index = times.length;
    while (index > 0 && (times[index - 1] as number) > record.ts) index--;
    times.splice(index, 0, record.ts);
    const oldest = (times[times.length - 1] as number) - CONFIRMATION_WINDOW;
    let stale = 0;
    while (stale < times.length && (times[stale] as number) < oldest) stale++;
    if (stale > 0) times.splice(0, stale);

    const waiting = this.pendingByPair.get(pair);
    if (waiting === undefined) return;
    const stillWaiting = waiting.filter((candidate) => {
      if (candidate.uid === record.uid || Math.abs(record.ts - candidate.ts) <= CONFIRMATION_WINDOW) {
        this.settle(candidate);
      }
      return !candidate.settled;
    });
    if (stillWaiting.length === 0) this.pendingByPair.delete(pair);
    else this.pendingByPair.set(pair, stillWaiting);
  }

  /** Report every candidate whose confirmation window ended before networkTime. */
  advanceTime(networkTime: number): void {
    while (this.queueHead < this.queue.length) {
      const candidate = this.queue[this.queueHead] as Candidate;
      if (!candidate.settled && candidate.ts + CONFIRMATION_WINDOW >= networkTime) break;
      this.queueHead++;
      if (!candidate.settled) this.resolve(candidate);
    }
    this.compactQueue();
    if (networkTime - this.lastSweep >= SWEEP_INTERVAL) {
      this.lastSweep = networkTime;
      this.sweepConfirmations(networkTime);
    }
  }

  /** End of input: report every candidate still waiting. */
  finish(): void {
    for (let i = this.queueHead; i < this.queue.length; i++) {
      const candidate = this.queue[i] as Candidate;
      if (!candidate.settled) this.resolve(candidate);
    }
    this.queue = [];
    this.queueHead = 0;
  }

  private isConfirmedNear(pair: string, ts: number): boolean {
    const times = this.confirmedAt.get(pair);
    return times !== undefined && times.some((time) => Math.abs(time - ts) <= CONFIRMATION_WINDOW);
  }

  private hold(candidate: Candidate): void {
    if (this.pendingCount >= MAX_PENDING) this.dropOldest();
    this.queue.push(candidate);
    let waiting = this.pendingByPair.get(candidate.pair);
    if (waiting === undefined) this.pendingByPair.set(candidate.pair, (waiting = []));
    waiting.push(candidate);
    this.pendingCount++;
  }

  private dropOldest(): void {
    while (this.queueHead < this.queue.length) {
      const candidate = this.queue[this.queueHead++] as Candidate;
      if (!candidate.settled) {
        this.settle(candidate);
        this.forgetSettled(candidate.pair);
        return;
      }
    }
  }

  /** Mark a candidate as no longer pending (confirmed, dropped or reported). */
  private settle(candidate: Candidate): void {
    if (candidate.settled) return;
    candidate.settled = true;
    this.pendingCount--;
  }

  /**
   * Remove settled candidates from the front of the pair's list. Lists are in arrival order, like
   * the queue, so the candidates the queue settles are always at the front.
   */
  private forgetSettled(pair: string): void {
    const waiting = this.pendingByPair.get(pair);
    if (waiting === undefined) return;
    let settled = 0;
    while (settled < waiting.length && (waiting[settled] as Candidate).settled) settled++;
    if (settled === waiting.length) this.pendingByPair.delete(pair);
    else if (settled > 0) waiting.splice(0, settled);
  }

  private resolve(candidate: Candidate): void {
    this.settle(candidate);
    this.forgetSettled(candidate.pair);
    if (candidate.reported.has(candidate.pair)) return;
    candidate.reported.add(candidate.pair);
    this.options.report(candidate);
  }

  private compactQueue(): void {
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
  }

  /** Forget pairs whose newest confirmation can no longer clear any future candidate. */
  private sweepConfirmations(networkTime: number): void {
    const horizon = networkTime - 2 * CONFIRMATION_WINDOW;
    for (const [pair, times] of this.confirmedAt) {
      if ((times[times.length - 1] as number) < horizon) this.confirmedAt.delete(pair);
    }
  }
}
