// Protocols recognised only for conn.log's service: POP3 (a "+OK" greeting and a POP3 command)
// and NTP (an NTP header on port 123).

import test from 'ava';
import type { ConnRecord } from '../inputs/records.js';
import { pcapFile, readCapture, tcpConversation, udpExchange } from './helpers/packets.js';

const ENDS = { client: '192.168.0.4', server: '192.168.0.9', sport: 40000, dport: 1100 };

test('a "+OK" greeting answered by CAPA is POP3 on any port; a non-POP3 client line is not', async (t) => {
  const pkts = [
    ...tcpConversation(1000, ENDS, [
      { fromClient: false, data: '+OK POP3 server ready\r\n' },
      { fromClient: true, data: 'CAPA\r\n' },
      { fromClient: false, data: '+OK\r\nUSER\r\n.\r\n' },
    ]),
    ...tcpConversation(1010, { ...ENDS, sport: 40001 }, [
      { fromClient: false, data: '+OK hello\r\n' },
      { fromClient: true, data: 'HELLO there\r\n' },
    ]),
  ];
  const { records } = await readCapture(t, pcapFile(pkts));
  const conns = records.filter((r): r is ConnRecord => r.kind === 'conn');
  t.deepEqual(conns.map((c) => [c.sport, c.appproto]), [[40000, 'pop3'], [40001, '']]);
});

test('an NTP client request and server reply on port 123 is ntp; a short datagram on 123 is not', async (t) => {
  const request = Buffer.alloc(48);
  request[0] = (4 << 3) | 3; // version 4, client
  const reply = Buffer.alloc(48);
  reply[0] = (4 << 3) | 4; // version 4, server
  const pkts = [
    ...udpExchange(2000, { client: '10.0.0.5', server: '10.0.0.1', sport: 123, dport: 123 }, [
      { fromClient: true, data: request },
      { fromClient: false, data: reply },
    ]),
    ...udpExchange(2001, { client: '10.0.0.5', server: '10.0.0.1', sport: 40000, dport: 123 }, [{ fromClient: true, data: 'hello' }]),
  ];
  const { records } = await readCapture(t, pcapFile(pkts));
  const conns = records.filter((r): r is ConnRecord => r.kind === 'conn');
  t.deepEqual(conns.map((c) => [c.sport, c.appproto]), [[123, 'ntp'], [40000, '']]);
});
