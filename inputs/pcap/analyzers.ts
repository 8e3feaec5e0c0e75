// The protocol analyzers of the pcap input, in the order they see each payload. One line per
// analyzer; shared services (the software framework) are created here once per capture.

import type { AnalyzerOutput, ProtocolAnalyzer } from './analyzer.js';
import { SoftwareTracker } from './software.js';
import { QuicAnalyzer } from './quic.js';
import { SshAnalyzer } from './ssh.js';
import { TlsAnalyzer } from './tls.js';

export function createAnalyzers(out: AnalyzerOutput): ProtocolAnalyzer[] {
  const software = new SoftwareTracker(out);
  return [
    new SshAnalyzer(out, software),
    new TlsAnalyzer(out),
    new QuicAnalyzer(out),
  ];
}
