// SMTP login checks of Slips' flow_alerts smtp analyzer (detections spec §3.4): BAD_SMTP_LOGIN for
// every smtp.log record whose last reply rejects the credentials, and SMTP_LOGIN_BRUTEFORCE when
// 3 bad logins fall within 10 seconds (a sliding window of the last 3). Fix #32: the bad logins
// are kept per profile + time window, not across windows.

import type { SmtpRecord } from '../inputs/records.js';
import type { DetectorFactory, FlowContext } from './api.js';

const BAD_LOGIN_REPLY = 'bad smtp-auth user';
/** Bad logins within BRUTEFORCE_SECONDS that make a brute force. */
const BRUTEFORCE_LOGINS = 3;
const BRUTEFORCE_SECONDS = 10;

interface BadLogin {
  ts: number;
  uid: string;
}

export const smtpDetector: DetectorFactory = (host) => ({
  name: 'smtp',
  evidenceTypes: ['BAD_SMTP_LOGIN', 'SMTP_LOGIN_BRUTEFORCE'],
  handlers: {
    smtp(record: SmtpRecord, ctx: FlowContext): void {
      if (!record.last_reply.includes(BAD_LOGIN_REPLY)) return;
      const roles = {
        attacker: { direction: 'SRC', ioc_type: 'IP', value: record.saddr },
        victim: { direction: 'DST', ioc_type: 'IP', value: record.daddr },
      } as const;
      host.emit({
        evidence_type: 'BAD_SMTP_LOGIN',
        description: `doing bad SMTP login to ${record.daddr} `,
        ...roles,
        threat_level: 'high',
        confidence: 1,
        timestamp: record.ts,
        uid: [record.uid],
      });

      const logins = ctx.twState('smtp:badLogins', (): BadLogin[] => []);
      logins.push({ ts: record.ts, uid: record.uid });
      if (logins.length < BRUTEFORCE_LOGINS) return;
      const first = logins[0] as BadLogin;
      if (record.ts - first.ts > BRUTEFORCE_SECONDS) {
        logins.shift();
        return;
      }
      const uids = logins.map((login) => login.uid);
      logins.length = 0;
      host.emit({
        evidence_type: 'SMTP_LOGIN_BRUTEFORCE',
        description: `doing SMTP login bruteforce to ${record.daddr}. ${BRUTEFORCE_LOGINS} logins in ${BRUTEFORCE_SECONDS} seconds. `,
        ...roles,
        threat_level: 'high',
        confidence: 1,
        timestamp: record.ts,
        uid: uids,
      });
    },
  },
});
