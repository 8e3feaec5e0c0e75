// The analysis engine: takes normalized records in timestamp order, stores them in profiles and
// time windows, runs every registered detector on them, advances network time (pending checks,
// closing time windows) and hands evidence to the evidence handler. It does no I/O itself: Redis,
// files and the console are reached through the listener and hooks given at construction.

import { isIP } from 'node:net';
import type { ClosedTimeWindow, DetectionHost, Detector, DetectorFactory, FlowContext } from '../detections/api.js';
import { detectionConfigOf, type SlipsConfig } from './config.js';
import type { SharedKnowledge } from './knowledge.js';
import type { ConnRecord, FlowKind, FlowRecord, X509Record } from '../inputs/records.js';
import { ConnJoin } from '../detections/connByUid.js';
import { interpretState, type InterpretedState } from '../inputs/state.js';
import type { DetectionConfig } from '../detections/api.js';
import { isValidIp, remember, rfc1918BlockOf } from '../detections/ip.js';
import type { EvidenceType } from './evidence.js';
import { EvidenceHandler, type EvidenceListener } from './evidenceHandler.js';
import { Profiler, type Profile, type TimeWindow } from './profiler.js';

type AnyHandler = (record: FlowRecord, ctx: FlowContext) => void;

export interface EngineOptions {
  detection: DetectionConfig;
  onlyOneTw: boolean;
  analysisDirection: 'out' | 'all';
  evidenceThreshold: number;
  disabledDetections: ReadonlySet<EvidenceType>;
  interfaceName: string;
  detectors: readonly DetectorFactory[];
  knowledge: SharedKnowledge;
  listener: EvidenceListener;
  /** Called for each conn record once stored (timeline writers). */
  onConn?: (flow: ConnRecord, state: InterpretedState, tw: TimeWindow) => void;
  /** Called when a time window closes, after detectors saw it. */
  onWindowClosed?: (tw: TimeWindow) => void;
}

/** The engine options a configuration decides (the same for a real run and the bench). */
export function engineSettingsOf(config: SlipsConfig): Pick<EngineOptions, 'detection' | 'onlyOneTw' | 'analysisDirection' | 'evidenceThreshold' | 'disabledDetections'> {
  return {
    detection: detectionConfigOf(config),
    onlyOneTw: config.parameters.onlyOneTw,
    analysisDirection: config.parameters.analysis_direction,
    evidenceThreshold: config.detection.evidence_detection_threshold,
    disabledDetections: new Set(config.DisabledAlerts.disabled_detections as EvidenceType[]),
  };
}

/** The value of a detector state bag entry, created on first use. */
function stateIn<T>(bag: Map<string, unknown>, key: string, init: () => T): T {
  let value = bag.get(key) as T | undefined;
  if (value === undefined) {
    value = init();
    bag.set(key, value);
  }
  return value;
}

/** Reusable per-record context handed to detectors (one object, fields updated per record). */
class RecordContext implements FlowContext {
  profileIp = '';
  tw!: TimeWindow;
  state: InterpretedState = 'Not Established';
  profile!: Profile;

  twState<T>(key: string, init: () => T): T {
    return stateIn(this.tw.detectorState, key, init);
  }

  profileState<T>(key: string, init: () => T): T {
    return stateIn(this.profile.detectorState, key, init);
  }

  markPortScanner(): void {
    this.tw.portScanner = true;
  }

  isPortScanner(): boolean {
    return this.tw.portScanner;
  }
}

/** MACs remembered while the gateway is unknown (bounded for networks where it never is). */
const MAX_LEARNED_MACS = 65_536;

export class Engine {
  readonly profiler: Profiler;
  readonly evidence: EvidenceHandler;
  private readonly detectors: Detector[];
  private readonly handlers = new Map<FlowKind, AnyHandler[]>();
  private readonly certificateHandlers: ((record: X509Record) => void)[] = [];
  /** The conn-by-uid join, when a detector asks for it. */
  private readonly connJoin: ConnJoin | undefined;
  private readonly ctx = new RecordContext();
  /** Highest record timestamp seen: Slips' internal (network) time. */
  networkTime = -Infinity;
  private lastCloseCheck = -Infinity;
  private readonly closeCheckInterval: number;
  recordsProcessed = 0;
  recordsSkipped = 0;
  private localNetworkKnown = false;
  /** Gateway learning: MAC of the first private -> public flow's next hop, and IPs seen per MAC. */
  private gatewayMac: string | undefined;
  private gatewayIpKnown = false;
  private readonly ipOfMac = new Map<string, string>();

  constructor(private readonly options: EngineOptions) {
    const width = options.detection.timeWindowWidth;
    this.profiler = new Profiler({ width, onlyOneTw: options.onlyOneTw });
    this.closeCheckInterval = Math.min(60, width / 10);
    this.evidence = new EvidenceHandler(this.profiler, options.listener, {
      threshold: options.evidenceThreshold,
      width,
      disabled: options.disabledDetections,
      interfaceName: options.interfaceName,
    });
    const join = new ConnJoin();
    const host: DetectionHost = {
      config: options.detection,
      knowledge: options.knowledge,
      emit: (input) => this.evidence.handle(input),
      emitPair: (first, second) => this.evidence.handlePair(first, second),
      withConnOf: (uid, ts, maxWait, onFlow) => join.request(uid, ts, maxWait, onFlow),
    };
    this.detectors = options.detectors.map((factory) => factory(host));
    this.connJoin = this.detectors.some((detector) => detector.joinsConnByUid === true) ? join : undefined;
    for (const detector of this.detectors) {
      if (detector.certificate !== undefined) this.certificateHandlers.push(detector.certificate.bind(detector));
      for (const [kind, handler] of Object.entries(detector.handlers)) {
        let list = this.handlers.get(kind as FlowKind);
        if (list === undefined) this.handlers.set(kind as FlowKind, (list = []));
        list.push(handler as AnyHandler);
      }
    }
    const privateClientNet = options.detection.clientIps.find((entry) => entry.includes('/') && rfc1918BlockOf(entry));
    if (privateClientNet !== undefined) {
      options.knowledge.setLocalNetwork(privateClientNet);
      this.localNetworkKnown = true;
    }
  }

