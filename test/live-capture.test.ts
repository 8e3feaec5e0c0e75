// Live capture (-i): a refused interface, and (as root, with `ip netns` and tcpdump) a real run:
// a network namespace joined to the host by a veth pair (unique names, removed afterwards), the
// program capturing on the host side, and from inside the namespace a TCP exchange with a small
// server on the host side, a DNS query to a tiny UDP DNS responder and a vertical port scan of
// closed ports. Their connections reach conn.log and Redis, and the scan evidence alerts.log,
// while the capture runs; SIGTERM then ends tcpdump and the run cleanly.

import test, { type ExecutionContext } from 'ava';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startTestRedis, type TestRedis } from './helpers/redis.js';
import { runSlips, SlipsProcess, tempDir, writeConfig } from './helpers/slips.js';

test('-i with an interface that does not exist is refused at once', async (t) => {
  const cwd = tempDir(t);
  const run = await runSlips(t, ['-i', 'nosuchif0', '-o', path.join(cwd, 'out')], { cwd });
  t.is(run.code, 1);
  t.regex(run.stdout + run.stderr, /nosuchif0 is not a valid interface\. Stopping Slips/);
});

test('-F without -i is refused', async (t) => {
  const run = await runSlips(t, ['-F', 'tcp', '-f', 'dataset']);
  t.is(run.code, 2);
  t.regex(run.stderr, /-F filters a live capture: it needs -i <interface>\./);
});

function canCapture(): boolean {
  if (process.getuid?.() !== 0) return false;
  const which = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
  return which('ip') && which('tcpdump') && spawnSync('ip', ['netns', 'list']).status === 0;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: 'pipe' });
}

