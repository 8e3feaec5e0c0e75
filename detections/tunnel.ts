// GRE tunnels from Zeek's tunnel.log (detections spec §3.4): GRE_SCAN when Zeek discovers a GRE
// tunnel, GRE_TUNNEL for its other actions. Fix #23: each is reported once per profile + time
// window + destination.

import type { TunnelRecord } from '../inputs/records.js';
import type { DetectorFactory, FlowContext } from './api.js';

const GRE = 'Tunnel::GRE';
const DISCOVER = 'Tunnel::DISCOVER';

export const tunnelDetector: DetectorFactory = (host) => ({
  name: 'tunnel',
  evidenceTypes: ['GRE_TUNNEL', 'GRE_SCAN'],
  handlers: {
    tunnel(record: TunnelRecord, ctx: FlowContext): void {
      if (record.tunnel_type !== GRE) return;
      const scan = record.action === DISCOVER;
      const type = scan ? 'GRE_SCAN' : 'GRE_TUNNEL';
      const reported = ctx.twState('tunnel:reported', () => new Set<string>());
      const key = `${type} ${record.daddr}`;
      if (reported.has(key)) return;
      reported.add(key);
      host.emit({
        evidence_type: type,
        description: `GRE ${scan ? 'scan' : 'tunnel'} from ${record.saddr} to ${record.daddr} tunnel action: ${record.action}`,
        attacker: { direction: 'SRC', ioc_type: 'IP', value: record.saddr },
        victim: { direction: 'DST', ioc_type: 'IP', value: record.daddr },
        threat_level: 'low',
        confidence: 1,
        timestamp: record.ts,
        uid: [record.uid],
      });
    },
  },
});
