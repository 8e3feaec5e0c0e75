// The pcap DNS analyzer: query / reply pairing, dns.log columns and dns records (equal to what
// the Zeek reader makes of the written dns.log), DNS over TCP, DNS by content on other ports, a
// reply without query (role flip), unanswered queries, malformed messages, the DNS detections
// fed from pcap records. (Zeek's oracle traces: pcap-oracle.test.ts.)

import test from 'ava';
import path from 'node:path';
import { dnsDetector } from '../detections/dns.js';
import { CollectingErrorSink } from '../inputs/errors.js';
import { openInput } from '../inputs/open.js';
import { decodeNetbiosName } from '../inputs/pcap/dnsMessage.js';
import type { ConnRecord, DnsRecord, FlowRecord } from '../inputs/records.js';
import { DetectionHarness } from './helpers/detectionHarness.js';
import { type Endpoints, pcapFile, type Pkt, readCapture, tcpConversation, udpExchange, zeekRows } from './helpers/packets.js';
import { tempDir } from './helpers/slips.js';

// ---------------------------------------------------------------------------------------------
// DNS message builders

const CLIENT = '10.0.0.5';
const RESOLVER = '10.0.0.53';
const T0 = 1_700_000_000;
const TYPE_A = 1, TYPE_CNAME = 5, TYPE_TXT = 16;
const QUERY_FLAGS = 0x0100; // RD
const REPLY_FLAGS = 0x8180; // QR RD RA

function dnsName(name: string): Buffer {
  const parts = name.split('.').filter((l) => l !== '').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  return Buffer.concat([...parts, Buffer.from([0])]);
}

interface Rr { owner: Buffer; type: number; ttl: number; rdata: Buffer }

function dnsMessage(id: number, flags: number, questions: Buffer[], answers: Rr[] = []): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(id, 0);
  head.writeUInt16BE(flags, 2);
  head.writeUInt16BE(questions.length, 4);
  head.writeUInt16BE(answers.length, 6);
  const rrs = answers.map((a) => {
    const fixed = Buffer.alloc(10);
    fixed.writeUInt16BE(a.type, 0);
    fixed.writeUInt16BE(1, 2);
    fixed.writeUInt32BE(a.ttl, 4);
    fixed.writeUInt16BE(a.rdata.length, 8);
    return Buffer.concat([a.owner, fixed, a.rdata]);
  });
  return Buffer.concat([head, ...questions, ...rrs]);
}

function question(name: string, type: number): Buffer {
  return Buffer.concat([dnsName(name), Buffer.from([type >> 8, type & 0xff, 0, 1])]);
}

/** A pointer to the question name (offset 12). */
const TO_QUESTION = Buffer.from([0xc0, 0x0c]);

function txt(...strings: string[]): Buffer {
  return Buffer.concat(strings.map((s) => Buffer.concat([Buffer.from([s.length]), Buffer.from(s)])));
}

const A_QUERY = dnsMessage(0x1234, QUERY_FLAGS, [question('www.Example.com', TYPE_A)]);
const A_REPLY = dnsMessage(0x1234, REPLY_FLAGS, [question('www.Example.com', TYPE_A)], [
  { owner: TO_QUESTION, type: TYPE_CNAME, ttl: 300, rdata: dnsName('web.example.net') },
  { owner: dnsName('web.example.net'), type: TYPE_A, ttl: 60, rdata: Buffer.from([93, 184, 216, 34]) },
]);

const DNS_PORTS: Endpoints = { client: CLIENT, server: RESOLVER, sport: 40000, dport: 53 };

async function run(t: import('ava').ExecutionContext, pkts: Pkt[]): Promise<{ records: FlowRecord[]; dir: string }> {
  const dir = tempDir(t, 'pcap-dns-logs-');
  const { records } = await readCapture(t, pcapFile(pkts), dir);
  return { records, dir };
}

