// Lifecycle of the redis-server a Slips run uses: writes its conf, starts it, saves and stops
// it; decides whether a busy port holds a leftover server of ours; keeps Slips'
// running_slips_info.txt; kills recorded servers for -k; parses external server addresses.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';

/** Ports Slips picks from with -m (inclusive). */
export const SLIPS_PORT_RANGE = { first: 32768, last: 32850 } as const;
/** Slips keeps this file in the current working directory. */
export const DEFAULT_INFO_FILE = 'running_slips_info.txt';

const LOOPBACK = '127.0.0.1';
const START_TIMEOUT_MS = 5000;
const STOP_TIMEOUT_MS = 2000;
const PIDFILE_TIMEOUT_MS = 1000;
const CLIENT_OUTPUT_BUFFER_LIMIT =
  'normal 0 0 0 slave 268435456 67108864 60 pubsub 4294967296 2147483648 600';
const INFO_FILE_HEADER =
  '# This file contains a list of used redis ports.\n' +
  '# Once a server is killed, it will be removed from this file.\n\n' +
  'Date, File or interface, Used port, Server PID, Output Zeek Dir, Logs Dir, Slips PID, Is Daemon, Save the DB\n';

export class RedisServerError extends Error {
  override name = 'RedisServerError';
}

export interface RedisServerHandle {
  readonly port: number;
  readonly pid: number;
  /** The conf file the server was started with. */
  readonly confPath: string;
  /** True when a leftover server of an earlier run was taken over instead of started. */
  readonly reused: boolean;
  /** Saves the DB to `saveTo` when given, shuts the server down and waits until its PID is gone. */
  stop(opts?: { saveTo?: string }): Promise<void>;
}

export interface PrivateRedisOptions {
  port: number;
  outputDir: string;
  /** -s: keep the data (`save 30 500`, `appendonly yes`). */
  save: boolean;
  /** -d: rdb file the server starts with. */
  loadRdb?: string;
  /** Where running Slips servers are recorded; default running_slips_info.txt in the CWD. */
  infoFile?: string;
}

/** One row of running_slips_info.txt. */
export interface RecordedServer {
  /** `%Y/%m/%d %H:%M:%S.%f`, local time. */
  date: string;
  /** Input file or interface. */
  input: string;
  port: number;
  serverPid: number;
  zeekDir: string;
  /** Output (logs) directory of the run. */
  outputDir: string;
  slipsPid: number;
  isDaemon: boolean;
  saveDb: boolean;
}

/** Who holds a port. */
export type PortUsage =
  | { state: 'free' }
  | { state: 'leftover'; server: RecordedServer }
  | { state: 'running-slips'; server: RecordedServer }
  | { state: 'foreign' };

export interface ExternalRedisOptions {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
}

// ---------------------------------------------------------------- processes and ports

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** File contents, or '' if the file does not exist. */
async function readTextOrEmpty(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

/** Sends a signal; false if the process was already gone. */
function signal(pid: number, name: NodeJS.Signals): boolean {
  try {
    process.kill(pid, name);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/** Whether a process with this PID exists and is not a zombie. */
export function isPidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return !isZombie(pid);
}

function isZombie(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // Format: "<pid> (<comm>) <state> ..."; comm may contain spaces and parentheses.
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state === 'Z';
}

async function waitForPidExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isPidAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await sleep(25);
  }
  return true;
}

/**
 * Whether /proc/<pid>/cmdline shows a redis-server serving `port`: either its process
 * title (`redis-server 127.0.0.1:<port>`) or a `--port <port>` argument.
 */
export async function isRedisServerOnPort(pid: number, port: number): Promise<boolean> {
  let raw: string;
  try {
    raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return false;
  }
  const words = raw.split(/[\0\s]+/).filter((word) => word !== '');
  if (words.length === 0 || !path.basename(words[0]!).startsWith('redis-server')) return false;
  return words.some(
    (word, i) => word.endsWith(`:${port}`) || (word === '--port' && words[i + 1] === String(port)),
  );
}

