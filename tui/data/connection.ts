// The TUI's two Redis connections to the main DB: one for pipelined reads, one subscriber. Both
// reconnect forever with a backoff from 0.2 s to 5 s; while a connection is down commands fail at
// once (no offline queue), so the UI never waits on Redis and keeps its last data as stale.

import { Redis } from 'ioredis';
import { parsePayload, type JsonObject } from './parse.js';

export const CHANNELS = ['new_profile', 'evidence_added', 'new_alert', 'tw_closed', 'tui:tick', 'control_channel'] as const;
export type Channel = (typeof CHANNELS)[number];

export interface Endpoint {
  host: string;
  port: number;
  db: number;
}

/** Delay before reconnect attempt `times` (1-based): 0.2 s doubling up to 5 s. */
export function backoffMs(times: number): number {
  return Math.min(5000, 200 * 2 ** Math.max(0, times - 1));
}

export interface ConnectionEvents {
  onState(up: boolean, retries: number): void;
  onMessage(channel: Channel, payload: JsonObject): void;
}

export class RedisConnection {
  readonly cmd: Redis;
  private readonly sub: Redis;
  private retries = 0;
  private up = false;
  private closed = false;

  constructor(readonly endpoint: Endpoint, private readonly events: ConnectionEvents) {
    const options = {
      host: endpoint.host,
      port: endpoint.port,
      db: endpoint.db,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 2000,
      retryStrategy: (times: number) => {
        this.retries = times;
        this.report();
        return this.closed ? null : backoffMs(times);
      },
    };
    this.cmd = new Redis({ ...options, connectionName: 'kalipso' });
    this.sub = new Redis({ ...options, connectionName: 'kalipso-sub' });
    for (const client of [this.cmd, this.sub]) {
      client.on('error', () => undefined); // reported through the state, retried by retryStrategy
      client.on('ready', () => this.report());
      client.on('close', () => this.report());
    }
    this.sub.on('message', (channel: string, message: string) => {
      if ((CHANNELS as readonly string[]).includes(channel)) this.events.onMessage(channel as Channel, parsePayload(message));
    });
  }

  async start(): Promise<void> {
    this.sub.on('ready', () => {
      void this.sub.subscribe(...CHANNELS).catch(() => undefined);
    });
    await Promise.allSettled([this.cmd.connect(), this.sub.connect()]);
  }

  get isUp(): boolean {
    return this.cmd.status === 'ready';
  }

  private report(): void {
    const up = this.cmd.status === 'ready' && this.sub.status === 'ready';
    if (up) this.retries = 0;
    if (up !== this.up || !up) {
      this.up = up;
      this.events.onState(up, this.retries);
    }
  }

  close(): void {
    this.closed = true;
    this.cmd.disconnect();
    this.sub.disconnect();
  }
}
