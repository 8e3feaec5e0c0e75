// Write-behind to Redis: collects what changed in the profiler (profiles, time windows, aggregates,
// timeline, evidence, alerts) and writes it per flush as one command batch (core/redisBatch.ts).
// One flush is in flight at a time; processing continues while Redis executes it.
// The keys and channels written here are the contract with the TUI: docs/redis.md.

import type { Redis } from 'ioredis';
import type { Alert, Evidence } from './evidence.js';
import { CommandBatch, enableBatches } from './redisBatch.js';
import type { EvidenceListener } from './evidenceHandler.js';
import type { Profiler, TimeWindow } from './profiler.js';

/** Version tag added to every published payload (Slips' receivers check it). */
export const PAYLOAD_VERSION = '1.1.21';
/** Members kept per aggregate hash once a window is closed (and written at most while open). */
export const AGG_TOP_N = 500;
/** Keys listed per `tui:tick` message. */
const TICK_MAX_KEYS = 1000;

function payload(value: object): string {
  return withVersion(JSON.stringify(value));
}

/** Adds the version field to an already serialized JSON object. */
function withVersion(json: string): string {
  return `${json.slice(0, -1)},"version":"${PAYLOAD_VERSION}"}`;
}

export interface RedisWriterOptions {
  /** Newest flows kept per time window in `<p>_<tw>_timeline`. */
  timelineCap: number;
  /** parameters.time_window_width */
  width: number;
}

export class RedisWriter implements EvidenceListener {
  private pendingEvidence: Array<[TimeWindow, Evidence]> = [];
  private pendingAlerts: Array<[TimeWindow, Alert]> = [];
  private pendingClosed: TimeWindow[] = [];
  private inFlight: Promise<unknown> | undefined;
  private failure: Error | undefined;
  /** Redis calls sent (each carries many commands, see CommandBatch). */
  commandsSent = 0;

  constructor(
    private readonly redis: Redis,
    private readonly profiler: Profiler,
    private readonly options: RedisWriterOptions,
  ) {
    enableBatches(redis);
  }

  evidenceAdded(evidence: Evidence, tw: TimeWindow): void {
    this.pendingEvidence.push([tw, evidence]);
  }

  alertRaised(alert: Alert, _evidence: readonly string[], tw: TimeWindow): void {
    this.pendingAlerts.push([tw, alert]);
  }

  windowClosed(tw: TimeWindow): void {
    this.pendingClosed.push(tw);
  }

  /** Write the `analysis` hash (input, output dir, versions, start/end times...). */
  async writeAnalysis(fields: Record<string, string | number>): Promise<void> {
    await this.redis.hset('analysis', fields);
  }

  /** Queue everything that changed and send it; waits for the previous flush first. */
  async flush(counters: { processedFlows: number; networkTime: number }): Promise<void> {
    if (this.inFlight !== undefined) await this.inFlight;
    if (this.failure !== undefined) throw this.failure;
    const batch = new CommandBatch();
    const changedKeys = this.writeProfilesAndWindows(batch);
    this.writeEvidence(batch);
    this.writeAlerts(batch);
    this.writeClosedWindows(batch);
    batch.add('SET', 'processed_flows_by_profiler_so_far', counters.processedFlows);
    if (Number.isFinite(counters.networkTime)) batch.add('SET', 'slips_internal_time', counters.networkTime);
    if (changedKeys.length > 0) {
      batch.add('PUBLISH', 'tui:tick', payload({ changed: changedKeys.slice(0, TICK_MAX_KEYS), more: changedKeys.length > TICK_MAX_KEYS }));
    }
    this.inFlight = batch.send(this.redis).then(
      (calls) => {
        this.commandsSent += calls;
      },
      (error: Error) => {
        this.failure = error;
      },
    );
  }

  /** Without a Redis to write to: drop what would have been written, so memory stays bounded. */
  discardPending(): void {
    for (const tw of this.profiler.takeChanges().windows) {
      tw.pendingTimeline = [];
      if (tw.closed) this.profiler.releaseAggregates(tw);
    }
    this.pendingEvidence = [];
    this.pendingAlerts = [];
    this.pendingClosed = [];
  }

