// Core units: the profiler's time windows (Slips' numbering and closing rule), the evidence
// handler (threshold, what counts towards an alert, resets, disabled types, pairs) and the Redis
// write-behind against a real redis-server (keys and channels of docs/redis.md, closed windows,
// timeline cap, and the number of commands a flush needs).

import test, { type ExecutionContext } from 'ava';
import type { DetectionConfig } from '../detections/api.js';
import { defaultConfig, detectionConfigOf } from '../core/config.js';
import { Engine } from '../core/engine.js';
import type { Alert, Evidence, EvidenceInput, EvidenceType } from '../core/evidence.js';
import { EvidenceHandler, type EvidenceListener } from '../core/evidenceHandler.js';
import { SharedKnowledge } from '../core/knowledge.js';
import { Profiler, type TimeWindow } from '../core/profiler.js';
import { RedisWriter } from '../core/redisWriter.js';
import type { ConnRecord } from '../inputs/records.js';
import { CONFIG_DIR, conn } from './helpers/detectionHarness.js';
import { startTestRedis, type TestRedis } from './helpers/redis.js';

const T0 = 1_700_000_000;
const WIDTH = 3600;

// ---------------------------------------------------------------- helpers

class Collector implements EvidenceListener {
  readonly evidence: Evidence[] = [];
  readonly alerts: Array<{ alert: Alert; ids: readonly string[]; tw: TimeWindow }> = [];
  evidenceAdded(evidence: Evidence): void {
    this.evidence.push(evidence);
  }
  alertRaised(alert: Alert, ids: readonly string[], tw: TimeWindow): void {
    this.alerts.push({ alert, ids, tw });
  }
}

function handlerWith(listener: EvidenceListener, disabled: EvidenceType[] = [], profiler = new Profiler({ width: WIDTH, onlyOneTw: false })) {
  const handler = new EvidenceHandler(profiler, listener, { threshold: 0.25, width: WIDTH, disabled: new Set(disabled), interfaceName: 'default' });
  return { handler, profiler };
}

function evidence(fields: Partial<EvidenceInput> = {}): EvidenceInput {
  return {
    evidence_type: 'UNKNOWN_PORT',
    description: 'Connection to unknown destination port 9999/TCP destination IP 8.8.8.8.',
    attacker: { direction: 'SRC', ioc_type: 'IP', value: '10.0.0.1' },
    victim: { direction: 'DST', ioc_type: 'IP', value: '8.8.8.8' },
    threat_level: 'high',
    confidence: 1,
    timestamp: T0 + 10,
    uid: ['C1'],
    ...fields,
  };
}

/** n high-threat, full-confidence SRC evidence of 10.0.0.1 (0.8 each): 19 reach 15. */
function highEvidence(handler: EvidenceHandler, n: number, ts = T0 + 10): string[] {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(handler.handle(evidence({ timestamp: ts + i, uid: [`C${i}`] })));
  return ids;
}

const DETECTION: DetectionConfig = { ...detectionConfigOf(defaultConfig()), timeWindowWidth: WIDTH };

/** An engine without detectors, recording the windows it closes. */
function bareEngine(): { engine: Engine; closed: TimeWindow[] } {
  const closed: TimeWindow[] = [];
  const engine = new Engine({
    detection: DETECTION,
    onlyOneTw: false,
    analysisDirection: 'out',
    evidenceThreshold: 0.25,
    disabledDetections: new Set(),
    interfaceName: 'default',
    detectors: [],
    knowledge: new SharedKnowledge(CONFIG_DIR),
    listener: new Collector(),
    onWindowClosed: (tw) => closed.push(tw),
  });
  return { engine, closed };
}

function flow(ts: number, saddr: string, fields: Partial<ConnRecord> = {}): ConnRecord {
  return conn({ ts, saddr, daddr: '93.184.216.34', uid: `C${ts}`, ...fields });
}

// ---------------------------------------------------------------- profiler: time windows

