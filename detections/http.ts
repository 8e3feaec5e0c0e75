// NON_HTTP_PORT_80_CONNECTION (detections spec §4.4): an established, non-empty TCP connection to
// port 80 that neither Zeek's service field nor http.log shows as HTTP within 300 s of it. Reported
// once per (saddr, daddr) per time window, as a pair: the client (LOW) and the server (MEDIUM).

import type { HttpRecord } from '../inputs/records.js';
import type { DetectorFactory } from './api.js';
import { ProtocolMismatchTracker } from './protocolMismatch.js';

const HTTP_PORT = 80;

export const nonHttpPort80Detector: DetectorFactory = (host) => {
  const tracker = new ProtocolMismatchTracker({
    port: HTTP_PORT,
    service: 'http',
    stateKey: 'http:nonHttpPort80Reported',
    report({ ts, uid, saddr, daddr }) {
      host.emitPair(
        {
          evidence_type: 'NON_HTTP_PORT_80_CONNECTION',
          description: `non-HTTP established connection to port 80. destination IP: ${daddr}`,
          attacker: { direction: 'SRC', ioc_type: 'IP', value: saddr },
          victim: { direction: 'DST', ioc_type: 'IP', value: daddr },
          threat_level: 'low',
          confidence: 0.8,
          timestamp: ts,
          uid: [uid],
        },
        {
          evidence_type: 'NON_HTTP_PORT_80_CONNECTION',
          description: `non-HTTP established connection to port 80. from IP: ${saddr}`,
          attacker: { direction: 'DST', ioc_type: 'IP', value: daddr },
          victim: { direction: 'SRC', ioc_type: 'IP', value: saddr },
          profile_ip: daddr,
          threat_level: 'medium',
          confidence: 0.8,
          timestamp: ts,
          uid: [uid],
        },
      );
    },
  });
  return {
    name: 'http',
    evidenceTypes: ['NON_HTTP_PORT_80_CONNECTION'],
    handlers: {
      conn: (flow, ctx) => tracker.onConn(flow, ctx),
      http(record: HttpRecord): void {
        if (record.dport === HTTP_PORT) tracker.onConfirmation(record);
      },
    },
    advanceTime: (networkTime) => tracker.advanceTime(networkTime),
    finish: () => tracker.finish(),
  };
};