  /** Process one batch of records (in timestamp order). */
  processBatch(records: readonly FlowRecord[]): void {
    for (const record of records) this.process(record);
    this.advanceTime();
  }

  process(record: FlowRecord): void {
    if (!(record.ts > 0)) {
      this.recordsSkipped += 1;
      return;
    }
    if (record.kind === 'x509') {
      // Certificates have no addresses: stored in no profile (so counted as skipped), only handed
      // to the detectors that join them with TLS records.
      this.recordsSkipped += 1;
      if (record.ts > this.networkTime) this.networkTime = record.ts;
      for (const handler of this.certificateHandlers) handler(record);
      return;
    }
    const saddr = record.saddr;
    // Records without an IP source (e.g. DHCP seen only by MAC) have no profile to live in.
    if (!isValidIp(saddr)) {
      this.recordsSkipped += 1;
      return;
    }
    this.recordsProcessed += 1;
    if (record.ts > this.networkTime) this.networkTime = record.ts;
    const profiler = this.profiler;
    const profile = profiler.profileOf(saddr, record.ts);
    const tw = profiler.windowOf(profile, record.ts);
    const ctx = this.ctx;
    ctx.profile = profile;
    ctx.tw = tw;
    ctx.profileIp = saddr;

    if (record.kind === 'conn') {
      const state = interpretState(record.state, record.spkts + record.dpkts);
      ctx.state = state;
      profiler.storeOutgoingConn(tw, record, state);
      this.learnFromConn(record);
      this.options.onConn?.(record, state, tw);
      this.connJoin?.onConn(record);
      if (this.options.analysisDirection === 'all' && isValidIp(record.daddr)) {
        const server = profiler.profileOf(record.daddr, record.ts);
        profiler.storeIncomingConn(profiler.windowOf(server, record.ts), record, state);
      }
    } else {
      ctx.state = 'Not Established';
      profiler.storeRecord(tw, record.kind, record.ts);
      if (record.kind === 'notice' && record.note.includes('Gateway_addr_identified')) {
        const gateway = record.msg.slice(record.msg.lastIndexOf(': ') + 2).trim();
        if (isIP(gateway) !== 0) {
          this.options.knowledge.setGatewayIp(gateway);
          this.gatewayIpKnown = true;
        }
      }
      if (this.options.analysisDirection === 'all' && record.kind !== 'software' && isValidIp(record.daddr)) {
        const server = profiler.profileOf(record.daddr, record.ts);
        profiler.storeRecord(profiler.windowOf(server, record.ts), record.kind, record.ts);
      }
    }

    const handlers = this.handlers.get(record.kind);
    if (handlers !== undefined) for (const handler of handlers) handler(record, ctx);
  }

  /** Local network (first private IPv4 source) and gateway MAC/IP (first private -> public flow). */
  private learnFromConn(flow: ConnRecord): void {
    if (!this.localNetworkKnown) {
      const block = rfc1918BlockOf(flow.saddr);
      if (block !== undefined) {
        this.options.knowledge.setLocalNetwork(block);
        this.localNetworkKnown = true;
      }
    }
    if (flow.smac === '' || this.gatewayIpKnown) return;
    if (rfc1918BlockOf(flow.saddr) === undefined) return;
    remember(this.ipOfMac, flow.smac, flow.saddr, MAX_LEARNED_MACS);
    if (this.gatewayMac === undefined && flow.dmac !== '' && isIP(flow.daddr) === 4 && rfc1918BlockOf(flow.daddr) === undefined) {
      this.gatewayMac = flow.dmac;
    }
    const gatewayIp = this.gatewayMac === undefined ? undefined : this.ipOfMac.get(this.gatewayMac);
    if (gatewayIp !== undefined) {
      this.options.knowledge.setGatewayIp(gatewayIp);
      this.gatewayIpKnown = true;
      this.ipOfMac.clear();
    }
  }

  /** Move network time forward: pending detector checks and closing of idle time windows. */
  advanceTime(): void {
    const now = this.networkTime;
    if (!Number.isFinite(now)) return;
    this.connJoin?.advanceTime(now);
    for (const detector of this.detectors) detector.advanceTime?.(now);
    if (now - this.lastCloseCheck >= this.closeCheckInterval) {
      this.lastCloseCheck = now;
      for (const tw of this.profiler.windowsToClose(now)) this.closeWindow(tw);
    }
  }

  private closeWindow(tw: TimeWindow): void {
    const closed: ClosedTimeWindow = {
      profileIp: tw.profile.ip,
      tw: { number: tw.number, start: tw.start, end: tw.end },
      twState: <T>(key: string) => tw.detectorState.get(key) as T | undefined,
    };
    for (const detector of this.detectors) detector.timeWindowClosed?.(closed);
    this.profiler.markClosed(tw);
    this.options.onWindowClosed?.(tw);
  }

  /** End of input: resolve pending checks, then close every window. */
  finish(): void {
    for (const detector of this.detectors) detector.finish?.();
    this.connJoin?.finish();
    for (const tw of this.profiler.allOpenWindows()) this.closeWindow(tw);
  }
}