test('time windows are numbered from the first flow; a boundary ts opens the next window', (t) => {
  const profiler = new Profiler({ width: WIDTH, onlyOneTw: false });
  t.is(profiler.origin, undefined);
  t.is(profiler.windowNumberOf(T0), 1);
  t.is(profiler.origin, T0);
  t.is(profiler.windowNumberOf(T0 + 0.5), 1);
  t.is(profiler.windowNumberOf(T0 + WIDTH - 0.000001), 1);
  t.is(profiler.windowNumberOf(T0 + WIDTH), 2);
  t.is(profiler.windowNumberOf(T0 + 2 * WIDTH - 1), 2);
  t.is(profiler.windowNumberOf(T0 + 2 * WIDTH), 3);
  t.is(profiler.windowNumberOf(T0 + 10 * WIDTH + 7), 11);
  // flows older than the first one: timewindow0, timewindow-1, ...
  t.is(profiler.windowNumberOf(T0 - 0.001), 0);
  t.is(profiler.windowNumberOf(T0 - WIDTH), 0);
  t.is(profiler.windowNumberOf(T0 - WIDTH - 0.001), -1);
  t.is(profiler.windowNumberOf(T0 - 2 * WIDTH - 0.001), -2);
  t.is(profiler.origin, T0, 'the origin never moves');
});

test('windowOf: window ids, starts and ends follow the numbering (also right after a window was used)', (t) => {
  const profiler = new Profiler({ width: WIDTH, onlyOneTw: false });
  const profile = profiler.profileOf('10.0.0.1', T0 + 100);
  const first = profiler.windowOf(profile, T0 + 100);
  t.is(profiler.origin, T0 + 100, 'origin = first flow, not a rounded time');
  t.like(first, { number: 1, twid: 'timewindow1', key: 'profile_10.0.0.1_timewindow1', start: T0 + 100, end: T0 + 100 + WIDTH });
  t.is(profiler.windowOf(profile, T0 + 100 + WIDTH - 1), first);
  const second = profiler.windowOf(profile, T0 + 100 + WIDTH);
  t.like(second, { number: 2, start: T0 + 100 + WIDTH, end: T0 + 100 + 2 * WIDTH });
  const zero = profiler.windowOf(profile, T0 + 99);
  t.like(zero, { number: 0, twid: 'timewindow0', start: T0 + 100 - WIDTH, end: T0 + 100 });
  const minusOne = profiler.windowOf(profile, T0 + 100 - WIDTH - 1);
  t.like(minusOne, { number: -1, twid: 'timewindow-1', key: 'profile_10.0.0.1_timewindow-1' });
  t.is(profiler.windowOf(profile, T0 + 100 + 5), first, 'back to an existing window');
  t.deepEqual([...profile.timeWindows.keys()].sort((a, b) => a - b), [-1, 0, 1, 2]);
  const other = profiler.profileOf('10.0.0.2', T0 + 5000);
  t.is(profiler.windowOf(other, T0 + 5000).number, 2, 'one origin for every profile');
});

test('only_one_tw: every flow is in timewindow1', (t) => {
  const profiler = new Profiler({ width: 9_999_999_999, onlyOneTw: true });
  const profile = profiler.profileOf('10.0.0.1', T0);
  const tw = profiler.windowOf(profile, T0);
  t.is(tw.number, 1);
  for (const ts of [T0 - 86_400 * 365, T0 - 1, T0 + 1, T0 + 9_999_999_999, T0 + 20_000_000_000]) {
    t.is(profiler.windowNumberOf(ts), 1);
    t.is(profiler.windowOf(profile, ts), tw);
  }
  t.is(profile.timeWindows.size, 1);
});

test('a window closes once network time is one width past its last flow', (t) => {
  const profiler = new Profiler({ width: WIDTH, onlyOneTw: false });
  const a = profiler.windowOf(profiler.profileOf('10.0.0.1', T0), T0);
  profiler.storeOutgoingConn(a, flow(T0, '10.0.0.1'), 'Established');
  profiler.storeOutgoingConn(a, flow(T0 + 600, '10.0.0.1'), 'Established');
  const b = profiler.windowOf(profiler.profileOf('10.0.0.2', T0 + 1800), T0 + 1800);
  profiler.storeOutgoingConn(b, flow(T0 + 1800, '10.0.0.2'), 'Established');
  t.deepEqual(profiler.windowsToClose(T0 + 600 + WIDTH - 0.001), []);
  t.deepEqual(profiler.windowsToClose(T0 + 600 + WIDTH), [a], 'idle for exactly one width (last flow, not window end)');
  t.deepEqual(profiler.windowsToClose(T0 + 1800 + WIDTH), [a, b]);
  profiler.markClosed(a);
  t.true(a.closed);
  t.deepEqual(profiler.windowsToClose(T0 + 1800 + WIDTH), [b]);
  // a late flow reopens a closed window rather than losing the flow
  t.is(profiler.windowOf(a.profile, T0 + 700), a);
  t.false(a.closed);
});

