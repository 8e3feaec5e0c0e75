// DHCP_SCAN (detections spec §4.2): a client requesting many different IP addresses in dhcp.log.
// The distinct requested addresses are counted per profile + time window; every 4th new one
// reports (4, 8, 12, ...). The uids of the counted requests are kept (Slips reports none).

import type { DhcpRecord } from '../inputs/records.js';
import type { DetectorFactory, FlowContext } from './api.js';

/** Every this many distinct requested addresses make a report. */
const REQUESTS_PER_REPORT = 4;
const MAX_UIDS = 100;

interface Requests {
  addresses: Set<string>;
  uids: string[];
}

export const dhcpDetector: DetectorFactory = (host) => ({
  name: 'dhcp',
  evidenceTypes: ['DHCP_SCAN'],
  handlers: {
    dhcp(record: DhcpRecord, ctx: FlowContext): void {
      const requested = record.requested_addr;
      if (requested === '') return;
      const requests = ctx.twState('dhcp:requests', (): Requests => ({ addresses: new Set(), uids: [] }));
      if (requests.addresses.has(requested)) return;
      requests.addresses.add(requested);
      requests.uids.push(...record.uids);
      if (requests.uids.length > MAX_UIDS) requests.uids.splice(0, requests.uids.length - MAX_UIDS);
      const n = requests.addresses.size;
      if (n % REQUESTS_PER_REPORT !== 0) return;
      host.emit({
        evidence_type: 'DHCP_SCAN',
        description: `Performing a DHCP scan by requesting ${n} different IP addresses. Confidence: 0.8. by Slips`,
        attacker: { direction: 'SRC', ioc_type: 'IP', value: ctx.profileIp },
        threat_level: 'medium',
        confidence: 0.8,
        timestamp: record.ts,
        uid: [...requests.uids],
      });
    },
  },
});
