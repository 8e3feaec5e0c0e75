// The Suricata alert detector (our addition; Slips has none): alert events from eve.json become
// SURICATA_ALERT evidence with the signature in the description, attacker = alert source,
// victim = destination, threat level from the severity, confidence 1, and one evidence per
// profile + time window + signature + destination. Also end to end from an eve.json file.

import test from 'ava';
import { fileURLToPath } from 'node:url';
import { suricataAlertDescription, suricataDetector, threatLevelOfSeverity } from '../detections/suricata.js';
import { CollectingErrorSink } from '../inputs/errors.js';
import { openInput } from '../inputs/open.js';
import type { SuricataAlertRecord } from '../inputs/records.js';
import { DetectionHarness, TW_WIDTH } from './helpers/detectionHarness.js';

const T0 = 1_700_000_000;

function alert(fields: Partial<SuricataAlertRecord> = {}): SuricataAlertRecord {
  return {
    kind: 'suricata_alert', ts: T0, uid: '1001', saddr: '203.0.113.9', daddr: '192.168.1.129', interface: 'default',
    source: 'suricata', sport: 51698, dport: 445, proto: 'tcp', appproto: '',
    signature: 'ET CINS Active Threat Intelligence Poor Reputation IP', signature_id: 2403388, gid: 1, rev: 1,
    category: 'Misc Attack', severity: 2, action: 'allowed',
    ...fields,
  };
}

test('an alert becomes SURICATA_ALERT evidence with the signature in the description', (t) => {
  const harness = new DetectionHarness([suricataDetector]);
  harness.feed(alert());
  t.deepEqual(harness.evidence, [{
    evidence_type: 'SURICATA_ALERT',
    description:
      'Suricata alert: ET CINS Active Threat Intelligence Poor Reputation IP (sid 2403388, Misc Attack) to 192.168.1.129:445/tcp',
    attacker: { direction: 'SRC', ioc_type: 'IP', value: '203.0.113.9' },
    victim: { direction: 'DST', ioc_type: 'IP', value: '192.168.1.129' },
    threat_level: 'medium',
    confidence: 1,
    timestamp: T0,
    uid: ['1001'],
    proto: 'tcp',
    src_port: 51698,
    dst_port: 445,
    method: 'Signature',
  }]);
});

test('severity 1..4 maps to high, medium, low, info', (t) => {
  t.deepEqual([1, 2, 3, 4].map(threatLevelOfSeverity), ['high', 'medium', 'low', 'info']);
  const harness = new DetectionHarness([suricataDetector]);
  harness.feed(...[1, 2, 3, 4].map((severity) => alert({ severity, signature_id: severity })));
  t.deepEqual(harness.evidence.map((e) => e.threat_level), ['high', 'medium', 'low', 'info']);
});

test('once per profile + time window + signature + destination', (t) => {
  const harness = new DetectionHarness([suricataDetector]);
  harness.feed(
    alert(),
    alert({ ts: T0 + 10, uid: '1002' }),
    alert({ ts: T0 + 20, signature_id: 2403335 }),
    alert({ ts: T0 + 30, daddr: '192.168.1.130' }),
    alert({ ts: T0 + 40, saddr: '203.0.113.10' }),
  );
  t.is(harness.evidence.length, 4);
  harness.feed(alert({ ts: T0 + TW_WIDTH + 1 }));
  t.is(harness.evidence.length, 5, 'the next time window reports it again');
});

test('the description stays one line; ICMP and missing fields read well', (t) => {
  t.is(
    suricataAlertDescription(alert({ signature: 'GPL ICMP_INFO PING *NIX', signature_id: 2100366, category: '', proto: 'icmp', sport: 8, dport: 0 })),
    'Suricata alert: GPL ICMP_INFO PING *NIX (sid 2100366) to 192.168.1.129/icmp',
  );
  t.is(suricataAlertDescription(alert({ signature: 'a\nb\tc' })).includes('\n'), false);
  t.is(
    suricataAlertDescription(alert({ signature: '', signature_id: 7, gid: 1, category: '' })),
    'Suricata alert: signature 1:7 (sid 7) to 192.168.1.129:445/tcp',
  );
});

test('the detector is registered: alerts of an eve.json file become evidence', async (t) => {
  const sink = new CollectingErrorSink();
  const reader = await openInput(fileURLToPath(new URL('../../test/fixtures/inputs/suricata/eve.json', import.meta.url)), sink);
  const harness = new DetectionHarness();
  for await (const batch of reader.batches()) harness.feed(...batch);
  const evidence = harness.ofType('SURICATA_ALERT');
  t.deepEqual(evidence.map((e) => [e.attacker.value, e.description]), [
    ['78.36.196.213', 'Suricata alert: ET CINS Active Threat Intelligence Poor Reputation IP (sid 2403388, Misc Attack) to 192.168.1.129:445/tcp'],
    ['78.36.196.213', 'Suricata alert: ET CINS Active Threat Intelligence Poor Reputation IP (sid 2403335, Misc Attack) to 192.168.1.129:445/tcp'],
  ]);
});