/** Whether nothing listens on 127.0.0.1:<port> (tries to bind it). */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES') resolve(false);
      else reject(err);
    });
    server.listen({ port, host: LOOPBACK, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** First free port of Slips' -m range. */
export async function findFreeSlipsPort(): Promise<number> {
  for (let port = SLIPS_PORT_RANGE.first; port <= SLIPS_PORT_RANGE.last; port++) {
    if (await isPortFree(port)) return port;
  }
  throw new RedisServerError(
    `All ports from ${SLIPS_PORT_RANGE.first} to ${SLIPS_PORT_RANGE.last} are used. Unable to start slips.`,
  );
}

/** Sends one PING; true on +PONG (a server still loading its data answers -LOADING). */
function pingOnce(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    let reply = '';
    const socket = createConnection({ host, port });
    const finish = (answered: boolean) => {
      socket.destroy();
      resolve(answered);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) finish(reply.startsWith('+PONG'));
    });
  });
}

/** Resolves once the server on host:port answers PING; throws after timeoutMs. */
export async function waitForRedis(port: number, timeoutMs: number, host = LOOPBACK): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) break;
    if (await pingOnce(host, port, Math.min(remaining, 1000))) return;
    await sleep(Math.min(50, Math.max(0, deadline - Date.now())));
  }
  throw new RedisServerError(`The redis server on ${host}:${port} did not answer PING within ${timeoutMs} ms`);
}

async function withClient<T>(port: number, use: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis({
    host: LOOPBACK,
    port,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // Failures reach the caller through the rejected commands; this only keeps ioredis quiet.
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await use(client);
  } finally {
    // Disconnecting an already closed client arms a 2 s ioredis timer that holds the process.
    if (client.status !== 'end') client.disconnect();
  }
}

async function configGet(client: Redis, key: string): Promise<string> {
  const reply = (await client.call('CONFIG', 'GET', key)) as unknown;
  if (!Array.isArray(reply) || typeof reply[1] !== 'string') {
    throw new RedisServerError(`CONFIG GET ${key} gave an unexpected reply`);
  }
  return reply[1];
}

// ---------------------------------------------------------------- private server

function confFileText(port: number, outputDir: string, save: boolean): string {
  const redisDir = path.join(outputDir, 'redis');
  const lines = [
    '# Written by slips-ts for one run; see config/slips.yaml.',
    'daemonize yes',
    'stop-writes-on-bgsave-error no',
    save ? 'save 30 500' : 'save ""',
    save ? 'appendonly yes' : 'appendonly no',
    // Slips asks for 4 I/O threads; they spin and steal the core the analysis runs on when the
    // machine has few cores, so use at most one per spare core.
    'io-threads-do-reads yes',
    `io-threads ${Math.max(1, Math.min(4, os.cpus().length - 1))}`,
    'maxmemory 3gb',
    'maxmemory-policy volatile-lru',
    'activedefrag no',
    `logfile ${path.join(redisDir, `redis-server-port-${port}.log`)}`,
    `dir ${path.join(outputDir, 'databases')}`,
    'dbfilename dump.rdb',
    `pidfile ${path.join(redisDir, `redis-server-port-${port}.pid`)}`,
    `bind ${LOOPBACK}`,
    `port ${port}`,
    'protected-mode yes',
  ];
  return lines.join('\n') + '\n';
}

async function readPidFile(pidFile: string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pid = Number.parseInt((await readTextOrEmpty(pidFile)).trim(), 10);
    if (Number.isInteger(pid) && pid > 0) return pid;
    if (Date.now() >= deadline) throw new RedisServerError(`redis-server did not write its PID to ${pidFile}`);
    await sleep(20);
  }
}

async function logTail(logFile: string): Promise<string> {
  const lines = (await readTextOrEmpty(logFile)).trimEnd().split('\n');
  return lines.slice(-5).join('\n');
}

function runRedisServer(confPath: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-server', [confPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', (err) => reject(new RedisServerError(`Cannot run redis-server: ${err.message}`)));
    child.once('close', (code) => resolve({ code, stderr }));
  });
}