test('the engine closes idle windows as network time advances, and the rest at the end', (t) => {
  const { engine, closed } = bareEngine();
  engine.processBatch([flow(T0, '10.0.0.1'), flow(T0 + 1800, '10.0.0.2')]);
  engine.processBatch([flow(T0 + 3000, '10.0.0.3')]);
  t.deepEqual(closed, []);
  engine.processBatch([flow(T0 + WIDTH - 1, '10.0.0.3')]);
  t.deepEqual(closed, [], 'one second short of a width: still open');
  // the check runs at most every min(60, width/10) s of network time
  engine.processBatch([flow(T0 + WIDTH + 60, '10.0.0.3')]);
  t.deepEqual(closed.map((tw) => tw.key), ['profile_10.0.0.1_timewindow1']);
  t.true(closed[0]!.closed);
  engine.processBatch([flow(T0 + 1800 + WIDTH + 60, '10.0.0.3')]);
  t.deepEqual(closed.map((tw) => tw.key), ['profile_10.0.0.1_timewindow1', 'profile_10.0.0.2_timewindow1']);
  engine.finish();
  t.deepEqual(closed.map((tw) => tw.key).sort(), [
    'profile_10.0.0.1_timewindow1', 'profile_10.0.0.2_timewindow1', 'profile_10.0.0.3_timewindow1', 'profile_10.0.0.3_timewindow2',
  ]);
  t.is(engine.profiler.openWindows.size, 0);
  t.is(engine.recordsProcessed, 6);
});

// ---------------------------------------------------------------- evidence handler

test('alert threshold is evidence_detection_threshold * width / 60', (t) => {
  const { handler } = handlerWith(new Collector());
  t.is(handler.alertThreshold, 15);
  const profiler = new Profiler({ width: 60, onlyOneTw: false });
  t.is(new EvidenceHandler(profiler, new Collector(), { threshold: 0.25, width: 60, disabled: new Set(), interfaceName: 'default' }).alertThreshold, 0.25);
  t.is(new EvidenceHandler(profiler, new Collector(), { threshold: 0.1, width: 300, disabled: new Set(), interfaceName: 'default' }).alertThreshold, 0.5);
});

test('an alert is raised when the accumulated threat level reaches 15', (t) => {
  const collector = new Collector();
  const { handler, profiler } = handlerWith(collector);
  const ids = highEvidence(handler, 18);
  t.is(collector.alerts.length, 0, '18 x 0.8 = 14.4');
  const tw = profiler.profiles.get('10.0.0.1')!.timeWindows.get(1)!;
  t.is(Math.round(tw.accumulatedThreatLevel * 1000) / 1000, 14.4);
  ids.push(...highEvidence(handler, 1, T0 + 500));
  t.is(collector.alerts.length, 1);
  const { alert, ids: alertIds } = collector.alerts[0]!;
  t.deepEqual([...alertIds].sort(), [...ids].sort());
  t.deepEqual([...alert.correl_id].sort(), [...ids].sort());
  t.is(alert.last_evidence, ids.at(-1)!);
  t.is(Math.round(alert.accumulated_threat_level * 1000) / 1000, 15.2);
  t.is(alert.last_flow_ts, T0 + 500);
  t.is(alert.threat_level, 'critical');
  t.is(Math.round(alert.confidence * 1e6) / 1e6, Math.round(((15.2 - 4.8) / (26 - 4.8)) * 1e6) / 1e6);
  t.like(alert.timewindow, { number: 1, start_time: T0 + 10, end_time: T0 + 10 + WIDTH });
  t.deepEqual(tw.alerts.get(alert.id), alertIds);
  t.is(profiler.profiles.get('10.0.0.1')!.alertCount, 1);
});

