// Ctrl-C on the real program (./slips.sh) in the middle of a large Zeek conn.log (300,000
// generated flows): one SIGINT stops the analysis cleanly and fast (exit 0, outputs and Redis
// finished); a second SIGINT forces the exit (130) without leaving the private redis-server behind.
// Serial: both tests measure how fast the program exits.

import test from 'ava';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { isPidAlive, isPortFree } from '../core/redisServer.js';
import { freeLoopbackPort, startTestRedis, type TestRedis } from './helpers/redis.js';
import { SlipsProcess, killRedisServerOnPort, redisServersOnPort, tempDir, waitForPidGone, writeConfig } from './helpers/slips.js';

const FLOWS = 300_000;
const T0 = 1_700_000_000;
const SCANNER = '10.0.0.66';

let redis: TestRedis;
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'slips-signals-'));
/** The Zeek log type is taken from the file name: it must be conn.log. */
const connLog = path.join(dataDir, 'conn.log');

/** A TSV conn.log: normal HTTPS traffic of 50 hosts, and every 10th flow a horizontal scan of port 80. */
function generateConnLog(file: string, flows: number): void {
  const fields = ['ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'proto', 'service', 'duration',
    'orig_bytes', 'resp_bytes', 'conn_state', 'history', 'orig_pkts', 'resp_pkts'];
  const fd = openSync(file, 'w');
  try {
    writeSync(fd, ['#separator \\x09', '#set_separator\t,', '#empty_field\t(empty)', '#unset_field\t-', '#path\tconn',
      `#fields\t${fields.join('\t')}`, `#types\t${fields.map(() => 'string').join('\t')}`, ''].join('\n'));
    let chunk: string[] = [];
    for (let i = 0; i < flows; i++) {
      const ts = (T0 + i * 0.01).toFixed(6);
      if (i % 10 === 0) {
        const k = i / 10;
        chunk.push(`${ts}\tCscan${i}\t${SCANNER}\t${40000 + (k % 20000)}\t${20 + (k % 180)}.${(k >> 8) & 255}.${k & 255}.10\t80\ttcp\t-\t3.0\t0\t0\tS0\tS\t2\t0`);
      } else {
        chunk.push(`${ts}\tCnorm${i}\t192.168.1.${10 + (i % 50)}\t${50000 + (i % 10000)}\t142.250.${i % 256}.${i % 100}\t443\ttcp\tssl\t1.2\t800\t5000\tSF\tShADadFf\t8\t9`);
      }
      if (chunk.length === 10_000) {
        writeSync(fd, `${chunk.join('\n')}\n`);
        chunk = [];
      }
    }
    if (chunk.length > 0) writeSync(fd, `${chunk.join('\n')}\n`);
  } finally {
    closeSync(fd);
  }
}

test.before(async () => {
  generateConnLog(connLog, FLOWS);
  redis = await startTestRedis();
});

