// Follower of a growing Zeek log directory (`-g <dir>`): Zeek (or anything else) writes logs
// into the directory while we read them, like `tail -F` on every log in it.
//
// - Files: every supported `*.log` / `*.log.labeled` in the directory, those present at the
//   start read from their beginning, those created later as they appear. The directory is
//   watched (fs.watch) and also scanned every pollMs, since watch events can be lost or missing
//   (network file systems).
// - New lines are read as they are appended; a line still being written (no newline yet) waits
//   for its newline.
// - Rotation: a file whose name now points to another file (renamed away and re-created, or
//   replaced), or whose name is gone, is read to its end through the handle already open, then
//   closed; the new file under the name is then read from its start. The rotated copy
//   (e.g. conn.2024-01-01-10-00-00.log, same inode as the file already read) is recognised by
//   its inode and not read again. A file that shrinks in place (copytruncate) is read again
//   from its start, with a warning.
// - Order: Zeek writes each log in its own order and conn.log not even in ts order, so records
//   are held in a reorder window and handed on in ts order: a record goes out once the newest
//   ts read from any log is reorderSeconds (5 s of network time) past it, or once it has been
//   held reorderWallMs (2 s of wall time), whichever comes first. While a file still has a
//   backlog of unread bytes (at the start, or after a burst), nothing newer than that file's
//   newest record minus the window goes out, so a directory of complete logs comes out merged
//   as the batch reader merges it. A record that arrives after newer records already went out
//   (more than the window late) is passed on at once, out of order, and counted in
//   lateRecords.
// - It never ends on its own, however long the directory stays idle: only stop() ends it.
//   stop() wakes a waiting read at once; records already read (held in the window) are handed
//   on as one last batch, then the iteration ends, handles and the watcher are closed.
//
// Difference from Slips: Slips' -g only applies with -i (the directory its own Zeek writes);
// here `-g <dir>` alone follows a directory that some other Zeek writes. Slips ends a Zeek
// directory input after 10 s without new lines unless -g; here -g never ends on idle.

import { watch, type FSWatcher, type Stats } from 'node:fs';
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { ErrorSink } from '../errors.js';
import { LineSplitter } from '../lineReader.js';
import type { FlowReader } from '../reader.js';
import type { FlowRecord } from '../records.js';
import { isSupportedZeekKind, type ZeekLogKind } from './fieldMaps.js';
import { IGNORED_ZEEK_KINDS, ZeekLogParser, hasZeekLogExtension, zeekLogKind } from './reader.js';

export interface ZeekFollowOptions {
  /** Capture interface written into every record (default 'default'). */
  interface?: string;
  /** Scan the directory at least this often (ms, default 500). */
  pollMs?: number;
  /** Network-time reorder window (s, default 5). */
  reorderSeconds?: number;
  /** Wall-time reorder window (ms, default 2000). */
  reorderWallMs?: number;
  /** Bytes read from a file per read call (default 1 MiB). */
  chunkBytes?: number;
}

const DEFAULT_POLL_MS = 500;
const DEFAULT_REORDER_SECONDS = 5;
const DEFAULT_REORDER_WALL_MS = 2000;
const DEFAULT_CHUNK_BYTES = 1024 * 1024;
/** Most records per yielded batch. */
const BATCH_SIZE = 2048;
/** While reading a backlog, records are handed on once this many are held. */
const RELEASE_THRESHOLD = 8 * BATCH_SIZE;
/** Rotated-away files remembered, so their new names are not read again. */
const MAX_RETIRED = 4096;
/** A remembered file missing from this many scans in a row is forgotten (it was deleted). */
const RETIRED_MISSED_SCANS = 3;

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Identity of a file across renames: device, inode and (when the file system keeps it) birth time. */
function fileKey(info: Stats): string {
  return `${info.dev}:${info.ino}:${info.birthtimeMs}`;
}

/** A record waiting in the reorder window; seq keeps the arrival order among equal ts. */
interface Held {
  record: FlowRecord;
  seq: number;
}

/** Min-heap of held records by (ts, arrival). */
class RecordHeap {
  private readonly items: Held[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): Held | undefined {
    return this.items[0];
  }

  push(item: Held): void {
    const items = this.items;
    let i = items.length;
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(item, items[parent]!)) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = item;
  }

  pop(): Held | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    let i = 0;
    const n = items.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && before(items[right]!, items[left]!) ? right : left;
      if (!before(items[child]!, last)) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = last;
    return top;
  }
}

function before(a: Held, b: Held): boolean {
  return a.record.ts < b.record.ts || (a.record.ts === b.record.ts && a.seq < b.seq);
}

