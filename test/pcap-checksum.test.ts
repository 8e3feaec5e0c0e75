// verify_checksums: packets with a wrong TCP/UDP checksum are dropped (Zeek without -C); off by
// default, when every packet counts (Slips' zeek -C).

import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CollectingErrorSink } from '../inputs/errors.js';
import { transportChecksumValid } from '../inputs/pcap/checksum.js';
import { Decoder } from '../inputs/pcap/decode.js';
import { openPcapInput } from '../inputs/pcap/reader.js';
import type { ConnRecord } from '../inputs/records.js';
import { eth, ipv4, pcapFile, readCapture, S, tcp, udp } from './helpers/packets.js';

/** A TCP segment from 10.0.0.1:40000 to 10.0.0.2:80 with its checksum set right. */
function tcpWithChecksum(): Buffer {
  const segment = tcp(40000, 80, 1, 0, S);
  let sum = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 6 + segment.length;
  for (let i = 0; i < segment.length; i += 2) sum += segment.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  segment.writeUInt16BE(~sum & 0xffff, 16);
  return segment;
}

function decoded(frame: Buffer): Decoder {
  const decoder = new Decoder();
  decoder.decode(frame, 1, 0);
  return decoder;
}

test('TCP and UDP checksums are verified with the pseudo-header; UDP/IPv4 checksum 0 means none', (t) => {
  const good = tcpWithChecksum();
  t.true(transportChecksumValid(decoded(eth(0x0800, ipv4('10.0.0.1', '10.0.0.2', 6, good))).out));
  const bad = Buffer.from(good);
  bad[4] ^= 0xff;
  t.false(transportChecksumValid(decoded(eth(0x0800, ipv4('10.0.0.1', '10.0.0.2', 6, bad))).out));
  t.true(transportChecksumValid(decoded(eth(0x0800, ipv4('10.0.0.1', '10.0.0.2', 17, udp(5000, 53, 'x')))).out));
});

test('verifyChecksums drops a bad segment and warns once; without it the packet counts', async (t) => {
  const bad = Buffer.from(tcpWithChecksum());
  bad[4] ^= 0xff;
  const capture = pcapFile([
    { ts: 100, frame: eth(0x0800, ipv4('10.0.0.1', '10.0.0.2', 6, tcpWithChecksum())) },
    { ts: 101, frame: eth(0x0800, ipv4('10.0.0.1', '10.0.0.3', 6, bad)) },
  ]);
  const plain = await readCapture(t, capture);
  t.is(plain.records.filter((r): r is ConnRecord => r.kind === 'conn').length, 2);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pcap-checksum-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'in.pcap'), capture);
  const sink = new CollectingErrorSink();
  const reader = await openPcapInput(path.join(dir, 'in.pcap'), sink, { verifyChecksums: true });
  const conns: ConnRecord[] = [];
  for await (const batch of reader.batches()) conns.push(...batch.filter((r): r is ConnRecord => r.kind === 'conn'));
  t.deepEqual(conns.map((c) => c.daddr), ['10.0.0.2']);
  t.deepEqual(sink.warnings, [`${path.join(dir, 'in.pcap')}: skipped 1 packet(s) with a bad TCP/UDP checksum (verify_checksums)`]);
});
