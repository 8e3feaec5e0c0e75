#!/usr/bin/env node
// TAP summary: reads a TAP stream (ava --tap) on stdin, echoes it to stdout (or, with
// --raw <file>, into that file while printing only the failing tests' blocks), then prints
// one last line: "N passed, N failed" plus ", N skipped" when tests were skipped or todo.
// Failures: "not ok" lines without a TODO/SKIP directive, "Bail out!", and ava's
// "# N tests remaining in <file>" (tests that never ran because their file crashed).
// A "# ava-exit-status N" line (added by scripts/test.sh) is consumed: a non-zero status fails
// the run even when no test line failed. Exit status 1 when anything failed or no test ran.
import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';

const args = process.argv.slice(2);
const rawIndex = args.indexOf('--raw');
const rawPath = rawIndex >= 0 ? args[rawIndex + 1] : undefined;
if (rawIndex >= 0 && !rawPath) {
  console.error('usage: tap-summary.mjs [--raw <file>] < tap');
  process.exit(2);
}
const raw = rawPath ? createWriteStream(rawPath) : process.stdout;

let passed = 0;
let failed = 0;
let skipped = 0;
let avaStatus = null;
const failures = []; // the "not ok" line of each failure, plus its diagnostics in --raw mode
let inFailure = false;

for await (const input of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  const line = input.replace(/\r$/, '');
  const status = /^# ava-exit-status (\d+)$/.exec(line);
  if (status) {
    avaStatus = Number(status[1]);
    continue;
  }
  raw.write(line + '\n');

  const result = /^(not )?ok\b/.exec(line);
  if (result) {
    const directive = /\s#\s*(skip|todo)\b/i.exec(line);
    inFailure = false;
    if (directive) skipped++;
    else if (result[1]) {
      failed++;
      failures.push([line]);
      inFailure = true;
    } else passed++;
    continue;
  }
  if (inFailure && /^(\s|#\s{3})/.test(line)) {
    failures[failures.length - 1].push(line);
    continue;
  }
  inFailure = false;
  const remaining = /^# (\d+) tests? remaining in (.+)$/.exec(line);
  if (remaining) {
    failed += Number(remaining[1]);
    failures.push([line]);
  } else if (/^Bail out!/.test(line)) {
    failed++;
    failures.push([line]);
  }
}
if (rawPath) await new Promise((resolve) => raw.end(resolve));

const out = [];
if (failures.length > 0) {
  out.push('', 'Failures:');
  for (const block of failures) out.push(...(rawPath ? block : block.slice(0, 1)));
}
const total = passed + failed + skipped;
if (total === 0) out.push('No tests ran.');
if (avaStatus !== null && avaStatus !== 0 && failed === 0) out.push(`ava exited with status ${avaStatus}.`);
if (rawPath) out.push(`Full TAP output: ${rawPath}`);
out.push(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
process.stdout.write(out.join('\n') + '\n');

process.exitCode = failed > 0 || total === 0 || (avaStatus ?? 0) !== 0 ? 1 : 0;
