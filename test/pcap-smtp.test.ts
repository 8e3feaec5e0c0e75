// The pcap SMTP analyzer: a hand-made mail session (headers, a multipart message with an
// attachment, a rejected message), records equal to what the Zeek reader makes of the written
// smtp.log, STARTTLS and BDAT, malformed input, and Slips' SMTP login brute force from a pcap.
// (Zeek's oracle traces: pcap-oracle.test.ts.)

import test from 'ava';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CollectingErrorSink } from '../inputs/errors.js';
import { openInput } from '../inputs/open.js';
import { extractEmailAddresses } from '../inputs/pcap/smtp.js';
import type { FlowRecord } from '../inputs/records.js';
import { type Message, pcapFile, readCapture, tcpConversation, zeekRows } from './helpers/packets.js';
import { alertsLog, analyzeWithSlips, tempDir } from './helpers/slips.js';

const CLIENT = '10.0.0.7';
const SERVER = '198.51.100.25';
const ends = (sport: number, dport = 2525) => ({ client: CLIENT, server: SERVER, sport, dport });
const ATTACHMENT = crypto.randomBytes(600);

const recordsOf = <K extends FlowRecord['kind']>(records: FlowRecord[], kind: K): Extract<FlowRecord, { kind: K }>[] =>
  records.filter((r): r is Extract<FlowRecord, { kind: K }> => r.kind === kind);

/** A session: one multipart mail accepted, then one rejected with Slips' bad-login reply. */
function mailSession(lastReply = '554 5.7.1 bad smtp-auth user'): Message[] {
  const b64 = ATTACHMENT.toString('base64').replace(/.{76}/g, '$&\r\n');
  const mail = [
    'Received: from relay.example (relay.example [203.0.113.9]) by mx.example; Mon, 1 Jan 2024 00:00:00 +0000',
    'From: "Alice" <alice@example.org>', 'To: bob@example.net, "Carol, C." <carol@example.net>', 'Subject: report',
    'Date: Mon, 1 Jan 2024 00:00:01 +0000', 'Message-ID: <1@example.org>', 'X-Mailer: TestMailer 1.0',
    'Content-Type: multipart/mixed;', '\tboundary="XX"', '', 'preamble', '--XX', 'Content-Type: text/plain', '',
    'Hello Bob,', '..dotted line', '--XX', 'Content-Type: application/octet-stream; name="a.bin"',
    'Content-Transfer-Encoding: base64', '', b64, '--XX--', '.', '',
  ].join('\r\n');
  return [
    { fromClient: false, data: '220-mx.example ESMTP\r\n220 ready\r\n' },
    { fromClient: true, data: 'EHLO client.example\r\n' },
    { fromClient: false, data: '250-mx.example\r\n250-PIPELINING\r\n250 8BITMIME\r\n' },
    { fromClient: true, data: 'MAIL FROM:<alice@example.org> SIZE=1000\r\nRCPT TO:<bob@example.net>\r\nRCPT TO:<carol@example.net>\r\nDATA\r\n' },
    { fromClient: false, data: '250 OK\r\n250 OK\r\n250 OK\r\n354 go ahead\r\n' },
    { fromClient: true, data: mail.slice(0, 400) },
    { fromClient: true, data: mail.slice(400) },
    { fromClient: false, data: '250 queued as 1\r\n' },
    { fromClient: true, data: 'MAIL FROM:<alice@example.org>\r\nRCPT TO:<dave@example.net>\r\nDATA\r\n' },
    { fromClient: false, data: '250 OK\r\n250 OK\r\n354 go ahead\r\n' },
    { fromClient: true, data: 'Subject: second\r\n\r\nbody\r\n.\r\n' },
    { fromClient: false, data: `${lastReply}\r\n` },
    { fromClient: true, data: 'QUIT\r\n' },
    { fromClient: false, data: '221 bye\r\n' },
  ];
}

test('an SMTP session on port 2525: transactions, headers, MIME parts as files, records equal to the Zeek reader\'s', async (t) => {
  const dir = tempDir(t, 'pcap-smtp-logs-');
  const { records } = await readCapture(t, pcapFile(tcpConversation(1_700_000_000, ends(41000), mailSession())), dir);
  t.is(recordsOf(records, 'conn')[0]!.appproto, 'smtp');
  const smtp = recordsOf(records, 'smtp');
  t.deepEqual(smtp.map((s) => [s.helo, s.mailfrom, s.rcptto, s.last_reply]), [
    ['client.example', 'alice@example.org', ['bob@example.net', 'carol@example.net'], '250 queued as 1'],
    ['client.example', 'alice@example.org', ['dave@example.net'], '554 5.7.1 bad smtp-auth user'],
  ]);
  const log = zeekRows(path.join(dir, 'smtp.log'));
  t.like(log[0], {
    trans_depth: '1', from: '"Alice" <alice@example.org>', to: 'bob@example.net,"Carol,C." <carol@example.net>' /* split at every comma after a space, as Zeek's split_mime_email_addresses */, subject: 'report',
    date: 'Mon, 1 Jan 2024 00:00:01 +0000', msg_id: '<1@example.org>', user_agent: 'TestMailer 1.0', tls: 'F',
    first_received: 'from relay.example (relay.example [203.0.113.9]) by mx.example; Mon, 1 Jan 2024 00:00:00 +0000',
    path: `${SERVER},${CLIENT},203.0.113.9`,
  });
  t.like(log[1], { trans_depth: '2', subject: 'second', fuids: log[1]!['fuids'] });
  const files = zeekRows(path.join(dir, 'files.log'));
  t.deepEqual(files.map((f) => [f['source'], f['depth'], f['mime_type'], f['filename'], f['seen_bytes'], f['is_orig']]), [
    ['SMTP', '2', 'text/plain', '-', String('Hello Bob,\r\n.dotted line'.length), 'T'],
    ['SMTP', '3', '-', 'a.bin', String(ATTACHMENT.length), 'T'],
    // A message that ends at "." keeps its last line end (Zeek counts it too).
    ['SMTP', '4', '-', '-', '6', 'T'],
  ]);
  t.is(files[1]!['md5'], crypto.createHash('md5').update(ATTACHMENT).digest('hex'));
  t.is(log[0]!['fuids'], `${files[0]!['fuid']},${files[1]!['fuid']}`);

  const reader = await openInput(dir, new CollectingErrorSink());
  const fromLogs: FlowRecord[] = [];
  for await (const batch of reader.batches()) fromLogs.push(...batch);
  const strip = (r: FlowRecord): Record<string, unknown> => ({ ...r, source: '', interface: '', ts: Number(r.ts.toFixed(6)) });
  t.deepEqual(recordsOf(records, 'smtp').map(strip), recordsOf(fromLogs, 'smtp').map(strip));
});

