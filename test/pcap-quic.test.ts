// The pcap QUIC analyzer: Initial keys against RFC 9001's test vectors, agreement with Zeek's
// quic.log, the ssl.log Zeek writes for QUIC and conn.log's service on the oracle traces, and
// malformed or non-QUIC datagrams that must neither crash nor be taken for QUIC.

import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { CollectingErrorSink } from '../inputs/errors.js';
import { initialKeys, quicVersion } from '../inputs/pcap/quic.js';
import { openPcapInput } from '../inputs/pcap/reader.js';
import type { ConnRecord, SslRecord } from '../inputs/records.js';
import { pcapFile, readCapture, udpExchange, zeekRows } from './helpers/packets.js';
import { SHARED_DIR } from './helpers/shared.js';
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

// ---------------------------------------------------------------------------------------------
// Oracle: quic.log, ssl.log and conn.log.cut of the QUIC traces in zeek-traces

const TRACES = path.join(SHARED_DIR, 'datasets', 'zeek-traces');
const QUIC_TRACES = ['quic-chromium-api-cirrus-com', 'quic-go-handshake', 'quicv2-http3-443'];
const FIELDS: Record<string, string[]> = {
  quic: ['version', 'client_initial_dcid', 'client_scid', 'server_scid', 'server_name', 'client_protocol', 'history'],
  ssl: ['version', 'cipher', 'curve', 'server_name', 'resumed', 'last_alert', 'next_protocol', 'established', 'ssl_history',
    'cert_chain_fps', 'client_cert_chain_fps', 'sni_matches_cert'],
};
const tuple = (r: Record<string, string>): string => [r['id.orig_h'], r['id.orig_p'], r['id.resp_h'], r['id.resp_p']].join(' ');

/**
 * Records are matched on the 4-tuple only: quic-go-handshake's Zeek baseline has ts 1.000000
 * for a connection whose first packet is at 0.648580 (the baseline's conn.log.cut says so too),
 * which no packet of the trace carries.
 */
(fs.existsSync(TRACES) ? test : test.skip)('quic.log, ssl.log and conn service agree with Zeek on the QUIC traces', async (t) => {
  const tmp = tempDir(t, 'pcap-quic-oracle-');
  let compared = 0;
  for (const name of QUIC_TRACES) {
    const dir = path.join(TRACES, name);
    const pcap = fs.readdirSync(dir).find((f) => /\.pcap(ng)?$/.test(f))!;
    const out = path.join(tmp, name);
    const reader = await openPcapInput(path.join(dir, pcap), new CollectingErrorSink(), { zeekLogDir: out });
    for await (const batch of reader.batches()) void batch;
    for (const [log, fields] of Object.entries(FIELDS)) {
      const expected = zeekRows(path.join(dir, `${log}.log`));
      const actual = new Map(zeekRows(path.join(out, `${log}.log`)).map((r) => [tuple(r), r]));
      t.is(actual.size, expected.length, `${name} ${log}`);
      for (const row of expected) {
        const mine = actual.get(tuple(row));
        t.truthy(mine, `${name} ${log}: ${tuple(row)} missing`);
        for (const f of fields) {
          t.is(mine?.[f], row[f], `${name} ${log} ${f}`);
          compared++;
        }
      }
    }
    // conn.log.cut: ts uid history service, a plain header line.
    const [header, ...lines] = fs.readFileSync(path.join(dir, 'conn.log.cut'), 'utf8').trim().split('\n').filter((l) => !l.startsWith('###'));
    const cols = header!.split('\t');
    const services = lines.map((l) => l.split('\t')[cols.indexOf('service')]).sort();
    const mine = zeekRows(path.join(out, 'conn.log')).map((r) => r['service']).sort();
    t.deepEqual(mine, services, `${name} conn service`);
  }
  t.is(compared, 3 * (FIELDS['quic']!.length + FIELDS['ssl']!.length));
});
