// ICMP sweeps (detections spec §4.2, §5.5): ICMP_ADDRESS_SCAN (echo requests, type 8),
// ICMP_TIMESTAMP_SCAN (types 13/14) and ICMP_ADDRESS_MASK_SCAN (types 17/18). Slips gets them from
// the notices of its Zeek script icmp-scans.zeek, which Zeek logs carry. Pcaps read natively and
// the other flow sources (Argus, nfdump, Suricata) have no such notices, so for their ICMP conn
// flows (whose sport is the ICMP type, as in Zeek) the same rule runs here: per source, the
// distinct peers of each scan kind; every 5th new peer is reported ("<ip> performed ICMP address
// scan on <n> hosts"), the set restarts at 255, and 255.255.255.255 is no source. A count reached
// by both the notices and the flows is reported once. Fix #26: the confidence has a floor (Slips
// gives 0.0 at the first notice, 5 hosts). MEDIUM.

import type { EvidenceType } from '../core/evidence.js';
import type { ConnRecord, NoticeRecord } from '../inputs/records.js';
import type { DetectionHost, DetectorFactory, FlowContext } from './api.js';
import { isValidIp } from './ip.js';

/** Lowest ICMP scan confidence: what Slips gives a port scan it saw no packets of. */
const MIN_ICMP_SCAN_CONFIDENCE = 0.3;
/** A report every this many distinct peers. */
const REPORT_EVERY = 5;
/** The peer set of a scan kind restarts at this size (as in icmp-scans.zeek). */
const RESTART_AT = 255;
const MAX_UIDS = 100;
const BROADCAST = '255.255.255.255';

interface ScanKind {
  type: EvidenceType;
  /** Fragment of the Zeek notice name. */
  note: string;
  /** Words of the message: "<ip> performed ICMP <words> scan on <n> hosts". */
  words: string;
}

const ADDRESS: ScanKind = { type: 'ICMP_ADDRESS_SCAN', note: 'ICMPAddressScan', words: 'address' };
const TIMESTAMP: ScanKind = { type: 'ICMP_TIMESTAMP_SCAN', note: 'TimestampScan', words: 'timestamp' };
const ADDRESS_MASK: ScanKind = { type: 'ICMP_ADDRESS_MASK_SCAN', note: 'AddressMaskScan', words: 'address mask' };
const KINDS = [ADDRESS, TIMESTAMP, ADDRESS_MASK];

/** The scan kind an ICMP (v4) type belongs to. */
function kindOfIcmpType(type: number): ScanKind | undefined {
  if (type === 8) return ADDRESS;
  if (type === 13 || type === 14) return TIMESTAMP;
  if (type === 17 || type === 18) return ADDRESS_MASK;
  return undefined;
}

/** Slips' ICMP scan confidence (hosts − 255) / 250 + 1: 1.0 at 255 hosts, floored and capped. */
export function icmpScanConfidence(hosts: number): number {
  return Math.min(1, Math.max(MIN_ICMP_SCAN_CONFIDENCE, (hosts - 255) / 250 + 1));
}

/** One scan kind of one source: its distinct peers, recent uids and the counts already reported. */
interface Sweep {
  peers: Set<string>;
  uids: string[];
  reported: Set<number>;
}

function sweepOf(ctx: FlowContext, kind: ScanKind): Sweep {
  return ctx.profileState(`icmpScan:${kind.type}`, () => ({ peers: new Set<string>(), uids: [], reported: new Set<number>() }));
}

function report(host: DetectionHost, sweep: Sweep, kind: ScanKind, source: string, hosts: number, ts: number, uids: string[]): void {
  if (sweep.reported.has(hosts)) return;
  sweep.reported.add(hosts);
  host.emit({
    evidence_type: kind.type,
    description: `${source} performed ICMP ${kind.words} scan on ${hosts} hosts`,
    attacker: { direction: 'SRC', ioc_type: 'IP', value: source },
    threat_level: 'medium',
    confidence: icmpScanConfidence(hosts),
    timestamp: ts,
    uid: uids,
  });
}

function onConn(host: DetectionHost, flow: ConnRecord, ctx: FlowContext): void {
  if (flow.proto !== 'icmp' || flow.source === 'zeek' || flow.saddr !== ctx.profileIp || flow.saddr === BROADCAST) return;
  const kind = kindOfIcmpType(flow.sport);
  if (kind === undefined || !isValidIp(flow.daddr)) return;
  const sweep = sweepOf(ctx, kind);
  if (sweep.peers.has(flow.daddr)) return;
  if (sweep.peers.size >= RESTART_AT) {
    sweep.peers.clear();
    sweep.reported.clear();
  }
  sweep.peers.add(flow.daddr);
  sweep.uids.push(flow.uid);
  if (sweep.uids.length > MAX_UIDS) sweep.uids.shift();
  const hosts = sweep.peers.size;
  if (hosts % REPORT_EVERY === 0) report(host, sweep, kind, flow.saddr, hosts, flow.ts, [...sweep.uids]);
}

function onNotice(host: DetectionHost, notice: NoticeRecord, ctx: FlowContext): void {
  const kind = KINDS.find(({ note }) => notice.note.includes(note));
  if (kind === undefined || !isValidIp(notice.saddr)) return;
  // "<ip> performed ICMP timestamp scan on <n> hosts"
  const hosts = /on (\d+) hosts/.exec(notice.msg);
  if (hosts === null) return;
  const sweep = sweepOf(ctx, kind);
  const count = Number(hosts[1]);
  if (sweep.reported.has(count)) return;
  sweep.reported.add(count);
  host.emit({
    evidence_type: kind.type,
    description: notice.msg,
    attacker: { direction: 'SRC', ioc_type: 'IP', value: notice.saddr },
    threat_level: 'medium',
    confidence: icmpScanConfidence(count),
    timestamp: notice.ts,
    uid: notice.uid === '' ? [] : [notice.uid],
  });
}

export const icmpScanDetector: DetectorFactory = (host) => ({
  name: 'icmpScan',
  evidenceTypes: KINDS.map(({ type }) => type),
  handlers: {
    conn: (flow, ctx) => onConn(host, flow, ctx),
    notice: (notice, ctx) => onNotice(host, notice, ctx),
  },
});
