// The pcap TLS and X.509 analyzers: a hand-made TLS 1.2 handshake on a non-TLS port (found by
// content) with a self-signed certificate, JA3 against Salesforce's published example, records
// equal to what the Zeek reader makes of the written logs, malformed TLS / DER inputs, and
// SELF_SIGNED_CERTIFICATE raised by the CLI from a pcap. (Zeek's oracle traces:
// pcap-oracle.test.ts.)

import test from 'ava';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CollectingErrorSink } from '../inputs/errors.js';
import { openInput } from '../inputs/open.js';
import { parseCertificate } from '../inputs/pcap/x509.js';
import type { ConnRecord, FlowRecord, SslRecord, X509Record } from '../inputs/records.js';
import { type Message, pcapFile, readCapture, tcpConversation, zeekRows } from './helpers/packets.js';
import { alertsLog, analyzeWithSlips, tempDir } from './helpers/slips.js';

// A self-signed P-256 certificate made for these tests with openssl (CN=evil.example, O=Evil Corp,
// C=CZ; SAN evil.example, *.evil.example, 10.1.2.3; CA; serial 0x1234).
const SELF_SIGNED = Buffer.from(
  'MIIB5DCCAYqgAwIBAgICEjQwCgYIKoZIzj0EAwIwODELMAkGA1UEBhMCQ1oxEjAQBgNVBAoMCUV2aWwgQ29ycDEVMBMGA1UEAwwMZXZpbC5leGFtcGxl' +
  'MB4XDTI2MTEyMzExNTQyNloXDTM2MTEyMDExNTQyNlowODELMAkGA1UEBhMCQ1oxEjAQBgNVBAoMCUV2aWwgQ29ycDEVMBMGA1UEAwwMZXZpbC5leGFt' +
  'cGxlMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEp0M+jg627d5DK44cjfrgjBzi2WAEaAYGdPrgMxH1ADcMy404PZ+11uyEpPmwHtaMKmDID4dAHXdM' +
  'DoXe8PxCf6OBgzCBgDAdBgNVHQ4EFgQUqBHsUUdgdUZWQ00d9JsenBR6SKQwHwYDVR0jBBgwFoAUqBHsUUdgdUZWQ00d9JsenBR6SKQwDwYDVR0TAQH/' +
  'BAUwAwEB/zAtBgNVHREEJjAkggxldmlsLmV4YW1wbGWCDiouZXZpbC5leGFtcGxlhwQKAQIDMAoGCCqGSM49BAMCA0gAMEUCIAmK6cIdP9hBxero5kx3' +
  'iUsbO6xirOielAsimXvLyDkgAiEA5TqQpx5sl2Fdta5oUYRO2gzMvxWAwMALBOwUNR/GQXM=',
  'base64',
);
const SELF_SIGNED_FP = 'e654d7a4ed0dc86ea7c5351bd9d8c7fa09d5eb551399e83352f0feb5cf074542';

// ---------------------------------------------------------------------------------------------
// TLS message builders

const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);
const u24 = (n: number): Buffer => Buffer.from([n >> 16, (n >> 8) & 0xff, n & 0xff]);
const cat = (...parts: Buffer[]): Buffer => Buffer.concat(parts);
const record = (type: number, body: Buffer, version = 0x0303): Buffer => cat(Buffer.from([type]), u16(version), u16(body.length), body);
const handshake = (type: number, body: Buffer): Buffer => cat(Buffer.from([type]), u24(body.length), body);
const ext = (type: number, data: Buffer): Buffer => cat(u16(type), u16(data.length), data);
const list16 = (values: number[]): Buffer => cat(u16(values.length * 2), ...values.map(u16));

function clientHello(version: number, ciphers: number[], extensions: Buffer[]): Buffer {
  const exts = cat(...extensions);
  return handshake(1, cat(u16(version), Buffer.alloc(32, 7), Buffer.from([0]), list16(ciphers), Buffer.from([1, 0]), u16(exts.length), exts));
}

function serverHello(version: number, cipher: number, extensions: Buffer[]): Buffer {
  const exts = cat(...extensions);
  return handshake(2, cat(u16(version), Buffer.alloc(32, 9), Buffer.from([0]), u16(cipher), Buffer.from([0]), u16(exts.length), exts));
}

const sni = (name: string): Buffer => {
  const n = Buffer.from(name);
  return ext(0, cat(u16(n.length + 3), Buffer.from([0]), u16(n.length), n));
};
const groups = (values: number[]): Buffer => ext(10, list16(values));
const pointFormats = (values: number[]): Buffer => ext(11, Buffer.from([values.length, ...values]));
const certificateMessage = (ders: Buffer[]): Buffer => {
  const body = cat(...ders.map((d) => cat(u24(d.length), d)));
  return handshake(11, cat(u24(body.length), body));
};
const noise = (n: number): Buffer => crypto.createHash('sha512').update(String(n)).digest().subarray(0, Math.min(n, 64));

