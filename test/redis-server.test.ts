// Tests of core/redisServer.ts against real redis-server processes: private server lifecycle,
// busy-port ownership, running_slips_info.txt, -k cleanup and external addresses.

import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import {
  SLIPS_PORT_RANGE,
  classifyPort,
  connectExternal,
  findFreeSlipsPort,
  isPidAlive,
  isPortFree,
  isRedisServerOnPort,
  killRecordedServers,
  listRecordedServers,
  recordServer,
  removeServer,
  startPrivateRedis,
  waitForRedis,
  type RedisServerHandle,
} from '../core/redisServer.js';
import { freeLoopbackPort, startTestRedis, type TestRedis } from './helpers/redis.js';

const tempDir = mkdtempSync(path.join(os.tmpdir(), 'slips-redis-test-'));
const handles: RedisServerHandle[] = [];
const testServers: TestRedis[] = [];
const children: ChildProcess[] = [];
const netServers: Server[] = [];

test.after.always(async () => {
  for (const handle of handles) await handle.stop().catch(() => undefined);
  for (const server of testServers) await server.stop();
  for (const child of children) child.kill('SIGKILL');
  for (const server of netServers) server.close();
  rmSync(tempDir, { recursive: true, force: true });
});

function tempPath(name: string): string {
  return path.join(tempDir, name);
}

async function start(opts: Parameters<typeof startPrivateRedis>[0]): Promise<RedisServerHandle> {
  const handle = await startPrivateRedis(opts);
  handles.push(handle);
  return handle;
}

