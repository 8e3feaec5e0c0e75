// POP3 recognition in the pcap input: service 'pop3' from a "+OK" greeting and a POP3 command.

import test from 'ava';
import type { ConnRecord } from '../inputs/records.js';
import { pcapFile, readCapture, tcpConversation } from './helpers/packets.js';

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
