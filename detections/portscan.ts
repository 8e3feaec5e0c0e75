// Port scans (detections spec §4.2): HORIZONTAL_PORT_SCAN (one port, many hosts) and
// VERTICAL_PORT_SCAN (one host, many ports), TCP and UDP, counted incrementally per profile +
// time window + proto from the profile's unanswered client flows. Reports when the number of
// targets reaches the next power of ten (10, 100, 1000, ...). Fixes: #24 (one packet rule, total
// pkts, for both; uids kept) and #27 (numeric timestamp). Marks the profile as a port scanner.

import type { ConnRecord } from '../inputs/records.js';
import type { DetectionHost, DetectorFactory, FlowContext } from './api.js';
import { pyFloat } from './format.js';
import { isScanInteresting } from './ip.js';

/** A scan is reported only above this many targets. */
const MIN_TARGETS = 5;
/** Most recent flow uids kept per scan, so the state stays bounded. */
const MAX_UIDS = 100;

type ScanProto = 'tcp' | 'udp';

/** What one scan has reached so far: distinct targets, packets, first flow, recent uids. */
interface ScanTally<Target> {
  targets: Set<Target>;
  pkts: number;
  firstSeen: number;
  uids: string[];
  /** floor(log10(targets)) at the last report (0 = not reported). */
  reportedBucket: number;
}

interface ScanTallies {
  /** Horizontal: dport -> destination IPs. */
  hostsByPort: Map<number, ScanTally<string>>;
  /** Vertical: destination IP -> dports. */
  portsByHost: Map<string, ScanTally<number>>;
}

function newTallies(): ScanTallies {
  return { hostsByPort: new Map(), portsByHost: new Map() };
}

/** Add one flow to the tally under key; returns the tally when it reached a new bucket to report. */
function count<Key, Target>(
  tallies: Map<Key, ScanTally<Target>>,
  key: Key,
  target: Target,
  flow: ConnRecord,
): ScanTally<Target> | undefined {
  let tally = tallies.get(key);
  if (tally === undefined) {
    tally = { targets: new Set(), pkts: 0, firstSeen: flow.ts, uids: [], reportedBucket: 0 };
    tallies.set(key, tally);
  }
  tally.targets.add(target);
  tally.pkts += flow.spkts + flow.dpkts;
  if (flow.ts < tally.firstSeen) tally.firstSeen = flow.ts;
  tally.uids.push(flow.uid);
  if (tally.uids.length > MAX_UIDS) tally.uids.shift();
  const n = tally.targets.size;
  if (n <= MIN_TARGETS) return undefined;
  const bucket = String(n).length - 1;
  if (bucket <= tally.reportedBucket) return undefined;
  tally.reportedBucket = bucket;
  return tally;
}

/** Slips' calculate_confidence(pkts), with the value as Python prints it (int 1, floats). */
function scanConfidence(pkts: number): { value: number; text: string } {
  if (pkts > 10) return { value: 1, text: '1' };
  if (pkts === 0) return { value: 0.3, text: '0.3' };
  return { value: pkts / 10, text: pyFloat(pkts / 10) };
}

function reportHorizontal(host: DetectionHost, scanner: string, proto: ScanProto, dport: number, tally: ScanTally<string>): void {
  const confidence = scanConfidence(tally.pkts);
  const portName = host.knowledge.portName(dport, proto) ?? '';
  host.emit({
    evidence_type: 'HORIZONTAL_PORT_SCAN',
    description:
      `Horizontal port scan to port ${portName} ${dport}/${proto}. From ${scanner} to ${tally.targets.size} unique ` +
      `destination IPs. Total packets sent: ${tally.pkts}. Confidence: ${confidence.text}. by Slips`,
    attacker: { direction: 'SRC', ioc_type: 'IP', value: scanner },
    threat_level: 'high',
    confidence: confidence.value,
    timestamp: tally.firstSeen,
    uid: [...tally.uids],
    proto,
    dst_port: dport,
  });
}

function reportVertical(host: DetectionHost, scanner: string, proto: ScanProto, dstIp: string, tally: ScanTally<number>): void {
  const confidence = scanConfidence(tally.pkts);
  host.emit({
    evidence_type: 'VERTICAL_PORT_SCAN',
    description:
      `new vertical port scan to IP ${dstIp} from ${scanner}. Total ${tally.targets.size} ${proto.toUpperCase()} ` +
      `ports were scanned. Total packets sent to all ports: ${tally.pkts}. Confidence: ${confidence.text}. by Slips`,
    attacker: { direction: 'SRC', ioc_type: 'IP', value: scanner },
    victim: { direction: 'DST', ioc_type: 'IP', value: dstIp },
    threat_level: 'high',
    confidence: confidence.value,
    timestamp: tally.firstSeen,
    uid: [...tally.uids],
    proto,
  });
}

export const portScanDetector: DetectorFactory = (host) => ({
  name: 'portscan',
  evidenceTypes: ['HORIZONTAL_PORT_SCAN', 'VERTICAL_PORT_SCAN'],
  handlers: {
    conn(flow: ConnRecord, ctx: FlowContext): void {
      const proto = flow.proto;
      if (proto !== 'tcp' && proto !== 'udp') return;
      if (flow.saddr !== ctx.profileIp || ctx.state === 'Established' || !isScanInteresting(flow.daddr)) return;
      const tallies = ctx.twState(`portscan:${proto}`, newTallies);

      // Flipped flows (history '^': Zeek swapped the roles) do not show who scanned whom.
      if (!flow.history.includes('^') && isScanInteresting(ctx.profileIp)) {
        const horizontal = count(tallies.hostsByPort, flow.dport, flow.daddr, flow);
        if (horizontal !== undefined) {
          reportHorizontal(host, ctx.profileIp, proto, flow.dport, horizontal);
          ctx.markPortScanner();
        }
      }
      const vertical = count(tallies.portsByHost, flow.daddr, flow.dport, flow);
      if (vertical !== undefined) {
        reportVertical(host, ctx.profileIp, proto, flow.daddr, vertical);
        ctx.markPortScanner();
      }
    },
  },
});
