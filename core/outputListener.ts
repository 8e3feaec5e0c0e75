// Fans evidence and alerts out to the run's outputs: alerts.log / alerts.json, the console alert
// block, the timeline (Redis entries and the -t timeline.txt), and further listeners (the Redis
// writer). Keeps the evidence of each open time window until it is part of an alert or the
// window closes, because the alert texts list them.

import type { Alert, Evidence, EvidenceSummary } from './evidence.js';
import type { EvidenceListener } from './evidenceHandler.js';
import type { Printer } from './console.js';
import { cliAlertBlock } from './format/alertsLog.js';
import { timelineActivity, type TimelineContext } from './format/timeline.js';
import type { SharedKnowledge } from './knowledge.js';
import { AlertOutputs, TimelineFile } from './outputFiles.js';
import type { TimeWindow } from './profiler.js';
import type { ConnRecord } from '../inputs/records.js';
import type { InterpretedState } from '../inputs/state.js';

export interface AnalysisOutputsOptions {
  outputDir: string;
  printer: Printer;
  /** Write <output>/timeline.txt (-t). */
  timeline: boolean;
  /** Newest flows kept per window in the Redis timeline (0: none). */
  redisTimelineCap: number;
  humanTimestamps: boolean;
  knowledge: SharedKnowledge;
  analysisDirection: 'out' | 'all';
  clientIps: readonly string[];
}

export class AnalysisOutputs implements EvidenceListener {
  private readonly alertFiles: AlertOutputs;
  private readonly timelineFile: TimelineFile | undefined;
  private readonly listeners: EvidenceListener[] = [];
  /** Evidence of open windows not yet part of an alert, by window key. */
  private readonly unalerted = new Map<string, Map<string, EvidenceSummary>>();
  private readonly timelineContext: TimelineContext;

  constructor(private readonly options: AnalysisOutputsOptions) {
    this.alertFiles = new AlertOutputs(options.outputDir);
    this.timelineFile = options.timeline ? new TimelineFile(options.outputDir) : undefined;
    const ownIps = new Set(options.clientIps);
    this.timelineContext = {
      profileIp: '',
      direction: options.analysisDirection,
      humanTimestamp: options.humanTimestamps,
      portName: (port, proto) => options.knowledge.portName(port, proto),
      isOwnIp: (ip) => ownIps.has(ip),
    };
  }

  addListener(listener: EvidenceListener): void {
    this.listeners.push(listener);
  }

  evidenceAdded(evidence: Evidence, tw: TimeWindow): void {
    this.alertFiles.writeEvidence(evidence, tw.accumulatedThreatLevel);
    if (evidence.attacker.direction === 'SRC') {
      let pending = this.unalerted.get(tw.key);
      if (pending === undefined) this.unalerted.set(tw.key, (pending = new Map()));
      const { id, description, threat_level, interface: iface, method } = evidence;
      pending.set(id, { id, description, threat_level, interface: iface, method });
    }
    for (const listener of this.listeners) listener.evidenceAdded(evidence, tw);
  }

  alertRaised(alert: Alert, evidenceIds: readonly string[], tw: TimeWindow): void {
    const pending = this.unalerted.get(tw.key);
    const evidence: EvidenceSummary[] = [];
    for (const id of evidenceIds) {
      const found = pending?.get(id);
      if (found !== undefined) evidence.push(found);
    }
    this.unalerted.delete(tw.key);
    this.alertFiles.writeAlert(alert, evidence);
    const printer = this.options.printer;
    printer.print('evidence_handler_worker', cliAlertBlock(alert, evidence, { colors: printer.colors }));
    for (const listener of this.listeners) listener.alertRaised(alert, evidenceIds, tw);
  }

  /** A conn record was stored in tw: timeline entries for Redis and timeline.txt. */
  conn(flow: ConnRecord, state: InterpretedState, tw: TimeWindow): void {
    const cap = this.options.redisTimelineCap;
    if (cap === 0 && this.timelineFile === undefined) return;
    this.timelineContext.profileIp = tw.profile.ip;
    const activity = timelineActivity(flow, state, this.timelineContext);
    if (activity === undefined) return;
    if (cap > 0) {
      const pending = tw.pendingTimeline;
      const json = JSON.stringify(activity);
      pending.push([flow.ts, `${json.slice(0, -1)},"uid":${JSON.stringify(flow.uid)},"ts":${flow.ts}}`]);
      if (pending.length >= 2 * cap) pending.splice(0, pending.length - cap);
    }
    this.timelineFile?.write(tw.profile.ip, activity);
  }

  windowClosed(tw: TimeWindow): void {
    this.unalerted.delete(tw.key);
  }

  async close(): Promise<void> {
    await Promise.all([this.alertFiles.close(), this.timelineFile?.close()]);
  }
}