/** One followed file: its open handle, read position and parse state. */
class Tail {
  position = 0;
  /** Bytes may be waiting beyond position (size grew, or not yet read to the end). */
  behind = true;
  /** Newest ts parsed from this file (-Infinity before the first record). */
  frontier = -Infinity;
  /** A read failed (reported once). */
  readFailed = false;
  splitter: LineSplitter;
  parser: ZeekLogParser;

  constructor(
    /** Name in the directory this tail follows. */
    readonly name: string,
    readonly path: string,
    readonly kind: ZeekLogKind,
    readonly handle: FileHandle,
    readonly key: string,
    private readonly interfaceName: string,
    private readonly sink: ErrorSink,
  ) {
    this.splitter = new LineSplitter(path, sink);
    this.parser = new ZeekLogParser(path, kind, interfaceName, sink);
  }

  /** Starts over at the beginning of the file (it was truncated); returns the lines the old parser had read. */
  restart(): number {
    const lines = this.parser.dataLines;
    this.position = 0;
    this.behind = true;
    this.splitter = new LineSplitter(this.path, this.sink);
    this.parser = new ZeekLogParser(this.path, this.kind, this.interfaceName, this.sink);
    return lines;
  }
}

class ZeekFollowInput implements FlowReader {
  readonly inputType = 'zeek_folder';
  readonly totalLines = undefined;
  /** Records that arrived after newer ones had been handed on (passed on out of order). */
  lateRecords = 0;

  private readonly interfaceName: string;
  private readonly pollMs: number;
  private readonly reorderSeconds: number;
  private readonly reorderWallMs: number;
  private readonly chunkBytes: number;
  private readonly tails = new Map<string, Tail>();
  /**
   * Files read to their end and closed (rotated away or deleted), by file key: their size then,
   * and in how many scans in a row they were missing.
   */
  private readonly retired = new Map<string, { size: number; missed: number }>();
  /** Names already warned about (unsupported kind, unreadable). */
  private readonly warned = new Set<string>();
  private readonly heap = new RecordHeap();
  /** Per read chunk: when it was read and its newest ts, oldest first (the wall-time rule). */
  private readonly arrivals: { at: number; maxTs: number }[] = [];
  private arrivalsHead = 0;
  private seq = 0;
  /** Newest ts read from any file. */
  private maxTs = -Infinity;
  /** Records up to this ts have to go out (from the wall-time rule). */
  private wallCutoff = -Infinity;
  /** Highest ts handed on so far. */
  private releasedTs = -Infinity;
  /** Data lines of files no longer followed, for linesRead. */
  private retiredLines = 0;
  private stopped = false;
  private started = false;
  private wakeUp: (() => void) | null = null;
  private changed = true;
  private readonly buffer: Buffer;
  private scanFailed = false;

  constructor(
    private readonly dir: string,
    private readonly sink: ErrorSink,
    options: ZeekFollowOptions,
  ) {
    this.interfaceName = options.interface ?? 'default';
    this.pollMs = options.pollMs ?? DEFAULT_POLL_MS;
    this.reorderSeconds = options.reorderSeconds ?? DEFAULT_REORDER_SECONDS;
    this.reorderWallMs = options.reorderWallMs ?? DEFAULT_REORDER_WALL_MS;
    this.chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    this.buffer = Buffer.allocUnsafe(this.chunkBytes);
  }

  get linesRead(): number {
    let lines = this.retiredLines;
    for (const tail of this.tails.values()) lines += tail.parser.dataLines;
    return lines;
  }

  /** Records read and not handed on yet. */
  get heldRecords(): number {
    return this.heap.size;
  }

  stop(): void {
    this.stopped = true;
    this.wake();
  }

  private wake(): void {
    this.changed = true;
    const wakeUp = this.wakeUp;
    this.wakeUp = null;
    wakeUp?.();
  }

  async *batches(): AsyncGenerator<FlowRecord[]> {
    if (this.started) throw new Error('Zeek follow input batches() can only be iterated once');
    this.started = true;
    let watcher: FSWatcher | undefined;
    try {
      watcher = watch(this.dir, { persistent: false }, () => this.wake());
      watcher.on('error', (err) => {
        this.sink.warn(`Watching '${this.dir}' failed, polling only: ${errorText(err)}`);
        watcher?.close();
      });
    } catch (err) {
      this.sink.warn(`Cannot watch '${this.dir}', polling only: ${errorText(err)}`);
    }
    let lastScan = -Infinity;
    try {
      while (!this.stopped) {
        if (this.changed || Date.now() - lastScan >= this.pollMs) {
          this.changed = false;
          lastScan = Date.now();
          await this.scan();
        }
        // Read what the files gained, the file furthest behind first, handing records on as they become due.
        for (;;) {
          if (this.stopped) break;
          const tail = this.nextBehind();
          if (tail === undefined) break;
          await this.readChunk(tail);
          if (this.heap.size >= RELEASE_THRESHOLD) yield* this.release(false);
          if (Date.now() - lastScan >= this.pollMs) break;
        }
        if (this.stopped) break;
        yield* this.release(false);
        if (this.nextBehind() === undefined) await this.idle(lastScan);
      }
      // Stopped: what was read goes out, in order.
      yield* this.release(true);
    } finally {
      watcher?.close();
      for (const tail of this.tails.values()) await tail.handle.close().catch(() => undefined);
      this.tails.clear();
    }
  }

