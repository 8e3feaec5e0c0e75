// NTP recognition for the pcap input: a UDP datagram to or from port 123 (Zeek's NTP ports) that
// parses as an NTP header (48 bytes or more, version 1-4, mode 1-7) marks the connection's
// service 'ntp', as Zeek's NTP analyzer confirms it. ntp.log is not written: no Slips detection
// reads it.

import { addService, type AnalyzerSession, type ProtocolAnalyzer } from './analyzer.js';
import type { TrackedConn } from './conntrack.js';

const NTP_PORT = 123;
const NTP_HEADER_BYTES = 48;

class NtpSession implements AnalyzerSession {
  constructor(private readonly conn: TrackedConn) {}

  payload(_isOrig: boolean, _seq: number, data: Buffer): boolean {
    if (data.length < NTP_HEADER_BYTES) return false;
    const version = (data[0]! >> 3) & 0x07;
    const mode = data[0]! & 0x07;
    if (version < 1 || version > 4 || mode === 0) return false;
    addService(this.conn, 'ntp');
    return false;
  }

  finish(): void {}
}

export class NtpAnalyzer implements ProtocolAnalyzer {
  open(conn: TrackedConn): AnalyzerSession | undefined {
    return conn.ipProto === 17 && (conn.respP === NTP_PORT || conn.origP === NTP_PORT) ? new NtpSession(conn) : undefined;
  }
}