const dnsOf = (records: FlowRecord[]): DnsRecord[] => records.filter((r): r is DnsRecord => r.kind === 'dns');
const connOf = (records: FlowRecord[]): ConnRecord[] => records.filter((r): r is ConnRecord => r.kind === 'conn');

/** The records the Zeek reader makes of a written log. */
async function zeekReaderRecords(file: string): Promise<FlowRecord[]> {
  const reader = await openInput(file, new CollectingErrorSink());
  const out: FlowRecord[] = [];
  for await (const batch of reader.batches()) out.push(...batch);
  return out;
}

/** Records without their `source` (the only field allowed to differ between the two inputs). */
function withoutSource(records: FlowRecord[]): Omit<FlowRecord, 'source'>[] {
  return records.map(({ source: _source, ...rest }) => rest);
}

// ---------------------------------------------------------------------------------------------
// Analyzer

test('an A query and its reply make one dns record and dns.log line, equal to the Zeek reader\'s record', async (t) => {
  const { records, dir } = await run(t, udpExchange(T0, DNS_PORTS, [
    { fromClient: true, data: A_QUERY },
    { fromClient: false, data: A_REPLY },
  ]));
  const dns = dnsOf(records);
  t.is(dns.length, 1);
  t.like(dns[0], {
    ts: T0, saddr: CLIENT, sport: 40000, daddr: RESOLVER, dport: 53, proto: 'udp', query: 'www.example.com',
    qclass_name: 'C_INTERNET', qtype_name: 'A', rcode_name: 'NOERROR', source: 'pcap',
  });
  t.deepEqual(dns[0]!.answers, ['web.example.net', '93.184.216.34']);
  t.deepEqual(dns[0]!.TTLs, [300, 60]);
  t.is(dns[0]!.uid, connOf(records)[0]!.uid);
  t.is(connOf(records)[0]!.appproto, 'dns');

  const rows = zeekRows(path.join(dir, 'dns.log'));
  t.like(rows[0], {
    trans_id: String(0x1234), rtt: '0.010000', qclass: '1', qtype: '1', rcode: '0', AA: 'F', TC: 'F', RD: 'T', RA: 'T',
    Z: '0', TTLs: '300.000000,60.000000', rejected: 'F', opcode: '0', opcode_name: 'query',
  });
  t.is(zeekRows(path.join(dir, 'conn.log'))[0]!['service'], 'dns');
  t.deepEqual(withoutSource(await zeekReaderRecords(path.join(dir, 'dns.log'))), withoutSource(dns));
});

test('TXT answers are written as Zeek writes them: "TXT <len> <text>" per character-string', async (t) => {
  const reply = dnsMessage(7, REPLY_FLAGS | 0x0400, [question('k._domainkey.example.org', TYPE_TXT)], [
    { owner: TO_QUESTION, type: TYPE_TXT, ttl: 900, rdata: txt('v=DKIM1; p=abc', 'def,ghi') },
  ]);
  const { records, dir } = await run(t, udpExchange(T0, DNS_PORTS, [
    { fromClient: true, data: dnsMessage(7, QUERY_FLAGS, [question('k._domainkey.example.org', TYPE_TXT)]) },
    { fromClient: false, data: reply },
  ]));
  const row = zeekRows(path.join(dir, 'dns.log'))[0]!;
  t.is(row['answers'], 'TXT 14 v=DKIM1; p=abc TXT 7 def\\x2cghi');
  t.is(row['AA'], 'T');
  t.deepEqual(dnsOf(records)[0]!.answers, ['TXT 14 v=DKIM1; p=abc TXT 7 def\\x2cghi']);
  t.deepEqual(withoutSource(await zeekReaderRecords(path.join(dir, 'dns.log'))), withoutSource(dnsOf(records)));
});

function lengthPrefixed(msg: Buffer): Buffer {
  return Buffer.concat([Buffer.from([msg.length >> 8, msg.length & 0xff]), msg]);
}