  /** Waits for a change in the directory, the next poll, the next wall-time release, or stop(). */
  private async idle(lastScan: number): Promise<void> {
    if (this.stopped || this.changed) return;
    let wait = lastScan + this.pollMs - Date.now();
    if (this.arrivalsHead < this.arrivals.length) {
      wait = Math.min(wait, this.arrivals[this.arrivalsHead]!.at + this.reorderWallMs - Date.now());
    }
    if (wait <= 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = null;
        resolve();
      }, wait);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** The tail with unread bytes whose newest record is oldest, or undefined when all are caught up. */
  private nextBehind(): Tail | undefined {
    let next: Tail | undefined;
    for (const tail of this.tails.values()) {
      if (tail.behind && (next === undefined || tail.frontier < next.frontier)) next = tail;
    }
    return next;
  }

  /** Lists the directory: new files are opened, rotated and deleted ones finished. */
  private async scan(): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.dir);
      this.scanFailed = false;
    } catch (err) {
      if (!this.scanFailed) this.sink.warn(`Cannot read the Zeek log directory '${this.dir}': ${errorText(err)}`);
      this.scanFailed = true;
      return;
    }
    names.sort();
    const listed = new Map<string, Stats>();
    for (const name of names) {
      if (!hasZeekLogExtension(name)) continue;
      const kind = zeekLogKind(name);
      if (!isSupportedZeekKind(kind)) {
        if (!IGNORED_ZEEK_KINDS.has(kind) && !this.warned.has(name)) {
          this.warned.add(name);
          this.sink.warn(`Skipping unsupported Zeek log file '${join(this.dir, name)}'`);
        }
        continue;
      }
      try {
        const info = await stat(join(this.dir, name));
        if (info.isFile()) listed.set(name, info);
      } catch {
        // Gone between readdir and stat: the next scan tells what happened.
      }
    }

    // Followed files: grown, truncated, rotated (the name is another file now) or gone.
    for (const tail of [...this.tails.values()]) {
      const info = listed.get(tail.name);
      if (info === undefined || fileKey(info) !== tail.key) {
        await this.retire(tail);
        continue;
      }
      if (info.size < tail.position) {
        this.sink.warn(`Zeek log '${tail.path}' was truncated; reading it again from the start`);
        this.retiredLines += tail.restart();
      } else if (info.size > tail.position) tail.behind = true;
    }

    // Files not followed yet, unless they are a file already read under another name.
    const present = new Set<string>();
    for (const [name, info] of listed) {
      const key = fileKey(info);
      present.add(key);
      if (this.tails.has(name) || this.isRetired(key, info.size)) continue;
      await this.follow(name);
    }
    // Retired files gone for a few scans (not just renamed) are forgotten: their inode may be reused.
    for (const [key, entry] of this.retired) {
      if (present.has(key)) entry.missed = 0;
      else if (++entry.missed >= RETIRED_MISSED_SCANS) this.retired.delete(key);
    }
  }

  /** Whether the file is one already read to its end (a rotated file only keeps or grows its size). */
  private isRetired(key: string, size: number): boolean {
    const entry = this.retired.get(key);
    return entry !== undefined && size >= entry.size;
  }

  /** Opens a newly seen file, from its start. */
  private async follow(name: string): Promise<void> {
    const path = join(this.dir, name);
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (err) {
      if (!this.warned.has(name)) {
        this.warned.add(name);
        this.sink.warn(`Skipping unreadable Zeek log file '${path}': ${errorText(err)}`);
      }
      return;
    }
    // The handle tells which file was opened: the name may have been rotated since the listing.
    let info: Stats;
    try {
      info = await handle.stat();
    } catch (err) {
      await handle.close().catch(() => undefined);
      this.sink.warn(`Cannot read Zeek log '${path}': ${errorText(err)}`);
      return;
    }
    const key = fileKey(info);
    let known = this.isRetired(key, info.size);
    for (const tail of this.tails.values()) if (tail.key === key) known = true;
    if (known) {
      await handle.close().catch(() => undefined);
      return;
    }
    this.warned.delete(name);
    const kind = zeekLogKind(name) as ZeekLogKind;
    this.tails.set(name, new Tail(name, path, kind, handle, key, this.interfaceName, this.sink));
  }

  /** Reads a file that is no longer under its name to its end (the open handle still reads it), then closes it. */
  private async retire(tail: Tail): Promise<void> {
    tail.behind = true;
    while (!this.stopped && tail.behind) await this.readChunk(tail);
    if (!this.stopped) {
      tail.splitter.end();
      this.parse(tail);
    }
    this.tails.delete(tail.name);
    this.retiredLines += tail.parser.dataLines;
    if (this.retired.size >= MAX_RETIRED) this.retired.delete(this.retired.keys().next().value!);
    this.retired.set(tail.key, { size: tail.position, missed: 0 });
    await tail.handle.close().catch(() => undefined);
  }

  /** Reads one chunk of a file at its position; at the end of the file it is caught up. */
  private async readChunk(tail: Tail): Promise<void> {
    let bytesRead: number;
    try {
      ({ bytesRead } = await tail.handle.read(this.buffer, 0, this.chunkBytes, tail.position));
    } catch (err) {
      if (!tail.readFailed) this.sink.warn(`Cannot read Zeek log '${tail.path}': ${errorText(err)}`);
      tail.readFailed = true;
      tail.behind = false;
      return;
    }
    if (bytesRead === 0) {
      tail.behind = false;
      return;
    }
    tail.position += bytesRead;
    tail.splitter.push(this.buffer.subarray(0, bytesRead));
    tail.splitter.flush();
    this.parse(tail);
  }

  /** Parses the lines the splitter completed and puts the records in the reorder window. */
  private parse(tail: Tail): void {
    if (!tail.splitter.hasReady) return;
    const records: FlowRecord[] = [];
    for (const batch of tail.splitter.drain()) tail.parser.parse(batch, records);
    if (records.length === 0) return;
    let maxTs = -Infinity;
    for (const record of records) {
      if (record.ts < this.releasedTs) this.lateRecords++;
      if (record.ts > maxTs) maxTs = record.ts;
      this.heap.push({ record, seq: this.seq++ });
    }
    if (maxTs > tail.frontier) tail.frontier = maxTs;
    if (maxTs > this.maxTs) this.maxTs = maxTs;
    this.arrivals.push({ at: Date.now(), maxTs });
  }

  /** Hands on, in ts order and in batches, the records that are due (all of them when `all`). */
  private *release(all: boolean): Generator<FlowRecord[]> {
    let cutoff = Infinity;
    if (!all) {
      const now = Date.now();
      const arrivals = this.arrivals;
      while (this.arrivalsHead < arrivals.length && arrivals[this.arrivalsHead]!.at + this.reorderWallMs <= now) {
        const { maxTs } = arrivals[this.arrivalsHead++]!;
        if (maxTs > this.wallCutoff) this.wallCutoff = maxTs;
      }
      if (this.arrivalsHead > 1024 && this.arrivalsHead * 2 > arrivals.length) {
        arrivals.splice(0, this.arrivalsHead);
        this.arrivalsHead = 0;
      }
      cutoff = Math.max(this.maxTs - this.reorderSeconds, this.wallCutoff);
      // A file with unread bytes may still hold records older than what the others gave.
      for (const tail of this.tails.values()) {
        if (tail.behind) cutoff = Math.min(cutoff, tail.frontier - this.reorderSeconds);
      }
    }
    let out: FlowRecord[] = [];
    for (;;) {
      const top = this.heap.peek();
      if (top === undefined || top.record.ts > cutoff) break;
      this.heap.pop();
      out.push(top.record);
      if (top.record.ts > this.releasedTs) this.releasedTs = top.record.ts;
      if (out.length >= BATCH_SIZE) {
        yield out;
        out = [];
      }
    }
    if (out.length > 0) yield out;
    if (this.heap.size === 0) {
      this.arrivals.length = 0;
      this.arrivalsHead = 0;
    }
  }
}

/**
 * Follows a growing directory of Zeek logs (see the top of this file). Throws when `dir` is not
 * a readable directory; everything that goes wrong later is reported to `sink` and the
 * following goes on.
 */
export async function openZeekFollowInput(dir: string, sink: ErrorSink, options: ZeekFollowOptions = {}): Promise<FlowReader & { readonly lateRecords: number }> {
  let info: Stats;
  try {
    info = await stat(dir);
  } catch (err) {
    throw new Error(`Cannot read Zeek log directory '${dir}': ${errorText(err)}`);
  }
  if (!info.isDirectory()) throw new Error(`-g needs a directory of Zeek logs; '${dir}' is not a directory`);
  try {
    await readdir(dir);
  } catch (err) {
    throw new Error(`Cannot read Zeek log directory '${dir}': ${errorText(err)}`);
  }
  return new ZeekFollowInput(dir, sink, options);
}
