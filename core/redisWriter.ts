// Write-behind to Redis: collects what changed in the profiler (profiles, time windows, aggregates,
// timeline, evidence, alerts) and writes it in one pipeline per flush, many values per command.
// One flush is in flight at a time; processing continues while Redis executes it.
// The keys and channels written here are the contract with the TUI: docs/redis.md.

import type { Redis } from 'ioredis';
import type { Alert, Evidence } from './evidence.js';
import type { EvidenceListener } from './evidenceHandler.js';
import type { AggBucket, AggDimension, Profiler, TimeWindow } from './profiler.js';

/** Version tag added to every published payload (Slips' receivers check it). */
export const PAYLOAD_VERSION = '1.1.21';
/** Members kept per aggregate hash once a window is closed (and written at most while open). */
export const AGG_TOP_N = 500;
/** Keys listed per `tui:tick` message. */
const TICK_MAX_KEYS = 1000;

type Pipeline = ReturnType<Redis['pipeline']>;

function payload(value: object): string {
  return withVersion(JSON.stringify(value));
}

/** Adds the version field to an already serialized JSON object. */
function withVersion(json: string): string {
  return `${json.slice(0, -1)},"version":"${PAYLOAD_VERSION}"}`;
}

function bucketValue(bucket: AggBucket): string {
  return `${bucket.flows},${bucket.pkts},${bucket.bytes}`;
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
  commandsSent = 0;
  flushes = 0;

  constructor(
    private readonly redis: Redis,
    private readonly profiler: Profiler,
    private readonly options: RedisWriterOptions,
  ) {}

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
    const pipeline = this.redis.pipeline();
    const changedKeys = this.writeProfilesAndWindows(pipeline);
    this.writeEvidence(pipeline);
    this.writeAlerts(pipeline);
    this.writeClosedWindows(pipeline);
    pipeline.set('processed_flows_by_profiler_so_far', counters.processedFlows);
    if (Number.isFinite(counters.networkTime)) pipeline.set('slips_internal_time', counters.networkTime);
    if (changedKeys.length > 0) {
      pipeline.publish('tui:tick', payload({ changed: changedKeys.slice(0, TICK_MAX_KEYS), more: changedKeys.length > TICK_MAX_KEYS }));
    }
    this.commandsSent += pipeline.length;
    this.flushes += 1;
    this.inFlight = pipeline.exec().then(
      (results) => {
        const failed = results?.find(([error]) => error !== null);
        if (failed?.[0]) this.failure = failed[0];
      },
      (error: Error) => {
        this.failure = error;
      },
    );
  }

  /** Wait until everything sent has been executed. */
  async drain(): Promise<void> {
    if (this.inFlight !== undefined) await this.inFlight;
    this.inFlight = undefined;
    if (this.failure !== undefined) throw this.failure;
  }

  private writeProfilesAndWindows(pipeline: Pipeline): string[] {
    const { newProfiles, newWindows, windows, profiles } = this.profiler.takeChanges();
    if (newProfiles.length > 0) {
      const members: Array<string | number> = [];
      for (const profile of newProfiles) {
        members.push(profile.firstTs, profile.key);
        pipeline.hset(profile.key, 'starttime', profile.firstTs, 'duration', this.options.width, 'confidence', 0.05, 'ip', profile.ip);
        pipeline.publish('new_ip', payload({ text: profile.ip }));
        pipeline.publish('new_profile', payload({ text: profile.key }));
      }
      pipeline.zadd('profiles', ...members);
    }
    for (const tw of newWindows) {
      pipeline.zadd(`tws${tw.profile.key}`, tw.start, tw.twid);
      pipeline.publish('new_timewindow', payload({ text: tw.key }));
    }
    for (const profile of profiles) {
      const fields: Array<string | number> = [
        'flows', profile.flows, 'evidence', profile.evidenceCount, 'alerts', profile.alertCount, 'score', profile.score,
      ];
      if (profile.mac !== '') fields.push('MAC', profile.mac);
      if (profile.alertCount > 0) fields.push('threat_level', 'critical');
      pipeline.hset(profile.key, ...fields);
    }
    const modified: Array<string | number> = [];
    const threat: Array<string | number> = [];
    const changedKeys: string[] = [];
    for (const tw of windows) {
      changedKeys.push(tw.key);
      this.writeWindow(pipeline, tw);
      if (!tw.closed && Number.isFinite(tw.lastTs)) modified.push(tw.lastTs, tw.key);
      threat.push(tw.accumulatedThreatLevel, tw.key);
    }
    if (modified.length > 0) pipeline.zadd('modified_timewindows', ...modified);
    if (threat.length > 0) pipeline.zadd('accumulated_threat_levels', ...threat);
    return changedKeys;
  }

  private writeWindow(pipeline: Pipeline, tw: TimeWindow): void {
    const stats: Array<string | number> = [
      'flows', tw.flows, 'out_flows', tw.outFlows, 'in_flows', tw.inFlows, 'established_flows', tw.establishedFlows,
      'pkts', tw.pkts, 'bytes', tw.bytes, 'sbytes', tw.sbytes, 'dbytes', tw.dbytes,
      'evidence', tw.evidenceCount, 'alerts', tw.alerts.size, 'accumulated_threat_level', tw.accumulatedThreatLevel,
      'score', tw.totalThreat, 'closed', tw.closed ? 1 : 0, 'start', tw.start, 'end', tw.end,
    ];
    if (Number.isFinite(tw.firstTs)) stats.push('first_ts', tw.firstTs, 'last_ts', tw.lastTs);
    for (const [kind, count] of tw.recordsByKind) stats.push(`records_${kind}`, count);
    pipeline.hset(`${tw.key}:stats`, ...stats);

    if (!tw.aggregatesReleased) this.writeAggregates(pipeline, tw);

    if (tw.pendingTimeline.length > 0) {
      const cap = this.options.timelineCap;
      const entries = tw.pendingTimeline.length > cap ? tw.pendingTimeline.slice(-cap) : tw.pendingTimeline;
      const members: Array<string | number> = [];
      for (const [ts, activity] of entries) members.push(ts, activity);
      const key = `${tw.key}_timeline`;
      pipeline.zadd(key, ...members);
      tw.timelineWritten += entries.length;
      if (tw.timelineWritten > cap) {
        pipeline.zremrangebyrank(key, 0, -(cap + 1));
        tw.timelineWritten = cap;
      }
      tw.pendingTimeline = [];
    }
  }

  /**
   * While open: the changed buckets, at most AGG_TOP_N distinct members per dimension (the first
   * ones seen). Once closed: exactly the top AGG_TOP_N by flows (then the buckets are freed).
   */
  private writeAggregates(pipeline: Pipeline, tw: TimeWindow): void {
    const fields = new Map<AggDimension, string[]>();
    const fieldsOf = (dimension: AggDimension): string[] => {
      let list = fields.get(dimension);
      if (list === undefined) fields.set(dimension, (list = []));
      return list;
    };
    for (const bucket of tw.changedBuckets) {
      bucket.changed = false;
      if (!bucket.written) {
        const written = tw.writtenBuckets.get(bucket.dimension) ?? 0;
        if (written >= AGG_TOP_N) continue;
        tw.writtenBuckets.set(bucket.dimension, written + 1);
        bucket.written = true;
      }
      fieldsOf(bucket.dimension).push(bucket.member, bucketValue(bucket));
    }
    tw.changedBuckets = [];
    if (tw.closed) {
      for (const [dimension, table] of tw.aggregates) {
        if ((tw.writtenBuckets.get(dimension) ?? 0) < AGG_TOP_N) continue;
        const all: AggBucket[] = [];
        for (const slots of table.values()) for (const bucket of slots) if (bucket !== undefined) all.push(bucket);
        if (all.length <= AGG_TOP_N) continue;
        all.sort((a, b) => b.flows - a.flows || b.bytes - a.bytes);
        const top: string[] = [];
        for (const bucket of all.slice(0, AGG_TOP_N)) top.push(bucket.member, bucketValue(bucket));
        pipeline.del(`${tw.key}:agg:${dimension}`);
        fields.set(dimension, top);
      }
      this.profiler.releaseAggregates(tw);
    }
    for (const [dimension, list] of fields) if (list.length > 0) pipeline.hset(`${tw.key}:agg:${dimension}`, ...list);
  }

  private writeEvidence(pipeline: Pipeline): void {
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
      pipeline.hset(`${key}_evidence`, ...fields);
      pipeline.sadd(`processed_evidence_${key}`, ...list.map((e) => e.id));
      for (const message of published) pipeline.publish('evidence_added', message);
    }
    pipeline.hset('flows_causing_evidence', ...causes);
    pipeline.incrby('number_of_evidence', this.pendingEvidence.length);
    this.pendingEvidence = [];
  }

  private writeAlerts(pipeline: Pipeline): void {
    if (this.pendingAlerts.length === 0) return;
    for (const [tw, alert] of this.pendingAlerts) {
      pipeline.hset(tw.key, 'alerts', JSON.stringify(Object.fromEntries(tw.alerts)));
      pipeline.hset('alerts', alert.id, JSON.stringify(alert));
      pipeline.zadd('alerts_by_time', alert.last_flow_ts, alert.id);
      pipeline.publish('new_alert', payload({
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
    pipeline.incrby('number_of_alerts', this.pendingAlerts.length);
    this.pendingAlerts = [];
  }

  private writeClosedWindows(pipeline: Pipeline): void {
    if (this.pendingClosed.length === 0) return;
    pipeline.zrem('modified_timewindows', ...this.pendingClosed.map((tw) => tw.key));
    for (const tw of this.pendingClosed) pipeline.publish('tw_closed', payload({ text: tw.key }));
    this.pendingClosed = [];
  }
}
