// POP3 recognition for the pcap input, by content: a server greeting "+OK" and a client whose
// first line is a POP3 command mark the connection's service 'pop3', as Zeek's POP3 analyzer
// confirms it. Zeek's default scripts write no pop3.log, so nothing else is produced. At most the
// first line of each side (POP3_LINE_LIMIT bytes) is looked at.

import { addService, type AnalyzerSession, type ProtocolAnalyzer } from './analyzer.js';
import type { TrackedConn } from './conntrack.js';
import { TcpStream } from './stream.js';

/** Longest first line looked at (RFC 1939 allows 512 bytes per reply line). */
const POP3_LINE_LIMIT = 512;
/** RFC 1939 / 2449 / 2595 / 5034 commands a client may start with. */
const POP3_COMMANDS = new Set(['USER', 'PASS', 'APOP', 'AUTH', 'CAPA', 'STLS', 'QUIT', 'STAT', 'LIST', 'RETR', 'UIDL', 'TOP', 'NOOP']);

class Pop3Session implements AnalyzerSession {
  private readonly lines: (string | undefined)[] = [undefined, undefined];
  private readonly pending: string[] = ['', ''];
  private readonly streams: TcpStream[];
  private rejected = false;

  constructor(private readonly conn: TrackedConn) {
    this.streams = [0, 1].map((i) => new TcpStream({ data: (bytes) => this.data(i, bytes), gap: () => void (this.rejected = true) }));
  }

  payload(isOrig: boolean, seq: number, data: Buffer): boolean {
    const side = isOrig ? 0 : 1;
    if (this.lines[side] === undefined) this.streams[side]!.push(seq, data);
    if (this.rejected) return false;
    const [client, server] = this.lines;
    if (server !== undefined && !server.startsWith('+OK')) return false;
    if (client !== undefined && !POP3_COMMANDS.has(client.split(' ', 1)[0]!.toUpperCase())) return false;
    if (client !== undefined && server !== undefined) {
      addService(this.conn, 'pop3');
      return false;
    }
    return true;
  }

  private data(side: number, bytes: Buffer): void {
    if (this.lines[side] !== undefined) return;
    const text = this.pending[side] + bytes.toString('latin1', 0, Math.min(bytes.length, POP3_LINE_LIMIT));
    const end = text.indexOf('\n');
    if (end >= 0) this.lines[side] = text.slice(0, end).replace(/\r$/, '');
    else if (text.length >= POP3_LINE_LIMIT) this.rejected = true;
    else this.pending[side] = text;
  }

  finish(): void {}
}

export class Pop3Analyzer implements ProtocolAnalyzer {
  open(conn: TrackedConn): AnalyzerSession | undefined {
    return conn.ipProto === 6 ? new Pop3Session(conn) : undefined;
  }
}
