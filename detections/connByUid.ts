// Joins an application record (ssl.log, ssh.log, weird.log) with the conn.log flow of the same uid,
// for checks that need the connection's addresses and byte counts. Zeek writes both with the
// connection's start time, so the flow usually arrives first; when it does not, the request waits
// until the flow shows up or network time passes its deadline (Slips waits in wall-clock time).
// Recent flows are kept in a map bounded by count and age.

import type { ConnRecord } from '../inputs/records.js';

/** What the checks need from a conn.log flow. */
export interface ConnSummary {
  uid: string;
  ts: number;
  saddr: string;
  daddr: string;
  sbytes: number;
  dbytes: number;
}

/** Flows remembered at most (oldest dropped first). */
const MAX_FLOWS = 20_000;
/** Flows older than this many seconds of network time are dropped. */
const FLOW_RETENTION = 600;
/** Requests waiting for their flow at most (oldest dropped first). */
const MAX_PENDING = 5_000;

interface Pending<T> {
  uid: string;
  deadline: number;
  payload: T;
}

export class ConnByUid<T> {
  private readonly flows = new Map<string, ConnSummary>();
  private pending: Pending<T>[] = [];

  /**
   * @param maxWait seconds of network time a request waits for its flow.
   * @param onMatch called once per request whose flow is known or arrives in time.
   */
  constructor(
    private readonly maxWait: number,
    private readonly onMatch: (payload: T, flow: ConnSummary) => void,
  ) {}

  /** Remember a flow and answer the requests waiting for it. */
  onConn(flow: ConnRecord): void {
    if (flow.uid === '') return;
    const summary: ConnSummary = {
      uid: flow.uid, ts: flow.ts, saddr: flow.saddr, daddr: flow.daddr, sbytes: flow.sbytes, dbytes: flow.dbytes,
    };
    this.flows.delete(flow.uid);
    this.flows.set(flow.uid, summary);
    if (this.flows.size > MAX_FLOWS) this.flows.delete(this.flows.keys().next().value as string);
    if (this.pending.length === 0) return;
    const matched = this.pending.filter((request) => request.uid === flow.uid);
    if (matched.length === 0) return;
    this.pending = this.pending.filter((request) => request.uid !== flow.uid);
    for (const request of matched) if (request.deadline >= flow.ts) this.onMatch(request.payload, summary);
  }

  /** Run onMatch now if the flow of uid is known, else when it arrives before ts + maxWait. */
  request(uid: string, ts: number, payload: T): void {
    const flow = this.flows.get(uid);
    if (flow !== undefined) {
      this.onMatch(payload, flow);
      return;
    }
    if (uid === '') return;
    if (this.pending.length >= MAX_PENDING) this.pending.shift();
    this.pending.push({ uid, deadline: ts + this.maxWait, payload });
  }

  /** Drop requests whose deadline passed and flows too old to be asked for. */
  advanceTime(networkTime: number): void {
    if (this.pending.length > 0) this.pending = this.pending.filter((request) => request.deadline >= networkTime);
    for (const [uid, flow] of this.flows) {
      if (flow.ts >= networkTime - FLOW_RETENTION) break;
      this.flows.delete(uid);
    }
  }

  /** End of input: requests still waiting will never be answered. */
  finish(): void {
    this.pending = [];
  }
}
