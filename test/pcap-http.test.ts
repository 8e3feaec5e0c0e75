// The pcap HTTP analyzer and files framework: hand-made conversations (pipelined requests, a
// chunked gzip body, an executable download, malformed input), the records equal to what the
// Zeek reader makes of the written logs, and the Slips pipeline on a pcap with an executable
// download and a suspicious user agent. (Zeek's oracle traces: pcap-oracle.test.ts.)

import test from 'ava';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { CollectingErrorSink } from '../inputs/errors.js';
import { openInput } from '../inputs/open.js';
import { sniffMimeType } from '../inputs/pcap/filesMagic.js';
import { parseBrowserVersion } from '../inputs/pcap/http.js';
import { parseRequestLine, parseStatusLine, unescapeUri } from '../inputs/pcap/httpParse.js';
import type { FlowRecord } from '../inputs/records.js';
import { type Message, pcapFile, readCapture, tcpConversation, zeekRows } from './helpers/packets.js';
import { alertsLog, analyzeWithSlips, tempDir } from './helpers/slips.js';

const CLIENT = '192.168.1.20';
const SERVER = '93.184.216.34';
const ends = (sport: number, dport = 8081) => ({ client: CLIENT, server: SERVER, sport, dport });

/** A small PE file: "MZ" header and some bytes. */
const EXE = Buffer.concat([Buffer.from('MZ\x90\x00\x03\x00\x00\x00', 'latin1'), crypto.randomBytes(3000)]);
const PAGE = '<html><head><title>x</title></head><body>' + 'hello '.repeat(400) + '</body></html>';

