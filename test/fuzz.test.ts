// A fixed-seed slice of the reader fuzzer (bench/fuzz.ts; the full run is `npm run fuzz`):
// 1,000 mutated and random inputs per reader, and no reader may crash or hang on any of them.
// A failure names the reader and input index; `node dist/bench/fuzz.js --seed 1 --per-reader
// 1000 --readers <reader>` reproduces it and writes the input out.

import test from 'ava';
import { READERS, runFuzz } from '../bench/fuzz.js';

const SEED = 1;
const PER_READER = 1000;

test('fuzz slice: every reader survives 1,000 mutated inputs without a crash or a hang', async (t) => {
  t.timeout(60_000);
  const { results, findings } = await runFuzz({ seed: SEED, perReader: PER_READER });
  t.deepEqual(results.map((result) => result.reader), [...READERS]);
  for (const result of results) {
    t.is(result.inputs, PER_READER, `${result.reader}: inputs`);
    t.is(result.crashes, 0, `${result.reader}: crashes`);
    t.is(result.hangs, 0, `${result.reader}: hangs`);
    t.true(result.reports > 0, `${result.reader}: bad input is reported`);
  }
  t.deepEqual(findings.map((finding) => `${finding.kind} ${finding.reader} #${finding.index}: ${finding.error.split('\n')[0]}`), []);
});
