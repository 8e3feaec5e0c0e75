// LOGIN from login.log (Slips' login.zeek): the wording for successful, confused and failed logins,
// with and without a user (always two spaces after "login."), the destination as the DST attacker
// owned by the source's profile, and no evidence for a record without a valid destination.

import test from 'ava';
import { loginDetector } from '../detections/login.js';
import type { LoginRecord } from '../inputs/records.js';
import { DetectionHarness } from './helpers/detectionHarness.js';

const T0 = 1_700_000_000;

function login(fields: Partial<LoginRecord> = {}): LoginRecord {
  return {
    kind: 'login', ts: T0, uid: 'Clogin', saddr: '10.0.2.15', daddr: '147.32.80.37', interface: 'default', source: 'zeek',
    sport: 49200, dport: 23, proto: 'telnet', success: true, confused: false, user: 'root', client_user: '', password: '',
    ...fields,
  };
}

test('a successful telnet login with a user', (t) => {
  const harness = new DetectionHarness([loginDetector]);
  harness.feed(login());
  t.deepEqual(harness.evidence, [{
    evidence_type: 'LOGIN',
    description: 'successful telnet login.  for user root destination IP: 147.32.80.37.',
    attacker: { direction: 'DST', ioc_type: 'IP', value: '147.32.80.37' },
    victim: { direction: 'SRC', ioc_type: 'IP', value: '10.0.2.15' },
    profile_ip: '10.0.2.15',
    threat_level: 'info',
    confidence: 1,
    timestamp: T0,
    uid: ['Clogin'],
  }]);
});

test('confused and failed logins, no user, no protocol', (t) => {
  const harness = new DetectionHarness([loginDetector]);
  harness.feed(login({ success: false, confused: true, user: '' }));
  harness.feed(login({ success: false, proto: '', ts: T0 + 1 }));
  t.deepEqual(harness.evidence.map((e) => e.description), [
    'confused telnet login.  destination IP: 147.32.80.37.',
    'failed login login.  for user root destination IP: 147.32.80.37.',
  ]);
});

test('no evidence without a valid destination IP', (t) => {
  const harness = new DetectionHarness([loginDetector]);
  harness.feed(login({ daddr: '' }));
  t.deepEqual(harness.evidence, []);
});
