// Zeek notice.log port scans (detections spec §3.4 "Zeek scan notices"): Zeek's own port scan
// notices become VERTICAL_PORT_SCAN / HORIZONTAL_PORT_SCAN "by Zeek engine" and mark the scanner
// as a port scanner for the time window (suppressing UNKNOWN_PORT). The ICMP sweep notices belong
// to detections/icmpScan.ts, Password_Guessing notices to the SSH brute-force detector.

import type { NoticeRecord } from '../inputs/records.js';
import type { DetectionHost, DetectorFactory, FlowContext } from './api.js';
import { isValidIp } from './ip.js';

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

export const noticeDetector: DetectorFactory = (host) => ({
  name: 'notice',
  evidenceTypes: ['VERTICAL_PORT_SCAN', 'HORIZONTAL_PORT_SCAN'],
  handlers: {
    notice: (notice: NoticeRecord, ctx: FlowContext) => checkZeekScans(host, notice, ctx),
  },
});
