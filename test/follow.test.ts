// Tests of the growing Zeek directory follower (-g): a writer child process appends to conn.log
// and dns.log and rotates conn.log while we read; every record must arrive exactly once, in ts
// order (the writer stays inside the reorder window), the input must not end while idle, and
// stop() must end it promptly. Also: files present at the start are merged like the batch
// reader does, rotation by rename and truncation are handled, and bad paths are refused.

import test from 'ava';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CollectingErrorSink } from '../inputs/errors.js';
import type { FlowRecord } from '../inputs/records.js';
import { openZeekFollowInput } from '../inputs/zeek/follow.js';
import { openZeekInput } from '../inputs/zeek/reader.js';

const WRITER = fileURLToPath(new URL('../../test/fixtures/follow/writer.mjs', import.meta.url));
const DATASET = fileURLToPath(new URL('../../dataset/test10-mixed-zeek-dir/', import.meta.url));

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'follow-test-'));
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Pulls batches into `records` in the background; resolves when the iteration ends. */
function collect(batches: AsyncIterable<FlowRecord[]>, records: FlowRecord[]): Promise<void> {
  return (async () => {
    for await (const batch of batches) records.push(...batch);
  })();
}

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

const CONN_HEADER = [
  '#separator \\x09', '#set_separator\t,', '#empty_field\t(empty)', '#unset_field\t-', '#path\tconn',
  '#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto', '#types\ttime\tstring\taddr\tport\taddr\tport\tenum',
].join('\n') + '\n';

function connLine(ts: number, uid: string): string {
  return `${ts.toFixed(6)}\t${uid}\t10.0.0.1\t1234\t10.0.0.2\t80\ttcp\n`;
}

