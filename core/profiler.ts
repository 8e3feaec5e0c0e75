// Profiler: one profile per IP, split into time windows numbered as Slips numbers them, with the
// per-window aggregates (counters, top talkers, timeline, detector state, evidence bookkeeping) kept
// in memory. It only records facts; the engine decides when windows close and the Redis writer
// decides when they are written.

import type { ConnRecord } from '../inputs/records.js';
import type { InterpretedState } from '../inputs/state.js';

/** Aggregation dimensions kept per time window (see docs/redis.md, `<p>_<tw>:agg:<dim>`). */
export const AGG_DIMENSIONS = ['dport:client', 'daddr:client', 'dport:server', 'saddr:server'] as const;
export type AggDimension = (typeof AGG_DIMENSIONS)[number];

/**
 * The counters of one aggregation dimension of one window: member `<proto>/<key>/<est|notest>` ->
 * flows, pkts, bytes. Counters live in typed arrays indexed by member number, so a window with
 * thousands of members (a scanner's destinations) holds no per-member objects for the GC to trace.
 */
export class AggTable {
  private readonly indexOf = new Map<string, number>();
  readonly members: string[] = [];
  flows = new Float64Array(8);
  pkts = new Float64Array(8);
  bytes = new Float64Array(8);
  /** Members changed since the last write, and a flag per member to list each once. */
  changed: number[] = [];
  private changedFlag = new Uint8Array(8);
  /** Members written to Redis while the window was open (at most AGG_TOP_N, see the writer). */
  readonly written = new Set<number>();

  get size(): number {
    return this.members.length;
  }

  bump(member: string, pkts: number, bytes: number): void {
    let index = this.indexOf.get(member);
    if (index === undefined) {
      index = this.members.length;
      if (index === this.flows.length) this.grow();
      this.indexOf.set(member, index);
      this.members.push(member);
    }
    this.flows[index]! += 1;
    this.pkts[index]! += pkts;
    this.bytes[index]! += bytes;
    if (this.changedFlag[index] === 0) {
      this.changedFlag[index] = 1;
      this.changed.push(index);
    }
  }

  /** The changed members (and clears the list). */
  takeChanged(): number[] {
    const changed = this.changed;
    for (const index of changed) this.changedFlag[index] = 0;
    this.changed = [];
    return changed;
  }

  /** `flows,pkts,bytes` of a member. */
  value(index: number): string {
    return `${this.flows[index]},${this.pkts[index]},${this.bytes[index]}`;
  }

  private grow(): void {
    const size = this.flows.length * 2;
    const grown = (old: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> => {
      const array = new Float64Array(size);
      array.set(old);
      return array;
    };
    this.flows = grown(this.flows);
    this.pkts = grown(this.pkts);
    this.bytes = grown(this.bytes);
    const flags = new Uint8Array(size);
    flags.set(this.changedFlag);
    this.changedFlag = flags;
  }
}

export class TimeWindow {
  /** `profile_<ip>_timewindow<n>`: the Slips key prefix of this window. */
  readonly key: string;
  readonly twid: string;
  // Counters of flows stored in this window.
  flows = 0;
  outFlows = 0;
  inFlows = 0;
  pkts = 0;
  bytes = 0;
  sbytes = 0;
  dbytes = 0;
  establishedFlows = 0;
  /** Non-conn records (dns, http, ...) per kind. */
  readonly recordsByKind = new Map<string, number>();
  firstTs = Infinity;
  lastTs = -Infinity;
  readonly aggregates = new Map<AggDimension, AggTable>();
  /** True once a closed window's aggregates were written and freed. */
  aggregatesReleased = false;
  /** Timeline entries not yet written to Redis: [ts, activity JSON]. */
  pendingTimeline: Array<[number, string]> = [];
  /** Entries written to the Redis timeline so far (to trim it). */
  timelineWritten = 0;
  /** Detector state bags, dropped when the window closes. */
  readonly detectorState = new Map<string, unknown>();
  portScanner = false;
  // Evidence bookkeeping (the evidence handler owns the semantics).
  /** Accumulated threat level since the last alert (Slips' ATL, reset to 0 by an alert). */
  accumulatedThreatLevel = 0;
  /** Weighted threat of every SRC evidence ever (not reset): the window's score. */
  totalThreat = 0;
  /** SRC evidence not yet part of an alert: id -> timestamp. */
  readonly unalertedEvidence = new Map<string, number>();
  evidenceCount = 0;
  /** alert id -> evidence ids (Slips' `alerts` field of `<p>_<tw>`). */
  readonly alerts = new Map<string, string[]>();
  /** Queued for the next Redis write. */
  dirty = false;
  closed = false;