const CLIENT = '10.0.0.5';
const SERVER = '198.51.100.7';
const CIPHERS = [0xc02b, 0xc02f, 0x0a0a, 0x009c];
const EXTENSIONS = (): Buffer[] => [sni('evil.example'), ext(0x1a1a, Buffer.alloc(0)), groups([0x2a2a, 23, 24]), pointFormats([0]), ext(35, Buffer.alloc(0))];

/** A full TLS 1.2 ECDHE handshake with the given server chain, then application data. */
function tls12Handshake(chain: Buffer[]): Message[] {
  return [
    { fromClient: true, data: record(22, clientHello(0x0303, CIPHERS, EXTENSIONS()), 0x0301) },
    {
      fromClient: false,
      data: record(22, cat(serverHello(0x0303, 0xc02b, [ext(0xff01, Buffer.from([0])), ext(11, Buffer.from([1, 0]))]),
        certificateMessage(chain), handshake(12, cat(Buffer.from([3, 0, 23, 1, 4]), noise(8))), handshake(14, Buffer.alloc(0)))),
    },
    { fromClient: true, data: cat(record(22, handshake(16, noise(33))), record(20, Buffer.from([1])), record(22, noise(40))) },
    { fromClient: false, data: cat(record(20, Buffer.from([1])), record(22, noise(40))) },
    { fromClient: true, data: record(23, noise(60)) },
    { fromClient: false, data: record(21, Buffer.from([2, 40])) },
  ];
}

const ENDS = { client: CLIENT, server: SERVER, sport: 50123, dport: 8443 };

test('a TLS 1.2 handshake on port 8443 is found by content: ssl and x509 records, logs, service ssl', async (t) => {
  const dir = tempDir(t, 'pcap-tls-');
  const { records } = await readCapture(t, pcapFile(tcpConversation(1_700_000_000, ENDS, tls12Handshake([SELF_SIGNED]))), dir);
  const conn = records.filter((r): r is ConnRecord => r.kind === 'conn');
  const ssl = records.filter((r): r is SslRecord => r.kind === 'ssl');
  const x509 = records.filter((r): r is X509Record => r.kind === 'x509');
  t.is(conn[0]!.appproto, 'ssl');
  t.is(ssl.length, 1);
  const expectedJa3 = crypto.createHash('md5').update('771,49195-49199-156,0-10-11-35,23-24,0').digest('hex');
  const expectedJa3s = crypto.createHash('md5').update('771,49195,65281-11').digest('hex');
  t.like(ssl[0], {
    uid: conn[0]!.uid, saddr: CLIENT, sport: 50123, daddr: SERVER, dport: 8443, version: 'TLSv12',
    cipher: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', curve: 'secp256r1', server_name: 'evil.example', resumed: false,
    established: true, subject: 'CN=evil.example,O=Evil Corp,C=CZ', issuer: 'CN=evil.example,O=Evil Corp,C=CZ',
    validation_status: 'self signed certificate', ja3: expectedJa3, ja3s: expectedJa3s, source: 'pcap',
  });
  t.deepEqual(ssl[0]!.cert_chain_fuids, [SELF_SIGNED_FP]);
  t.deepEqual(ssl[0]!.client_cert_chain_fuids, []);
  t.is(ssl[0]!.ts, 1_700_000_000.03, 'ts: when the ClientHello arrived');
  t.is(x509.length, 1);
  t.like(x509[0], {
    fingerprint: SELF_SIGNED_FP, certificate_version: 3, certificate_serial: '1234', certificate_subject: 'CN=evil.example,O=Evil Corp,C=CZ',
    key_alg: 'id-ecPublicKey', sig_alg: 'ecdsa-with-SHA256', key_type: 'ecdsa', key_length: 256, basic_constraints_ca: true,
  });
  t.deepEqual(x509[0]!.san_dns, ['evil.example', '*.evil.example']);
  t.deepEqual(x509[0]!.san_ip, ['10.1.2.3']);

  const sslLog = zeekRows(path.join(dir, 'ssl.log'));
  t.like(sslLog[0], {
    version: 'TLSv12', curve: 'secp256r1', established: 'T', ssl_history: 'CsxknGIi', last_alert: '-', next_protocol: '-',
    cert_chain_fps: SELF_SIGNED_FP, client_cert_chain_fps: '(empty)', sni_matches_cert: 'T', ja3: expectedJa3,
  });
  const x509Log = zeekRows(path.join(dir, 'x509.log'));
  t.like(x509Log[0], {
    'certificate.curve': 'prime256v1', 'certificate.exponent': '-', 'san.ip': '10.1.2.3', 'basic_constraints.path_len': '-',
    host_cert: 'T', client_cert: 'F', 'certificate.not_valid_before': '1795434866.000000',
  });
  t.is(zeekRows(path.join(dir, 'conn.log'))[0]!['service'], 'ssl');
});

