// Text formats the core writes: times, alerts.log lines, the CLI alert block, IDMEFv2 JSON,
// timeline activities and lines, the console printer, the output directory and output files.
// Runs in Europe/Prague so UTC offsets (+0100 winter, +0200 summer) are exercised.

process.env.TZ = 'Europe/Prague';

import test from 'ava';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, existsSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { Alert, Evidence } from '../core/evidence.js';
import type { ConnRecord } from '../inputs/records.js';

const time = await import('../core/format/time.js');
const alertsLog = await import('../core/format/alertsLog.js');
const idmef = await import('../core/format/idmef.js');
const timeline = await import('../core/format/timeline.js');
const { Printer } = await import('../core/console.js');
const outputDir = await import('../core/outputDir.js');
const { AlertOutputs, TimelineFile } = await import('../core/outputFiles.js');

const tempDirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'formats-test-'));
  tempDirs.push(dir);
  return dir;
}

test.after.always(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function evidence(overrides: Partial<Evidence> = {}): Evidence {
  return {
    id: 'e1',
    evidence_type: 'ARP_SCAN',
    description: 'ARP scan detected',
    attacker: { direction: 'SRC', ioc_type: 'IP', value: '192.168.1.100' },
    threat_level: 'medium',
    confidence: 0.8,
    timestamp: 1698307810, // 2023-10-26 10:10:10 Prague (CEST)
    uid: ['C1', 'C2'],
    method: 'Heuristic',
    rel_id: [],
    profile: { ip: '192.168.1.100' },
    timewindow: { number: 1, start_time: 1688205600, end_time: 1688205900 },
    interface: 'default',
    ...overrides,
  } as Evidence;
}

function alert(overrides: Partial<Alert> = {}): Alert {
  return {
    id: 'a1',
    profile: { ip: '192.168.1.1' },
    timewindow: { number: 1, start_time: 1688205600, end_time: 1688205900 },
    last_evidence: 'e1',
    accumulated_threat_level: 15,
    correl_id: ['e1', 'e2'],
    last_flow_ts: 1700828217.314165,
    threat_level: 'critical',
    confidence: 0.48,
    ...overrides,
  };
}

function conn(overrides: Partial<ConnRecord> = {}): ConnRecord {
  return {
    kind: 'conn', ts: 1700828217.314165, uid: 'C1', saddr: '192.168.1.9', daddr: '45.33.32.156',
    interface: 'default', source: 'zeek', sport: 51234, dport: 443, proto: 'tcp', appproto: '',
    dur: 0.20712, sbytes: 0, dbytes: 0, spkts: 1, dpkts: 0, state: 'S0', history: 'S', smac: '', dmac: '', dir: '->',
    ...overrides,
  };
}

class Collector extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

// --- times

test('alertsFormat renders %Y/%m/%d %H:%M:%S.%f%z with the local offset and exact microseconds', (t) => {
  t.is(time.alertsFormat(1700828217.314165), '2023/11/24 13:16:57.314165+0100');
  t.is(time.alertsFormat(1554387780.32501), '2019/04/04 16:23:00.325010+0200');
  t.is(time.alertsFormat(1698307810), '2023/10/26 10:10:10.000000+0200');
});

test('isoLocal is Python isoformat: fraction only when non-zero, offset with a colon', (t) => {
  t.is(time.isoLocal(1554387780.32501), '2019-04-04T16:23:00.325010+02:00');
  t.is(time.isoLocal(1700828217.314165), '2023-11-24T13:16:57.314165+01:00');
  t.is(time.isoLocal(1698307810), '2023-10-26T10:10:10+02:00');
});

test('microseconds round like datetime.fromtimestamp, carrying into the seconds', (t) => {
  t.is(time.isoLocal(1700000000.9999996), '2023-11-14T23:13:21+01:00');
  t.is(time.isoLocal(1700000000.0000015), '2023-11-14T23:13:20.000001+01:00');
});

test('humanTime and strftime', (t) => {
  t.is(time.humanTime(1688205600), '2023/07/01 12:00:00');
  t.is(time.strftime(1688205600, '%Y-%m-%d_%H:%M:%S %%'), '2023-07-01_12:00:00 %');
});

test('formatWidth follows the stats-line rules', (t) => {
  t.is(time.formatWidth(3600), '1 hr');
  t.is(time.formatWidth(9999999999), '115740 days 17 hrs 46 mins 39 seconds');
  t.is(time.formatWidth(86400), '1 day');
  t.is(time.formatWidth(7261), '2 hrs 1 min 1 second');
  t.is(time.formatWidth(300.7), '5 mins');
  t.is(time.formatWidth(0), '0 seconds');
});

// --- alerts.log and the CLI block

test('evidence line: ISO time, TW, IP padded to 26, description with threat level, trailing space', (t) => {
  t.is(
    alertsLog.evidenceLogLine(evidence()),
    '2023-10-26T10:10:10+02:00 (TW 1): Src IP 192.168.1.100             . Detected ARP scan detected Threat level: medium. ',
  );
});

test('evidence line with a hostname and cached IP identification', (t) => {
  const line = alertsLog.evidenceLogLine(
    evidence({ victim: { direction: 'DST', ioc_type: 'IP', value: '8.8.8.8' } }),
    {
      hostnameOf: (ip) => (ip === '192.168.1.100' ? 'pc' : undefined),
      identificationOf: (ip) => (ip === '8.8.8.8' ? { AS: 'GOOGLE', rDNS: 'dns.google', SNI: '' } : undefined),
    },
  );
  t.is(
    line,
    '2023-10-26T10:10:10+02:00 (TW 1): Src IP 192.168.1.100 (pc)        . Detected ARP scan detected Threat level: medium. ' +
      'IP 8.8.8.8: AS: GOOGLE, rDNS: dns.google, ',
  );
});

test('alert line, generated and blocked', (t) => {
  const a = alert();
  t.is(
    alertsLog.alertLogLine(a, { now: 1700828300.5 }),
    '2023-11-24T13:16:57.314165+01:00: Src IP 192.168.1.1               . Generated an alert given enough evidence on timewindow 1. ' +
      '(real time 2023/11/24 13:18:20.500000+0100)',
  );
  t.true(alertsLog.alertLogLine(a, { blocked: true, now: 0 }).includes('. Is blocked given enough evidence on timewindow 1.'));
});

test('CLI alert block matches Slips unit-test text', (t) => {
  const block = alertsLog.cliAlertBlock(
    alert(),
    [evidence({ description: 'Port scan detected' })],
    { showInterface: true },
  );
  t.is(
    block,
    '2023/11/24 13:16:57.314165+0100 IP 192.168.1.1 detected as malicious in timewindow 1 (start 2023/07/01 12:00:00, ' +
      'stop 2023/07/01 12:05:00) given the following evidence:\n\t- Detected Port scan detected Threat level: medium. Interface: default.\n',
  );
});

test('CLI alert block: hostname, no interface, colours, wrapping at 155 chars', (t) => {
  const long = 'x'.repeat(300);
  const block = alertsLog.cliAlertBlock(alert(), [evidence({ description: long })], {
    hostname: 'laptop',
    colors: { red: (s) => `<r>${s}</r>`, cyan: (s) => `<c>${s}</c>` },
  });
  t.true(block.includes('<r>IP 192.168.1.1 (laptop) detected as malicious'));
  const detected = `Detected ${long} Threat level: medium.`;
  const expected = [detected.slice(0, 155), detected.slice(155, 310), detected.slice(310)].join(`\n${' '.repeat(10)}`);
  t.true(block.endsWith(`<c>\t- ${expected}\n</c>`));
  t.is(alertsLog.lineWrap('a'.repeat(155)), 'a'.repeat(155));
});

// --- IDMEFv2

test('IDMEF event: keys, Severity, Source/Target, Note as a JSON string', (t) => {
  const e = evidence({
    threat_level: 'critical',
    proto: 'tcp',
    src_port: 5555,
    dst_port: 80,
    victim: { direction: 'DST', ioc_type: 'DOMAIN', value: 'example.com' },
    rel_id: ['e0'],
    method: 'Threshold',
  });
  const event = idmef.idmefEvent(e, { accumulatedThreatLevel: 15, now: 1700828217.314165 });
  t.deepEqual(Object.keys(event), [
    'Version', 'Analyzer', 'Status', 'ID', 'Severity', 'StartTime', 'CreateTime', 'Confidence', 'Description', 'Source',
    'Target', 'RelID', 'Note',
  ]);
  t.is(event.Version, '2.0.3');
  t.deepEqual(event.Analyzer, {
    IP: '0.0.0.0', Name: 'Slips', Model: '1.1.21', Category: ['NIDS'], Data: ['Flow', 'Network'], Method: ['Threshold'],
  });
  t.is(event.Status, 'Event');
  t.is(event.Severity, 'High');
  t.is(event.StartTime, '2023-10-26T10:10:10+02:00');
  t.is(event.CreateTime, '2023-11-24T13:16:57.314165+01:00');
  t.is(event.Description, 'ARP scan detected Threat level: critical.');
  t.deepEqual(event.Source, [{ IP: '192.168.1.100', Port: [5555], Protocol: ['TCP'] }]);
  t.deepEqual(event.Target, [{ Hostname: 'example.com', Port: [80] }]);
  t.deepEqual(event.RelID, ['e0']);
  t.is(typeof event.Note, 'string');
  t.is(
    event.Note,
    '{"uids": ["C1", "C2"], "accumulated_threat_level": 15.0, "threat_level": "critical", "confidence": "High", "timewindow": 1}',
  );
  t.deepEqual(JSON.parse(event.Note), {
    uids: ['C1', 'C2'], accumulated_threat_level: 15, threat_level: 'critical', confidence: 'High', timewindow: 1,
  });
});

test('IDMEF event: severity mapping, enrichment Notes, no RelID/Target when absent', (t) => {
  for (const [level, severity] of [['info', 'Info'], ['low', 'Low'], ['medium', 'Medium'], ['high', 'High'], ['critical', 'High']] as const) {
    t.is(idmef.idmefSeverity(level), severity);
  }
  const event = idmef.idmefEvent(evidence({ confidence: 0.6 }), {
    accumulatedThreatLevel: 0.4,
    analyzerIp: '10.0.0.5',
    enrichmentOf: () => ({ TI: 'feodo', rDNS: 'host.example', AS: { org: 'ACME', number: 64500 } }),
  });
  t.false('Target' in event);
  t.false('RelID' in event);
  t.is(event.Analyzer.IP, '10.0.0.5');
  t.deepEqual(Object.keys(event.Source[0]!), ['IP', 'Note', 'TI']);
  t.deepEqual(event.Source[0]!.TI, ['feodo']);
  t.is(event.Source[0]!.Note, '{"AS": {"org": "ACME", "number": 64500}, "rDNS": "host.example"}');
  t.is(JSON.parse(event.Note).confidence, 'Medium');
});

test('IDMEF event: an MD5 attacker becomes an Attachment', (t) => {
  const event = idmef.idmefEvent(
    evidence({
      evidence_type: 'MALICIOUS_DOWNLOADED_FILE',
      attacker: { direction: 'SRC', ioc_type: 'MD5', value: 'd41d8cd98f00b204e9800998ecf8427e' },
      description: 'Malicious downloaded file d41d8cd98f00b204e9800998ecf8427e. size: 1234 bytes. File was downloaded from server: 1.2.3.4.',
    }),
    { accumulatedThreatLevel: 1 },
  );
  t.deepEqual(event.Source, []);
  t.deepEqual(event.Attachment?.[0]?.Hash, ['md5:d41d8cd98f00b204e9800998ecf8427e']);
  t.is(event.Attachment?.[0]?.Size, 1234);
});

test('IDMEF incident structure', (t) => {
  const incident = idmef.idmefIncident(alert({ accumulated_threat_level: 15.36 }), { now: 1688205600, method: 'Heuristic' });
  t.deepEqual(Object.keys(incident), ['Version', 'Analyzer', 'Source', 'ID', 'Status', 'StartTime', 'CreateTime', 'CorrelID', 'Note']);
  t.deepEqual(incident.Source, [{ IP: '192.168.1.1' }]);
  t.is(incident.Status, 'Incident');
  t.is(incident.StartTime, '2023-07-01T12:00:00+02:00');
  t.deepEqual(incident.CorrelID, ['e1', 'e2']);
  t.is(incident.Note, '{"accumulated_threat_level": 15.36, "timewindow": 1, "EndTime": "2023-07-01T12:05:00+02:00"}');
});

test('pythonJson matches json.dumps', (t) => {
  t.is(
    idmef.pythonJson({ a: [1, new idmef.PyFloat(2), 1e-5, new idmef.PyFloat(1e16), 0.1], b: 'é\n\u007f😀', c: undefined, d: null }),
    '{"a": [1, 2.0, 1e-05, 1e+16, 0.1], "b": "\\u00e9\\n\\u007f\\ud83d\\ude00", "d": null}',
  );
  t.is(idmef.pythonJson([]), '[]');
  t.is(idmef.pythonJson({}), '{}');
  t.is(idmef.pythonFloat(1700828217.314165), '1700828217.314165');
});

// --- timeline

const timelineContext = {
  profileIp: '192.168.1.9',
  direction: 'out' as const,
  humanTimestamp: true,
  portName: (port: number, proto: string) => (port === 443 && proto === 'tcp' ? 'https' : undefined),
  domainsOf: (ip: string) => (ip === '45.33.32.156' ? ['scanme.nmap.org'] : []),
};

test('timeline TCP activity and its line', (t) => {
  const activity = timeline.timelineActivity(conn(), 'Not Established', timelineContext);
  t.deepEqual(activity, {
    timestamp: '2023/11/24 13:16:57.314165+0100',
    dport_name: 'HTTPS',
    preposition: 'to',
    dns_resolution: 'scanme.nmap.org',
    daddr: '45.33.32.156',
    'dport/proto': '443/TCP',
    state: 'Not Established',
    warning: 'No data exchange!',
    info: '',
    sent: 0,
    recv: 0,
    tot: 0,
    duration: 0.207,
    'critical warning': '',
  });
  t.is(
    timeline.timelineLine('192.168.1.9', activity!),
    '2023/11/24 13:16:57.314165+0100 192.168.1.9: HTTPS to 45.33.32.156 (scanme.nmap.org) 443/TCP Not Established, ' +
      'sent 0, recv 0, tot 0, dur 0.207, No data exchange!',
  );
});

test('timeline UDP with unknown service, appproto, raw timestamps, incoming flows', (t) => {
  const udp = timeline.timelineActivity(
    conn({ proto: 'udp', dport: 9999, daddr: '10.0.0.1', sbytes: 100, dbytes: 50 }),
    'Established',
    { ...timelineContext, humanTimestamp: false },
  );
  t.like(udp, {
    timestamp: '1700828217.314165', dport_name: '????', dns_resolution: '????', 'dport/proto': '9999/UDP',
    sent: 100, recv: 50, tot: 150, warning: '', 'critical warning': 'Protocol not recognized by Slips nor Zeek.',
  });
  const named = timeline.timelineActivity(conn({ appproto: 'ssl', dport: 8443, sbytes: 1 }), 'Established', timelineContext);
  t.like(named, { dport_name: 'SSL', 'critical warning': '' });
  const failed = timeline.timelineActivity(conn({ appproto: 'failed' }), 'Established', timelineContext);
  t.like(failed, { dport_name: 'HTTPS' });

  const incoming = timeline.timelineActivity(
    conn({ saddr: '45.33.32.156', daddr: '192.168.1.9', dport: 22, sbytes: 10 }),
    'Established',
    { ...timelineContext, direction: 'all', isOwnIp: (ip) => ip === '192.168.1.9' },
  );
  t.like(incoming, { preposition: 'from', saddr: '45.33.32.156', daddr: '192.168.1.9' });
  t.true(timeline.timelineLine('192.168.1.9', incoming!).includes(': ???? from 45.33.32.156 22/TCP Established, sent 10'));

  const many = timeline.timelineActivity(conn(), 'Established', { ...timelineContext, domainsOf: () => ['a', 'b', 'c', 'd'] });
  t.like(many, { dns_resolution: 'd' });
  const three = timeline.timelineActivity(conn(), 'Established', { ...timelineContext, domainsOf: () => ['a', 'b', 'c'] });
  t.like(three, { dns_resolution: 'a, b, c' });
});

test('timeline ICMP variants', (t) => {
  const ping = timeline.timelineActivity(conn({ proto: 'icmp', sport: 8, dport: 0, sbytes: 84, dbytes: 84 }), 'Established', timelineContext);
  t.deepEqual(ping, {
    timestamp: '2023/11/24 13:16:57.314165+0100',
    dport_name: 'PING echo',
    preposition: 'from',
    saddr: '192.168.1.9',
    size: 168,
    duration: 0.207,
    dns_resolution: '',
    daddr: '45.33.32.156',
    'dport/proto': '8/ICMP',
    state: '',
    warning: '',
    sent: '',
    recv: '',
    tot: '',
    'critical warning': '',
  });
  t.is(
    timeline.timelineLine('192.168.1.9', ping!),
    '2023/11/24 13:16:57.314165+0100 192.168.1.9: PING echo from 192.168.1.9 to 45.33.32.156 8/ICMP, size 168, dur 0.207',
  );
  const unknown = timeline.timelineActivity(conn({ proto: 'icmp', sport: 13 }), 'Established', timelineContext);
  t.like(unknown, { dport_name: 'ICMP Unknown type', type: '0x13' });
  t.deepEqual(Object.keys(unknown!).slice(5, 8), ['duration', 'type', 'dns_resolution']);
  const exceeded = timeline.timelineActivity(conn({ proto: 'ipv6-icmp', sport: 11 }), 'Established', timelineContext);
  t.like(exceeded, { dport_name: 'ICMP Time Exceeded in Transit' });
  const argus = timeline.timelineActivity(
    conn({ proto: 'icmp', source: 'argus', sport: 0x0303, dport: 0x0050 }), 'Established', timelineContext,
  );
  t.like(argus, { dport_name: 'ICMP Port Unreachable', warning: 'Unreachable port is 80', 'dport/proto': '0x0303/ICMP' });
  t.false('type' in argus!);
});

test('timeline IGMP and ignored protocols', (t) => {
  const igmp = timeline.timelineActivity(conn({ proto: 'igmp', sbytes: 40 }), '', timelineContext);
  t.deepEqual(igmp, {
    timestamp: '2023/11/24 13:16:57.314165+0100', dport_name: 'IGMP', preposition: 'from', saddr: '192.168.1.9',
    size: 40, duration: 0.207, 'critical warning': '',
  });
  t.is(timeline.timelineLine('192.168.1.9', igmp!), '2023/11/24 13:16:57.314165+0100 192.168.1.9: IGMP from 192.168.1.9, size 40, dur 0.207');
  t.is(timeline.timelineActivity(conn({ proto: 'arp' }), '', timelineContext), undefined);
});

test('timeline line keeps one flow per line and shows merged info', (t) => {
  const activity = timeline.timelineActivity(conn({ sbytes: 5 }), 'Established', timelineContext)!;
  const withInfo = { ...activity, info: { query: 'evil\nexample.com', answers: ['1.2.3.4', '5.6.7.8'] } };
  const line = timeline.timelineLine('192.168.1.9', withInfo);
  t.false(line.includes('\n'));
  t.true(line.endsWith(', info: query: evil\\nexample.com; answers: 1.2.3.4 5.6.7.8'));
});

// --- printer

function printer(opts: { verbose?: number; debug?: number; isTTY?: boolean; slipsLog?: boolean } = {}) {
  const dir = tempDir();
  const stdout = new Collector();
  const stderr = new Collector();
  const p = new Printer({
    verbose: opts.verbose ?? 1,
    debug: opts.debug ?? 0,
    slipsLogPath: opts.slipsLog === false ? undefined : path.join(dir, 'slips.log'),
    errorsLogPath: path.join(dir, 'errors.log'),
    stdout,
    stderr,
    isTTY: opts.isTTY ?? false,
  });
  return { p, dir, stdout, stderr };
}

const LOG_PREFIX = /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d\.\d{6}[+-]\d{4} /;

test('printer verbosity and debug rules, sender rule, slips.log and errors.log', async (t) => {
  const { p, dir, stdout, stderr } = printer({ verbose: 2, debug: 1 });
  p.print('main', 'shown at v1');
  p.print('main', 'shown at v2', 2, 0);
  p.print('main', 'hidden at v3', 3, 0);
  p.print('profiler', 'Started Profiler Process [PID 1]');
  p.print('main', 'never at level 0', 0, 0);
  p.print('input', 'a debug-1 problem', 0, 1);
  p.print('input', 'a debug-2 note', 0, 2);
  await p.close();

  t.is(stdout.text, '[main] shown at v1\n[main] shown at v2\nStarted Profiler Process [PID 1]\n[input] a debug-1 problem\n');
  t.is(stderr.text, '');
  const slipsLog = readFileSync(path.join(dir, 'slips.log'), 'utf8').split('\n');
  t.regex(slipsLog[0]!, /^Using slips-ts \S+ - \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
  t.is(slipsLog[1], '');
  const logged = slipsLog.slice(2, -1);
  t.is(logged.length, 4);
  for (const line of logged) t.regex(line, LOG_PREFIX);
  t.true(logged[2]!.endsWith(' [profiler] Started Profiler Process [PID 1]'));
  const errorsLog = readFileSync(path.join(dir, 'errors.log'), 'utf8').split('\n');
  t.regex(errorsLog[0]!, /^Using slips-ts /);
  t.false(/error/i.test(errorsLog[0]!));
  t.is(errorsLog.slice(2, -1).length, 1);
  t.true(errorsLog[2]!.endsWith(' [input] a debug-1 problem'));
});

test('printer: debug-1 messages reach errors.log even when not shown; error() always', async (t) => {
  const { p, dir, stdout, stderr } = printer({ verbose: 1, debug: 0 });
  p.print('input', 'hidden problem', 0, 1);
  p.error('input', 'conn.log:7: expected 21 fields, got 7');
  await p.close();
  t.is(stdout.text, '');
  t.is(stderr.text, '[input] conn.log:7: expected 21 fields, got 7\n');
  const errors = readFileSync(path.join(dir, 'errors.log'), 'utf8');
  t.true(errors.includes('[input] hidden problem\n'));
  t.true(errors.includes('[input] conn.log:7: expected 21 fields, got 7\n'));
  t.false(readFileSync(path.join(dir, 'slips.log'), 'utf8').includes('hidden problem'));
});

test('printer: stats line is a plain line without a TTY, in place with one; never logged', async (t) => {
  const plain = printer();
  plain.p.statsLine('[2023/11/24 13:16:57] Total analyzed IPs: 3.');
  plain.p.print('main', 'next');
  await plain.p.close();
  t.is(plain.stdout.text, '[2023/11/24 13:16:57] Total analyzed IPs: 3.\n[main] next\n');
  t.false(readFileSync(path.join(plain.dir, 'slips.log'), 'utf8').includes('Total analyzed IPs'));

  const tty = printer({ isTTY: true });
  tty.p.statsLine('Total analyzed IPs: 1.');
  tty.p.statsLine('Total analyzed IPs: 2.');
  tty.p.print('main', tty.p.colors.green('hi'));
  tty.p.statsLine('Total analyzed IPs: 3.', true);
  await tty.p.close();
  t.is(
    tty.stdout.text,
    '\rTotal analyzed IPs: 1.\u001b[K\rTotal analyzed IPs: 2.\u001b[K\r\u001b[K[main] \u001b[32mhi\u001b[0m\n' +
      '\rTotal analyzed IPs: 3.\u001b[K\n',
  );
  t.true(readFileSync(path.join(tty.dir, 'slips.log'), 'utf8').endsWith(' [main] hi\n'));
});

test('printer: no colours without a TTY, no slips.log when not asked', async (t) => {
  const { p, dir } = printer({ slipsLog: false });
  t.is(p.colors.red('x'), 'x');
  p.print('main', 'text');
  await p.close();
  t.false(existsSync(path.join(dir, 'slips.log')));
  t.true(existsSync(path.join(dir, 'errors.log')));
});

// --- output directory

test('defaultOutputDir uses the input basename and a local timestamp', (t) => {
  const now = new Date(1688205600 * 1000);
  t.is(outputDir.defaultOutputDir('dataset/test7-malicious.pcap', now), 'output/test7-malicious.pcap_2023-07-01_12:00:00/');
  t.is(outputDir.defaultOutputDir('dataset/zeek-dir/', now), 'output/zeek-dir_2023-07-01_12:00:00/');
  t.is(outputDir.defaultOutputDir('eth0', now), 'output/eth0_2023-07-01_12:00:00/');
});

test('prepareOutputDir empties the dir, keeps slips_output.txt only when asked, creates alerts/', (t) => {
  const dir = tempDir();
  const fill = () => {
    writeFileSync(path.join(dir, 'slips_output.txt'), 'kept');
    writeFileSync(path.join(dir, 'old.log'), 'old');
    mkdirSync(path.join(dir, 'zeek_files', 'deep'), { recursive: true });
  };
  fill();
  outputDir.prepareOutputDir(dir, { keepSlipsOutput: true });
  t.deepEqual(readdirSync(dir).sort(), ['alerts', 'slips_output.txt']);
  fill();
  outputDir.prepareOutputDir(dir, { keepSlipsOutput: false });
  t.deepEqual(readdirSync(dir), ['alerts']);
  const fresh = path.join(dir, 'a', 'b');
  outputDir.prepareOutputDir(fresh, { keepSlipsOutput: false });
  t.true(existsSync(path.join(fresh, 'alerts')));
});

test('prepareOutputDir keeps the TUI\'s core log, and a directory holding only it is an output directory', (t) => {
  const dir = tempDir();
  writeFileSync(path.join(dir, 'tui_core.log'), 'core started\n');
  outputDir.prepareOutputDir(dir, { keepSlipsOutput: false });
  t.deepEqual(readdirSync(dir).sort(), ['alerts', 'tui_core.log']);
  writeFileSync(path.join(dir, 'old.log'), 'old');
  outputDir.prepareOutputDir(dir, { keepSlipsOutput: false });
  t.deepEqual(readdirSync(dir).sort(), ['alerts', 'tui_core.log']);
});

test('prepareOutputDir refuses to empty a non-empty directory that is not an earlier output', (t) => {
  const dir = tempDir();
  writeFileSync(path.join(dir, 'thesis.tex'), 'precious');
  mkdirSync(path.join(dir, 'photos'));
  t.throws(() => outputDir.prepareOutputDir(dir, { keepSlipsOutput: false }), { message: /refusing to delete its content/ });
  t.deepEqual(readdirSync(dir).sort(), ['photos', 'thesis.tex']);
});

test('writeMetadata writes info.txt and copies the config; appendEndDate adds the end', (t) => {
  const dir = tempDir();
  const config = path.join(dir, 'my.yaml');
  const whitelist = path.join(dir, 'whitelist.conf');
  writeFileSync(config, 'parameters: {}\n');
  writeFileSync(whitelist, '');
  const info = outputDir.writeMetadata(path.join(dir, 'out'), {
    configPath: config,
    whitelistPath: whitelist,
    command: './slips.sh -f x.pcap',
    input: 'x.pcap',
    startDate: new Date(1688205600 * 1000),
  });
  outputDir.appendEndDate(path.join(dir, 'out'), new Date(1688205900 * 1000));
  t.deepEqual(readdirSync(path.join(dir, 'out', 'metadata')).sort(), ['info.txt', 'my.yaml', 'whitelist.conf']);
  const lines = readFileSync(info, 'utf8').split('\n');
  t.regex(lines[0]!, /^Slips version: 1\.1\.21/);
  t.deepEqual(lines.slice(1), [
    'File: x.pcap',
    'Command: ./slips.sh -f x.pcap',
    'Slips start date: 2023/07/01 12:00:00.000000+0200',
    'Slips end date: 2023/07/01 12:05:00.000000+0200',
    '',
  ]);
});

// --- output files

test('AlertOutputs writes alerts.log lines and IDMEF JSON lines', async (t) => {
  const dir = tempDir();
  outputDir.prepareOutputDir(dir, { keepSlipsOutput: false });
  const outputs = new AlertOutputs(dir, { now: () => 1700828300.5 });
  const e = evidence();
  outputs.writeEvidence(e, 0.4);
  outputs.writeAlert(alert({ last_evidence: 'e1' }), [{ ...e, method: 'Statistical' }]);
  await outputs.close();

  const log = readFileSync(path.join(dir, 'alerts', 'alerts.log'), 'utf8').split('\n');
  t.is(log.length, 3);
  t.is(log[0], alertsLog.evidenceLogLine(e));
  t.true(log[1]!.includes('Generated an alert given enough evidence on timewindow 1. (real time 2023/11/24 13:18:20.500000+0100)'));
  const json = readFileSync(path.join(dir, 'alerts', 'alerts.json'), 'utf8').trim().split('\n');
  t.is(json.length, 2);
  t.true(json[0]!.startsWith('{"Version": "2.0.3", "Analyzer": {"IP": "0.0.0.0", "Name": "Slips"'));
  const [event, incident] = json.map((l) => JSON.parse(l));
  t.is(event.Status, 'Event');
  t.is(event.CreateTime, '2023-11-24T13:18:20.500000+01:00');
  t.is(JSON.parse(event.Note).accumulated_threat_level, 0.4);
  t.is(incident.Status, 'Incident');
  t.deepEqual(incident.Analyzer.Method, ['Statistical']);
});

test('TimelineFile writes one line per activity', async (t) => {
  const dir = tempDir();
  const file = new TimelineFile(dir);
  const activity = timeline.timelineActivity(conn(), 'Not Established', timelineContext)!;
  file.write('192.168.1.9', activity);
  file.write('192.168.1.9', activity);
  await file.close();
  const lines = readFileSync(path.join(dir, 'timeline.txt'), 'utf8').split('\n');
  t.deepEqual(lines, [timeline.timelineLine('192.168.1.9', activity), timeline.timelineLine('192.168.1.9', activity), '']);
});
