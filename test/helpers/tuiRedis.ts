// Test helper: the Redis side of the TUI tests. Fixtures are JSON key descriptions
// (test/fixtures/tui/*.json, or built in code with the same shape) loaded into a real
// redis-server in one pipeline; a redis-server that can be killed and restarted on the same port
// (for the Redis-loss scenario); and a builder for the 40-profile tree used by search/filter/sort.

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { ExecutionContext } from 'ava';
import { Redis } from 'ioredis';
import { freeLoopbackPort, startTestRedis, type TestRedis } from './redis.js';
import { repoPath } from './slips.js';
import { sleep } from './tui.js';

/** One key: its Redis type and content. Non-string values are stored as their JSON text. */
export type KeyDescription =
  | { type: 'string'; value: unknown }
  | { type: 'hash'; value: Record<string, unknown> }
  | { type: 'zset'; value: Array<[number, unknown]> }
  | { type: 'set'; value: unknown[] }
  | { type: 'list'; value: unknown[] };

export interface Fixture {
  description: string;
  keys: Record<string, KeyDescription>;
}

/** test/fixtures/tui/<name>.json */
export function readFixture(name: string): Fixture {
  const fixture = JSON.parse(readFileSync(repoPath(`test/fixtures/tui/${name}.json`), 'utf8')) as Fixture;
  if (typeof fixture.keys !== 'object' || fixture.keys === null) throw new Error(`fixture ${name} has no keys`);
  return fixture;
}

/** How a fixture value is stored: strings as they are, anything else as JSON. */
export function redisText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Writes every key of the fixture (replacing keys of the same name) in one pipeline. */
export async function loadFixture(client: Redis, fixture: Fixture): Promise<void> {
  const pipeline = client.pipeline();
  for (const [key, description] of Object.entries(fixture.keys)) {
    pipeline.del(key);
    switch (description.type) {
      case 'string':
        pipeline.set(key, redisText(description.value));
        break;
      case 'hash': {
        const fields = Object.entries(description.value).flatMap(([field, value]) => [field, redisText(value)]);
        if (fields.length > 0) pipeline.hset(key, ...fields);
        break;
      }
      case 'zset': {
        const members = description.value.flatMap(([score, member]) => [score, redisText(member)]);
        if (members.length > 0) pipeline.zadd(key, ...members);
        break;
      }
      case 'set':
        if (description.value.length > 0) pipeline.sadd(key, ...description.value.map(redisText));
        break;
      case 'list':
        if (description.value.length > 0) pipeline.rpush(key, ...description.value.map(redisText));
        break;
      default:
        throw new Error(`key ${key}: unknown type ${(description as { type: string }).type}`);
    }
  }
  const results = (await pipeline.exec()) ?? [];
  const failed = results.find(([error]) => error !== null);
  if (failed !== undefined) throw failed[0]!;
}

/** A test Redis (stopped when the test ends) holding the fixture. */
export async function startFixtureRedis(t: ExecutionContext, fixture?: Fixture | string): Promise<TestRedis> {
  const redis = await startTestRedis();
  t.teardown(() => redis.stop());
  if (fixture !== undefined) await loadFixture(redis.client, typeof fixture === 'string' ? readFixture(fixture) : fixture);
  return redis;
}

/** Publishes a payload the way our core does (a JSON object with `version` added). */
export async function publish(client: Redis, channel: string, payload: Record<string, unknown>): Promise<void> {
  await client.publish(channel, JSON.stringify({ ...payload, version: '1.1.21' }));
}

/** A redis-server on a fixed loopback port that a test can kill and start again on that port. */
export class RestartableRedis {
  private child: ChildProcess | undefined;
  client: Redis | undefined;

  private constructor(readonly port: number) {}

  static async start(t: ExecutionContext): Promise<RestartableRedis> {
    const server = new RestartableRedis(await freeLoopbackPort());
    t.teardown(() => server.kill());
    await server.startServer();
    return server;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async startServer(): Promise<Redis> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], { stdio: 'ignore' });
    child.on('error', () => undefined);
    this.child = child;
    const deadline = Date.now() + 5000;
    for (;;) {
      const client = new Redis({ host: '127.0.0.1', port: this.port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      client.on('error', () => undefined);
      try {
        await client.connect();
        if ((await client.info('server')).includes(`process_id:${child.pid}\r\n`)) {
          this.client = client;
          return client;
        }
        client.disconnect();
      } catch {
        client.disconnect();
      }
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`redis-server did not start on port ${this.port}`);
      await sleep(50);
    }
  }

  /** SIGKILLs the server (as a crash would) and waits for it to be gone. */
  async kill(): Promise<void> {
    this.client?.disconnect();
    this.client = undefined;
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await gone;
  }
}