  constructor(
    readonly profile: Profile,
    readonly number: number,
    readonly start: number,
    readonly end: number,
  ) {
    this.twid = `timewindow${number}`;
    this.key = `${profile.key}_${this.twid}`;
  }

  /** Count one flow in the member `<proto>/<key>/<est|notest>` of a dimension. */
  bump(dimension: AggDimension, member: string, pkts: number, bytes: number): void {
    let table = this.aggregates.get(dimension);
    if (table === undefined) {
      table = new AggTable();
      this.aggregates.set(dimension, table);
    }
    table.bump(member, pkts, bytes);
  }
}

export class Profile {
  /** `profile_<ip>` */
  readonly key: string;
  readonly timeWindows = new Map<number, TimeWindow>();
  /** Detector state that lives as long as the profile. */
  readonly detectorState = new Map<string, unknown>();
  flows = 0;
  /** Timestamp of the newest record stored for the profile. */
  lastTs = 0;
  evidenceCount = 0;
  alertCount = 0;
  /** Highest window score seen (see TimeWindow.totalThreat). */
  score = 0;
  mac = '';
  /** Queued for the next Redis write. */
  dirty = false;
  /** The window the last record of this profile went to (most records go to the same one). */
  currentWindow: TimeWindow | undefined;

  constructor(readonly ip: string, readonly firstTs: number) {
    this.key = `profile_${ip}`;
  }
}

export interface TimeWindowNumbering {
  /** Seconds. */
  width: number;
  onlyOneTw: boolean;
}

export class Profiler {
  readonly profiles = new Map<string, Profile>();
  /** Time windows that are open (not closed yet), keyed by TimeWindow.key. */
  readonly openWindows = new Map<string, TimeWindow>();
  /** Slips' analysis.file_start: start time of the first stored flow (origin of TW numbering). */
  origin: number | undefined;
  /** Created since the last Redis write. */
  newProfiles: Profile[] = [];
  newWindows: TimeWindow[] = [];
  /** Changed since the last Redis write. */
  dirtyWindows = new Set<TimeWindow>();
  dirtyProfiles = new Set<Profile>();

  constructor(private readonly numbering: TimeWindowNumbering) {}

  get profileCount(): number {
    return this.profiles.size;
  }

  /** Profiles with a record newer than `since` (network time). */
  profilesActiveSince(since: number): number {
    let active = 0;
    for (const profile of this.profiles.values()) if (profile.lastTs >= since) active += 1;
    return active;
  }

  /** The profile of an IP, created on first sight. */
  profileOf(ip: string, ts: number): Profile {
    let profile = this.profiles.get(ip);
    if (profile === undefined) {
      profile = new Profile(ip, ts);
      this.profiles.set(ip, profile);
      this.newProfiles.push(profile);
    }
    return profile;
  }

  /** Slips' numbering: n = floor((ts - origin) / width) + 1; a boundary ts belongs to the next window. */
  windowNumberOf(ts: number): number {
    if (this.origin === undefined) this.origin = ts;
    if (this.numbering.onlyOneTw) return 1;
    return Math.floor((ts - this.origin) / this.numbering.width) + 1;
  }

  /** The time window of a profile that contains ts, created (and reopened) on demand. */
  windowOf(profile: Profile, ts: number): TimeWindow {
    const current = profile.currentWindow;
    if (current !== undefined && !current.closed && ts >= current.start && ts < current.end && !this.numbering.onlyOneTw) {
      return current;
    }
    const number = this.windowNumberOf(ts);
    let tw = profile.timeWindows.get(number);
    if (tw === undefined) {
      const width = this.numbering.width;
      const start = this.numbering.onlyOneTw ? (this.origin as number) : (this.origin as number) + width * (number - 1);
      tw = new TimeWindow(profile, number, start, start + width);
      profile.timeWindows.set(number, tw);
      this.newWindows.push(tw);
      this.openWindows.set(tw.key, tw);
    } else if (tw.closed) {
      // A late flow for a closed window: reopen it so the flow is not lost.
      tw.closed = false;
      this.openWindows.set(tw.key, tw);
    }
    profile.currentWindow = tw;
    return tw;
  }

