// The one join of application records (ssl.log, ssh.log, weird.log) with the conn.log flow of the
// same uid, owned by the engine and shared by every detector that asks (DetectionHost.withConnOf).
// Only TCP flows that carried payload are kept: the records that ask for a flow come from protocol
// analyzers, which need payload. Zeek writes both with the connection's start time, so the flow
// usually arrives first and is kept for FLOW_RETENTION s of network time (at most MAX_FLOWS);
// when the record comes first, it waits until its flow shows up or network time passes its
// deadline (Slips waits in wall-clock time). Each flow costs one map insertion and one deletion.

import type { ConnRecord } from '../inputs/records.js';

/** Flows remembered at most (oldest dropped first). */
const MAX_FLOWS = 50_000;
/** Flows older than this many seconds of network time are dropped. */
const FLOW_RETENTION = 600;
/** Requests waiting for their flow at most (the one with the oldest uid is dropped first). */
const MAX_PENDING = 5_000;

interface Waiting {
  deadline: number;
  onFlow: (flow: ConnRecord) => void;
}

/** True for the flows an application record can ask for: TCP with payload and a uid. */
export function isJoinableFlow(flow: ConnRecord): boolean {
  return flow.proto === 'tcp' && flow.uid !== '' && flow.sbytes + flow.dbytes > 0;
}

export class ConnJoin {
  /** uid -> flow, in arrival (so roughly start-time) order. */
  private readonly flows = new Map<string, ConnRecord>();
  /** uid -> requests waiting for the flow of that uid. */
  private readonly pending = new Map<string, Waiting[]>();
  /** Earliest deadline among the waiting requests (Infinity when none wait). */
  private nextDeadline = Infinity;

  /** Remember a flow (see isJoinableFlow) and answer the requests waiting for it. */
  onConn(flow: ConnRecord): void {
    if (!isJoinableFlow(flow)) return;
    const flows = this.flows;
    flows.set(flow.uid, flow);
    if (flows.size > MAX_FLOWS) flows.delete(flows.keys().next().value as string);
    if (this.pending.size === 0) return;
    const waiting = this.pending.get(flow.uid);
    if (waiting === undefined) return;
    this.pending.delete(flow.uid);
    for (const request of waiting) if (request.deadline >= flow.ts) request.onFlow(flow);
  }

  /** Run onFlow now if the flow of uid is known, else when it arrives before ts + maxWait. */
  request(uid: string, ts: number, maxWait: number, onFlow: (flow: ConnRecord) => void): void {
    const flow = this.flows.get(uid);
    if (flow !== undefined) {
      onFlow(flow);
      return;
    }
    if (uid === '') return;
    if (this.pending.size >= MAX_PENDING && !this.pending.has(uid)) this.pending.delete(this.pending.keys().next().value as string);
    const deadline = ts + maxWait;
    const waiting = this.pending.get(uid);
    if (waiting === undefined) this.pending.set(uid, [{ deadline, onFlow }]);
    else waiting.push({ deadline, onFlow });
    if (deadline < this.nextDeadline) this.nextDeadline = deadline;
  }

  /** Drop requests whose deadline passed and flows too old to be asked for. */
  advanceTime(networkTime: number): void {
    if (networkTime > this.nextDeadline) this.dropExpiredRequests(networkTime);
    const oldest = networkTime - FLOW_RETENTION;
    for (const [uid, flow] of this.flows) {
      if (flow.ts >= oldest) break;
      this.flows.delete(uid);
    }
  }

  /** End of input: requests still waiting will never be answered. */
  finish(): void {
    this.pending.clear();
    this.nextDeadline = Infinity;
  }

  private dropExpiredRequests(networkTime: number): void {
    let next = Infinity;
    for (const [uid, waiting] of this.pending) {
      const alive = waiting.filter((request) => request.deadline >= networkTime);
      if (alive.length === 0) {
        this.pending.delete(uid);
        continue;
      }
      this.pending.set(uid, alive);
      for (const request of alive) next = Math.min(next, request.deadline);
    }
    this.nextDeadline = next;
  }
}
