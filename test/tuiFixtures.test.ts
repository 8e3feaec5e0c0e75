// Proves the TUI test fixtures and their loader (test/helpers/tuiRedis.ts): every key lands with
// its Redis type and JSON text, the core fixture follows docs/redis.md, the slips-1.1.21 fixture
// has none of our additions, a purged TW and a double-encoded alert, and the hostile fixture
// really carries terminal control sequences.

import test from 'ava';
import { fortyProfiles, loadFixture, readFixture, startFixtureRedis } from './helpers/tuiRedis.js';

test('the core fixture loads in one pipeline with the types docs/redis.md names', async (t) => {
  const redis = await startFixtureRedis(t, 'core');
  const { client } = redis;
  const fixture = readFixture('core');
  t.is(await client.dbsize(), Object.keys(fixture.keys).length);
  // First matching rule wins.
  const expectedType: Array<[RegExp, string]> = [
    [/^processed_evidence_/, 'set'],
    [/^(number_of_|processed_flows|slips_internal_time|will_slips)/, 'string'],
    [/^profiles$|^tws|_timeline$|^accumulated_threat_levels$|^alerts_by_time$/, 'zset'],
    [/^profile_[^_]+$|_timewindow\d+$|:stats$|:agg:|_evidence$|^alerts$|^analysis$|^flows_causing_evidence$/, 'hash'],
  ];
  for (const key of Object.keys(fixture.keys)) {
    const rule = expectedType.find(([pattern]) => pattern.test(key));
    t.truthy(rule, `no docs/redis.md rule for ${key}`);
    t.is(await client.type(key), rule![1], key);
  }
  t.deepEqual(await client.zrange('profiles', 0, -1), ['profile_192.168.1.9', 'profile_10.0.2.112', 'profile_10.0.2.15']);
  t.deepEqual(await client.zrange('twsprofile_192.168.1.9', 0, -1), ['timewindow1', 'timewindow2', 'timewindow3']);
  const alerts = JSON.parse((await client.hget('profile_192.168.1.9_timewindow2', 'alerts'))!) as Record<string, string[]>;
  t.deepEqual(alerts, { 'alert-tw2': ['ev-2a', 'ev-2b', 'ev-2c'] });
  t.is(await client.hlen('profile_192.168.1.9_timewindow1_evidence'), 2);
  const dns = (await client.zrange('profile_192.168.1.9_timewindow2_timeline', 0, -1)).map((member) => JSON.parse(member) as Record<string, unknown>);
  t.deepEqual(dns.find((activity) => activity['dport_name'] === 'DNS')?.['info'], { query: 'example.org', answers: ['93.184.216.34'] });
  const busiest = await Promise.all([1, 2, 3, 4, 5].map((n) => client.hget(`profile_10.0.2.112_timewindow${n}:stats`, 'flows')));
  t.deepEqual(busiest, ['10', '25', '120', '40', '5']);
  t.is(await client.hget('profile_10.0.2.112_timewindow3:agg:dport:client', 'tcp/443/est'), '90,720,120000');
});

test('the slips-1.1.21 fixture has no keys of ours, a purged TW and a double-encoded alert', async (t) => {
  const { client } = await startFixtureRedis(t, 'slips-1.1.21');
  t.deepEqual(await client.keys('*:stats'), []);
  t.deepEqual(await client.keys('*:agg:*'), []);
  t.is(await client.exists('alerts', 'alerts_by_time'), 0);
  t.deepEqual(await client.zrange('twsprofile_192.168.2.12', 0, -1), ['timewindow1', 'timewindow2', 'timewindow3', 'timewindow4']);
  t.deepEqual(await client.keys('profile_192.168.2.12_timewindow1*'), []);
  const outer = JSON.parse((await client.hget('profile_192.168.2.12_timewindow3', 'alerts'))!) as Record<string, unknown>;
  const [ids] = Object.values(outer);
  t.is(typeof ids, 'string');
  t.is((JSON.parse(ids as string) as string[]).length, 3);
});

test('the hostile fixture carries raw control sequences; loading twice replaces keys', async (t) => {
  const { client } = await startFixtureRedis(t, 'hostile');
  const evidence = (await client.hget('profile_10.6.6.6_timewindow1_evidence', 'ev-hostile'))!;
  const description = (JSON.parse(evidence) as { description: string }).description;
  for (const hostile of ['\x1b]0;pwned\x07', '\x1b[2J', '\x1b[31m', '\u009b', '{red-fg}x{/}', '\u202e']) t.true(description.includes(hostile), JSON.stringify(hostile));
  await loadFixture(client, readFixture('hostile'));
  t.is(await client.zcard('profile_10.6.6.6_timewindow1_timeline'), 3);
});

test('the 40-profile fixture orders the 192.168.2 matches and alerts as documented', async (t) => {
  const { fixture, alerted } = fortyProfiles();
  const { client } = await startFixtureRedis(t, fixture);
  t.is(await client.zcard('profiles'), 40);
  const scores = new Map<string, number>();
  for (const profile of await client.zrange('profiles', 0, -1)) scores.set(profile.slice('profile_'.length), Number(await client.hget(profile, 'score')));
  const byScore = [...scores].sort((a, b) => b[1] - a[1]).map(([ip]) => ip);
  t.deepEqual(byScore.filter((ip) => ip.startsWith('192.168.2')).slice(0, 2), ['192.168.2.7', '192.168.2.12']);
  t.is(new Set(scores.values()).size, 40);
  for (const ip of alerted) t.truthy(await client.hget(`profile_${ip}_timewindow1`, 'alerts'), ip);
});