/** PID of a process that has already exited. */
async function deadPid(): Promise<number> {
  const child = spawn('true');
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

function sleeper(): ChildProcess {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  children.push(child);
  return child;
}

async function serverPid(client: Redis): Promise<number> {
  return Number(/process_id:(\d+)/.exec(await client.info('server'))![1]);
}

const baseRow = { input: 'dataset/test7-malicious.pcap', zeekDir: 'zeek_files', isDaemon: false, saveDb: false };

test('a private server: conf file, PING, record, save and stop', async (t) => {
  const port = await freeLoopbackPort();
  const outputDir = tempPath('run-lifecycle');
  const infoFile = tempPath('info-lifecycle.txt');
  const handle = await start({ port, outputDir, save: false, infoFile });

  t.is(handle.confPath, path.join(outputDir, 'redis', `redis-server-port-${port}.conf`));
  t.false(handle.reused);
  const conf = readFileSync(handle.confPath, 'utf8').split('\n');
  for (const line of [
    'daemonize yes',
    'stop-writes-on-bgsave-error no',
    'save ""',
    'appendonly no',
    'maxmemory 3gb',
    'maxmemory-policy volatile-lru',
    `logfile ${outputDir}/redis/redis-server-port-${port}.log`,
    `dir ${outputDir}/databases`,
    'dbfilename dump.rdb',
    `pidfile ${outputDir}/redis/redis-server-port-${port}.pid`,
    'bind 127.0.0.1',
    `port ${port}`,
    'protected-mode yes',
  ]) {
    t.true(conf.includes(line), `conf has "${line}"`);
  }
  t.true(await isRedisServerOnPort(handle.pid, port));

  const client = new Redis({ host: '127.0.0.1', port });
  t.is(await client.ping(), 'PONG');
  t.is(await serverPid(client), handle.pid);
  const limits = (await client.call('CONFIG', 'GET', 'client-output-buffer-limit')) as string[];
  t.regex(limits[1]!, /pubsub 4294967296 2147483648 600/);
  await client.set('marker', 'kept');
  await client.quit();

  await recordServer({ ...baseRow, port, serverPid: handle.pid, outputDir, slipsPid: process.pid }, infoFile);
  const text = readFileSync(infoFile, 'utf8');
  t.true(text.includes('Date, File or interface, Used port, Server PID, Output Zeek Dir, Logs Dir, Slips PID, Is Daemon, Save the DB\n'));
  t.regex(text, new RegExp(`\\n\\d{4}/\\d\\d/\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{6},dataset/test7-malicious.pcap,${port},${handle.pid},zeek_files,${outputDir},${process.pid},False,False\\n$`));
  const [row] = await listRecordedServers(infoFile);
  t.like(row, { port, serverPid: handle.pid, slipsPid: process.pid, outputDir, isDaemon: false, saveDb: false });

  const dump = path.join(outputDir, 'databases', 'dump.rdb');
  await handle.stop({ saveTo: dump });
  t.true(existsSync(dump));
  t.false(isPidAlive(handle.pid));
  t.true(await isPortFree(port));

  await removeServer(port, handle.pid, infoFile);
  t.deepEqual(await listRecordedServers(infoFile), []);

  // -d: a new server started from the saved rdb has the data.
  const loaded = await start({ port, outputDir: tempPath('run-load'), save: false, loadRdb: dump, infoFile });
  const reader = new Redis({ host: '127.0.0.1', port });
  t.is(await reader.get('marker'), 'kept');
  await reader.quit();
  await loaded.stop();
  t.false(isPidAlive(loaded.pid));
});

test('-s writes save 30 500 and appendonly yes; saving elsewhere copies the rdb', async (t) => {
  const port = await freeLoopbackPort();
  const outputDir = tempPath('run-save');
  const handle = await start({ port, outputDir, save: true, infoFile: tempPath('info-save.txt') });
  const conf = readFileSync(handle.confPath, 'utf8').split('\n');
  t.true(conf.includes('save 30 500'));
  t.true(conf.includes('appendonly yes'));
  t.false(conf.includes('save ""'));
  const copy = tempPath('elsewhere/copy.rdb');
  await handle.stop({ saveTo: copy });
  t.true(existsSync(copy));
  t.false(isPidAlive(handle.pid));
  await t.throwsAsync(start({ port, outputDir, save: true, loadRdb: copy }), { message: /cannot be combined/ });
});

test('a port held by a foreign program is refused with advice to use -m', async (t) => {
  const foreign = createServer();
  netServers.push(foreign);
  await new Promise<void>((resolve) => foreign.listen({ port: 0, host: '127.0.0.1' }, resolve));
  const port = (foreign.address() as { port: number }).port;
  t.false(await isPortFree(port));
  t.deepEqual(await classifyPort(port, tempPath('info-foreign.txt')), { state: 'foreign' });
  const error = await t.throwsAsync(
    startPrivateRedis({ port, outputDir: tempPath('run-foreign'), save: false, infoFile: tempPath('info-foreign.txt') }),
  );
  t.regex(error.message, new RegExp(`Port ${port} is in use by a program that is not a Slips redis server`));
  t.regex(error.message, /-m/);
  t.regex(error.message, /-P <other port>/);
});

test('a port recorded for a running Slips is refused naming its PID', async (t) => {
  const server = await startTestRedis();
  testServers.push(server);
  const infoFile = tempPath('info-running.txt');
  const pid = await serverPid(server.client);
  await recordServer({ ...baseRow, port: server.port, serverPid: pid, outputDir: tempDir, slipsPid: process.pid }, infoFile);
  const error = await t.throwsAsync(
    startPrivateRedis({ port: server.port, outputDir: tempPath('run-running'), save: false, infoFile }),
  );
  t.regex(error.message, new RegExp(`running Slips \\(PID ${process.pid}\\)`));
  t.regex(error.message, /-m/);
  t.is(await server.client.ping(), 'PONG');
});

test('a leftover server of a dead Slips is reused, not restarted', async (t) => {
  const server = await startTestRedis();
  testServers.push(server);
  const infoFile = tempPath('info-leftover.txt');
  const pid = await serverPid(server.client);
  const oldOutput = tempPath('run-old');
  await recordServer({ ...baseRow, port: server.port, serverPid: pid, outputDir: oldOutput, slipsPid: await deadPid() }, infoFile);
  t.is((await classifyPort(server.port, infoFile)).state, 'leftover');

  const handle = await startPrivateRedis({ port: server.port, outputDir: tempPath('run-new'), save: false, infoFile });
  t.true(handle.reused);
  t.is(handle.pid, pid);
  t.is(handle.confPath, path.join(oldOutput, 'redis', `redis-server-port-${server.port}.conf`));
  t.false(existsSync(tempPath('run-new/redis')));
  await handle.stop();
  t.false(isPidAlive(pid));
});

test('findFreeSlipsPort returns a free port of the -m range', async (t) => {
  const port = await findFreeSlipsPort();
  t.true(port >= SLIPS_PORT_RANGE.first && port <= SLIPS_PORT_RANGE.last);
  t.true(await isPortFree(port));
});

test('waitForRedis gives up after its timeout', async (t) => {
  const port = await freeLoopbackPort();
  const started = Date.now();
  await t.throwsAsync(waitForRedis(port, 300), { message: new RegExp(`127\\.0\\.0\\.1:${port} did not answer PING within 300 ms`) });
  t.true(Date.now() - started < 2000);
});

test('killRecordedServers kills recorded redis-servers by PID and skips other PIDs', async (t) => {
  const infoFile = tempPath('info-kill.txt');
  const redisPort = await freeLoopbackPort();
  const redis = await start({ port: redisPort, outputDir: tempPath('run-kill'), save: false, infoFile });
  const sleep = sleeper();
  const sleepPort = redisPort + 1;
  const gonePid = await deadPid();
  await recordServer({ ...baseRow, port: redisPort, serverPid: redis.pid, outputDir: tempDir, slipsPid: gonePid }, infoFile);
  await recordServer({ ...baseRow, port: sleepPort, serverPid: sleep.pid!, outputDir: tempDir, slipsPid: gonePid }, infoFile);
  await recordServer({ ...baseRow, port: 32999, serverPid: gonePid, outputDir: tempDir, slipsPid: gonePid }, infoFile);

  const report = await killRecordedServers(infoFile);

  t.deepEqual(report.killed, [{ port: redisPort, pid: redis.pid }]);
  t.false(isPidAlive(redis.pid));
  t.is(sleep.exitCode, null);
  t.true(isPidAlive(sleep.pid!));
  t.is(report.skipped.length, 2);
  t.like(report.skipped.find((entry) => entry.pid === sleep.pid), { port: sleepPort });
  t.regex(report.skipped.find((entry) => entry.pid === sleep.pid)!.reason, /not a redis-server/);
  t.regex(report.skipped.find((entry) => entry.pid === gonePid)!.reason, /not running/);
  t.deepEqual((await listRecordedServers(infoFile)).map((row) => row.serverPid), [sleep.pid]);
});

test('recordServer keeps one row per port and reads rows Slips wrote', async (t) => {
  const infoFile = tempPath('info-format.txt');
  writeFileSync(
    infoFile,
    '# This file contains a list of used redis ports.\n# Once a server is killed, it will be removed from this file.\n\n' +
      'Date, File or interface, Used port, Server PID, Output Zeek Dir, Logs Dir, Slips PID, Is Daemon, Save the DB\n' +
      '2024/11/25 15:11:50.571184,dataset/test6-malicious.suricata.json,32768,16408,dir/zeek_files,dir,16398,False,True\n',
  );
  t.deepEqual(await listRecordedServers(infoFile), [
    {
      date: '2024/11/25 15:11:50.571184',
      input: 'dataset/test6-malicious.suricata.json',
      port: 32768,
      serverPid: 16408,
      zeekDir: 'dir/zeek_files',
      outputDir: 'dir',
      slipsPid: 16398,
      isDaemon: false,
      saveDb: true,
    },
  ]);
  await recordServer({ ...baseRow, input: 'a,b.pcap', port: 32768, serverPid: 1, outputDir: 'out', slipsPid: 2, isDaemon: true }, infoFile);
  const rows = await listRecordedServers(infoFile);
  t.is(rows.length, 1);
  t.like(rows[0], { input: 'a_b.pcap', port: 32768, serverPid: 1, isDaemon: true });
  const text = readFileSync(infoFile, 'utf8');
  t.is(text.match(/^Date, File or interface/gm)?.length, 1);
  t.true(text.endsWith(',32768,1,zeek_files,out,2,True,False\n'));
});

test('connectExternal parses addresses and never needs a server', (t) => {
  t.deepEqual(connectExternal('localhost:6380'), { host: 'localhost', port: 6380, db: 0 });
  t.deepEqual(connectExternal('redis://10.0.0.5:7000/2'), { host: '10.0.0.5', port: 7000, db: 2 });
  t.deepEqual(connectExternal('redis://:s%40cret@db.local/1'), { host: 'db.local', port: 6379, db: 1, password: 's@cret' });
  t.deepEqual(connectExternal('[::1]:6390'), { host: '::1', port: 6390, db: 0 });
  for (const bad of ['', 'http://localhost:6379', 'redis://localhost:6379/x', 'localhost:notaport']) {
    t.throws(() => connectExternal(bad), { message: /Expected 'host:port' or 'redis:\/\/host:port\/db'/ }, bad);
  }
});
