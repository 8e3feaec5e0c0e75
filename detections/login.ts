// LOGIN (detections spec §3.4): every login.log record (Slips' Zeek script login.zeek: telnet,
// rlogin, rsh) with a valid destination. The destination is reported as the DST attacker and the
// evidence belongs to the source's profile, as Slips does.

import type { LoginRecord } from '../inputs/records.js';
import type { DetectorFactory } from './api.js';
import { isValidIp } from './ip.js';

function status(record: LoginRecord): string {
  if (record.success) return 'successful';
  return record.confused ? 'confused' : 'failed';
}

export const loginDetector: DetectorFactory = (host) => ({
  name: 'login',
  evidenceTypes: ['LOGIN'],
  handlers: {
    login(record: LoginRecord): void {
      if (!isValidIp(record.daddr)) return;
      const userPart = record.user !== '' ? ` for user ${record.user}` : '';
      host.emit({
        evidence_type: 'LOGIN',
        description: `${status(record)} ${record.proto || 'login'} login. ${userPart} destination IP: ${record.daddr}.`,
        attacker: { direction: 'DST', ioc_type: 'IP', value: record.daddr },
        victim: { direction: 'SRC', ioc_type: 'IP', value: record.saddr },
        profile_ip: record.saddr,
        threat_level: 'info',
        confidence: 1,
        timestamp: record.ts,
        uid: [record.uid],
      });
    },
  },
});
