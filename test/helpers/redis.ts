// Test helper: a throw-away redis-server (foreground child on a free loopback port) with an
// ioredis client. Children still running when the test process exits are killed.

import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

const STARTUP_ATTEMPTS = 5;
const STARTUP_TIMEOUT_MS = 5000;
const EXIT_TIMEOUT_MS = 2000;

const liveServers = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveServers) child.kill('SIGKILL');
});

/** A loopback port nobody listened on a moment ago (bind to port 0, then close). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1' }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('net.Server gave no port'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function killChild(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  if (!(await waitForExit(child, EXIT_TIMEOUT_MS))) {
    child.kill('SIGKILL');
    await waitForExit(child, EXIT_TIMEOUT_MS);
  }
  liveServers.delete(child);
}

/**
 * Resolves with a client of this child's server, or undefined if the port turned out to be
 * taken (the child exited, or another server answers there).
 */
async function connectWhenReady(child: ChildProcess, port: number): Promise<Redis | undefined> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return undefined;
    const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined); // a refused connection is retried below
    try {
      await client.connect();
      if ((await client.ping()) === 'PONG') {
        if ((await client.info('server')).includes(`process_id:${child.pid}\r\n`)) return client;
        client.disconnect();
        return undefined;
      }
    } catch {
      client.disconnect();
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`redis-server on port ${port} did not answer PING within ${STARTUP_TIMEOUT_MS} ms`);
}

export interface TestRedis {
  port: number;
  client: Redis;
  stop(): Promise<void>;
}

/** Starts a private redis-server (no persistence) and returns a connected client. */
export async function startTestRedis(): Promise<TestRedis> {
  for (let attempt = 1; attempt <= STARTUP_ATTEMPTS; attempt++) {
    const port = await freeLoopbackPort();
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
      { stdio: 'ignore' },
    );
    child.on('error', () => undefined); // reported through child.pid below
    if (child.pid === undefined) throw new Error('Cannot run redis-server (is it installed and on PATH?)');
    liveServers.add(child);
    let client: Redis | undefined;
    try {
      client = await connectWhenReady(child, port);
    } catch (err) {
      await killChild(child);
      throw err;
    }
    if (client === undefined) {
      await killChild(child);
      continue;
    }
    const ready = client;
    return {
      port,
      client: ready,
      stop: async () => {
        await ready.quit().catch(() => ready.disconnect());
        await killChild(child);
      },
    };
  }
  throw new Error(`Could not start redis-server after ${STARTUP_ATTEMPTS} attempts (ports kept being taken)`);
}