  /** Store a conn record seen from the client side (the profile is saddr). */
  storeOutgoingConn(tw: TimeWindow, flow: ConnRecord, state: InterpretedState): void {
    const pkts = flow.spkts + flow.dpkts;
    const bytes = flow.sbytes + flow.dbytes;
    this.countFlow(tw, flow.ts, pkts, bytes, flow.sbytes, flow.dbytes, state);
    tw.outFlows += 1;
    const est = state === 'Established' ? 'est' : 'notest';
    tw.bump('dport:client', `${flow.proto}/${flow.dport}/${est}`, pkts, bytes);
    tw.bump('daddr:client', `${flow.proto}/${flow.daddr}/${est}`, pkts, bytes);
  }

  /** Store a conn record seen from the server side (analysis_direction all: the profile is daddr). */
  storeIncomingConn(tw: TimeWindow, flow: ConnRecord, state: InterpretedState): void {
    const pkts = flow.spkts + flow.dpkts;
    const bytes = flow.sbytes + flow.dbytes;
    this.countFlow(tw, flow.ts, pkts, bytes, flow.dbytes, flow.sbytes, state);
    tw.inFlows += 1;
    const est = state === 'Established' ? 'est' : 'notest';
    tw.bump('dport:server', `${flow.proto}/${flow.dport}/${est}`, pkts, bytes);
    tw.bump('saddr:server', `${flow.proto}/${flow.saddr}/${est}`, pkts, bytes);
  }

  /** Store any other record kind (dns, http, ...): counted per kind. */
  storeRecord(tw: TimeWindow, kind: string, ts: number): void {
    tw.recordsByKind.set(kind, (tw.recordsByKind.get(kind) ?? 0) + 1);
    if (ts > tw.profile.lastTs) tw.profile.lastTs = ts;
    if (ts < tw.firstTs) tw.firstTs = ts;
    if (ts > tw.lastTs) tw.lastTs = ts;
    this.markDirty(tw);
  }

  private countFlow(
    tw: TimeWindow, ts: number, pkts: number, bytes: number, sent: number, received: number, state: InterpretedState,
  ): void {
    tw.flows += 1;
    tw.pkts += pkts;
    tw.bytes += bytes;
    tw.sbytes += sent;
    tw.dbytes += received;
    if (state === 'Established') tw.establishedFlows += 1;
    if (ts < tw.firstTs) tw.firstTs = ts;
    if (ts > tw.lastTs) tw.lastTs = ts;
    tw.profile.flows += 1;
    if (ts > tw.profile.lastTs) tw.profile.lastTs = ts;
    this.markDirty(tw);
  }

  markDirty(tw: TimeWindow): void {
    if (!tw.dirty) {
      tw.dirty = true;
      this.dirtyWindows.add(tw);
    }
    const profile = tw.profile;
    if (!profile.dirty) {
      profile.dirty = true;
      this.dirtyProfiles.add(profile);
    }
  }

  /** Hand the changes since the last call to the writer and start collecting anew. */
  takeChanges(): { newProfiles: Profile[]; newWindows: TimeWindow[]; windows: TimeWindow[]; profiles: Profile[] } {
    const changes = {
      newProfiles: this.newProfiles,
      newWindows: this.newWindows,
      windows: [...this.dirtyWindows],
      profiles: [...this.dirtyProfiles],
    };
    for (const tw of changes.windows) tw.dirty = false;
    for (const profile of changes.profiles) profile.dirty = false;
    this.newProfiles = [];
    this.newWindows = [];
    this.dirtyWindows.clear();
    this.dirtyProfiles.clear();
    return changes;
  }

  /**
   * Close the windows whose last flow is at least one width older than networkTime (Slips' rule).
   * Returns them; their detector state is dropped by the caller after detectors saw them.
   */
  windowsToClose(networkTime: number): TimeWindow[] {
    const limit = networkTime - this.numbering.width;
    const closing: TimeWindow[] = [];
    for (const tw of this.openWindows.values()) {
      if (tw.lastTs <= limit) closing.push(tw);
    }
    return closing;
  }

  /** Every open window (end of input). */
  allOpenWindows(): TimeWindow[] {
    return [...this.openWindows.values()];
  }

  /** Close a window: its detector state is dropped; aggregates stay until written (see releaseAggregates). */
  markClosed(tw: TimeWindow): void {
    tw.closed = true;
    tw.detectorState.clear();
    tw.unalertedEvidence.clear();
    this.openWindows.delete(tw.key);
    this.markDirty(tw);
  }

  /** After a closed window was written: free its aggregates (a reopened window keeps counting without them). */
  releaseAggregates(tw: TimeWindow): void {
    tw.aggregates.clear();
    tw.aggregatesReleased = true;
  }
}
