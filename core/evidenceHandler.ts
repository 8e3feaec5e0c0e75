// Evidence -> alerts: completes what detections emit (id, profile, time window), drops disabled
// types, accumulates the weighted threat per profile + time window and raises an alert when it
// reaches Slips' threshold (evidence_detection_threshold * width / 60). Every evidence and alert is
// handed to the outputs (alerts.log, alerts.json, console) and queued for Redis.

import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { THREAT_LEVEL_VALUE, type Alert, type Evidence, type EvidenceInput, type EvidenceType } from './evidence.js';
import type { Profiler, TimeWindow } from './profiler.js';

/** Where evidence and alerts go once decided (files, console, Redis). */
export interface EvidenceListener {
  evidenceAdded(evidence: Evidence, tw: TimeWindow): void;
  alertRaised(alert: Alert, evidence: readonly string[], tw: TimeWindow): void;
}

export interface EvidenceHandlerOptions {
  /** detection.evidence_detection_threshold */
  threshold: number;
  /** parameters.time_window_width, seconds */
  width: number;
  disabled: ReadonlySet<EvidenceType>;
  interfaceName: string;
}

/** Slips' alert confidence: (ATL - 4.8) / (26 - 4.8), clamped to 0..1. */
function alertConfidence(atl: number): number {
  return Math.min(1, Math.max(0, (atl - 4.8) / (26 - 4.8)));
}

export class EvidenceHandler {
  /** ATL needed for an alert in one time window. */
  readonly alertThreshold: number;
  evidenceCount = 0;
  alertCount = 0;
  droppedDisabled = 0;

  constructor(
    private readonly profiler: Profiler,
    private readonly listener: EvidenceListener,
    private readonly options: EvidenceHandlerOptions,
  ) {
    this.alertThreshold = (options.threshold * options.width) / 60;
  }

  /** Store one evidence; returns its id ('' when dropped). */
  handle(input: EvidenceInput, id: string = randomUUID(), relatedIds: readonly string[] = []): string {
    if (this.options.disabled.has(input.evidence_type)) {
      this.droppedDisabled += 1;
      return '';
    }
    const profileIp = input.profile_ip ?? input.attacker.value;
    if (isIP(profileIp) === 0) {
      throw new Error(`evidence ${input.evidence_type} has no IP profile (attacker ${input.attacker.value})`);
    }
    const profile = this.profiler.profileOf(profileIp, input.timestamp);
    const tw = this.profiler.windowOf(profile, input.timestamp);
    const evidence: Evidence = {
      id,
      evidence_type: input.evidence_type,
      description: input.description,
      attacker: input.attacker,
      threat_level: input.threat_level,
      confidence: Math.min(1, Math.max(0, input.confidence)),
      timestamp: input.timestamp,
      uid: [...new Set(input.uid)],
      profile: { ip: profileIp },
      timewindow: { number: tw.number, start_time: tw.start, end_time: tw.end },
      method: input.method ?? 'Heuristic',
      rel_id: [...(input.rel_id ?? []), ...relatedIds],
      interface: this.options.interfaceName,
    };
    if (input.victim !== undefined) evidence.victim = input.victim;
    if (input.proto !== undefined) evidence.proto = input.proto;
    if (input.src_port !== undefined) evidence.src_port = input.src_port;
    if (input.dst_port !== undefined) evidence.dst_port = input.dst_port;

    this.evidenceCount += 1;
    tw.evidenceCount += 1;
    profile.evidenceCount += 1;
    this.profiler.markDirty(tw);

    // Evidence "done by others" (attacker not the source) never counts towards this profile's alerts.
    const countsForProfile = evidence.attacker.direction === 'SRC';
    if (countsForProfile) {
      const weighted = THREAT_LEVEL_VALUE[evidence.threat_level] * evidence.confidence;
      tw.accumulatedThreatLevel += weighted;
      tw.totalThreat += weighted;
      if (tw.totalThreat > profile.score) profile.score = tw.totalThreat;
      tw.unalertedEvidence.set(evidence.id, evidence.timestamp);
    }
    this.listener.evidenceAdded(evidence, tw);
    if (countsForProfile && evidence.threat_level !== 'info' && tw.accumulatedThreatLevel >= this.alertThreshold) {
      this.raiseAlert(tw, evidence.id);
    }
    return evidence.id;
  }

  /** Two evidence about one event: each gets the other's id in rel_id. */
  handlePair(first: EvidenceInput, second: EvidenceInput): void {
    const firstId = randomUUID();
    const secondId = randomUUID();
    this.handle(first, firstId, [secondId]);
    this.handle(second, secondId, [firstId]);
  }

  private raiseAlert(tw: TimeWindow, lastEvidenceId: string): void {
    const ids = [...tw.unalertedEvidence.keys()];
    let lastTs = -Infinity;
    for (const ts of tw.unalertedEvidence.values()) if (ts > lastTs) lastTs = ts;
    const atl = tw.accumulatedThreatLevel;
    const alert: Alert = {
      id: randomUUID(),
      profile: { ip: tw.profile.ip },
      timewindow: { number: tw.number, start_time: tw.start, end_time: tw.end },
      last_evidence: lastEvidenceId,
      accumulated_threat_level: atl,
      correl_id: ids,
      last_flow_ts: lastTs,
      threat_level: 'critical',
      confidence: alertConfidence(atl),
    };
    tw.alerts.set(alert.id, ids);
    tw.unalertedEvidence.clear();
    tw.accumulatedThreatLevel = 0;
    tw.profile.alertCount += 1;
    this.alertCount += 1;
    this.listener.alertRaised(alert, ids, tw);
  }
}
