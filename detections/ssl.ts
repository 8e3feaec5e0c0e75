// NON_SSL_PORT_443_CONNECTION (detections spec §3.3): an established, non-empty TCP connection to
// port 443 that neither Zeek's service field nor ssl.log shows as SSL/TLS within 300 s of it.
// Reported once per (saddr, daddr) per time window.

import type { SslRecord } from '../inputs/records.js';
import type { DetectorFactory } from './api.js';
import { ProtocolMismatchTracker } from './protocolMismatch.js';

const HTTPS_PORT = 443;

export const nonSslPort443Detector: DetectorFactory = (host) => {
  const tracker = new ProtocolMismatchTracker({
    port: HTTPS_PORT,
    service: 'ssl',
    stateKey: 'ssl:nonSslPort443Reported',
    report({ ts, uid, saddr, daddr }) {
      host.emit({
        evidence_type: 'NON_SSL_PORT_443_CONNECTION',
        description: `non-SSL established connection to port 443. destination IP: ${daddr}`,
        attacker: { direction: 'SRC', ioc_type: 'IP', value: saddr },
        victim: { direction: 'DST', ioc_type: 'IP', value: daddr },
        threat_level: 'medium',
        confidence: 0.8,
        timestamp: ts,
        uid: [uid],
      });
    },
  });
  return {
    name: 'ssl',
    evidenceTypes: ['NON_SSL_PORT_443_CONNECTION'],
    handlers: {
      conn: (flow, ctx) => tracker.onConn(flow, ctx),
      ssl(record: SslRecord): void {
        if (record.dport === HTTPS_PORT) tracker.onConfirmation(record);
      },
    },
    advanceTime: (networkTime) => tracker.advanceTime(networkTime),
    finish: () => tracker.finish(),
  };
};
