// NETWORK_GPS_LOCATION_LEAKED (detections spec §4.5): a GPS-location pattern found in a packet
// payload by the pcap analyzer (inputs/pcap/leak.ts). Pair: the sender (SRC) low, the receiver
// (DST) high; confidence 0.9. Reported once per profile + time window + receiver + matched text.

import type { PayloadMatchRecord } from '../inputs/records.js';
import type { DetectorFactory, FlowContext } from './api.js';

export const leakDetector: DetectorFactory = (host) => ({
  name: 'leak',
  evidenceTypes: ['NETWORK_GPS_LOCATION_LEAKED'],
  handlers: {
    payload_match(record: PayloadMatchRecord, ctx: FlowContext): void {
      const reported = ctx.twState('leak:reported', () => new Set<string>());
      const key = `${record.daddr} ${record.matched}`;
      if (reported.has(key)) return;
      reported.add(key);
      const proto: 'tcp' | 'udp' = record.proto === 'udp' ? 'udp' : 'tcp';
      const portName = host.knowledge.portName(record.dport, proto) ?? '';
      const description =
        `${record.rule.replaceAll('_', ' ')} to destination address: ${record.daddr} port: ${record.dport}/${proto} ` +
        `${portName}. Leaked location: ${record.matched}`;
      const common = {
        evidence_type: 'NETWORK_GPS_LOCATION_LEAKED' as const,
        description,
        confidence: 0.9,
        timestamp: record.ts,
        uid: [record.uid],
        proto,
        dst_port: record.dport,
      };
      host.emitPair(
        {
          ...common,
          attacker: { direction: 'SRC', ioc_type: 'IP', value: record.saddr },
          victim: { direction: 'DST', ioc_type: 'IP', value: record.daddr },
          threat_level: 'low',
        },
        {
          ...common,
          attacker: { direction: 'DST', ioc_type: 'IP', value: record.daddr },
          victim: { direction: 'SRC', ioc_type: 'IP', value: record.saddr },
          threat_level: 'high',
        },
      );
    },
  },
});