test('the ssl and x509 records equal what the Zeek reader reads from the written logs', async (t) => {
  const dir = tempDir(t, 'pcap-tls-same-');
  const { records } = await readCapture(t, pcapFile(tcpConversation(1_700_000_000, ENDS, tls12Handshake([SELF_SIGNED]))), dir);
  for (const kind of ['ssl', 'x509'] as const) {
    const reader = await openInput(path.join(dir, `${kind}.log`), new CollectingErrorSink());
    const read: FlowRecord[] = [];
    for await (const batch of reader.batches()) read.push(...batch);
    const mine = records.filter((r) => r.kind === kind);
    t.is(read.length, mine.length, kind);
    for (let i = 0; i < mine.length; i++) t.deepEqual({ ...read[i]!, source: 'pcap' }, { ...mine[i]!, interface: read[i]!.interface }, kind);
  }
});

test('JA3 matches the published example of the JA3 authors; GREASE values are left out', async (t) => {
  const ciphers = [255, 49162, 49172, 136, 135, 57, 56, 49167, 49157, 132, 53, 49159, 49161, 49169, 49171, 69, 68, 51, 50, 49164, 49166,
    49154, 49156, 150, 65, 4, 5, 47, 49160, 49170, 22, 19, 49165, 49155, 65279, 10];
  const hello = clientHello(0x0301, [0x3a3a, ...ciphers], [sni('a.example'), groups([23, 24, 25]), pointFormats([0]), ext(0xdada, Buffer.alloc(1)), ext(35, Buffer.alloc(0))]);
  const { records } = await readCapture(t, pcapFile(tcpConversation(1_700_000_000, ENDS, [{ fromClient: true, data: record(22, hello, 0x0301) }])));
  const ssl = records.filter((r): r is SslRecord => r.kind === 'ssl');
  t.is(ssl[0]?.ja3, '2aef69b4ba1938c3a400de4188743185');
  t.is(ssl[0]?.version, '', 'no ServerHello, no version');
  t.is(records.find((r): r is ConnRecord => r.kind === 'conn')!.appproto, '', 'not confirmed without a ServerHello');
});

test('malformed TLS and DER never crash the run', async (t) => {
  const broken = [
    // A handshake record whose ClientHello is cut short.
    [{ fromClient: true, data: record(22, handshake(1, Buffer.from([3, 3, 1, 2, 3]))) }],
    // A bad record version after a valid hello.
    [{ fromClient: true, data: cat(record(22, clientHello(0x0303, CIPHERS, EXTENSIONS())), Buffer.from([22, 9, 9, 0, 1, 0])) }],
    // A certificate that is not DER, and one cut in half.
    tls12Handshake([Buffer.from('not a certificate'), SELF_SIGNED.subarray(0, 200)]),
    // A handshake message claiming 16 MB.
    [{ fromClient: true, data: record(22, Buffer.from([1, 0xff, 0xff, 0xff, 1, 2])) }],
    // Text that never turns into TLS.
    [{ fromClient: true, data: 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' }, { fromClient: false, data: 'HTTP/1.1 200 OK\r\n\r\n' }],
  ];
  const pkts = broken.flatMap((messages, i) => tcpConversation(1_700_000_000 + i * 10, { ...ENDS, sport: 40000 + i }, messages));
  const { records } = await readCapture(t, pcapFile(pkts));
  t.is(records.filter((r) => r.kind === 'conn').length, broken.length);
  const ssl = records.filter((r): r is SslRecord => r.kind === 'ssl');
  t.deepEqual(ssl.map((r) => r.sport), [40001, 40002], 'only the sessions with a parsed hello are logged');
  t.deepEqual(ssl[1]!.cert_chain_fuids, [], 'certificates that do not parse are left out');
  t.is(records.filter((r) => r.kind === 'x509').length, 0);
  for (let n = 0; n < SELF_SIGNED.length; n += 7) t.is(parseCertificate(SELF_SIGNED.subarray(0, n)), undefined);
  const flipped = Buffer.from(SELF_SIGNED);
  for (let i = 0; i < flipped.length; i += 13) flipped[i] ^= 0x5a;
  t.notThrows(() => parseCertificate(flipped));
});

// ---------------------------------------------------------------------------------------------
// End to end through the CLI

test('a self-signed certificate in a pcap raises SELF_SIGNED_CERTIFICATE', async (t) => {
  const input = path.join(tempDir(t, 'slips-tls-e2e-'), 'selfsigned.pcap');
  fs.writeFileSync(input, pcapFile(tcpConversation(1_700_000_000, ENDS, tls12Handshake([SELF_SIGNED]))));
  const outputDir = await analyzeWithSlips(t, input);
  const alerts = alertsLog(outputDir);
  t.true(alerts.includes(`Self-signed certificate. Destination IP: ${SERVER}. SNI: evil.example.`), alerts);
  t.true(fs.existsSync(path.join(outputDir, 'zeek_files', 'x509.log')));
});
