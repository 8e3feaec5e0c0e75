// Zeek notice.log detections (detections spec §3.4 "Zeek scan notices", §4.2 ICMP scans): Zeek's
// own port scan notices become VERTICAL_PORT_SCAN / HORIZONTAL_PORT_SCAN "by Zeek engine" and mark
// the scanner as a port scanner for the time window (suppressing UNKNOWN_PORT); the ICMP sweep
// notices of Slips' icmp-scans.zeek become ICMP_TIMESTAMP_SCAN, ICMP_ADDRESS_SCAN and
// ICMP_ADDRESS_MASK_SCAN. Fix #26: the ICMP scan confidence has a floor (Slips gives 0.0 at the
// first notice, 5 hosts). Password_Guessing notices belong to the SSH brute-force detector.

import type { EvidenceType } from '../core/evidence.js';
import type { NoticeRecord } from '../inputs/records.js';
import type { DetectionHost, DetectorFactory, FlowContext } from './api.js';
import { isValidIp } from './ip.js';

/** Lowest ICMP scan confidence: what Slips gives a port scan it saw no packets of. */
const MIN_ICMP_SCAN_CONFIDENCE = 0.3;

/** Notice name fragments of Slips' icmp-scans.zeek and the evidence each one is. */
const ICMP_SCANS: ReadonlyArray<[string, EvidenceType]> = [
  ['TimestampScan', 'ICMP_TIMESTAMP_SCAN'],
  ['ICMPAddressScan', 'ICMP_ADDRESS_SCAN'],
  ['AddressMaskScan', 'ICMP_ADDRESS_MASK_SCAN'],
];

/** Slips' ICMP scan confidence (hosts − 255) / 250 + 1: 1.0 at 255 hosts, floored and capped. */
export function icmpScanConfidence(hosts: number): number {
  return Math.min(1, Math.max(MIN_ICMP_SCAN_CONFIDENCE, (hosts - 255) / 250 + 1));
}

function uidsOf(notice: NoticeRecord): string[] {
  return notice.uid === '' ? [] : [notice.uid];
}

function checkZeekScans(host: DetectionHost, notice: NoticeRecord, ctx: FlowContext): void {
  if (notice.note.includes('Port_Scan')) {
    const scanner = notice.scanning_ip !== '' ? notice.scanning_ip : notice.saddr;
    if (!isValidIp(scanner)) return;
    // "<ip> has scanned 60 ports of host <victim> in 0m12s"
    const victim = notice.msg.split('ports of host ').pop()?.split(' in')[0] ?? '';
    host.emit({
      evidence_type: 'VERTICAL_PORT_SCAN',
      description: `vertical port scan by Zeek engine. ${notice.msg}`,
      attacker: { direction: 'SRC', ioc_type: 'IP', value: scanner },
      ...(isValidIp(victim) ? { victim: { direction: 'DST' as const, ioc_type: 'IP' as const, value: victim } } : {}),
      threat_level: 'high',
      confidence: 1,
      timestamp: notice.ts,
      uid: uidsOf(notice),
    });
    ctx.markPortScanner();
  } else if (notice.note.includes('Address_Scan')) {
    host.emit({
      evidence_type: 'HORIZONTAL_PORT_SCAN',
      description: `horizontal port scan by Zeek engine. ${notice.msg}`,
      attacker: { direction: 'SRC', ioc_type: 'IP', value: ctx.profileIp },
      threat_level: 'high',
      confidence: 1,
      timestamp: notice.ts,
      uid: uidsOf(notice),
    });
    ctx.markPortScanner();
  }
}

function checkIcmpScans(host: DetectionHost, notice: NoticeRecord): void {
  const scan = ICMP_SCANS.find(([fragment]) => notice.note.includes(fragment));
  if (scan === undefined) return;
  // "<ip> performed ICMP timestamp scan on <n> hosts"
  const hosts = /on (\d+) hosts/.exec(notice.msg);
  if (hosts === null) return;
  host.emit({
    evidence_type: scan[1],
    description: notice.msg,
    attacker: { direction: 'SRC', ioc_type: 'IP', value: notice.saddr },
    threat_level: 'medium',
    confidence: icmpScanConfidence(Number(hosts[1])),
    timestamp: notice.ts,
    uid: uidsOf(notice),
  });
}

export const noticeDetector: DetectorFactory = (host) => ({
  name: 'notice',
  evidenceTypes: [
    'VERTICAL_PORT_SCAN', 'HORIZONTAL_PORT_SCAN', 'ICMP_TIMESTAMP_SCAN', 'ICMP_ADDRESS_SCAN', 'ICMP_ADDRESS_MASK_SCAN',
  ],
  handlers: {
    notice(notice: NoticeRecord, ctx: FlowContext): void {
      checkZeekScans(host, notice, ctx);
      checkIcmpScans(host, notice);
    },
  },
});
