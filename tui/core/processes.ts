// Small process helpers shared by the core child and the private redis-server: a free loopback
// port, waiting for a child to exit, and waiting for a Redis server to answer PING.

import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

/** Whether nobody listens on 127.0.0.1:port right now. */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1' }, () => server.close(() => resolve(true)));
  });
}

/** A free port from the kernel's ephemeral range. */
export function ephemeralPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1' }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

/** A free port for a core, in Slips' range 32768-32850 (what the core's -m uses) when possible. */
export async function freePort(): Promise<number> {
  for (let port = 32768; port <= 32850; port += 1) {
    if (await isPortFree(port)) return port;
  }
  return ephemeralPort();
}

export function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Resolves once a Redis on host:port answers (and `ready`, when given, accepts it), or rejects after
 * timeoutMs or when `giveUp` says so. Polls every 50 ms.
 */
export async function waitForRedis(
  host: string,
  port: number,
  timeoutMs: number,
  ready: (client: Redis) => Promise<boolean> = async (client) => (await client.ping()) === 'PONG',
  giveUp: () => boolean = () => false,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new Redis({ host, port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 500 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      if (await ready(client)) {
        client.disconnect();
        return;
      }
    } catch {
      // not up yet
    }
    client.disconnect();
    if (Date.now() > deadline || giveUp()) throw new Error(`no Redis answered on ${host}:${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