/** Who holds `port`, judged from running_slips_info.txt and /proc. */
export async function classifyPort(port: number, infoFile = DEFAULT_INFO_FILE): Promise<PortUsage> {
  if (await isPortFree(port)) return { state: 'free' };
  const recorded = (await listRecordedServers(infoFile)).filter((row) => row.port === port).at(-1);
  if (recorded === undefined) return { state: 'foreign' };
  if (isPidAlive(recorded.slipsPid)) return { state: 'running-slips', server: recorded };
  if (isPidAlive(recorded.serverPid) && (await isRedisServerOnPort(recorded.serverPid, port))) {
    return { state: 'leftover', server: recorded };
  }
  return { state: 'foreign' };
}

function busyPortError(port: number, usage: PortUsage, loadRdb: string | undefined): RedisServerError {
  const context = loadRdb === undefined ? '' : `Cannot load ${loadRdb}: `;
  const holder =
    usage.state === 'running-slips'
      ? `is used by the redis server of a running Slips (PID ${usage.server.slipsPid})`
      : 'is in use by a program that is not a Slips redis server';
  return new RedisServerError(`${context}Port ${port} ${holder}. Use -m to pick a free port, or -P <other port>.`);
}

function serverHandle(port: number, pid: number, confPath: string, reused: boolean): RedisServerHandle {
  return {
    port,
    pid,
    confPath,
    reused,
    stop: (opts = {}) => stopServer(port, pid, opts.saveTo),
  };
}

async function setClientOutputBufferLimit(port: number): Promise<void> {
  await withClient(port, (client) =>
    client.call('CONFIG', 'SET', 'client-output-buffer-limit', CLIENT_OUTPUT_BUFFER_LIMIT),
  );
}

/**
 * Starts `redis-server <output>/redis/redis-server-port-<P>.conf` (daemonized) and waits until
 * it answers. A busy port is taken over only if it holds a leftover server of a dead Slips run
 * recorded in the info file; otherwise a RedisServerError explains who holds it.
 */
export async function startPrivateRedis(opts: PrivateRedisOptions): Promise<RedisServerHandle> {
  const { port, save } = opts;
  const outputDir = path.resolve(opts.outputDir);
  const redisDir = path.join(outputDir, 'redis');
  const confPath = path.join(redisDir, `redis-server-port-${port}.conf`);

  if (save && opts.loadRdb !== undefined) {
    // With appendonly on, redis-server would start from the (empty) AOF and ignore the rdb.
    throw new RedisServerError('Loading a database (-d) cannot be combined with saving it (-s)');
  }
  const usage = await classifyPort(port, opts.infoFile);
  if (usage.state === 'leftover' && opts.loadRdb === undefined) {
    await setClientOutputBufferLimit(port);
    const oldConf = path.resolve(usage.server.outputDir, 'redis', `redis-server-port-${port}.conf`);
    return serverHandle(port, usage.server.serverPid, oldConf, true);
  }
  if (usage.state !== 'free') throw busyPortError(port, usage, opts.loadRdb);

  const databasesDir = path.join(outputDir, 'databases');
  await mkdir(redisDir, { recursive: true });
  await mkdir(databasesDir, { recursive: true });
  if (opts.loadRdb !== undefined) {
    const rdb = path.join(databasesDir, 'dump.rdb');
    if (path.resolve(opts.loadRdb) !== rdb) await copyFile(opts.loadRdb, rdb);
  }
  const pidFile = path.join(redisDir, `redis-server-port-${port}.pid`);
  const logFile = path.join(redisDir, `redis-server-port-${port}.log`);
  await rm(pidFile, { force: true });
  await writeFile(confPath, confFileText(port, outputDir, save));

  const launch = await runRedisServer(confPath);
  if (launch.code !== 0) {
    throw new RedisServerError(
      `redis-server ${confPath} exited with code ${launch.code}: ${launch.stderr.trim() || await logTail(logFile)}`,
    );
  }
  try {
    await waitForRedis(port, START_TIMEOUT_MS);
  } catch (err) {
    throw new RedisServerError(`${(err as Error).message}. Last lines of ${logFile}:\n${await logTail(logFile)}`);
  }
  const pid = await readPidFile(pidFile, PIDFILE_TIMEOUT_MS);
  await setClientOutputBufferLimit(port);
  return serverHandle(port, pid, confPath, false);
}