test.after.always(async () => {
  await redis?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test.serial('SIGINT during the analysis: a clean stop within 2 s, outputs and Redis finished', async (t) => {
  const dir = tempDir(t, 'slips-sigint-');
  const outputDir = path.join(dir, 'out');
  const config = writeConfig(dir, [[['redis', 'external'], `127.0.0.1:${redis.port}`]]);
  const slips = new SlipsProcess(t, ['-e', '1', '-f', connLog, '-o', outputDir, '-c', config], { cwd: dir });
  await slips.waitFor(/Storing Slips logs in/);
  await sleep(1000);
  t.false(slips.exited, 'still analyzing after 1 s');

  const signalledAt = Date.now();
  slips.signal('SIGINT');
  const run = await slips.done;
  const took = Date.now() - signalledAt;
  t.log(`exited ${took} ms after SIGINT`);
  t.false(run.timedOut);
  t.is(run.code, 0, `${run.stdout}\n${run.stderr}`);
  t.true(took < 2000, `${took} ms`);
  t.regex(run.stdout, /Stopping Slips/);
  t.regex(run.stdout, /Total analyzed IPs: \d+/);

  t.true(existsSync(path.join(outputDir, 'alerts', 'alerts.log')));
  t.true(existsSync(path.join(outputDir, 'alerts', 'alerts.json')));
  t.regex(readFileSync(path.join(outputDir, 'metadata', 'info.txt'), 'utf8'), /Slips end date: /);

  const client = new Redis({ host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: 1 });
  t.teardown(() => client.disconnect());
  t.is(await client.get('will_slips_have_more_flows'), '0');
  const profiles = await client.zcard('profiles');
  t.true(profiles > 0);
  const processed = Number(await client.get('processed_flows_by_profiler_so_far'));
  t.log(`${processed} of ${FLOWS} flows processed`);
  t.true(processed > 0 && processed < FLOWS, `${processed} flows processed: stopped early`);
  t.truthy(await client.hget('analysis', 'analysis_end'));
  t.is(await client.zcard('modified_timewindows'), 0, 'every window closed on the way out');
  t.true(await client.zscore('profiles', `profile_${SCANNER}`) !== null);
});

test.serial('a second SIGINT forces the exit (130) and kills the private redis-server', async (t) => {
  const cwd = tempDir(t, 'slips-sigint2-');
  const outputDir = path.join(cwd, 'out');
  const port = await freeLoopbackPort();
  t.teardown(() => killRedisServerOnPort(port));
  const slips = new SlipsProcess(t, ['-e', '1', '-f', connLog, '-o', outputDir, '-P', String(port)], { cwd });
  await slips.waitFor(/Storing Slips logs in/);
  const pidFile = path.join(outputDir, 'redis', `redis-server-port-${port}.pid`);
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  t.true(isPidAlive(pid), `redis-server PID ${pid} from ${pidFile}`);
  await sleep(500);
  t.false(slips.exited);

  const signalledAt = Date.now();
  slips.signal('SIGINT');
  await sleep(20);
  if (!slips.exited) slips.signal('SIGINT');
  const run = await slips.done;
  const took = Date.now() - signalledAt;
  t.log(`exited ${took} ms after the first SIGINT`);
  t.false(run.timedOut);
  t.is(run.code, 130, `${run.stdout}\n${run.stderr}`);
  t.true(took < 2000, `${took} ms`);
  t.regex(run.stderr, /Second signal received, forcing the exit\./);

  t.true(await waitForPidGone(pid), `redis-server ${pid} is gone`);
  t.deepEqual(await redisServersOnPort(port), []);
  t.true(await isPortFree(port));
});

test.serial('a Redis lost in the middle of the run: the analysis goes on, the output files are complete, exit 1', async (t) => {
  const cwd = tempDir(t, 'slips-redislost-');
  const outputDir = path.join(cwd, 'out');
  const port = await freeLoopbackPort();
  t.teardown(() => killRedisServerOnPort(port));
  const slips = new SlipsProcess(t, ['-e', '1', '-f', connLog, '-o', outputDir, '-P', String(port)], { cwd });
  await slips.waitFor(/Storing Slips logs in/);
  const pid = Number(readFileSync(path.join(outputDir, 'redis', `redis-server-port-${port}.pid`), 'utf8').trim());
  await sleep(300);
  process.kill(pid, 'SIGKILL');
  const run = await slips.done;
  t.false(run.timedOut);
  t.is(run.code, 1, 'a lost Redis is reported in the exit code');
  t.regex(run.stderr, /Lost the Redis server .*the analysis goes on and writes the output files only\./);
  t.notRegex(`${run.stdout}${run.stderr}`, /Unhandled error event/);
  t.regex(run.stdout, /Analyzed Flows: 100%/, 'the whole input was analyzed');
  // The scan of the last part of the input is in alerts.log: nothing processed after the loss is lost.
  const alerts = readFileSync(path.join(outputDir, 'alerts', 'alerts.log'), 'utf8');
  t.regex(alerts, /Horizontal port scan to port http 80\/tcp\. From 10\.0\.0\.66 to 1000 unique destination IPs/);
});
