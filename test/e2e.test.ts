// End to end with the real program: ./slips.sh on the sample datasets (dataset/), as Slips'
// integration tests run it (-e 1 -t -o <out>), writing into a Redis this file controls
// (redis.external in a temp config). Checks the exit code, the `Total analyzed IPs` line, the
// alert texts, alerts.json (IDMEF), timeline.txt, and that Redis holds what docs/redis.md
// promises, including the pub/sub messages. Also a run on a private redis-server (-P) and a run
// on a Zeek directory with bad lines.

import test, { type ExecutionContext } from 'ava';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isIP } from 'node:net';
import { Redis } from 'ioredis';
import { isPortFree, listRecordedServers } from '../core/redisServer.js';
import { freeLoopbackPort, startTestRedis, type TestRedis } from './helpers/redis.js';
import {
  analyzedIpCounts,
  killRedisServerOnPort,
  redisServersOnPort,
  repoPath,
  runSlips,
  tempDir,
  writeConfig,
  type SlipsResult,
} from './helpers/slips.js';

let redis: TestRedis;

test.before(async () => {
  redis = await startTestRedis();
});

test.after.always(async () => {
  await redis?.stop();
});

// ---------------------------------------------------------------- helpers

/** A client on one DB of the test Redis; each concurrent run gets its own DB. */
function dbClient(t: ExecutionContext, db: number): Redis {
  const client = new Redis({ host: '127.0.0.1', port: redis.port, db, lazyConnect: false, maxRetriesPerRequest: 1 });
  t.teardown(() => client.disconnect());
  return client;
}

async function scanKeys(client: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys.sort();
}

/** Source IPs of the conn lines of a Zeek log (TSV with #fields, or JSON lines), as the engine keeps them. */
function sourceIps(file: string): Set<string> {
  const ips = new Set<string>();
  let columns: string[] | undefined;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('#fields')) columns = line.split('\t').slice(1);
    if (line === '' || line.startsWith('#')) continue;
    let ts: number;
    let ip: string;
    if (line.startsWith('{')) {
      const record = JSON.parse(line) as Record<string, unknown>;
      ts = Number(record['ts']);
      ip = String(record['id.orig_h']);
    } else {
      if (columns === undefined) continue; // before any header: the reader skips it too
      const cells = line.split('\t');
      if (cells.length !== columns.length) continue;
      ts = Number(cells[columns.indexOf('ts')]);
      ip = cells[columns.indexOf('id.orig_h')]!;
    }
    if (ts > 0 && isIP(ip) !== 0) ips.add(ip);
  }
  return ips;
}

/** Evidence lines of alerts.log (alert lines say "Generated an alert"). */
function evidenceLines(alertsLog: string): string[] {
  return alertsLog.split('\n').filter((line) => /\(TW -?\d+\): Src IP .*\. Detected /.test(line));
}

function alertLines(alertsLog: string): string[] {
  return alertsLog.split('\n').filter((line) => line.includes('Generated an alert given enough evidence'));
}