/** A namespace and a veth pair, host side `host` (10.213.<n>.1), namespace side (10.213.<n>.2). */
function makeNetwork(t: ExecutionContext): { ns: string; host: string; hostIp: string; nsIp: string } {
  const id = `${process.pid % 10000}${Math.floor(Math.random() * 100)}`;
  const ns = `slipslive${id}`;
  const host = `slh${id}`;
  const inner = `sln${id}`;
  const net24 = `10.213.${Number(id) % 250}`;
  t.teardown(() => {
    spawnSync('ip', ['netns', 'del', ns]);
    spawnSync('ip', ['link', 'del', host]);
  });
  ip('netns', 'add', ns);
  ip('link', 'add', host, 'type', 'veth', 'peer', 'name', inner);
  ip('link', 'set', inner, 'netns', ns);
  ip('addr', 'add', `${net24}.1/24`, 'dev', host);
  ip('link', 'set', host, 'up');
  ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${net24}.2/24`, 'dev', inner);
  ip('netns', 'exec', ns, 'ip', 'link', 'set', inner, 'up');
  ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
  return { ns, host, hostIp: `${net24}.1`, nsIp: `${net24}.2` };
}

/** Answers every DNS query with an empty NOERROR response. */
async function dnsResponder(t: ExecutionContext, address: string): Promise<void> {
  const socket = dgram.createSocket('udp4');
  t.teardown(() => socket.close());
  socket.on('message', (query, from) => {
    if (query.length < 12) return;
    const answer = Buffer.from(query);
    answer[2] = 0x81; // QR, RD
    answer[3] = 0x80; // RA, NOERROR
    socket.send(answer, from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(53, address, resolve));
}

async function echoServer(t: ExecutionContext, address: string): Promise<number> {
  const server = net.createServer((socket) => socket.on('data', (data) => socket.end(data)));
  t.teardown(() => server.close());
  await new Promise<void>((resolve) => server.listen(0, address, resolve));
  return (server.address() as net.AddressInfo).port;
}

/** What runs inside the namespace: TCP exchange, DNS query, then SYNs to 20 closed ports. */
const CLIENT = `
const net = require('node:net'), dgram = require('node:dgram');
const [host, port] = [process.argv[1], Number(process.argv[2])];
const tcp = () => new Promise((resolve, reject) => {
  const s = net.connect(port, host, () => s.write('hello'));
  s.on('data', () => s.end()); s.on('close', resolve); s.on('error', reject);
});
const dns = () => new Promise((resolve, reject) => {
  const s = dgram.createSocket('udp4');
  const q = Buffer.from('123401000001000000000000076578616d706c6503636f6d0000010001', 'hex');
  s.on('message', () => { s.close(); resolve(); }); s.on('error', reject);
  s.send(q, 53, host);
});
const probe = (p) => new Promise((resolve) => {
  const s = net.connect(p, host); s.on('error', resolve); s.on('connect', () => { s.destroy(); resolve(); });
});
(async () => {
  await tcp(); await dns();
  for (let p = 20001; p <= 20020; p++) await probe(p);
})().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
`;

/** Polls `check` until it holds; returns the ms since `start` then. */
async function waitUntil(what: string, start: number, deadlineMs: number, check: () => boolean | Promise<boolean>): Promise<number> {
  for (;;) {
    if (await check()) return Date.now() - start;
    if (Date.now() - start > deadlineMs) throw new Error(`${what} did not appear within ${deadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const read = (file: string): string => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '');

let redis: TestRedis | undefined;
test.after.always(async () => redis?.stop());

(canCapture() ? test : test.skip)('live capture on a veth pair: flows and port-scan evidence while running, clean stop on SIGTERM', async (t) => {
  const network = makeNetwork(t);
  await dnsResponder(t, network.hostIp);
  const port = await echoServer(t, network.hostIp);
  redis = await startTestRedis();
  const dir = tempDir(t, 'slips-live-');
  const out = path.join(dir, 'out');
  const config = writeConfig(dir, [[['redis', 'external'], `redis://127.0.0.1:${redis.port}/0`]]);
  const slips = new SlipsProcess(t, ['-i', network.host, '-o', out, '-c', config], { cwd: dir, timeoutMs: 60_000 });
  await slips.waitFor(/Capturing on interface/, 30_000);
  await slips.waitFor(/Using external redis server/, 30_000);

  // Asynchronously: the servers answering it run in this process.
  const client = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn('ip', ['netns', 'exec', network.ns, process.execPath, '-e', CLIENT, network.hostIp, String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('close', (code) => { clearTimeout(timer); resolve({ code, stderr }); });
  });
  t.is(client.code, 0, client.stderr);
  const sent = Date.now();

  const conn = path.join(out, 'zeek_files', 'conn.log');
  const rows = (): string[][] => read(conn).split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.split('\t'));
  const has = (test: (row: string[]) => boolean): boolean => rows().some(test);
  // conn.log columns: 2 orig_h, 3 orig_p, 4 resp_h, 5 resp_p, 6 proto, 11 conn_state, 15 history.
  const [tcpMs, dnsMs, scanMs] = await Promise.all([
    waitUntil('the TCP exchange', sent, 15_000, () => has((r) => r[2] === network.nsIp && r[5] === String(port) && r[6] === 'tcp' && r[11] === 'SF')),
    waitUntil('the DNS query', sent, 15_000, () => has((r) => r[2] === network.nsIp && r[5] === '53' && r[6] === 'udp' && r[11] === 'SF')),
    waitUntil('the vertical port scan evidence', sent, 15_000,
      () => read(path.join(out, 'alerts', 'alerts.log')).includes(`vertical port scan to IP ${network.hostIp} from ${network.nsIp}`)),
  ]);
  t.is(rows().filter((r) => r[2] === network.nsIp && r[6] === 'tcp' && r[11] === 'REJ').length, 20);
  t.log(`after the traffic: TCP flow ${tcpMs} ms, DNS flow ${dnsMs} ms, scan evidence ${scanMs} ms`);
  // Live, a closed TCP connection is reported 1 s after its last packet and a DNS one after 2 s
  // idle (Zeek waits 5 s and 10 s), so everything is there within the 5 s.
  t.true(Math.max(tcpMs, dnsMs, scanMs) <= 5_000, `${tcpMs} ${dnsMs} ${scanMs}`);
  t.true(Number(await redis.client.hget(`profile_${network.nsIp}`, 'flows')) >= 22);

  slips.signal('SIGTERM');
  const result = await slips.done;
  t.is(result.code, 0, result.stderr);
  t.false(result.timedOut);
  t.regex(result.stdout, /SIGTERM received, shutting down slips\./);
  t.regex(read(conn), /#close\t/);
});