  /** Wait until everything sent has been executed. */
  async drain(): Promise<void> {
    if (this.inFlight !== undefined) await this.inFlight;
    this.inFlight = undefined;
    if (this.failure !== undefined) throw this.failure;
  }

  private writeProfilesAndWindows(batch: CommandBatch): string[] {
    const { newProfiles, newWindows, windows, profiles } = this.profiler.takeChanges();
    if (newProfiles.length > 0) {
      const members: Array<string | number> = [];
      for (const profile of newProfiles) {
        members.push(profile.firstTs, profile.key);
        batch.add('HSET', profile.key, 'starttime', profile.firstTs, 'duration', this.options.width, 'confidence', 0.05, 'ip', profile.ip);
      }
      batch.addItems('ZADD', 'profiles', members, 2);
      for (const profile of newProfiles) {
        batch.add('PUBLISH', 'new_ip', payload({ text: profile.ip }));
        batch.add('PUBLISH', 'new_profile', payload({ text: profile.key }));
      }
    }
    for (const tw of newWindows) batch.add('ZADD', `tws${tw.profile.key}`, tw.start, tw.twid);
    for (const profile of profiles) {
      const fields: Array<string | number> = [
        'flows', profile.flows, 'evidence', profile.evidenceCount, 'alerts', profile.alertCount, 'score', profile.score,
      ];
      if (profile.mac !== '') fields.push('MAC', profile.mac);
      if (profile.alertCount > 0) fields.push('threat_level', 'critical');
      batch.add('HSET', profile.key, ...fields);
    }
    const modified: Array<string | number> = [];
    const threat: Array<string | number> = [];
    const changedKeys: string[] = [];
    for (const tw of windows) {
      changedKeys.push(tw.key);
      this.writeWindow(batch, tw);
      if (!tw.closed && Number.isFinite(tw.lastTs)) modified.push(tw.lastTs, tw.key);
      threat.push(tw.accumulatedThreatLevel, tw.key);
    }
    batch.addItems('ZADD', 'modified_timewindows', modified, 2);
    batch.addItems('ZADD', 'accumulated_threat_levels', threat, 2);
    for (const tw of newWindows) batch.add('PUBLISH', 'new_timewindow', payload({ text: tw.key }));
    return changedKeys;
  }

  private writeWindow(batch: CommandBatch, tw: TimeWindow): void {
    const stats: Array<string | number> = [
      'flows', tw.flows, 'out_flows', tw.outFlows, 'in_flows', tw.inFlows, 'established_flows', tw.establishedFlows,
      'pkts', tw.pkts, 'bytes', tw.bytes, 'sbytes', tw.sbytes, 'dbytes', tw.dbytes,
      'evidence', tw.evidenceCount, 'alerts', tw.alerts.size, 'accumulated_threat_level', tw.accumulatedThreatLevel,
      'score', tw.totalThreat, 'closed', tw.closed ? 1 : 0, 'start', tw.start, 'end', tw.end,
    ];
    if (Number.isFinite(tw.firstTs)) stats.push('first_ts', tw.firstTs, 'last_ts', tw.lastTs);
    for (const [kind, count] of tw.recordsByKind) stats.push(`records_${kind}`, count);
    batch.add('HSET', `${tw.key}:stats`, ...stats);

    if (!tw.aggregatesReleased) this.writeAggregates(batch, tw);

    if (tw.pendingTimeline.length > 0) {
      const cap = this.options.timelineCap;
      const entries = tw.pendingTimeline.length > cap ? tw.pendingTimeline.slice(-cap) : tw.pendingTimeline;
      const members: Array<string | number> = [];
      for (const [ts, activity] of entries) members.push(ts, activity);
      const key = `${tw.key}_timeline`;
      batch.addItems('ZADD', key, members, 2);
      tw.timelineWritten += entries.length;
      if (tw.timelineWritten > cap) {
        batch.add('ZREMRANGEBYRANK', key, 0, -(cap + 1));
        tw.timelineWritten = cap;
      }
      tw.pendingTimeline = [];
    }
  }