function assertRunOk(t: ExecutionContext, run: SlipsResult): void {
  t.false(run.timedOut, 'the run timed out');
  t.is(run.code, 0, `exit code ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
  t.notRegex(run.stdout + run.stderr, /Fatal|Traceback|<class/);
}

interface Expectation {
  /** Input, relative to the repository. */
  input: string;
  /** Exact text that alerts.log must contain. */
  text: string;
  /** An evidence type that must be stored in Redis. */
  evidenceType: string;
  /** Slips' integration-test bound: N > minIps. */
  minIps: number;
}

/** Every line of alerts.json is an IDMEFv2 Event or Incident as Slips writes it. */
function checkAlertsJson(t: ExecutionContext, outputDir: string, evidenceCount: number, alertCount: number): void {
  const lines = readFileSync(path.join(outputDir, 'alerts', 'alerts.json'), 'utf8').split('\n').filter((line) => line !== '');
  t.is(lines.length, evidenceCount + alertCount);
  let events = 0;
  let incidents = 0;
  for (const line of lines) {
    const idmef = JSON.parse(line) as Record<string, unknown>;
    t.is(idmef['Version'], '2.0.3');
    t.true(idmef['Status'] === 'Event' || idmef['Status'] === 'Incident', String(idmef['Status']));
    const analyzer = idmef['Analyzer'] as Record<string, unknown>;
    t.is(analyzer['Name'], 'Slips');
    t.is(analyzer['Model'], '1.1.21');
    t.is(typeof idmef['ID'], 'string');
    t.is(typeof idmef['Note'], 'string');
    const note = JSON.parse(idmef['Note'] as string) as Record<string, unknown>;
    t.is(typeof note['accumulated_threat_level'], 'number');
    t.is(typeof note['timewindow'], 'number');
    if (idmef['Status'] === 'Event') {
      events += 1;
      t.true(Array.isArray(note['uids']));
      t.true(['Info', 'Low', 'Medium', 'High'].includes(idmef['Severity'] as string));
    } else {
      incidents += 1;
      t.true(Array.isArray(idmef['CorrelID']));
    }
  }
  t.is(events, evidenceCount);
  t.is(incidents, alertCount);
}

/** What docs/redis.md promises after a finished run. Returns the profile members. */
async function checkRedis(
  t: ExecutionContext,
  client: Redis,
  opts: { outputDir: string; input: string; evidenceLines: number; alertLines: number; evidenceType: string },
): Promise<string[]> {
  // analysis
  const analysis = await client.hgetall('analysis');
  t.is(analysis['name'], opts.input);
  t.is(analysis['output_dir'], opts.outputDir);
  t.is(analysis['slips_version'], '1.1.21');
  t.is(analysis['time_window_width'], '3600');
  t.is(analysis['evidence_detection_threshold'], '0.25');
  t.regex(analysis['input_type'] ?? '', /^zeek_(log_file|folder)$/);
  for (const field of ['version', 'analysis_start', 'analysis_end', 'file_start', 'pid', 'redis_port']) {
    t.truthy(analysis[field], `analysis.${field}`);
  }
  t.false(Number.isNaN(Date.parse(analysis['analysis_end']!)));
  t.is(await client.get('will_slips_have_more_flows'), '0');

  // profiles and time windows
  const profiles = await client.zrange('profiles', 0, -1);
  t.true(profiles.length > 0);
  for (const profile of profiles) {
    t.regex(profile, /^profile_/);
    const ip = profile.slice('profile_'.length);
    t.not(isIP(ip), 0, profile);
    const hash = await client.hgetall(profile);
    t.is(hash['ip'], ip);
    t.is(hash['duration'], '3600');
    t.is(Number(hash['starttime']), Number(await client.zscore('profiles', profile)));
    const tws = await client.zrange(`tws${profile}`, 0, -1, 'WITHSCORES');
    t.true(tws.length >= 2, `tws${profile}`);
    for (let i = 0; i < tws.length; i += 2) t.regex(tws[i]!, /^timewindow-?\d+$/);
  }

  // per-window stats add up to the flows stored
  const statsKeys = await scanKeys(client, '*:stats');
  t.true(statsKeys.length > 0);
  let records = 0;
  for (const key of statsKeys) {
    const stats = await client.hgetall(key);
    records += Number(stats['flows']);
    for (const [field, value] of Object.entries(stats)) if (field.startsWith('records_')) records += Number(value);
    t.is(stats['closed'], '1', `${key} closed at the end`);
    t.is(Number(stats['flows']), Number(stats['out_flows']) + Number(stats['in_flows']), key);
    const owner = key.slice(0, key.indexOf('_timewindow'));
    t.true(profiles.includes(owner), `${key} belongs to a listed profile`);
    // timeline of that window: at most one entry per flow, each entry an activity JSON
    const timeline = await client.zrange(`${key.slice(0, -':stats'.length)}_timeline`, 0, -1, 'WITHSCORES');
    t.true(timeline.length / 2 <= Number(stats['flows']), key);
    if (Number(stats['flows']) > 0) t.true(timeline.length > 0, `${key}: timeline entries`);
    for (let i = 0; i < timeline.length; i += 2) {
      const activity = JSON.parse(timeline[i]!) as Record<string, unknown>;
      t.is(activity['ts'], Number(timeline[i + 1]));
      t.is(typeof activity['uid'], 'string');
      t.true('daddr' in activity || 'saddr' in activity);
    }
  }
  // conn flows plus the other records (dns, ssl, ...) of every window: every record stored once
  t.is(records, Number(await client.get('processed_flows_by_profiler_so_far')));
  t.is(await client.zcard('modified_timewindows'), 0, 'every window closed at the end');

  // evidence
  const evidenceKeys = await scanKeys(client, 'profile_*_evidence');
  let evidence = 0;
  const types = new Set<string>();
  for (const key of evidenceKeys) {
    const match = /^(profile_.+)_(timewindow-?\d+)_evidence$/.exec(key);
    t.truthy(match, key);
    const entries = await client.hgetall(key);
    const processed = await client.smembers(`processed_evidence_${match![1]}_${match![2]}`);
    t.deepEqual(processed.sort(), Object.keys(entries).sort(), `processed_evidence of ${key}`);
    for (const [id, json] of Object.entries(entries)) {
      evidence += 1;
      const parsed = JSON.parse(json) as Record<string, any>;
      t.is(parsed['id'], id);
      types.add(parsed['evidence_type'] as string);
      t.is(`profile_${parsed['profile'].ip}`, match![1]);
      t.is(`timewindow${parsed['timewindow'].number}`, match![2]);
      t.true(['SRC', 'DST'].includes(parsed['attacker'].direction));
      t.true(['info', 'low', 'medium', 'high', 'critical'].includes(parsed['threat_level'] as string));
      t.notRegex(parsed['description'] as string, /Threat level:/);
      t.is(await client.hget('flows_causing_evidence', id), JSON.stringify(parsed['uid']));
    }
  }
  t.true(types.has(opts.evidenceType), `evidence types: ${[...types].join(', ')}`);
  t.is(evidence, opts.evidenceLines);
  t.is(Number(await client.get('number_of_evidence')), opts.evidenceLines);

  // alerts
  t.is(Number((await client.get('number_of_alerts')) ?? 0), opts.alertLines);
  t.is(await client.hlen('alerts'), opts.alertLines);
  t.is(await client.zcard('alerts_by_time'), opts.alertLines);
  for (const json of Object.values(await client.hgetall('alerts'))) {
    const alert = JSON.parse(json) as { id: string; profile: { ip: string }; timewindow: { number: number }; correl_id: string[] };
    const twKey = `profile_${alert.profile.ip}_timewindow${alert.timewindow.number}`;
    const byAlert = JSON.parse((await client.hget(twKey, 'alerts')) ?? '{}') as Record<string, string[]>;
    t.deepEqual(byAlert[alert.id], alert.correl_id);
    t.is(await client.hget(`profile_${alert.profile.ip}`, 'threat_level'), 'critical');
  }
  return profiles;
}

/** One dataset through ./slips.sh into DB `db` of the test Redis. */
async function analyzeDataset(t: ExecutionContext, expect: Expectation, db: number): Promise<void> {
  const dir = tempDir(t, 'slips-e2e-');
  const outputDir = path.join(dir, 'out');
  const config = writeConfig(dir, [[['redis', 'external'], `redis://127.0.0.1:${redis.port}/${db}`]]);
  const client = dbClient(t, db);
  const input = repoPath(expect.input);

  const run = await runSlips(t, ['-e', '1', '-t', '-f', input, '-o', outputDir, '-c', config], { cwd: dir });
  assertRunOk(t, run);
  t.regex(run.stdout, new RegExp(`Using external redis server redis://127\\.0\\.0\\.1:${redis.port}/${db}`));

  const alertsLog = readFileSync(path.join(outputDir, 'alerts', 'alerts.log'), 'utf8');
  t.true(alertsLog.includes(expect.text), alertsLog);
  const evidence = evidenceLines(alertsLog).length;
  const alerts = alertLines(alertsLog).length;
  checkAlertsJson(t, outputDir, evidence, alerts);
  t.true(statSync(path.join(outputDir, 'timeline.txt')).size > 0);

  const profiles = await checkRedis(t, client, { outputDir, input, evidenceLines: evidence, alertLines: alerts, evidenceType: expect.evidenceType });
  const counts = analyzedIpCounts(run.stdout);
  t.true(counts.length > 0, run.stdout);
  const n = Math.max(...counts);
  t.true(n > expect.minIps);
  t.is(n, profiles.length);
  // The profiles are the sources of the flows plus the profiles evidence was stored for.
  const expected = statSync(input).isDirectory() ? undefined : sourceIps(input);
  if (expected !== undefined) {
    for (const key of await scanKeys(client, 'profile_*_evidence')) {
      for (const json of Object.values(await client.hgetall(key))) expected.add((JSON.parse(json) as { profile: { ip: string } }).profile.ip);
    }
    t.deepEqual(profiles.map((p) => p.slice('profile_'.length)).sort(), [...expected].sort());
  }
}

// ---------------------------------------------------------------- runs on the test Redis

test.serial('vertical port scan: the README command, with pub/sub messages', async (t) => {
  // Serial: pub/sub channels are shared by every DB of the server, so nothing else runs meanwhile.
  const dir = tempDir(t, 'slips-e2e-');
  const outputDir = path.join(dir, 'out');
  const config = writeConfig(dir, [[['redis', 'external'], `127.0.0.1:${redis.port}`]]);
  const client = dbClient(t, 0);
  await client.flushdb();

  const subscriber = redis.client.duplicate();
  t.teardown(() => subscriber.disconnect());
  const messages = new Map<string, Array<Record<string, unknown>>>();
  subscriber.on('message', (channel: string, message: string) => {
    if (!messages.has(channel)) messages.set(channel, []);
    messages.get(channel)!.push(JSON.parse(message) as Record<string, unknown>);
  });
  await subscriber.subscribe('new_ip', 'new_profile', 'new_timewindow', 'evidence_added', 'new_alert', 'tw_closed', 'tui:tick', 'control_channel');

  // As in the README and Slips' integration tests: relative input path from the repository.
  const run = await runSlips(t, ['-e', '1', '-t', '-f', 'dataset/port-scans/vertical/conn.log', '-o', outputDir, '-c', config]);
  assertRunOk(t, run);
  t.deepEqual([...new Set(analyzedIpCounts(run.stdout))], [1]);
  t.regex(run.stdout, /\[main\] Total analyzed IPs: 1\./);

  const alertsLog = readFileSync(path.join(outputDir, 'alerts', 'alerts.log'), 'utf8');
  t.true(alertsLog.includes('vertical port scan to IP 45.33.32.156 from 192.168.1.9.'), alertsLog);
  const evidence = evidenceLines(alertsLog).length;
  const alerts = alertLines(alertsLog).length;
  t.true(evidence >= 1);
  checkAlertsJson(t, outputDir, evidence, alerts);
  t.true(existsSync(path.join(outputDir, 'timeline.txt')));
  t.regex(readFileSync(path.join(outputDir, 'timeline.txt'), 'utf8'), /192\.168\.1\.9: .*45\.33\.32\.156/);
  t.false(existsSync(path.join(outputDir, 'databases', 'dump.rdb')), 'an external Redis is not saved by the run');

  const input = repoPath('dataset/port-scans/vertical/conn.log');
  const profiles = await checkRedis(t, client, { outputDir, input, evidenceLines: evidence, alertLines: alerts, evidenceType: 'VERTICAL_PORT_SCAN' });
  t.deepEqual(profiles, ['profile_192.168.1.9']);
  t.is(await client.get('processed_flows_by_profiler_so_far'), '50');
  t.is((await client.hgetall('analysis'))['total_flows'], '50');
  t.is((await client.hgetall('analysis'))['redis_port'], `127.0.0.1:${redis.port}`);
  const scans = Object.values(await client.hgetall('profile_192.168.1.9_timewindow1_evidence'))
    .map((json) => JSON.parse(json) as { evidence_type: string; description: string; attacker: { value: string }; victim?: { value: string } })
    .filter((e) => e.evidence_type === 'VERTICAL_PORT_SCAN');
  t.is(scans.length, 1);
  t.is(scans[0]!.attacker.value, '192.168.1.9');
  t.is(scans[0]!.victim?.value, '45.33.32.156');

  // pub/sub: give the last messages a moment to arrive
  await new Promise((resolve) => setTimeout(resolve, 200));
  const texts = (channel: string) => (messages.get(channel) ?? []).map((m) => m['text']);
  t.deepEqual(texts('new_profile'), ['profile_192.168.1.9']);
  t.deepEqual(texts('new_ip'), ['192.168.1.9']);
  const tws = await client.zrange('twsprofile_192.168.1.9', 0, -1);
  t.deepEqual([...texts('new_timewindow')].sort(), tws.map((tw) => `profile_192.168.1.9_${tw}`).sort());
  t.deepEqual([...texts('tw_closed')].sort(), tws.map((tw) => `profile_192.168.1.9_${tw}`).sort());
  const added = messages.get('evidence_added') ?? [];
  t.is(added.length, evidence);
  for (const message of added) {
    t.is(message['version'], '1.1.21');
    t.is((message['profile'] as { ip: string }).ip, '192.168.1.9');
  }
  t.true(added.some((message) => message['evidence_type'] === 'VERTICAL_PORT_SCAN'));
  t.is((messages.get('new_alert') ?? []).length, alerts);
  t.true((messages.get('tui:tick') ?? []).length >= 1);
  t.deepEqual(texts('control_channel'), ['stop_slips']);
});

test('horizontal port scan', async (t) => {
  await analyzeDataset(t, {
    input: 'dataset/port-scans/horizontal/conn.log',
    text: 'Horizontal port scan to port http 80/tcp. From 10.0.2.112',
    evidenceType: 'HORIZONTAL_PORT_SCAN',
    minIps: 0,
  }, 1);
});

test('test9 mixed Zeek conn.log (JSON)', async (t) => {
  await analyzeDataset(t, {
    input: 'dataset/test9-mixed-zeek-dir/conn.log',
    text: 'non-HTTP established connection to port 80. destination IP: 194.132.197.198',
    evidenceType: 'NON_HTTP_PORT_80_CONNECTION',
    minIps: 4,
  }, 2);
});

test('test10 mixed Zeek conn.log (TSV)', async (t) => {
  await analyzeDataset(t, {
    input: 'dataset/test10-mixed-zeek-dir/conn.log',
    text: 'non-SSL established connection',
    evidenceType: 'NON_SSL_PORT_443_CONNECTION',
    minIps: 5,
  }, 3);
});

test('test10 whole Zeek directory: every log kind counted per window', async (t) => {
  await analyzeDataset(t, {
    input: 'dataset/test10-mixed-zeek-dir',
    text: 'non-SSL established connection',
    evidenceType: 'NON_SSL_PORT_443_CONNECTION',
    minIps: 5,
  }, 4);
  const client = dbClient(t, 4);
  const kinds = new Set<string>();
  for (const key of await scanKeys(client, '*:stats')) {
    for (const field of Object.keys(await client.hgetall(key))) if (field.startsWith('records_')) kinds.add(field);
  }
  t.true(kinds.has('records_dns'), [...kinds].join(','));
  t.true(kinds.has('records_ssl'), [...kinds].join(','));
});

// ---------------------------------------------------------------- bad input

test('bad input lines are reported with file:line and the records around them are analyzed', async (t) => {
  const dir = tempDir(t, 'slips-e2e-bad-');
  const zeekDir = path.join(dir, 'zeek');
  mkdirSync(zeekDir);
  const fields = ['ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'proto', 'service', 'duration',
    'orig_bytes', 'resp_bytes', 'conn_state', 'history', 'orig_pkts', 'resp_pkts'];
  const flow = (ts: number, uid: string, src: string) =>
    [ts.toFixed(6), uid, src, '40000', '93.184.216.34', '443', 'tcp', 'ssl', '1.5', '500', '4000', 'SF', 'ShADadFf', '6', '8'].join('\t');
  const T = 1_700_000_000;
  const conn = [
    '#separator \\x09', '#set_separator\t,', '#empty_field\t(empty)', '#unset_field\t-', '#path\tconn',
    `#fields\t${fields.join('\t')}`, `#types\t${fields.map(() => 'string').join('\t')}`,
    flow(T + 1, 'Cgood1', '10.0.0.1'), // line 8
    'this is not a zeek line at all', // line 9: garbage
    flow(T + 2, 'Cgood2', '10.0.0.2'), // line 10
    ['1700000003.000000', 'Cshort', '10.0.0.9', '40000', '93.184.216.34'].join('\t'), // line 11: 5 columns
    flow(T + 4, 'Cgood3', '10.0.0.3'), // line 12
    flow(T + 5, 'Ctrunc', '10.0.0.8').slice(0, 40), // line 13: truncated, no newline at the end
  ].join('\n');
  writeFileSync(path.join(zeekDir, 'conn.log'), conn);
  const dnsLine = (ts: number, uid: string, src: string) => JSON.stringify({
    ts, uid, 'id.orig_h': src, 'id.orig_p': 5353, 'id.resp_h': '10.0.0.53', 'id.resp_p': 53, proto: 'udp',
    query: `${uid}.example.com`, qtype_name: 'A', rcode_name: 'NOERROR', answers: ['93.184.216.34'], TTLs: [300.0],
  });
  writeFileSync(path.join(zeekDir, 'dns.log'), [
    dnsLine(T + 1.5, 'Dgood1', '10.0.0.4'), // line 1
    '{"ts": 1700000002.5, "uid": "Dbroken", "id.orig_h": ', // line 2: invalid JSON
    dnsLine(T + 3.5, 'Dgood2', '10.0.0.5'), // line 3
  ].join('\n') + '\n');

  const config = writeConfig(dir, [[['redis', 'external'], `redis://127.0.0.1:${redis.port}/5`]]);
  const client = dbClient(t, 5);
  const outputDir = path.join(dir, 'out');
  const run = await runSlips(t, ['-e', '1', '-f', zeekDir, '-o', outputDir, '-c', config], { cwd: dir });
  t.false(run.timedOut);
  t.is(run.code, 0, run.stdout + run.stderr);

  const errorsLog = readFileSync(path.join(outputDir, 'errors.log'), 'utf8');
  const connLog = path.join(zeekDir, 'conn.log');
  const dnsLog = path.join(zeekDir, 'dns.log');
  for (const where of [`${connLog}:9:`, `${connLog}:11:`, `${connLog}:13:`, `${dnsLog}:2:`]) {
    t.true(errorsLog.includes(where), `errors.log names ${where}:\n${errorsLog}`);
    t.true(run.stderr.includes(where), `stderr names ${where}:\n${run.stderr}`);
  }
  for (const good of [':8:', ':10:', ':12:']) t.false(errorsLog.includes(`${connLog}${good}`), good);
  t.regex(run.stdout, /4 bad input lines were skipped/);

  const profiles = (await client.zrange('profiles', 0, -1)).sort();
  for (const ip of ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5']) t.true(profiles.includes(`profile_${ip}`), ip);
  t.false(profiles.includes('profile_10.0.0.9'));
  t.false(profiles.includes('profile_10.0.0.8'));
  t.is(await client.get('processed_flows_by_profiler_so_far'), '5');
  t.is(await client.hget('profile_10.0.0.4_timewindow1:stats', 'records_dns'), '1');
  t.deepEqual(Math.max(...analyzedIpCounts(run.stdout)), 5);
});

// ---------------------------------------------------------------- private redis-server

test('a private redis-server (-P): dump.rdb saved, info row removed, server stopped', async (t) => {
  const cwd = tempDir(t, 'slips-e2e-private-');
  const port = await freeLoopbackPort();
  t.teardown(() => killRedisServerOnPort(port));
  const outputDir = path.join(cwd, 'out');
  const run = await runSlips(t, ['-e', '1', '-t', '-f', repoPath('dataset/port-scans/vertical/conn.log'), '-o', outputDir, '-P', String(port)], { cwd });
  assertRunOk(t, run);
  t.regex(run.stdout, new RegExp(`Using redis server on port: ${port}`));
  t.regex(run.stdout, new RegExp(`Killed Redis server on port ${port}\\.`));
  t.true(readFileSync(path.join(outputDir, 'alerts', 'alerts.log'), 'utf8').includes('vertical port scan to IP 45.33.32.156 from 192.168.1.9.'));

  const rdb = path.join(outputDir, 'databases', 'dump.rdb');
  t.true(existsSync(rdb));
  t.is(readFileSync(rdb).subarray(0, 5).toString('latin1'), 'REDIS');
  t.true(statSync(rdb).size > 100);
  t.true(existsSync(path.join(outputDir, 'redis', `redis-server-port-${port}.conf`)));

  const info = path.join(cwd, 'running_slips_info.txt');
  t.true(existsSync(info), 'the run recorded its server in the CWD');
  t.deepEqual(await listRecordedServers(info), []);
  t.deepEqual(await redisServersOnPort(port), []);
  t.true(await isPortFree(port));
});
