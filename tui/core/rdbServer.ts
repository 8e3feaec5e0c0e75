// A private, read-only redis-server serving a saved database (`--rdb file`, and the dump a finished
// child core leaves): the dump is copied into a temporary directory (the original is never
// written), the server runs in the foreground as our child on a free loopback port with saving
// disabled, and stop() shuts it down and removes the copy.

import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ephemeralPort, waitForExit, waitForRedis } from './processes.js';

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5000;

export class RdbServer {
  private constructor(
    readonly port: number,
    readonly rdbPath: string,
    private readonly child: ChildProcess,
    private readonly dir: string,
  ) {}

  static async start(rdbPath: string): Promise<RdbServer> {
    const dir = mkdtempSync(path.join(tmpdir(), 'kalipso-rdb-'));
    try {
      copyFileSync(rdbPath, path.join(dir, 'dump.rdb'));
      const port = await ephemeralPort(); // never one a core child may be about to take
      const child = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--dbfilename', 'dump.rdb', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'],
        { stdio: 'ignore' },
      );
      const server = new RdbServer(port, path.resolve(rdbPath), child, dir);
      const failed = new Promise<never>((_, reject) => {
        child.once('error', reject);
        child.once('exit', (code) => reject(new Error(`redis-server exited with code ${code} while loading ${rdbPath}`)));
      });
      failed.catch(() => undefined); // after start-up, an exit is seen by stop()
      await Promise.race([waitForRedis('127.0.0.1', port, START_TIMEOUT_MS), failed]);
      return server;
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      if (!(await waitForExit(this.child, STOP_TIMEOUT_MS))) {
        this.child.kill('SIGKILL');
        await waitForExit(this.child, STOP_TIMEOUT_MS);
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
