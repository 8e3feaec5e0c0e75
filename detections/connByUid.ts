// The one join of application records (ssl.log, ssh.log, weird.log) with the conn.log flow of the
// same uid, owned by the engine and shared by every detector that asks (DetectionHost.withConnOf).
// Only what the joins need is kept: start time and byte counts of TCP flows that carried payload
// (the records that ask come from protocol analyzers, which need payload); the asking record has
// the connection's addresses itself. Zeek writes both with the connection's start time, so the
// flow usually arrives first: flows are kept for FLOW_RETENTION s of network time (at most
// MAX_FLOWS) in typed arrays, found by two 32-bit hashes of the uid, so remembering a flow is one
// map insertion and keeps no string or record alive. When the record comes first, it waits until
// its flow shows up or network time passes its deadline (Slips waits in wall-clock time).

import type { ConnRecord } from '../inputs/records.js';

/** What a join hands over: the flow's start time and bytes sent by each side. */
export interface JoinedFlow {
  readonly ts: number;
  readonly sbytes: number;
  readonly dbytes: number;
}

/** Flows remembered at most (oldest dropped first). */
const MAX_FLOWS = 1 << 15;
/** Flows older than this many seconds of network time are dropped (Zeek's TCP inactivity timeout). */
const FLOW_RETENTION = 300;
/** Records waiting for their flow at most (the one with the oldest uid is dropped first). */
const MAX_PENDING = 5_000;

interface Waiting {
  deadline: number;
  onFlow: (flow: JoinedFlow) => void;
}

/** FNV-1a over the UTF-16 code units of text, from a given offset basis, as an int32. */
function fnv1a(text: string, basis: number): number {
  let hash = basis;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 16_777_619);
  return hash | 0;
}

const keyOf = (uid: string): number => fnv1a(uid, 0x811c9dc5);
/** A second, independent hash that confirms a match of the first. */
const checkOf = (uid: string): number => fnv1a(uid, 0x2f3a9b71);

/** True for the flows an application record can ask for: TCP with payload and a uid. */
export function isJoinableFlow(flow: ConnRecord): boolean {
  return flow.proto === 'tcp' && flow.uid !== '' && flow.sbytes + flow.dbytes > 0;
}

export class ConnJoin {
  /** keyOf(uid) -> slot of the ring below. */
  private readonly slotOfKey = new Map<number, number>();
  private readonly keys = new Int32Array(MAX_FLOWS);
  private readonly checks = new Int32Array(MAX_FLOWS);
  private readonly starts = new Float64Array(MAX_FLOWS);
  private readonly sent = new Float64Array(MAX_FLOWS);
  private readonly received = new Float64Array(MAX_FLOWS);
  /** Ring of slots in arrival order: [oldest, oldest + count). */
  private oldest = 0;
  private count = 0;
  /** uid -> records waiting for the flow of that uid. */
  private readonly pending = new Map<string, Waiting[]>();
  /** Earliest deadline among the waiting records (Infinity when none wait). */
  private nextDeadline = Infinity;

  /** Remember a flow (see isJoinableFlow) and answer the records waiting for it. */
  onConn(flow: ConnRecord): void {
    if (!isJoinableFlow(flow)) return;
    if (this.count === MAX_FLOWS) this.dropOldest();
    const slot = (this.oldest + this.count) % MAX_FLOWS;
    this.count += 1;
    const key = keyOf(flow.uid);
    this.keys[slot] = key;
    this.checks[slot] = checkOf(flow.uid);
    this.starts[slot] = flow.ts;
    this.sent[slot] = flow.sbytes;
    this.received[slot] = flow.dbytes;
    this.slotOfKey.set(key, slot);
    if (this.pending.size === 0) return;
    const waiting = this.pending.get(flow.uid);
    if (waiting === undefined) return;
    this.pending.delete(flow.uid);
    const joined: JoinedFlow = { ts: flow.ts, sbytes: flow.sbytes, dbytes: flow.dbytes };
    for (const request of waiting) if (request.deadline >= flow.ts) request.onFlow(joined);
  }

  /** Run onFlow now if the flow of uid is known, else when it arrives before ts + maxWait. */
  request(uid: string, ts: number, maxWait: number, onFlow: (flow: JoinedFlow) => void): void {
    if (uid === '') return;
    const slot = this.slotOfKey.get(keyOf(uid));
    if (slot !== undefined && this.checks[slot] === checkOf(uid)) {
      onFlow({ ts: this.starts[slot] as number, sbytes: this.sent[slot] as number, dbytes: this.received[slot] as number });
      return;
    }
    if (this.pending.size >= MAX_PENDING && !this.pending.has(uid)) this.pending.delete(this.pending.keys().next().value as string);
    const deadline = ts + maxWait;
    const waiting = this.pending.get(uid);
    if (waiting === undefined) this.pending.set(uid, [{ deadline, onFlow }]);
    else waiting.push({ deadline, onFlow });
    if (deadline < this.nextDeadline) this.nextDeadline = deadline;
  }

  /** Drop records whose deadline passed and flows too old to be asked for. */
  advanceTime(networkTime: number): void {
    if (networkTime > this.nextDeadline) this.dropExpiredRequests(networkTime);
    const oldestKept = networkTime - FLOW_RETENTION;
    while (this.count > 0 && (this.starts[this.oldest] as number) < oldestKept) this.dropOldest();
  }

  /** End of input: records still waiting will never be answered. */
  finish(): void {
    this.pending.clear();
    this.nextDeadline = Infinity;
  }

  private dropOldest(): void {
    const slot = this.oldest;
    const key = this.keys[slot] as number;
    // A later flow whose uid hashes alike may own the key by now.
    if (this.slotOfKey.get(key) === slot) this.slotOfKey.delete(key);
    this.oldest = (slot + 1) % MAX_FLOWS;
    this.count -= 1;
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