function chunked(body: Buffer, size: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < body.length; i += size) {
    const piece = body.subarray(i, i + size);
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

/** Two pipelined GETs; a chunked gzip HTML page, then an executable with Content-Length. */
function downloadConversation(userAgent: string): Message[] {
  const gz = zlib.gzipSync(Buffer.from(PAGE));
  const body = chunked(gz, 500);
  return [
    { fromClient: true, data: `GET /index.html HTTP/1.1\r\nHost: example.com\r\nUser-Agent: ${userAgent}\r\n\r\nGET /files/setup%20x.exe HTTP/1.1\r\nHost: example.com\r\nReferer: http://example.com/index.html\r\nUser-Agent: ${userAgent}\r\n\r\n` },
    { fromClient: false, data: Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nServer: Apache/2.4.41 (Ubuntu)\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n'), body.subarray(0, 300)]) },
    { fromClient: false, data: body.subarray(300) },
    { fromClient: false, data: Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="setup.exe"\r\nContent-Length: ${EXE.length}\r\n\r\n`), EXE.subarray(0, 1000)]) },
    { fromClient: false, data: EXE.subarray(1000) },
  ];
}

const recordsOf = <K extends FlowRecord['kind']>(records: FlowRecord[], kind: K): Extract<FlowRecord, { kind: K }>[] =>
  records.filter((r): r is Extract<FlowRecord, { kind: K }> => r.kind === kind);

test('pipelined requests on port 8081: chunked gzip page and an executable download, with files and software', async (t) => {
  const dir = tempDir(t, 'pcap-http-logs-');
  const { records } = await readCapture(t, pcapFile(tcpConversation(1_700_000_000, ends(40000), downloadConversation('Wget/1.21.2'))), dir);
  const conn = recordsOf(records, 'conn');
  t.is(conn[0]!.appproto, 'http');
  const http = recordsOf(records, 'http');
  t.is(http.length, 2);
  t.like(http[0], { method: 'GET', host: 'example.com', uri: '/index.html', version: '1.1', user_agent: 'Wget/1.21.2', status_code: 200, status_msg: 'OK', response_body_len: PAGE.length, resp_mime_types: ['text/html'] });
  t.like(http[1], { uri: '/files/setup x.exe', response_body_len: EXE.length, resp_mime_types: ['application/x-dosexec'] });
  const files = recordsOf(records, 'files');
  t.is(files.length, 2);
  const exe = files.find((f) => f.uid === http[1]!.resp_fuids[0])!;
  t.like(exe, { mime_type: 'application/x-dosexec', md5: crypto.createHash('md5').update(EXE).digest('hex'), sha1: crypto.createHash('sha1').update(EXE).digest('hex'), size: EXE.length, file_source: 'HTTP', saddr: SERVER, daddr: CLIENT });
  t.deepEqual(exe.conn_uids, [conn[0]!.uid]);
  const software = recordsOf(records, 'software');
  t.deepEqual(software.map((s) => [s.software, s.saddr, s.software_name, s.version_major, s.version_minor, s.http_browser]), [
    ['HTTP::BROWSER', CLIENT, 'Wget', '1', '21', true],
  ]);

  const log = zeekRows(path.join(dir, 'http.log'));
  t.deepEqual(log.map((r) => [r['trans_depth'], r['referrer'], r['resp_filenames'], r['tags'], r['info_code']]), [
    ['1', '-', '-', '(empty)', '-'], ['2', 'http://example.com/index.html', 'setup.exe', '(empty)', '-'],
  ]);
  const filesLog = zeekRows(path.join(dir, 'files.log'));
  t.like(filesLog[1], { source: 'HTTP', is_orig: 'F', seen_bytes: String(EXE.length), total_bytes: String(EXE.length), filename: 'setup.exe', local_orig: 'F', analyzers: 'MD5,SHA1,SHA256' });

  // The records are those the Zeek reader makes of the logs written (apart from `source`).
  const reader = await openInput(dir, new CollectingErrorSink());
  const fromLogs: FlowRecord[] = [];
  for await (const batch of reader.batches()) fromLogs.push(...batch);
  for (const kind of ['http', 'files'] as const) {
    const strip = (r: FlowRecord): Record<string, unknown> => ({ ...r, source: '', interface: '' });
    const ours = recordsOf(records, kind).map(strip);
    const theirs = recordsOf(fromLogs, kind).map(strip);
    t.deepEqual(ours.map((r) => ({ ...r, ts: Number((r['ts'] as number).toFixed(6)) })), theirs, kind);
  }
});

test('100-continue, HEAD without body, 204 and a body to the end of the connection', async (t) => {
  const { records } = await readCapture(t, pcapFile(tcpConversation(1_700_000_100, ends(40001, 80), [
    { fromClient: true, data: 'POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n' },
    { fromClient: false, data: 'HTTP/1.1 100 Continue\r\n\r\n' },
    { fromClient: true, data: 'hello world' },
    { fromClient: false, data: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok' },
    { fromClient: true, data: 'HEAD / HTTP/1.1\r\nHost: h\r\n\r\n' },
    { fromClient: false, data: 'HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n' },
    { fromClient: true, data: 'GET /n HTTP/1.1\r\nHost: h\r\n\r\n' },
    { fromClient: false, data: 'HTTP/1.1 204\r\n\r\n' },
    { fromClient: true, data: 'GET /last HTTP/1.0\r\n\r\n' },
    { fromClient: false, data: 'HTTP/1.0 200 OK\r\n\r\nuntil the end' },
  ])));
  const http = recordsOf(records, 'http');
  t.deepEqual(http.map((h) => [h.method, h.request_body_len, h.response_body_len, h.status_code, h.status_msg]), [
    ['POST', 11, 2, 200, 'OK'], ['HEAD', 0, 0, 200, 'OK'], ['GET', 0, 0, 204, '<empty>'], ['GET', 0, 13, 200, 'OK'],
  ]);
});

test('malformed and non-HTTP traffic: no crash, no http record, no service', async (t) => {
  const garbage = crypto.randomBytes(2000);
  const pkts = [
    ...tcpConversation(1_700_000_200, ends(40002, 80), [{ fromClient: true, data: garbage }, { fromClient: false, data: garbage.subarray(7) }]),
    ...tcpConversation(1_700_000_210, ends(40003, 80), [
      { fromClient: true, data: 'GET / HTTP/1.1\r\nHost: h\r\nContent-Length: zz\r\nTransfer-Encoding: chunked\r\n\r\nnot-hex\r\n' },
      { fromClient: false, data: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\nabc' },
    ]),
    // A request line longer than any line kept, in 50 segments.
    ...tcpConversation(1_700_000_220, ends(40004, 80), Array.from({ length: 50 }, (_, i) => ({ fromClient: true, data: i === 0 ? `GET /${'a'.repeat(1400)}` : 'a'.repeat(1400) }))),
  ];
  const { records } = await readCapture(t, pcapFile(pkts));
  const conn = recordsOf(records, 'conn');
  t.deepEqual(conn.map((c) => c.appproto), ['', 'http', '']);
  t.deepEqual(recordsOf(records, 'http').map((h) => [h.uri, h.status_code]), [['/', 200]]);
});

test('request and status lines, URIs, MIME magic and browser versions are read like Zeek', (t) => {
  t.deepEqual(parseRequestLine('GET /a%20b HTTP/1.1'), { method: 'GET', uri: '/a%20b', version: '1.1' });
  t.deepEqual(parseRequestLine('CONNECT mail.example:25 / HTTP/1.0'), { method: 'CONNECT', uri: 'mail.example:25 /', version: '1.0' });
  t.deepEqual(parseRequestLine('OPTIONS HTTP/1.1'), { method: 'OPTIONS', uri: '', version: '1.1' });
  t.deepEqual(parseRequestLine('GET /HTTP/1.1'), { method: 'GET', uri: '/HTTP/1.1', version: '0.9' });
  t.is(parseRequestLine('GET/ HTTP/1.1'), undefined);
  t.is(parseRequestLine('\u00c3\u00c2 / HTTP/1.1'), undefined);
  t.deepEqual(parseStatusLine('HTTP/1.1 204'), { version: '1.1', code: 204, reason: undefined });
  t.deepEqual(parseStatusLine('HTTP/1.0 404 Not  Found'), { version: '1.0', code: 404, reason: 'Not  Found' });
  t.is(parseStatusLine('SSH-2.0-x'), undefined);
  t.is(unescapeUri('/q?x=%21%zz%u0041'), '/q?x=!%zzA');
  t.is(sniffMimeType(Buffer.from('MZ\x90\x00', 'latin1')), 'application/x-dosexec');
  t.is(sniffMimeType(Buffer.from('<!DOCTYPE html><html>')), 'text/html');
  t.is(sniffMimeType(Buffer.from('just some text here')), 'text/plain');
  t.is(sniffMimeType(Buffer.from('{"a": 1}')), 'text/json');
  t.is(sniffMimeType(Buffer.from('\x89PNG\r\n', 'latin1')), 'image/png');
  t.is(sniffMimeType(Buffer.from('short')), '');
  t.like(parseBrowserVersion('Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.71 Safari/537.36'), { name: 'Chrome', major: '120', minor: '0' });
  t.like(parseBrowserVersion('curl/7.74.0'), { name: 'curl', major: '7', minor: '74' });
});

// ---------------------------------------------------------------------------------------------
// Through the CLI: Slips' HTTP detections on a pcap

test('a pcap with an executable download and a suspicious user agent raises both Slips evidences', async (t) => {
  const input = path.join(tempDir(t, 'slips-http-e2e-'), 'download.pcap');
  fs.writeFileSync(input, pcapFile(tcpConversation(1_700_000_000, ends(40010, 80), downloadConversation('Mozilla/5.0 httpsend'))));
  const alerts = alertsLog(await analyzeWithSlips(t, input));
  t.true(alerts.includes(`Download of an executable with MIME type: ['application/x-dosexec'] by ${CLIENT} from ${SERVER}.`), alerts);
  t.true(alerts.includes('Suspicious user-agent: Mozilla/5.0 httpsend while connecting to example.com/index.html'), alerts);
});

test('a capture hole inside a Content-Length body is counted as body and the next request is still parsed', async (t) => {
  const body = Buffer.from(Array.from({ length: 3000 }, (_, i) => 32 + ((i * 7919) % 95)));
  const pkts = tcpConversation(1_700_000_500, ends(41000), [
    { fromClient: true, data: 'GET /big HTTP/1.1\r\nHost: example.com\r\n\r\n' },
    { fromClient: false, data: Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n'), body.subarray(0, 1000)]) },
    { fromClient: false, data: body.subarray(1000, 2000) },
    { fromClient: false, data: body.subarray(2000) },
    { fromClient: true, data: 'GET /next HTTP/1.1\r\nHost: example.com\r\n\r\n' },
    { fromClient: false, data: 'HTTP/1.1 204 No Content\r\n\r\n' },
  ]);
  // Drop the segment with the body's second thousand bytes (the peer still acknowledges it).
  const dropped = pkts.filter((p) => !p.frame.includes(body.subarray(1000, 2000)));
  t.is(dropped.length, pkts.length - 1);
  const { records } = await readCapture(t, pcapFile(dropped));
  const http = recordsOf(records, 'http');
  t.deepEqual(http.map((r) => [r.uri, r.status_code, r.response_body_len]), [['/big', 200, 3000], ['/next', 204, 0]]);
});