test('after an alert the accumulated threat level is 0 and a second alert needs another 15', (t) => {
  const collector = new Collector();
  const { handler, profiler } = handlerWith(collector);
  const first = highEvidence(handler, 19);
  t.is(collector.alerts.length, 1);
  const tw = profiler.profiles.get('10.0.0.1')!.timeWindows.get(1)!;
  t.is(tw.accumulatedThreatLevel, 0);
  const second = highEvidence(handler, 18, T0 + 100);
  t.is(collector.alerts.length, 1, '14.4 after the alert: not yet');
  second.push(...highEvidence(handler, 1, T0 + 200));
  t.is(collector.alerts.length, 2);
  const alert = collector.alerts[1]!.alert;
  t.deepEqual([...alert.correl_id].sort(), [...second].sort(), 'only evidence not part of an earlier alert');
  t.false(alert.correl_id.some((id) => first.includes(id)));
  t.is(tw.alerts.size, 2);
  t.is(Math.round(tw.totalThreat * 1000) / 1000, 30.4, 'the window score does not reset');
  t.is(Math.round(profiler.profiles.get('10.0.0.1')!.score * 1000) / 1000, 30.4);
  // another window of the same profile starts from 0
  highEvidence(handler, 18, T0 + 10 + WIDTH);
  t.is(collector.alerts.length, 2);
});

test('evidence with a DST attacker never counts towards an alert', (t) => {
  const collector = new Collector();
  const { handler, profiler } = handlerWith(collector);
  for (let i = 0; i < 50; i++) {
    handler.handle(evidence({
      evidence_type: 'NON_HTTP_PORT_80_CONNECTION',
      attacker: { direction: 'DST', ioc_type: 'IP', value: '8.8.8.8' },
      victim: { direction: 'SRC', ioc_type: 'IP', value: '10.0.0.1' },
      profile_ip: '10.0.0.1',
      threat_level: 'critical',
    }));
  }
  t.is(collector.evidence.length, 50, 'stored and reported');
  t.is(collector.alerts.length, 0);
  const tw = profiler.profiles.get('10.0.0.1')!.timeWindows.get(1)!;
  t.is(tw.accumulatedThreatLevel, 0);
  t.is(tw.evidenceCount, 50);
  t.is(tw.unalertedEvidence.size, 0);
  t.false(profiler.profiles.has('8.8.8.8'), 'the profile is profile_ip, not the attacker');
  // SRC evidence later alerts without any of them
  const ids = highEvidence(handler, 19);
  t.deepEqual([...collector.alerts[0]!.alert.correl_id].sort(), [...ids].sort());
});

test('INFO evidence joins the next alert but adds no weight, and never raises one', (t) => {
  const collector = new Collector();
  const { handler, profiler } = handlerWith(collector);
  const info: string[] = [];
  for (let i = 0; i < 100; i++) {
    info.push(handler.handle(evidence({ evidence_type: 'CONNECTION_TO_PRIVATE_IP', threat_level: 'info', timestamp: T0 + 10 + i })));
  }
  t.is(collector.alerts.length, 0);
  t.is(profiler.profiles.get('10.0.0.1')!.timeWindows.get(1)!.accumulatedThreatLevel, 0);
  const high = highEvidence(handler, 18);
  t.is(collector.alerts.length, 0, 'info added nothing: 14.4');
  high.push(...highEvidence(handler, 1));
  t.is(collector.alerts.length, 1);
  const alert = collector.alerts[0]!.alert;
  t.is(Math.round(alert.accumulated_threat_level * 1000) / 1000, 15.2);
  t.deepEqual([...alert.correl_id].sort(), [...info, ...high].sort());
});

test('weights are threat level x confidence', (t) => {
  const collector = new Collector();
  const { handler, profiler } = handlerWith(collector);
  handler.handle(evidence({ threat_level: 'medium', confidence: 0.5 }));
  handler.handle(evidence({ threat_level: 'low', confidence: 1.7 })); // clamped to 1
  handler.handle(evidence({ threat_level: 'critical', confidence: -3 })); // clamped to 0
  const tw = profiler.profiles.get('10.0.0.1')!.timeWindows.get(1)!;
  t.is(Math.round(tw.accumulatedThreatLevel * 1000) / 1000, 0.45);
  t.deepEqual(collector.evidence.map((e) => e.confidence), [0.5, 1, 0]);
});

