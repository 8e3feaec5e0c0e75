// The protocol analyzers of the pcap input, in the order they see each payload. One line per
// analyzer; shared services (the software framework) are created here once per capture.

import type { AnalyzerOutput, ProtocolAnalyzer } from './analyzer.js';
import { DhcpAnalyzer } from './dhcp.js';
import { DnsAnalyzer } from './dns.js';
import { SoftwareTracker } from './software.js';
import { SshAnalyzer } from './ssh.js';

export function createAnalyzers(out: AnalyzerOutput): ProtocolAnalyzer[] {
  const software = new SoftwareTracker(out);
  return [
    new SshAnalyzer(out, software),
    new DnsAnalyzer(out),
    new DhcpAnalyzer(out),
  ];
}
