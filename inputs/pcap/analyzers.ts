// The protocol analyzers of the pcap input, in the order they see each payload. One line per
// analyzer; shared services (the software and files frameworks) are created here once per capture.

import type { AnalyzerOutput, ProtocolAnalyzer } from './analyzer.js';
import { DhcpAnalyzer } from './dhcp.js';
import { DnsAnalyzer } from './dns.js';
import { FileTracker } from './files.js';
import { HttpAnalyzer } from './http.js';
import { NtpAnalyzer } from './ntp.js';
import { Pop3Analyzer } from './pop3.js';
import { QuicAnalyzer } from './quic.js';
import { SmtpAnalyzer } from './smtp.js';
import { SoftwareTracker } from './software.js';
import { SshAnalyzer } from './ssh.js';
import { TlsAnalyzer } from './tls.js';

export function createAnalyzers(out: AnalyzerOutput): ProtocolAnalyzer[] {
  const software = new SoftwareTracker(out);
  const files = new FileTracker(out);
  const smtp = new SmtpAnalyzer(out, files);
  const tls = new TlsAnalyzer(out);
  return [
    new SshAnalyzer(out, software),
    smtp,
    tls,
    new QuicAnalyzer(out),
    new DnsAnalyzer(out),
    new DhcpAnalyzer(out),
    new Pop3Analyzer(),
    new NtpAnalyzer(),
    // What follows a CONNECT (or a protocol switch) gets SMTP and TLS analysis.
    new HttpAnalyzer(out, software, files, [smtp, tls]),
  ];
}