test('a writer appending and rotating: every record once, in ts order; idle does not end it; stop() does', async (t) => {
  const dir = tempDir();
  const sink = new CollectingErrorSink();
  const reader = await openZeekFollowInput(dir, sink, { pollMs: 50 });
  t.teardown(() => reader.stop());
  const records: FlowRecord[] = [];
  let ended = false;
  const done = collect(reader.batches(), records).then(() => {
    ended = true;
  });

  const iterations = 2000;
  const writer = spawn(process.execPath, [WRITER, dir, String(iterations)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  writer.stdout.on('data', (data: Buffer) => {
    output += data.toString();
  });
  const code = await new Promise<number | null>((resolve) => writer.once('close', resolve));
  t.is(code, 0);
  t.is(output, 'done\n');
  t.true(fs.readdirSync(dir).some((name) => /^conn\..+\.log$/.test(name)), 'the writer rotated conn.log');

  const expected = iterations + Math.ceil(iterations / 3);
  t.true(await until(() => records.length >= expected, 15000), `got ${records.length} of ${expected} records`);

  const uids = records.map((record) => record.uid);
  t.is(new Set(uids).size, uids.length, 'no record twice');
  t.is(uids.length, expected);
  for (let i = 0; i < iterations; i++) {
    if (!uids.includes(`C${i}`)) t.fail(`C${i} missing`);
  }
  let outOfOrder = 0;
  for (let i = 1; i < records.length; i++) if (records[i]!.ts < records[i - 1]!.ts) outOfOrder++;
  // Ordering is guaranteed within the reorder window (5 s of network time or 2 s of wall time);
  // on a loaded machine a record read after its window has closed is passed on late and counted.
  t.true(outOfOrder <= reader.lateRecords, `${outOfOrder} records out of order, ${reader.lateRecords} counted late`);
  t.true(reader.lateRecords <= expected / 100, `${reader.lateRecords} late records of ${expected}`);
  t.deepEqual(sink.problems, []);
  t.is(reader.linesRead, expected);

  // Idle: nothing new, the input goes on.
  await sleep(600);
  t.false(ended, 'an idle directory does not end the input');

  const stoppedAt = Date.now();
  reader.stop();
  await done;
  t.true(Date.now() - stoppedAt < 500, `stop() took ${Date.now() - stoppedAt} ms`);
  t.is(records.length, expected);
});

test('files present at the start come out merged, like the batch reader gives them', async (t) => {
  const batchSink = new CollectingErrorSink();
  const batch: FlowRecord[] = [];
  for await (const records of (await openZeekInput(DATASET, batchSink)).batches()) batch.push(...records);

  const sink = new CollectingErrorSink();
  const reader = await openZeekFollowInput(DATASET, sink, { pollMs: 50, reorderWallMs: 100 });
  t.teardown(() => reader.stop());
  const followed: FlowRecord[] = [];
  const done = collect(reader.batches(), followed);
  t.true(await until(() => followed.length >= batch.length, 5000));
  await sleep(200);
  reader.stop();
  await done;

  const key = (record: FlowRecord): string => `${record.kind} ${record.uid} ${record.ts}`;
  t.deepEqual(followed.map(key).sort(), batch.map(key).sort());
  t.deepEqual(sink.problems, batchSink.problems);
  t.deepEqual(sink.warnings, batchSink.warnings);
  for (let i = 1; i < followed.length; i++) {
    if (followed[i]!.ts < followed[i - 1]!.ts - 5) t.fail(`record ${i} is more than the window out of order`);
  }
});

test('rotation by rename without a new file yet, a new file, and truncation', async (t) => {
  const dir = tempDir();
  const conn = path.join(dir, 'conn.log');
  fs.writeFileSync(conn, CONN_HEADER + connLine(100, 'A1') + connLine(101, 'A2'));
  const sink = new CollectingErrorSink();
  const reader = await openZeekFollowInput(dir, sink, { pollMs: 30, reorderWallMs: 100 });
  t.teardown(() => reader.stop());
  const records: FlowRecord[] = [];
  const done = collect(reader.batches(), records);
  t.true(await until(() => records.length === 2, 3000));

  // Lines appended right before the rename are still read, through the open handle.
  fs.appendFileSync(conn, connLine(102, 'A3'));
  fs.renameSync(conn, path.join(dir, 'conn.2023-11-14-22-00-00.log'));
  t.true(await until(() => records.length === 3, 3000));
  await sleep(100);
  fs.writeFileSync(conn, CONN_HEADER + connLine(103, 'B1'));
  t.true(await until(() => records.length === 4, 3000));

  // Truncated in place (copytruncate), then written again: read again from the start. Like
  // tail -F, a truncation is seen when the file is shorter than what was read.
  await sleep(100);
  fs.truncateSync(conn, 0);
  t.true(await until(() => sink.warnings.some((warning) => warning.includes('truncated')), 3000));
  fs.writeFileSync(conn, CONN_HEADER + connLine(104, 'C1'));
  t.true(await until(() => records.length === 5, 3000));
  // A line without its newline yet waits for it.
  fs.appendFileSync(conn, connLine(105, 'C2').slice(0, 10));
  await sleep(300);
  t.is(records.length, 5);
  fs.appendFileSync(conn, connLine(105, 'C2').slice(10));
  t.true(await until(() => records.length === 6, 3000));

  reader.stop();
  await done;
  t.deepEqual(records.map((record) => record.uid), ['A1', 'A2', 'A3', 'B1', 'C1', 'C2']);
  t.deepEqual(sink.problems, []);
  t.true(sink.warnings.some((warning) => warning.includes('truncated')), sink.warnings.join('; '));
});

test('stop() right away ends the input, and held records are handed on', async (t) => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'conn.log'), CONN_HEADER + connLine(100, 'A1'));
  const reader = await openZeekFollowInput(dir, new CollectingErrorSink(), { pollMs: 30 });
  t.teardown(() => reader.stop());
  const records: FlowRecord[] = [];
  const done = collect(reader.batches(), records);
  await sleep(150);
  t.is(records.length, 0, 'held in the 2 s wall-time window');
  reader.stop();
  await done;
  t.deepEqual(records.map((record) => record.uid), ['A1']);
});

test('a missing path or a file is refused', async (t) => {
  const dir = tempDir();
  await t.throwsAsync(openZeekFollowInput(path.join(dir, 'nope'), new CollectingErrorSink()), { message: /Cannot read Zeek log directory/ });
  fs.writeFileSync(path.join(dir, 'conn.log'), CONN_HEADER);
  await t.throwsAsync(openZeekFollowInput(path.join(dir, 'conn.log'), new CollectingErrorSink()), { message: /not a directory/ });
});