test('STARTTLS ends the analysis with tls T; BDAT chunks carry the message; an absurd BDAT size is a plain command', async (t) => {
  const tls = tcpConversation(1_700_000_100, ends(41001, 25), [
    { fromClient: false, data: '220 mx ESMTP\r\n' }, { fromClient: true, data: 'EHLO c\r\n' }, { fromClient: false, data: '250 STARTTLS\r\n' },
    { fromClient: true, data: 'STARTTLS\r\n' }, { fromClient: false, data: '220 2.0.0 Ready to start TLS\r\n' },
    { fromClient: true, data: crypto.randomBytes(300) }, { fromClient: false, data: crypto.randomBytes(900) },
  ]);
  const bdat = tcpConversation(1_700_000_200, ends(41002, 25), [
    { fromClient: false, data: '220 mx ESMTP\r\n' }, { fromClient: true, data: 'EHLO c\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\n' },
    { fromClient: false, data: '250 ok\r\n250 ok\r\n250 ok\r\n' },
    { fromClient: true, data: 'BDAT 22\r\nSubject: chunked\r\n\r\nab' }, { fromClient: false, data: '250 22 octets\r\n' },
    { fromClient: true, data: 'BDAT 4 LAST\r\ncd\r\n' }, { fromClient: false, data: '250 message ok\r\n' },
    { fromClient: true, data: 'MAIL FROM:<a@b.c>\r\nRCPT TO:<g@e.f>\r\nBDAT 15555555557777777777 LAST\r\n' },
    { fromClient: false, data: '250 ok\r\n250 ok\r\n521 5.5.4 Syntax: BDAT count [LAST]\r\n' }, { fromClient: true, data: 'QUIT\r\n' },
  ]);
  const dir = tempDir(t, 'pcap-smtp-tls-');
  const { records } = await readCapture(t, pcapFile([...tls, ...bdat]), dir);
  const log = zeekRows(path.join(dir, 'smtp.log'));
  t.deepEqual(log.map((r) => [r['id.orig_p'], r['trans_depth'], r['mailfrom'], r['rcptto'], r['subject'], r['last_reply'], r['tls']]), [
    ['41001', '1', '-', '-', '-', '220 2.0.0 Ready to start TLS', 'T'],
    ['41002', '1', 'a@b.c', 'd@e.f', 'chunked', '250 message ok', 'F'],
    ['41002', '2', 'a@b.c', 'g@e.f', '-', '521 5.5.4 Syntax: BDAT count [LAST]', 'F'],
  ]);
  t.deepEqual(zeekRows(path.join(dir, 'files.log')).map((f) => f['seen_bytes']), ['6']);
  t.deepEqual(recordsOf(records, 'conn').map((c) => c.appproto), ['smtp', 'smtp']);
});

test('malformed SMTP-like traffic does not crash and is not SMTP without both greetings', async (t) => {
  const pkts = [
    ...tcpConversation(1_700_000_300, ends(41003, 25), [{ fromClient: false, data: '220 ftp server ready\r\n' }, { fromClient: true, data: 'USER anonymous\r\n' }]),
    ...tcpConversation(1_700_000_310, ends(41004, 25), [
      { fromClient: false, data: '220 mx\r\n' }, { fromClient: true, data: 'HELO x\r\nMAIL FROM:\r\nRCPT TO:<<<@>>>\r\nDATA\r\n' },
      { fromClient: false, data: '250\r\n999999 what\r\n\r\n354\r\n' }, { fromClient: true, data: crypto.randomBytes(5000) },
    ]),
  ];
  const { records } = await readCapture(t, pcapFile(pkts));
  t.deepEqual(recordsOf(records, 'conn').map((c) => c.appproto), ['', 'smtp']);
  t.is(recordsOf(records, 'smtp').length, 1);
  t.deepEqual(extractEmailAddresses('TO:<a@b.c>, d@e.f ORCPT=rfc822;x@y.z'), ['a@b.c', 'd@e.f', 'ORCPT=rfc822x@y.z']);
});

// ---------------------------------------------------------------------------------------------
// Through the CLI

test('three rejected logins within 10 seconds in a pcap are an SMTP login brute force', async (t) => {
  const input = path.join(tempDir(t, 'slips-smtp-e2e-'), 'smtp.pcap');
  const pkts = [0, 1, 2].flatMap((i) => tcpConversation(1_700_000_000 + i * 3, ends(42000 + i, 25), mailSession()));
  fs.writeFileSync(input, pcapFile(pkts));
  const alerts = alertsLog(await analyzeWithSlips(t, input));
  t.true(alerts.includes(`doing SMTP login bruteforce to ${SERVER}. 3 logins in 10 seconds.`), alerts);
});
