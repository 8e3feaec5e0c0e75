// The command line of the real program (./slips.sh): version, help, refused flags and their exit
// codes, input and config errors, Redis port selection (-P, -m, a port held by another program),
// and loading a saved database with -d then stopping it with -k.

import test from 'ava';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { SLIPS_PORT_RANGE, isPidAlive, isPortFree, listRecordedServers } from '../core/redisServer.js';
import { freeLoopbackPort } from './helpers/redis.js';
import {
  killRedisServerOnPort,
  redisServersOnPort,
  repoPath,
  runSlips,
  tempDir,
  waitForPidGone,
  type SlipsResult,
} from './helpers/slips.js';

const VERTICAL = repoPath('dataset/port-scans/vertical/conn.log');

/** Shared by the -m test and the -d/-k test (which loads the dump.rdb of the -m run). */
const sharedDir = mkdtempSync(path.join(os.tmpdir(), 'slips-cli-'));
const portsToClean = new Set<number>();

test.after.always(async () => {
  for (const port of portsToClean) await killRedisServerOnPort(port);
  rmSync(sharedDir, { recursive: true, force: true });
});

function output(run: SlipsResult): string {
  return `${run.stdout}${run.stderr}`;
}

// ---------------------------------------------------------------- flags

test('-V prints the version', async (t) => {
  const run = await runSlips(t, ['-V']);
  t.is(run.code, 0);
  t.regex(run.stdout, /^Slips Version: 1\.1\.21 \(slips-ts \d+\.\d+\.\d+\)$/m);
});

test('-h prints the usage with every flag', async (t) => {
  const run = await runSlips(t, ['-h']);
  t.is(run.code, 0);
  t.regex(run.stdout, /^Usage: \.\/slips\.sh \[options\]/);
  for (const flag of ['-f, --filepath', '-o, --output', '-c, --config', '-v, --verbose', '-e, --debug', '-t, --testing',
    '-P, --port', '-m, --multiinstance', '-s, --save', '-d, --db', '-k, --killall', '-V, --version', '-h, --help']) {
    t.true(run.stdout.includes(flag), flag);
  }
});

test('an unknown flag is refused with exit code 2', async (t) => {
  const run = await runSlips(t, ['--bogus', '-f', VERTICAL]);
  t.is(run.code, 2);
  t.regex(run.stderr, /Unknown flag --bogus/);
  t.notRegex(run.stdout, /Total analyzed IPs/);
});

for (const args of [['-ap', 'wlan0,eth0'], ['-cc'], ['-w'], ['-f', VERTICAL, '-p']]) {
  test(`a Slips flag that is not built yet (${args.join(' ')}) is refused with exit code 2`, async (t) => {
    const run = await runSlips(t, args);
    t.is(run.code, 2);
    const flag = args.find((arg) => arg.startsWith('-') && arg !== '-f')!;
    t.regex(run.stderr, new RegExp(`^${flag}: .+ is not available in this version yet\\.$`, 'm'));
  });
}

test('-e and -v outside 0-3 are refused', async (t) => {
  for (const args of [['-e', '4'], ['-v', '7'], ['-e', '-1']]) {
    const run = await runSlips(t, [...args, '-f', VERTICAL]);
    t.is(run.code, 2, args.join(' '));
    t.true(output(run).includes('Debug and verbose values range from 0 to 3.'), args.join(' '));
  }
});

test('no input source: exit code 255', async (t) => {
  const run = await runSlips(t, [], { cwd: tempDir(t) });
  t.is(run.code, 255);
  t.true(run.stdout.includes('[Main] You need to define an input source.'));
});

test('a missing input path is named in the error', async (t) => {
  const cwd = tempDir(t);
  const missing = path.join(cwd, 'no-such-dir', 'conn.log');
  const run = await runSlips(t, ['-f', missing, '-o', path.join(cwd, 'out')], { cwd });
  t.is(run.code, 1);
  t.true(run.stderr.includes(missing), run.stderr);
  t.false(existsSync(path.join(cwd, 'out')), 'nothing was started');
});

test('a bad config value: exit code 1 naming the key and the file', async (t) => {
  const cwd = tempDir(t);
  const cases: Array<[string, string]> = [
    ['parameters:\n  time_window_width: -5\n', 'parameters.time_window_width'],
    ['detection:\n  evidence_detection_threshold: lots\n', 'detection.evidence_detection_threshold'],
    ['parameters:\n  analysis_direction: out\n  debug: 9\n', 'parameters.debug'],
  ];
  for (const [index, [yaml, key]] of cases.entries()) {
    const config = path.join(cwd, `bad-${index}.yaml`);
    writeFileSync(config, yaml);
    const run = await runSlips(t, ['-c', config, '-f', VERTICAL, '-o', path.join(cwd, 'out')], { cwd });
    t.is(run.code, 1, key);
    t.true(run.stderr.includes(config), `${key}: ${run.stderr}`);
    t.true(run.stderr.includes(key), `${key}: ${run.stderr}`);
  }
  const missing = path.join(cwd, 'missing.yaml');
  const run = await runSlips(t, ['-c', missing, '-f', VERTICAL], { cwd });
  t.is(run.code, 1);
  t.true(run.stderr.includes(missing), run.stderr);
});