test('disabled evidence types are dropped before anything sees them', (t) => {
  const collector = new Collector();
  const { handler, profiler } = handlerWith(collector, ['UNKNOWN_PORT']);
  for (let i = 0; i < 30; i++) t.is(handler.handle(evidence()), '');
  t.is(collector.evidence.length, 0);
  t.is(handler.droppedDisabled, 30);
  t.is(handler.evidenceCount, 0);
  t.is(profiler.profiles.size, 0, 'not even a profile');
  const id = handler.handle(evidence({ evidence_type: 'VERTICAL_PORT_SCAN' }));
  t.not(id, '');
  t.is(collector.evidence.length, 1);
});

test('stored evidence is completed: id, profile, time window, defaults, deduplicated uids', (t) => {
  const collector = new Collector();
  const { handler } = handlerWith(collector);
  handler.handle(evidence({ uid: ['C1', 'C2', 'C1'], proto: 'tcp', dst_port: 9999 }));
  const stored = collector.evidence[0]!;
  t.regex(stored.id, /^[0-9a-f-]{36}$/);
  t.deepEqual(stored.profile, { ip: '10.0.0.1' });
  t.deepEqual(stored.timewindow, { number: 1, start_time: T0 + 10, end_time: T0 + 10 + WIDTH });
  t.deepEqual(stored.uid, ['C1', 'C2']);
  t.is(stored.method, 'Heuristic');
  t.is(stored.interface, 'default');
  t.deepEqual(stored.rel_id, []);
  t.is(stored.proto, 'tcp');
  t.is(stored.dst_port, 9999);
  t.false('src_port' in stored);
});

test('a pair of evidence: each gets the other id in rel_id', (t) => {
  const collector = new Collector();
  const { handler } = handlerWith(collector);
  handler.handlePair(
    evidence({ evidence_type: 'NON_HTTP_PORT_80_CONNECTION', threat_level: 'low', rel_id: ['earlier'] }),
    evidence({
      evidence_type: 'NON_HTTP_PORT_80_CONNECTION',
      attacker: { direction: 'SRC', ioc_type: 'IP', value: '8.8.8.8' },
      victim: { direction: 'DST', ioc_type: 'IP', value: '10.0.0.1' },
      threat_level: 'medium',
    }),
  );
  t.is(collector.evidence.length, 2);
  const [first, second] = collector.evidence as [Evidence, Evidence];
  t.not(first.id, second.id);
  t.deepEqual(first.rel_id, ['earlier', second.id]);
  t.deepEqual(second.rel_id, [first.id]);
  t.is(first.profile.ip, '10.0.0.1');
  t.is(second.profile.ip, '8.8.8.8');
});

// ---------------------------------------------------------------- Redis write-behind

let redis: TestRedis;

test.before(async () => {
  redis = await startTestRedis();
});

test.after.always(async () => {
  await redis?.stop();
});