async function saveDatabase(client: Redis, saveTo: string): Promise<void> {
  await client.call('SAVE');
  const written = path.resolve(await configGet(client, 'dir'), await configGet(client, 'dbfilename'));
  const target = path.resolve(saveTo);
  if (written !== target) {
    await mkdir(path.dirname(target), { recursive: true });
    await copyFile(written, target);
  }
}

/** Waits for a stopping server to exit; SIGKILLs it (by PID) if it is still there after the grace time. */
async function awaitExitOrKill(pid: number, port: number): Promise<void> {
  if (!(await waitForPidExit(pid, STOP_TIMEOUT_MS)) && (await isRedisServerOnPort(pid, port))) {
    signal(pid, 'SIGKILL');
    await waitForPidExit(pid, STOP_TIMEOUT_MS);
  }
}

async function stopServer(port: number, pid: number, saveTo: string | undefined): Promise<void> {
  if (!isPidAlive(pid)) {
    if (saveTo !== undefined) {
      throw new RedisServerError(`Cannot save the database: the redis server on port ${port} (PID ${pid}) is not running`);
    }
    return;
  }
  let failure: unknown;
  try {
    await withClient(port, async (client) => {
      if (saveTo !== undefined) await saveDatabase(client, saveTo);
      // The server closes the connection while shutting down, so this command never gets a reply;
      // wait for the client to see the connection end.
      const ended = new Promise<void>((resolve) => {
        const giveUp = setTimeout(resolve, STOP_TIMEOUT_MS);
        client.once('end', () => {
          clearTimeout(giveUp);
          resolve();
        });
      });
      await client.call('SHUTDOWN', 'NOSAVE').catch(() => undefined);
      await ended;
    });
  } catch (err) {
    failure = err;
  }
  await awaitExitOrKill(pid, port);
  if (failure !== undefined) throw failure;
}

// ---------------------------------------------------------------- running_slips_info.txt

function pythonBool(value: boolean): string {
  return value ? 'True' : 'False';
}

function humanReadableNow(): string {
  const now = new Date();
  const two = (n: number) => String(n).padStart(2, '0');
  const micros = String(now.getMilliseconds() * 1000).padStart(6, '0');
  return (
    `${now.getFullYear()}/${two(now.getMonth() + 1)}/${two(now.getDate())} ` +
    `${two(now.getHours())}:${two(now.getMinutes())}:${two(now.getSeconds())}.${micros}`
  );
}

/** Parses one data row; undefined for comments, the header, blank or malformed lines. */
function parseRow(line: string): RecordedServer | undefined {
  const fields = line.split(',');
  if (fields.length < 9 || line.startsWith('#')) return undefined;
  // The input may contain commas (Slips never escapes them): it takes what the fixed fields leave.
  const tail = fields.slice(-7).map((field) => field.trim());
  const [port, serverPid, zeekDir, outputDir, slipsPid, isDaemon, saveDb] = tail as [
    string, string, string, string, string, string, string,
  ];
  const numbers = [port, serverPid, slipsPid].map((text) => (/^\d+$/.test(text) ? Number(text) : NaN));
  if (numbers.some(Number.isNaN)) return undefined;
  return {
    date: fields[0]!.trim(),
    input: fields.slice(1, -7).join(','),
    port: numbers[0]!,
    serverPid: numbers[1]!,
    zeekDir,
    outputDir,
    slipsPid: numbers[2]!,
    isDaemon: isDaemon.toLowerCase() === 'true',
    saveDb: saveDb.toLowerCase() === 'true',
  };
}