/** Whether anything answers on 127.0.0.1:<port> with a Redis PONG. */
export async function redisAnswers(port: number): Promise<boolean> {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 500 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

const TW_WIDTH = 3600;
const FIRST_TW_START = 1700820000; // 2023-11-24 10:00 UTC, as in the JSON fixtures

/** One profile of a built fixture. */
export interface ProfileSpec {
  ip: string;
  score: number;
  /** Evidence in TW1 (count); an alert over all of them when alerted. */
  evidence: number;
  alerted: boolean;
}

/** Keys of one profile with one time window, shaped like our core's output (docs/redis.md). */
export function profileKeys(spec: ProfileSpec): Record<string, KeyDescription> {
  const profile = `profile_${spec.ip}`;
  const tw = `${profile}_timewindow1`;
  const evidenceIds = Array.from({ length: spec.evidence }, (_, i) => `ev-${spec.ip}-${i + 1}`);
  const keys: Record<string, KeyDescription> = {
    [profile]: { type: 'hash', value: { starttime: FIRST_TW_START + 1, duration: TW_WIDTH, confidence: 0.05, ip: spec.ip, flows: 10, evidence: spec.evidence, alerts: spec.alerted ? 1 : 0, score: spec.score } },
    [`tws${profile}`]: { type: 'zset', value: [[FIRST_TW_START, 'timewindow1']] },
    [`${tw}:stats`]: {
      type: 'hash',
      value: { flows: 10, out_flows: 10, in_flows: 0, established_flows: 5, pkts: 60, bytes: 6000, sbytes: 1000, dbytes: 5000, first_ts: FIRST_TW_START + 1, last_ts: FIRST_TW_START + 100, start: FIRST_TW_START, end: FIRST_TW_START + TW_WIDTH, evidence: spec.evidence, alerts: spec.alerted ? 1 : 0, accumulated_threat_level: spec.alerted ? 0 : spec.score, score: spec.score, closed: 1 },
    },
  };
  if (spec.evidence > 0) {
    keys[`${tw}_evidence`] = {
      type: 'hash',
      value: Object.fromEntries(
        evidenceIds.map((id) => [
          id,
          {
            id,
            evidence_type: 'UNKNOWN_PORT',
            description: `Connection to unknown destination port 9999/TCP destination IP 1.2.3.4 from ${spec.ip}.`,
            attacker: { direction: 'SRC', ioc_type: 'IP', value: spec.ip },
            victim: { direction: 'DST', ioc_type: 'IP', value: '1.2.3.4' },
            threat_level: 'medium',
            confidence: 0.8,
            timestamp: FIRST_TW_START + 50,
            uid: ['C1'],
            profile: { ip: spec.ip },
            timewindow: { number: 1, start_time: FIRST_TW_START, end_time: FIRST_TW_START + TW_WIDTH },
            method: 'Heuristic',
            rel_id: [],
            interface: 'default',
          },
        ]),
      ),
    };
  }
  if (spec.alerted) keys[tw] = { type: 'hash', value: { alerts: { [`alert-${spec.ip}`]: evidenceIds } } };
  return keys;
}

/** Profiles plus the global keys (profiles zset, counters, analysis) for them. */
export function buildFixture(description: string, specs: readonly ProfileSpec[]): Fixture {
  const keys: Record<string, KeyDescription> = {};
  for (const spec of specs) Object.assign(keys, profileKeys(spec));
  keys['profiles'] = { type: 'zset', value: specs.map((spec, i) => [FIRST_TW_START + 1 + i, `profile_${spec.ip}`]) };
  keys['analysis'] = { type: 'hash', value: { name: 'built-fixture.pcap', input_type: 'pcap', slips_version: '1.1.21', version: '0.1.0', evidence_detection_threshold: 0.25, time_window_width: TW_WIDTH, file_start: FIRST_TW_START + 1 } };
  keys['number_of_evidence'] = { type: 'string', value: String(specs.reduce((sum, spec) => sum + spec.evidence, 0)) };
  keys['number_of_alerts'] = { type: 'string', value: String(specs.filter((spec) => spec.alerted).length) };
  keys['processed_flows_by_profiler_so_far'] = { type: 'string', value: String(specs.length * 10) };
  return { description, keys };
}

/**
 * 40 profiles: 10.0.0.1-20, 192.168.2.1-15, 172.16.0.1-5. By score, the first `192.168.2`
 * match is 192.168.2.7 and the second 192.168.2.12; alerted: 10.0.0.2, 10.0.0.10, 192.168.2.12,
 * 172.16.0.3; evidence only: 10.0.0.5, 192.168.2.7.
 */
export function fortyProfiles(): { fixture: Fixture; alerted: string[] } {
  const alerted = ['10.0.0.2', '10.0.0.10', '192.168.2.12', '172.16.0.3'];
  const evidenceOnly = ['10.0.0.5', '192.168.2.7'];
  const scores: Record<string, number> = { '192.168.2.7': 0.95, '192.168.2.12': 0.9, '10.0.0.2': 0.85, '10.0.0.10': 0.8, '172.16.0.3': 0.75, '10.0.0.5': 0.7 };
  const ips = [
    ...Array.from({ length: 20 }, (_, i) => `10.0.0.${i + 1}`),
    ...Array.from({ length: 15 }, (_, i) => `192.168.2.${i + 1}`),
    ...Array.from({ length: 5 }, (_, i) => `172.16.0.${i + 1}`),
  ];
  const specs = ips.map((ip, i): ProfileSpec => ({
    ip,
    // Unlisted profiles score below every listed one, all distinct.
    score: scores[ip] ?? Number((0.5 - i * 0.01).toFixed(2)),
    evidence: alerted.includes(ip) ? 3 : evidenceOnly.includes(ip) ? 1 : 0,
    alerted: alerted.includes(ip),
  }));
  return { fixture: buildFixture('40 profiles for search, filter and sort', specs), alerted };
}
