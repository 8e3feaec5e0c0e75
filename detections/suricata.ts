// Suricata alerts (our addition; Slips drops Suricata's alert events): every alert event of an
// eve.json input becomes SURICATA_ALERT evidence, the signature in the description. The
// attacker is the alert's source, the victim its destination; the threat level follows the
// signature's severity (1 high, 2 medium, 3 low, 4 info) and the confidence is 1, since the
// signature matched. Each signature is reported once per profile + time window + destination.

import type { EvidenceInput, ThreatLevelName } from '../core/evidence.js';
import type { SuricataAlertRecord } from '../inputs/records.js';
import type { DetectorFactory, FlowContext } from './api.js';

const THREAT_OF_SEVERITY: readonly ThreatLevelName[] = ['high', 'high', 'medium', 'low', 'info'];

/** Suricata severity (1..4) as a threat level; out-of-range values are treated as low. */
export function threatLevelOfSeverity(severity: number): ThreatLevelName {
  return THREAT_OF_SEVERITY[severity] ?? 'low';
}

/** `Suricata alert: <signature> (sid <id>, <category>) to <daddr>:<dport>/<proto>`. */
export function suricataAlertDescription(alert: SuricataAlertRecord): string {
  const signature = alert.signature !== '' ? alert.signature : `signature ${alert.gid}:${alert.signature_id}`;
  const about = alert.category !== '' ? `sid ${alert.signature_id}, ${alert.category}` : `sid ${alert.signature_id}`;
  const port = alert.proto === 'icmp' || alert.proto === 'ipv6-icmp' || alert.dport === 0 ? '' : `:${alert.dport}`;
  const proto = alert.proto !== '' ? `/${alert.proto}` : '';
  // One line, whatever the rule text holds.
  return `Suricata alert: ${signature} (${about}) to ${alert.daddr}${port}${proto}`.replace(/[\r\n\t]+/g, ' ');
}

function evidenceProto(proto: string): EvidenceInput['proto'] {
  return proto === 'tcp' || proto === 'udp' || proto === 'icmp' ? proto : undefined;
}

export const suricataDetector: DetectorFactory = (host) => ({
  name: 'suricata',
  evidenceTypes: ['SURICATA_ALERT'],
  handlers: {
    suricata_alert(alert: SuricataAlertRecord, ctx: FlowContext): void {
      const reported = ctx.twState('suricata:reported', () => new Set<string>());
      const key = `${alert.gid}:${alert.signature_id} ${alert.daddr}`;
      if (reported.has(key)) return;
      reported.add(key);
      const proto = evidenceProto(alert.proto);
      host.emit({
        evidence_type: 'SURICATA_ALERT',
        description: suricataAlertDescription(alert),
        attacker: { direction: 'SRC', ioc_type: 'IP', value: alert.saddr },
        ...(alert.daddr !== '' ? { victim: { direction: 'DST' as const, ioc_type: 'IP' as const, value: alert.daddr } } : {}),
        threat_level: threatLevelOfSeverity(alert.severity),
        confidence: 1,
        timestamp: alert.ts,
        uid: [alert.uid],
        ...(proto !== undefined ? { proto } : {}),
        src_port: alert.sport,
        dst_port: alert.dport,
        // IDMEF Analyzer.Method: the evidence comes from a signature match, not a heuristic.
        method: 'Signature',
      });
    },
  },
});