test('DNS over TCP (length-prefixed messages) on port 53 and, by content, on another port', async (t) => {
  const prefixedReply = lengthPrefixed(A_REPLY);
  const pkts = [
    // The reply split over two segments.
    ...tcpConversation(T0, { ...DNS_PORTS, sport: 40001 }, [
      { fromClient: true, data: lengthPrefixed(A_QUERY) },
      { fromClient: false, data: prefixedReply.subarray(0, 20) },
      { fromClient: false, data: prefixedReply.subarray(20) },
    ]),
    ...tcpConversation(T0 + 1, { ...DNS_PORTS, sport: 40002, dport: 5300 }, [
      { fromClient: true, data: lengthPrefixed(A_QUERY) },
      { fromClient: false, data: prefixedReply },
    ]),
    ...tcpConversation(T0 + 2, { ...DNS_PORTS, sport: 40003, dport: 8080 }, [
      { fromClient: true, data: 'GET / HTTP/1.1\r\nHost: example.com\r\n\r\n' },
      { fromClient: false, data: 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n' },
    ]),
  ];
  const { records } = await run(t, pkts);
  const dns = dnsOf(records);
  t.deepEqual(dns.map((r) => [r.dport, r.proto, r.query, r.answers.join(',')]), [
    [53, 'tcp', 'www.example.com', 'web.example.net,93.184.216.34'],
    [5300, 'tcp', 'www.example.com', 'web.example.net,93.184.216.34'],
  ]);
  t.deepEqual(connOf(records).map((c) => [c.dport, c.appproto]), [[53, 'dns'], [5300, 'dns'], [8080, 'http']]); // the HTTP analyzer takes port 8080
});

test('a reply seen without its query flips the roles and is logged with the reply\'s time', async (t) => {
  // Both ports 53: only the DNS analyzer can tell who asked.
  const { records, dir } = await run(t, udpExchange(T0 + 5, { client: RESOLVER, server: CLIENT, sport: 53, dport: 53 }, [
    { fromClient: true, data: A_REPLY },
  ]));
  const dns = dnsOf(records);
  t.is(dns.length, 1);
  t.like(dns[0], { ts: T0 + 5, saddr: CLIENT, daddr: RESOLVER, query: 'www.example.com', qtype_name: '', rcode_name: 'NOERROR' });
  t.like(zeekRows(path.join(dir, 'dns.log'))[0], { rtt: '-', qtype: '-', RD: 'F', RA: 'T' });
  const conn = connOf(records)[0]!;
  t.like(conn, { saddr: CLIENT, daddr: RESOLVER, appproto: 'dns' });
  t.true(conn.history.includes('^'));
});

test('unanswered queries are logged when the connection ends, one entry per query', async (t) => {
  const query = dnsMessage(99, QUERY_FLAGS, [question('lost.example.com', TYPE_A)]);
  const { records, dir } = await run(t, udpExchange(T0, DNS_PORTS, [
    { fromClient: true, data: query },
    { fromClient: true, data: query },
  ]));
  t.deepEqual(dnsOf(records).map((r) => [r.ts, r.query, r.rcode_name, r.answers.length]), [
    [T0, 'lost.example.com', '', 0],
    [T0 + 0.01, 'lost.example.com', '', 0],
  ]);
  t.deepEqual(zeekRows(path.join(dir, 'dns.log')).map((r) => [r['trans_id'], r['rcode'], r['rtt']]), [['99', '-', '-'], ['99', '-', '-']]);
});

test('malformed messages: no crash, no name claimed from a bad name, nothing at all on a port that is not DNS\'s', async (t) => {
  const truncated = dnsMessage(1, QUERY_FLAGS, [question('short.example.com', TYPE_A)]).subarray(0, 20);
  const selfPointer = Buffer.concat([dnsMessage(2, QUERY_FLAGS, []), Buffer.from([0xc0, 0x0c, 0, 1, 0, 1])]);
  selfPointer.writeUInt16BE(1, 4);
  const loop = Buffer.concat([dnsMessage(3, QUERY_FLAGS, []), Buffer.from([3, 0x61, 0x62, 0x63, 0xc0, 0x0c, 0, 1, 0, 1])]);
  loop.writeUInt16BE(1, 4);
  const forwardAnswer = dnsMessage(4, REPLY_FLAGS, [question('ok.example.com', TYPE_A)], [
    { owner: Buffer.from([0xc0, 0xff]), type: TYPE_A, ttl: 5, rdata: Buffer.from([1, 2, 3, 4]) },
  ]);
  const hugeLabel = Buffer.concat([dnsMessage(5, QUERY_FLAGS, []), Buffer.from([200]), Buffer.alloc(30, 0x61)]);
  hugeLabel.writeUInt16BE(1, 4);
  const messages = [truncated, selfPointer, loop, forwardAnswer, hugeLabel, Buffer.from([1, 2, 3])];
  const pkts: Pkt[] = [];
  messages.forEach((data, i) => {
    pkts.push(...udpExchange(T0 + i, { ...DNS_PORTS, sport: 41000 + i }, [{ fromClient: i !== 3, data }]));
    pkts.push(...udpExchange(T0 + i, { ...DNS_PORTS, sport: 42000 + i, dport: 40053 }, [{ fromClient: i !== 3, data }]));
  });
  const { records } = await run(t, pkts);
  const dns = dnsOf(records);
  // On port 53 each message still has its entry (transaction id, flags), as in Zeek; none claims a name.
  // (A reply takes its query name from its answers, so the bad answer leaves it unnamed too.)
  t.deepEqual(dns.map((r) => [r.dport, r.query, r.answers]), [
    [53, '', []], [53, '', []], [53, '', []], [53, '', []], [53, '', []],
  ]);
  // No message parsed completely: no connection is confirmed as DNS.
  t.is(connOf(records).length, 12);
  t.deepEqual(connOf(records).filter((c) => c.appproto !== ''), []);
});

test('NetBIOS names are decoded like Zeek\'s decode_netbios_name', (t) => {
  t.is(decodeNetbiosName('FEEIEFCAEOEFFEECEJEPFDCAEOEBENEF'), 'THE NETBIOS NAM');
  t.is(decodeNetbiosName('fhepfcelehfcepfffacacacacacacabl'), 'WORKGROUP');
  t.is(decodeNetbiosName('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'), '');
  t.is(decodeNetbiosName('not-a-netbios-name'), '');
});

// ---------------------------------------------------------------------------------------------
// Detections fed from pcap records

test('a high-entropy TXT answer from a pcap gives the same evidence as the Zeek log of it', async (t) => {
  const secret = 'c2VjcmV0LWV4ZmlsdHJhdGVkLWRhdGEtWjN4cVA5a0x3UjJ2TThuQjVqSDFmRzZkUzRhMHlUN2U=';
  const { records, dir } = await run(t, udpExchange(T0, DNS_PORTS, [
    { fromClient: true, data: dnsMessage(8, QUERY_FLAGS, [question('x.tunnel.example', TYPE_TXT)]) },
    { fromClient: false, data: dnsMessage(8, REPLY_FLAGS, [question('x.tunnel.example', TYPE_TXT)], [
      { owner: TO_QUESTION, type: TYPE_TXT, ttl: 1, rdata: txt(secret) },
    ]) },
  ]));
  const fromPcap = new DetectionHarness([dnsDetector]);
  fromPcap.feed(...dnsOf(records));
  const fromZeek = new DetectionHarness([dnsDetector]);
  fromZeek.feed(...(await zeekReaderRecords(path.join(dir, 'dns.log'))));
  const summary = (h: DetectionHarness): string[] => h.evidence.map((e) => `${e.evidence_type} ${e.attacker.direction} ${e.attacker.value}`);
  t.deepEqual(summary(fromPcap), [`HIGH_ENTROPY_DNS_ANSWER DST ${RESOLVER}`, `HIGH_ENTROPY_DNS_ANSWER SRC ${CLIENT}`]);
  t.deepEqual(summary(fromZeek), summary(fromPcap));
});

