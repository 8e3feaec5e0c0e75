// Profiler: one profile per IP, split into time windows numbered as Slips numbers them, with the
// per-window aggregates (counters, top talkers, timeline, detector state, evidence bookkeeping) kept
// in memory. It only records facts; the engine decides when windows close and the Redis writer
// decides when they are written.

import type { ConnRecord } from '../inputs/records.js';
import type { InterpretedState } from '../inputs/state.js';

/** Aggregation dimensions kept per time window (see docs/redis.md, `<p>_<tw>:agg:<dim>`). */
export const AGG_DIMENSIONS = ['dport:client', 'daddr:client', 'dport:server', 'saddr:server'] as const;
export type AggDimension = (typeof AGG_DIMENSIONS)[number];

/** Dense index per transport name, so buckets are found without building strings per flow. */
const protoIndexes = new Map<string, number>();
function protoIndex(proto: string): number {
  let index = protoIndexes.get(proto);
  if (index === undefined) {
    index = protoIndexes.size;
    protoIndexes.set(proto, index);
  }
  return index;
}

/** Counters of one aggregate member: `<proto>/<key>/<est|notest>` of one dimension. */
export class AggBucket {
  flows = 0;
  pkts = 0;
  bytes = 0;
  /** Changed since the last write. */
  changed = false;
  /** Written to Redis at least once while the window was open. */
  written = false;
  constructor(readonly dimension: AggDimension, readonly member: string) {}
}

/** The buckets of one dimension: key (port or address) -> buckets by proto/state slot. */
export type AggTable = Map<string | number, AggBucket[]>;

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
  /** Aggregate buckets changed since the last write. */
  changedBuckets: AggBucket[] = [];
  /** Buckets written per dimension while open (capped, see the Redis writer). */
  readonly writtenBuckets = new Map<AggDimension, number>();
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

  /** Count one flow in the bucket (dimension, proto, key, est) and remember the bucket changed. */
  bump(dimension: AggDimension, proto: string, key: string | number, established: boolean, pkts: number, bytes: number): void {
    let table = this.aggregates.get(dimension);
    if (table === undefined) {
      table = new Map();
      this.aggregates.set(dimension, table);
    }
    let slots = table.get(key);
    if (slots === undefined) {
      slots = [];
      table.set(key, slots);
    }
    const slot = protoIndex(proto) * 2 + (established ? 1 : 0);
    let bucket = slots[slot];
    if (bucket === undefined) {
      bucket = new AggBucket(dimension, `${proto}/${key}/${established ? 'est' : 'notest'}`);
      slots[slot] = bucket;
    }
    bucket.flows += 1;
    bucket.pkts += pkts;
    bucket.bytes += bytes;
    if (!bucket.changed) {
      bucket.changed = true;
      this.changedBuckets.push(bucket);
    }
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
    const established = state === 'Established';
    tw.bump('dport:client', flow.proto, flow.dport, established, pkts, bytes);
    tw.bump('daddr:client', flow.proto, flow.daddr, established, pkts, bytes);
  }

  /** Store a conn record seen from the server side (analysis_direction all: the profile is daddr). */
  storeIncomingConn(tw: TimeWindow, flow: ConnRecord, state: InterpretedState): void {
    const pkts = flow.spkts + flow.dpkts;
    const bytes = flow.sbytes + flow.dbytes;
    this.countFlow(tw, flow.ts, pkts, bytes, flow.dbytes, flow.sbytes, state);
    tw.inFlows += 1;
    const established = state === 'Established';
    tw.bump('dport:server', flow.proto, flow.dport, established, pkts, bytes);
    tw.bump('saddr:server', flow.proto, flow.saddr, established, pkts, bytes);
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
    tw.changedBuckets = [];
    tw.aggregatesReleased = true;
  }
}