async function writeAtomically(file: string, text: string): Promise<void> {
  const temp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`,
  );
  await writeFile(temp, text);
  await rename(temp, file);
}

/** Rewrites the info file without the rows `drop` selects; other lines stay as they are. */
async function dropRows(infoFile: string, drop: (row: RecordedServer) => boolean): Promise<void> {
  const text = await readTextOrEmpty(infoFile);
  if (text === '') return;
  const kept = text.split('\n').filter((line) => {
    const row = parseRow(line);
    return row === undefined || !drop(row);
  });
  await writeAtomically(infoFile, kept.join('\n'));
}

/** Rows of the info file (missing file: none). */
export async function listRecordedServers(infoFile = DEFAULT_INFO_FILE): Promise<RecordedServer[]> {
  return (await readTextOrEmpty(infoFile))
    .split('\n')
    .map(parseRow)
    .filter((row): row is RecordedServer => row !== undefined);
}

/**
 * Appends a row (header first if the file is new). Older rows for the same port are dropped:
 * one port holds one server.
 */
export async function recordServer(
  info: Omit<RecordedServer, 'date'> & { date?: string },
  infoFile = DEFAULT_INFO_FILE,
): Promise<void> {
  const clean = (text: string) => text.replaceAll(/[,\n]/g, '_');
  const row = [
    info.date ?? humanReadableNow(),
    clean(info.input),
    info.port,
    info.serverPid,
    clean(info.zeekDir),
    clean(info.outputDir),
    info.slipsPid,
    pythonBool(info.isDaemon),
    pythonBool(info.saveDb),
  ].join(',');
  const previous = await readTextOrEmpty(infoFile);
  const kept = previous
    .split('\n')
    .filter((line) => parseRow(line)?.port !== info.port)
    .join('\n');
  const body = kept.trim() === '' ? INFO_FILE_HEADER : kept.endsWith('\n') ? kept : `${kept}\n`;
  await writeAtomically(infoFile, `${body}${row}\n`);
}

/** Deletes the row of the server with this port and PID. */
export async function removeServer(port: number, pid: number, infoFile = DEFAULT_INFO_FILE): Promise<void> {
  await dropRows(infoFile, (row) => row.port === port && row.serverPid === pid);
}

/**
 * -k: kills every recorded server by its recorded PID, and only if that PID is a
 * redis-server on the recorded port. Rows of killed or vanished servers leave the file.
 */
export async function killRecordedServers(infoFile = DEFAULT_INFO_FILE): Promise<{
  killed: Array<{ port: number; pid: number }>;
  skipped: Array<{ port: number; pid: number; reason: string }>;
}> {
  const killed: Array<{ port: number; pid: number }> = [];
  const skipped: Array<{ port: number; pid: number; reason: string }> = [];
  const gone: RecordedServer[] = [];
  for (const row of await listRecordedServers(infoFile)) {
    const { port, serverPid: pid } = row;
    if (!isPidAlive(pid)) {
      gone.push(row);
      skipped.push({ port, pid, reason: 'not running any more; row removed' });
    } else if (!(await isRedisServerOnPort(pid, port))) {
      skipped.push({ port, pid, reason: `PID ${pid} is not a redis-server on port ${port}` });
    } else {
      signal(pid, 'SIGTERM');
      await awaitExitOrKill(pid, port);
      if (isPidAlive(pid)) {
        skipped.push({ port, pid, reason: `PID ${pid} did not exit` });
      } else {
        gone.push(row);
        killed.push({ port, pid });
      }
    }
  }
  if (gone.length > 0) {
    await dropRows(infoFile, (row) => gone.some((dead) => dead.port === row.port && dead.serverPid === row.serverPid));
  }
  return { killed, skipped };
}

// ---------------------------------------------------------------- external server

/**
 * Parses config `redis.external` ('host:port', 'host', 'redis://[user:pass@]host[:port][/db]')
 * into ioredis connection options. Nothing is started or stopped for an external server.
 */
export function connectExternal(spec: string): ExternalRedisOptions {
  const text = spec.trim();
  const invalid = (why: string) =>
    new RedisServerError(`Invalid external redis "${spec}": ${why}. Expected 'host:port' or 'redis://host:port/db'`);
  if (text === '') throw invalid('empty');
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text);
  if (hasScheme && !text.toLowerCase().startsWith('redis://')) throw invalid('only redis:// is supported');
  let url: URL;
  try {
    url = new URL(hasScheme ? text : `redis://${text}`);
  } catch {
    throw invalid('not a valid address');
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw invalid('no host');
  const port = url.port === '' ? 6379 : Number(url.port);
  const dbText = url.pathname.replace(/^\//, '');
  if (dbText !== '' && !/^\d+$/.test(dbText)) throw invalid(`database "${dbText}" is not a number`);
  const options: ExternalRedisOptions = { host, port, db: dbText === '' ? 0 : Number(dbText) };
  if (url.username !== '') options.username = decodeURIComponent(url.username);
  if (url.password !== '') options.password = decodeURIComponent(url.password);
  return options;
}
