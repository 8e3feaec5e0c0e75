// The pcap QUIC analyzer: Initial keys against RFC 9001's test vectors, and malformed or non-QUIC
// datagrams that must neither crash nor be taken for QUIC. (Zeek's oracle traces:
// pcap-oracle.test.ts.)

import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { initialKeys, quicVersion } from '../inputs/pcap/quic.js';
import type { ConnRecord, SslRecord } from '../inputs/records.js';
import { pcapFile, readCapture, udpExchange } from './helpers/packets.js';
import { tempDir } from './helpers/slips.js';

test('QUIC v1 Initial keys match RFC 9001 Appendix A', (t) => {
  const v1 = quicVersion(1)!;
  const dcid = Buffer.from('8394c8f03e515708', 'hex');
  const client = initialKeys(v1, dcid, true);
  t.is(client.key.toString('hex'), '1f369613dd76d5467730efcbe3b1a22d');
  t.is(client.iv.toString('hex'), 'fa044b2f42a3fd3b46fb255c');
  t.is(client.hp.toString('hex'), '9f50449e04a0e810283a1e9933adedd2');
  const server = initialKeys(v1, dcid, false);
  t.is(server.key.toString('hex'), 'cf3a5331653c364c88f0f379b6067e37');
  t.is(server.iv.toString('hex'), '0ac1493ca1905853b0bba03e');
  t.is(server.hp.toString('hex'), 'c206b8d9b9f0f37644430b490eeaa314');
  t.is(quicVersion(0xff00001d), undefined, 'drafts are not decrypted');
});

test('malformed and non-QUIC datagrams are not QUIC and do not crash', async (t) => {
  const ends = { client: '10.0.0.5', server: '10.0.0.9', sport: 50000, dport: 443 };
  const initialHeader = Buffer.concat([Buffer.from([0xc3, 0, 0, 0, 1, 8]), Buffer.alloc(8, 1), Buffer.from([0, 0, 0x44, 0xd0])]);
  const datagrams = [
    Buffer.concat([initialHeader, Buffer.alloc(1200, 0x55)]),                  // undecryptable Initial
    Buffer.from([0xc3, 0, 0, 0, 1, 200]),                                      // DCID longer than the datagram
    Buffer.concat([Buffer.from([0xc3, 0, 0, 0, 1, 8]), Buffer.alloc(8), Buffer.from([0, 0, 0xff])]), // cut varint
    Buffer.from('not quic at all, just text'),
  ];
  const pkts = datagrams.flatMap((d, i) => udpExchange(1_700_000_000 + i, { ...ends, sport: 50000 + i }, [{ fromClient: true, data: d }, { fromClient: false, data: d }]));
  const dir = tempDir(t, 'pcap-quic-bad-');
  const { records } = await readCapture(t, pcapFile(pkts), dir);
  const conns = records.filter((r): r is ConnRecord => r.kind === 'conn');
  t.is(conns.length, datagrams.length);
  t.true(conns.every((c) => c.appproto === ''));
  t.is(records.filter((r): r is SslRecord => r.kind === 'ssl').length, 0);
  t.false(fs.existsSync(path.join(dir, 'quic.log')));
});

