// Test-only detection host: runs detectors over records the way the engine does (profile =
// saddr, interpreted conn state, state bags per profile and per 3600 s time window counted from
// the first record, port-scanner marks, network time = newest ts, the conn-by-uid join, x509
// records to Detector.certificate) and collects what they emit.
// Also record builders with neutral defaults.

import { fileURLToPath } from 'node:url';
import type { DetectionConfig, Detector, DetectorFactory, FlowContext, Knowledge } from '../../detections/api.js';
import { DETECTORS } from '../../detections/index.js';
import type { EvidenceInput, EvidenceType } from '../../core/evidence.js';
import { defaultConfig, detectionConfigOf } from '../../core/config.js';
import { SharedKnowledge } from '../../core/knowledge.js';
import type { ConnRecord, FlowRecord, HttpRecord, SslRecord } from '../../inputs/records.js';
import { interpretState } from '../../inputs/state.js';
import { ConnJoin } from '../../detections/connByUid.js';

export const CONFIG_DIR = fileURLToPath(new URL('../../../config/', import.meta.url));
export const TW_WIDTH = 3600;

const DEFAULT_CONFIG: DetectionConfig = { ...detectionConfigOf(defaultConfig()), timeWindowWidth: TW_WIDTH };

export class DetectionHarness {
  readonly evidence: EvidenceInput[] = [];
  readonly knowledge: SharedKnowledge;
  private readonly detectors: Detector[];
  private readonly connJoin = new ConnJoin();
  private readonly joinsConns: boolean;
  private readonly bags = new Map<string, Map<string, unknown>>();
  private readonly portScanners = new Set<string>();
  private origin: number | undefined;
  private networkTime = -Infinity;

  /** configDir: where SharedKnowledge reads its data files (a test may pass its own copy). */
  constructor(factories: readonly DetectorFactory[] = DETECTORS, configDir: string = CONFIG_DIR) {
    this.knowledge = new SharedKnowledge(configDir);
    const knowledge: Knowledge = this.knowledge;
    this.detectors = factories.map((factory) =>
      factory({
        config: DEFAULT_CONFIG,
        knowledge,
        emit: (evidence) => {
          this.evidence.push(evidence);
          return String(this.evidence.length);
        },
        emitPair: (first, second) => {
          this.evidence.push(first, second);
        },
        withConnOf: (uid, ts, maxWait, onFlow) => this.connJoin.request(uid, ts, maxWait, onFlow),
      }),
    );
    this.joinsConns = this.detectors.some((detector) => detector.joinsConnByUid === true);
  }

  /** Process records in order, then let network time reach the newest ts (like one engine batch). */
  feed(...records: FlowRecord[]): void {
    for (const record of records) {
      this.origin ??= record.ts;
      this.networkTime = Math.max(this.networkTime, record.ts);
      if (record.kind === 'x509') {
        for (const detector of this.detectors) detector.certificate?.(record);
        continue;
      }
      if (record.kind === 'conn' && this.joinsConns) this.connJoin.onConn(record);
      const ctx = this.contextFor(record);
      for (const detector of this.detectors) {
        const handler = detector.handlers[record.kind] as ((r: FlowRecord, c: FlowContext) => void) | undefined;
        handler?.(record, ctx);
      }
    }
    this.connJoin.advanceTime(this.networkTime);
    for (const detector of this.detectors) detector.advanceTime?.(this.networkTime);
  }

  finish(): void {
    for (const detector of this.detectors) detector.finish?.();
    this.connJoin.finish();
  }

  /** Close time window `number` of profileIp as the engine does: detectors see it, then its state is dropped. */
  closeTimeWindow(profileIp: string, number: number): void {
    const twKey = `${profileIp} tw${number}`;
    const bag = this.bags.get(twKey) ?? new Map<string, unknown>();
    const start = (this.origin ?? 0) + (number - 1) * TW_WIDTH;
    for (const detector of this.detectors) {
      detector.timeWindowClosed?.({
        profileIp,
        tw: { number, start, end: start + TW_WIDTH },
        twState: <T>(key: string) => bag.get(key) as T | undefined,
      });
    }
    this.bags.delete(twKey);
    this.portScanners.delete(twKey);
  }

  ofType(type: EvidenceType): EvidenceInput[] {
    return this.evidence.filter((evidence) => evidence.evidence_type === type);
  }

  private contextFor(record: FlowRecord): FlowContext {
    const profileIp = record.saddr;
    const number = Math.floor((record.ts - (this.origin ?? record.ts)) / TW_WIDTH) + 1;
    const start = (this.origin ?? record.ts) + (number - 1) * TW_WIDTH;
    const twKey = `${profileIp} tw${number}`;
    const bag = (key: string): Map<string, unknown> => {
      let found = this.bags.get(key);
      if (found === undefined) this.bags.set(key, (found = new Map()));
      return found;
    };
    const stateIn = <T>(bagKey: string, key: string, init: () => T): T => {
      const states = bag(bagKey);
      if (!states.has(key)) states.set(key, init());
      return states.get(key) as T;
    };
    return {
      profileIp,
      tw: { number, start, end: start + TW_WIDTH },
      state: record.kind === 'conn' ? interpretState(record.state, record.spkts + record.dpkts) : 'Not Established',
      twState: (key, init) => stateIn(twKey, key, init),
      profileState: (key, init) => stateIn(profileIp, key, init),
      markPortScanner: () => this.portScanners.add(twKey),
      isPortScanner: () => this.portScanners.has(twKey),
    };
  }
}

const BASE = { uid: 'C0', saddr: '10.0.0.5', daddr: '1.2.3.4', interface: 'default', source: 'zeek' } as const;

export function conn(fields: Partial<ConnRecord> = {}): ConnRecord {
  return {
    kind: 'conn', ts: 1_700_000_000, ...BASE, sport: 50000, dport: 80, proto: 'tcp', appproto: '', dur: 1,
    sbytes: 100, dbytes: 100, spkts: 1, dpkts: 1, state: 'SF', history: 'ShADadFf', smac: '', dmac: '', dir: '->',
    ...fields,
  };
}

export function http(fields: Partial<HttpRecord> = {}): HttpRecord {
  return {
    kind: 'http', ts: 1_700_000_000, ...BASE, sport: 50000, dport: 80, method: 'GET', host: 'example.com', uri: '/',
    version: '1.1', user_agent: '', request_body_len: 0, response_body_len: 0, status_code: 200, status_msg: 'OK',
    resp_mime_types: [], resp_fuids: [],
    ...fields,
  };
}

export function ssl(fields: Partial<SslRecord> = {}): SslRecord {
  return {
    kind: 'ssl', ts: 1_700_000_000, ...BASE, sport: 50000, dport: 443, version: 'TLSv13', cipher: '', resumed: false,
    established: true, cert_chain_fuids: [], client_cert_chain_fuids: [], subject: '', issuer: '', server_name: '',
    validation_status: '', curve: '', ja3: '', ja3s: '', is_DoH: false,
    ...fields,
  };
}