  /**
   * While open: the changed buckets, at most AGG_TOP_N distinct members per dimension (the first
   * ones seen). Once closed: exactly the top AGG_TOP_N by flows (then the buckets are freed).
   */
  private writeAggregates(batch: CommandBatch, tw: TimeWindow): void {
    for (const [dimension, table] of tw.aggregates) {
      const key = `${tw.key}:agg:${dimension}`;
      const fields: string[] = [];
      const changed = table.takeChanged();
      if (tw.closed && table.size > AGG_TOP_N) {
        const order = Array.from({ length: table.size }, (_, i) => i);
        order.sort((a, b) => table.flows[b]! - table.flows[a]! || table.bytes[b]! - table.bytes[a]!);
        for (const index of order.slice(0, AGG_TOP_N)) fields.push(table.members[index]!, table.value(index));
        batch.add('DEL', key);
      } else {
        for (const index of changed) {
          if (!table.written.has(index)) {
            if (table.written.size >= AGG_TOP_N) continue;
            table.written.add(index);
          }
          fields.push(table.members[index]!, table.value(index));
        }
      }
      batch.addItems('HSET', key, fields, 2);
    }
    if (tw.closed) this.profiler.releaseAggregates(tw);
  }

  private writeEvidence(batch: CommandBatch): void {
    if (this.pendingEvidence.length === 0) return;
    const byWindow = new Map<string, Evidence[]>();
    const causes: string[] = [];
    for (const [tw, evidence] of this.pendingEvidence) {
      let list = byWindow.get(tw.key);
      if (list === undefined) byWindow.set(tw.key, (list = []));
      list.push(evidence);
      causes.push(evidence.id, JSON.stringify(evidence.uid));
    }
    for (const [key, list] of byWindow) {
      const fields: string[] = [];
      const published: string[] = [];
      for (const evidence of list) {
        const json = JSON.stringify(evidence);
        fields.push(evidence.id, json);
        published.push(withVersion(json));
      }
      batch.addItems('HSET', `${key}_evidence`, fields, 2);
      batch.addItems('SADD', `processed_evidence_${key}`, list.map((e) => e.id), 1);
      for (const message of published) batch.add('PUBLISH', 'evidence_added', message);
    }
    batch.addItems('HSET', 'flows_causing_evidence', causes, 2);
    batch.add('INCRBY', 'number_of_evidence', this.pendingEvidence.length);
    this.pendingEvidence = [];
  }

  private writeAlerts(batch: CommandBatch): void {
    if (this.pendingAlerts.length === 0) return;
    for (const [tw, alert] of this.pendingAlerts) {
      batch.add('HSET', tw.key, 'alerts', JSON.stringify(Object.fromEntries(tw.alerts)));
      batch.add('HSET', 'alerts', alert.id, JSON.stringify(alert));
      batch.add('ZADD', 'alerts_by_time', alert.last_flow_ts, alert.id);
      batch.add('PUBLISH', 'new_alert', payload({
        profile: alert.profile,
        timewindow: alert.timewindow,
        last_evidence: alert.last_evidence,
        accumulated_threat_level: alert.accumulated_threat_level,
        id: alert.id,
        correl_id: alert.correl_id,
        last_flow_datetime: new Date(alert.last_flow_ts * 1000).toISOString(),
        threat_level: alert.threat_level,
        confidence: alert.confidence,
      }));
    }
    batch.add('INCRBY', 'number_of_alerts', this.pendingAlerts.length);
    this.pendingAlerts = [];
  }

  private writeClosedWindows(batch: CommandBatch): void {
    // A window reopened by a late flow since it closed is open again: not announced as closed.
    const closed = this.pendingClosed.filter((tw) => tw.closed);
    this.pendingClosed = [];
    batch.addItems('ZREM', 'modified_timewindows', closed.map((tw) => tw.key), 1);
    for (const tw of closed) batch.add('PUBLISH', 'tw_closed', payload({ text: tw.key }));
  }
}