// ---------------------------------------------------------------- Redis ports

let multiInstance: Promise<{ run: SlipsResult; port: number; outputDir: string }> | undefined;

/** One -m run (memoized): its dump.rdb is reused by the -d/-k test. */
function multiInstanceRun(): Promise<{ run: SlipsResult; port: number; outputDir: string }> {
  multiInstance ??= (async () => {
    const outputDir = path.join(sharedDir, 'multi');
    const run = await runSlips(undefined, ['-m', '-f', VERTICAL, '-o', outputDir], { cwd: sharedDir });
    const port = Number(/Using redis server on port: (\d+)/.exec(run.stdout)?.[1]);
    if (Number.isInteger(port)) portsToClean.add(port);
    return { run, port, outputDir };
  })();
  return multiInstance;
}

test('-m uses the first free port of 32768-32850', async (t) => {
  const { run, port, outputDir } = await multiInstanceRun();
  t.is(run.code, 0, output(run));
  t.true(port >= SLIPS_PORT_RANGE.first && port <= SLIPS_PORT_RANGE.last, String(port));
  t.true(existsSync(path.join(outputDir, 'redis', `redis-server-port-${port}.conf`)));
  t.regex(readFileSync(path.join(outputDir, 'redis', `redis-server-port-${port}.conf`), 'utf8'), new RegExp(`^port ${port}$`, 'm'));
  t.regex(run.stdout, new RegExp(`Killed Redis server on port ${port}\\.`));
  t.true(existsSync(path.join(outputDir, 'databases', 'dump.rdb')));
  t.deepEqual(await redisServersOnPort(port), []);
});

test('a port held by another program: exit code 1 and a hint to use -m', async (t) => {
  const cwd = tempDir(t);
  const port = await freeLoopbackPort();
  const server: Server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  t.teardown(() => server.close());

  const run = await runSlips(t, ['-P', String(port), '-f', VERTICAL, '-o', path.join(cwd, 'out')], { cwd });
  t.is(run.code, 1, output(run));
  t.true(run.stderr.includes(`Port ${port}`), run.stderr);
  t.regex(run.stderr, /-m/);
  t.true(server.listening, 'the other program keeps its port');
  t.deepEqual(await listRecordedServers(path.join(cwd, 'running_slips_info.txt')), []);
  t.false(existsSync(path.join(cwd, 'out', 'alerts', 'alerts.log')) && readFileSync(path.join(cwd, 'out', 'alerts', 'alerts.log'), 'utf8') !== '');
});

test('-d serves a saved database until -k stops it', async (t) => {
  const { run: earlier, outputDir } = await multiInstanceRun();
  t.is(earlier.code, 0);
  const rdb = path.join(outputDir, 'databases', 'dump.rdb');
  const port = await freeLoopbackPort();
  portsToClean.add(port);
  const cwd = path.join(sharedDir, 'load');
  mkdirSync(cwd);

  const load = await runSlips(t, ['-d', rdb, '-P', String(port), '-o', path.join(cwd, 'out')], { cwd });
  t.is(load.code, 0, output(load));
  t.regex(load.stdout, new RegExp(`loaded into the Redis server on port ${port} \\(PID \\d+\\)`));
  const pid = Number(/\(PID (\d+)\)/.exec(load.stdout)![1]);
  t.true(isPidAlive(pid));

  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  t.teardown(() => client.disconnect());
  await client.connect();
  t.deepEqual(await client.zrange('profiles', 0, -1), ['profile_192.168.1.9'], 'the data of the earlier run');
  client.disconnect();

  const info = path.join(cwd, 'running_slips_info.txt');
  t.deepEqual((await listRecordedServers(info)).map((row) => [row.port, row.serverPid]), [[port, pid]]);

  const kill = await runSlips(t, ['-k'], { cwd });
  t.is(kill.code, 0, output(kill));
  t.true(kill.stdout.includes(`Killed Redis server on port ${port} (PID ${pid}).`), kill.stdout);
  t.true(await waitForPidGone(pid));
  t.true(await isPortFree(port));
  t.deepEqual(await listRecordedServers(info), []);

  const again = await runSlips(t, ['-k'], { cwd });
  t.is(again.code, 0);
  t.regex(again.stdout, /No Redis servers started by Slips are running\./);
});