/** Subscribes to channels on a separate connection; messages collected per channel. */
async function subscribe(t: ExecutionContext, ...channels: string[]) {
  const subscriber = redis.client.duplicate();
  t.teardown(() => subscriber.disconnect());
  const messages = new Map<string, Array<Record<string, any>>>(channels.map((c) => [c, []]));
  let marks = 0;
  subscriber.on('message', (channel: string, message: string) => {
    if (channel === '__settle__') marks += 1;
    else messages.get(channel)?.push(JSON.parse(message) as Record<string, any>);
  });
  await subscriber.subscribe('__settle__', ...channels);
  return {
    messages,
    /** Publishes a marker and waits for it: every message published before it has arrived. */
    settle: async () => {
      const want = marks + 1;
      await redis.client.publish('__settle__', '');
      const deadline = Date.now() + 2000;
      while (marks < want && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    },
  };
}

function writerFor(profiler: Profiler, timelineCap = 1000): RedisWriter {
  return new RedisWriter(redis.client, profiler, { timelineCap, width: WIDTH });
}

/** Stores a conn flow the way the engine does, plus its Redis timeline entry. */
function store(profiler: Profiler, record: ConnRecord, state: 'Established' | 'Not Established' = 'Established'): TimeWindow {
  const tw = profiler.windowOf(profiler.profileOf(record.saddr, record.ts), record.ts);
  profiler.storeOutgoingConn(tw, record, state);
  tw.pendingTimeline.push([record.ts, JSON.stringify({ daddr: record.daddr, uid: record.uid, ts: record.ts })]);
  return tw;
}

test.serial('one flush writes profiles, windows, stats, aggregates, evidence and alerts as docs/redis.md says', async (t) => {
  await redis.client.flushall();
  const { messages, settle } = await subscribe(t, 'new_ip', 'new_profile', 'new_timewindow', 'evidence_added', 'new_alert', 'tui:tick');
  const profiler = new Profiler({ width: WIDTH, onlyOneTw: false });
  const writer = writerFor(profiler);
  const { handler } = handlerWith(writer, [], profiler);

  const tw1 = store(profiler, flow(T0, '10.0.0.1', { dport: 80, sbytes: 100, dbytes: 1000, spkts: 2, dpkts: 3 }));
  store(profiler, flow(T0 + 10, '10.0.0.1', { dport: 80, sbytes: 50, dbytes: 500, spkts: 1, dpkts: 1 }));
  store(profiler, flow(T0 + 20, '10.0.0.1', { dport: 443, daddr: '1.1.1.1', sbytes: 10, dbytes: 0, spkts: 1, dpkts: 0, state: 'S0' }), 'Not Established');
  store(profiler, flow(T0 + 30, '10.0.0.2'));
  const tw2 = store(profiler, flow(T0 + WIDTH + 5, '10.0.0.2'));
  const ids = highEvidence(handler, 19, T0 + 15);

  await writer.flush({ processedFlows: 5, networkTime: T0 + WIDTH + 5 });
  await writer.drain();
  const c = redis.client;

  t.deepEqual(await c.zrange('profiles', 0, -1, 'WITHSCORES'), ['profile_10.0.0.1', String(T0), 'profile_10.0.0.2', String(T0 + 30)]);
  t.like(await c.hgetall('profile_10.0.0.1'), {
    starttime: String(T0), duration: '3600', confidence: '0.05', ip: '10.0.0.1', flows: '3', evidence: '19', alerts: '1', threat_level: 'critical',
  });
  t.is(Math.round(Number(await c.hget('profile_10.0.0.1', 'score')) * 1000) / 1000, 15.2);
  t.like(await c.hgetall('profile_10.0.0.2'), { flows: '2', evidence: '0', alerts: '0' });
  t.is(await c.hget('profile_10.0.0.2', 'threat_level'), null);
  t.deepEqual(await c.zrange('twsprofile_10.0.0.1', 0, -1, 'WITHSCORES'), ['timewindow1', String(T0)]);
  t.deepEqual(await c.zrange('twsprofile_10.0.0.2', 0, -1, 'WITHSCORES'), ['timewindow1', String(T0), 'timewindow2', String(T0 + WIDTH)]);

  t.like(await c.hgetall('profile_10.0.0.1_timewindow1:stats'), {
    flows: '3', out_flows: '3', in_flows: '0', established_flows: '2', pkts: '8', bytes: '1660', sbytes: '160', dbytes: '1500',
    first_ts: String(T0), last_ts: String(T0 + 20), start: String(T0), end: String(T0 + WIDTH), evidence: '19', alerts: '1',
    accumulated_threat_level: '0', closed: '0',
  });
  t.deepEqual(await c.hgetall('profile_10.0.0.1_timewindow1:agg:dport:client'), { 'tcp/80/est': '2,7,1650', 'tcp/443/notest': '1,1,10' });
  t.deepEqual(await c.hgetall('profile_10.0.0.1_timewindow1:agg:daddr:client'), { 'tcp/93.184.216.34/est': '2,7,1650', 'tcp/1.1.1.1/notest': '1,1,10' });
  t.is(await c.zcard('profile_10.0.0.1_timewindow1_timeline'), 3);
  t.is(await c.hget('profile_10.0.0.2_timewindow2:stats', 'flows'), '1');

  // evidence and the alert
  const stored = await c.hgetall('profile_10.0.0.1_timewindow1_evidence');
  t.deepEqual(Object.keys(stored).sort(), [...ids].sort());
  const one = JSON.parse(stored[ids[0]!]!) as Evidence;
  t.like(one, { id: ids[0], evidence_type: 'UNKNOWN_PORT', threat_level: 'high', profile: { ip: '10.0.0.1' }, timewindow: { number: 1 } });
  t.deepEqual((await c.smembers('processed_evidence_profile_10.0.0.1_timewindow1')).sort(), [...ids].sort());
  t.is(await c.hget('flows_causing_evidence', ids[0]!), '["C0"]');
  t.is(await c.get('number_of_evidence'), '19');
  t.is(await c.get('number_of_alerts'), '1');
  const alerts = await c.hgetall('alerts');
  const [alertId] = Object.keys(alerts);
  const alert = JSON.parse(alerts[alertId!]!) as Alert;
  t.deepEqual([...alert.correl_id].sort(), [...ids].sort());
  t.is(await c.zscore('alerts_by_time', alertId!), String(T0 + 15 + 18));
  t.deepEqual(JSON.parse((await c.hget('profile_10.0.0.1_timewindow1', 'alerts'))!), { [alertId!]: alert.correl_id });
  t.is(await c.zscore('accumulated_threat_levels', 'profile_10.0.0.1_timewindow1'), '0');

  // counters and the open windows
  t.is(await c.get('processed_flows_by_profiler_so_far'), '5');
  t.is(await c.get('slips_internal_time'), String(T0 + WIDTH + 5));
  t.deepEqual(await c.zrange('modified_timewindows', 0, -1, 'WITHSCORES'), [
    'profile_10.0.0.1_timewindow1', String(T0 + 20), 'profile_10.0.0.2_timewindow1', String(T0 + 30),
    'profile_10.0.0.2_timewindow2', String(T0 + WIDTH + 5),
  ]);
  t.is(tw1.dirty, false);
  t.is(tw2.pendingTimeline.length, 0);

  // channels
  await settle();
  t.deepEqual(messages.get('new_ip')!.map((m) => m['text']), ['10.0.0.1', '10.0.0.2']);
  t.deepEqual(messages.get('new_profile')!.map((m) => m['text']), ['profile_10.0.0.1', 'profile_10.0.0.2']);
  t.deepEqual(messages.get('new_timewindow')!.map((m) => m['text']).sort(), [
    'profile_10.0.0.1_timewindow1', 'profile_10.0.0.2_timewindow1', 'profile_10.0.0.2_timewindow2',
  ]);
  t.is(messages.get('evidence_added')!.length, 19);
  t.true(messages.get('evidence_added')!.every((m) => m['version'] === '1.1.21' && ids.includes(m['id'] as string)));
  t.is(messages.get('new_alert')!.length, 1);
  t.like(messages.get('new_alert')![0], { id: alertId, profile: { ip: '10.0.0.1' }, threat_level: 'critical', version: '1.1.21' });
  t.is(messages.get('new_alert')![0]!['last_flow_datetime'], new Date((T0 + 33) * 1000).toISOString());
  const ticks = messages.get('tui:tick')!;
  t.is(ticks.length, 1);
  t.deepEqual([...(ticks[0]!['changed'] as string[])].sort(), [
    'profile_10.0.0.1_timewindow1', 'profile_10.0.0.2_timewindow1', 'profile_10.0.0.2_timewindow2',
  ]);
  t.is(ticks[0]!['more'], false);

  // a flush with nothing changed publishes no tick
  await writer.flush({ processedFlows: 5, networkTime: T0 + WIDTH + 5 });
  await writer.drain();
  await settle();
  t.is(messages.get('tui:tick')!.length, 1);
});

test.serial('closed windows leave modified_timewindows and are announced on tw_closed', async (t) => {
  await redis.client.flushall();
  const { messages, settle } = await subscribe(t, 'tw_closed', 'tui:tick');
  const profiler = new Profiler({ width: WIDTH, onlyOneTw: false });
  const writer = writerFor(profiler);
  const a = store(profiler, flow(T0, '10.0.0.1'));
  const b = store(profiler, flow(T0 + 100, '10.0.0.2'));
  await writer.flush({ processedFlows: 2, networkTime: T0 + 100 });
  await writer.drain();
  t.is(await redis.client.zcard('modified_timewindows'), 2);

  // what the engine does when a window closes
  profiler.markClosed(a);
  writer.windowClosed(a);
  await writer.flush({ processedFlows: 2, networkTime: T0 + WIDTH });
  await writer.drain();
  t.deepEqual(await redis.client.zrange('modified_timewindows', 0, -1), [b.key]);
  t.is(await redis.client.hget(`${a.key}:stats`, 'closed'), '1');
  t.is(await redis.client.hget(`${b.key}:stats`, 'closed'), '0');
  t.is(await redis.client.hget(`${a.key}:stats`, 'flows'), '1', 'a closed window keeps its data');
  t.is(await redis.client.hget(`${a.key}:agg:dport:client`, 'tcp/80/est'), '1,2,200');
  await settle();
  t.deepEqual(messages.get('tw_closed')!.map((m) => m['text']), [a.key]);
  t.deepEqual(messages.get('tui:tick')!.at(-1)!['changed'], [a.key]);
});

test.serial('the Redis timeline of a window keeps only the newest flows (cap)', async (t) => {
  await redis.client.flushall();
  const profiler = new Profiler({ width: WIDTH, onlyOneTw: false });
  const writer = writerFor(profiler, 5);
  let tw: TimeWindow | undefined;
  for (let i = 0; i < 3; i++) tw = store(profiler, flow(T0 + i, '10.0.0.1'));
  await writer.flush({ processedFlows: 3, networkTime: T0 + 2 });
  await writer.drain();
  const key = `${tw!.key}_timeline`;
  t.is(await redis.client.zcard(key), 3);
  for (let i = 3; i < 12; i++) store(profiler, flow(T0 + i, '10.0.0.1'));
  await writer.flush({ processedFlows: 12, networkTime: T0 + 11 });
  await writer.drain();
  t.deepEqual((await redis.client.zrange(key, 0, -1, 'WITHSCORES')).filter((_, i) => i % 2 === 1), ['7', '8', '9', '10', '11'].map((n) => String(T0 + Number(n))));
  for (let i = 12; i < 30; i++) store(profiler, flow(T0 + i, '10.0.0.1'));
  await writer.flush({ processedFlows: 30, networkTime: T0 + 29 });
  await writer.drain();
  t.is(await redis.client.zcard(key), 5);
  t.is(await redis.client.zscore(key, (await redis.client.zrange(key, -1, -1))[0]!), String(T0 + 29));
  t.is(await redis.client.hget(`${tw!.key}:stats`, 'flows'), '30', 'the counters keep every flow');
});

test.serial('write-behind: a flush of 10,000 flows over 100 profiles takes far fewer commands than flows', async (t) => {
  await redis.client.flushall();
  const profiler = new Profiler({ width: WIDTH, onlyOneTw: false });
  const writer = writerFor(profiler);
  const { handler } = handlerWith(writer, [], profiler);
  for (let i = 0; i < 10_000; i++) {
    const src = `10.1.0.${i % 100}`;
    store(profiler, flow(T0 + i * 0.1, src, { dport: 1 + (i % 37), daddr: `93.184.${i % 7}.${i % 11}`, uid: `C${i}` }),
      i % 3 === 0 ? 'Not Established' : 'Established');
    if (i % 50 === 0) handler.handle(evidence({ attacker: { direction: 'SRC', ioc_type: 'IP', value: src }, threat_level: 'low', timestamp: T0 + i * 0.1 }));
  }
  await redis.client.config('RESETSTAT');
  await writer.flush({ processedFlows: 10_000, networkTime: T0 + 999.9 });
  await writer.drain();
  const info = await redis.client.info('stats');
  const processed = Number(/total_commands_processed:(\d+)/.exec(info)![1]);
  // Redis' own count (commands run inside a script included) is what a flush costs the server.
  t.log(`writer.commandsSent: ${writer.commandsSent}; commands processed by Redis: ${processed}`);
  t.true(processed < 2000, `${processed} commands processed by Redis for 10,000 flows`);
  t.true(writer.commandsSent <= processed, `${writer.commandsSent} commands sent`);

  // and the data is all there
  t.is(await redis.client.zcard('profiles'), 100);
  const pipeline = redis.client.pipeline();
  for (let p = 0; p < 100; p++) pipeline.hget(`profile_10.1.0.${p}_timewindow1:stats`, 'flows');
  const flows = (await pipeline.exec())!.reduce((sum, [, value]) => sum + Number(value), 0);
  t.is(flows, 10_000);
  t.is(await redis.client.get('number_of_evidence'), '200');
  t.is(await redis.client.zcard('profile_10.1.0.7_timewindow1_timeline'), 100);
  const members = new Set<string>();
  for (let i = 7; i < 10_000; i += 100) members.add(`tcp/${1 + (i % 37)}/${i % 3 === 0 ? 'notest' : 'est'}`);
  t.deepEqual(Object.keys(await redis.client.hgetall('profile_10.1.0.7_timewindow1:agg:dport:client')).sort(), [...members].sort());
});
