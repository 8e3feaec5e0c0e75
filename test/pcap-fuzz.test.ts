// A fixed-seed slice of the packet fuzzer (bench/pcapFuzz.ts; the full run is `npm run fuzz`,
// 100,000 mutated packets per target): decode alone, the whole pcap input (tunnels, connection
// tracking, every registered protocol analyzer) and capture-file framing survive a few thousand
// mutated packets each without a crash or a hang. A failure names the target and input index;
// `node dist/bench/fuzz.js --skip-readers --seed 7 --packets 3000 --pcap-targets <target>`
// reproduces it.

import test from 'ava';
import { fuzzPcapTarget, inputsForPackets, PCAP_TARGETS, type PcapFinding } from '../bench/pcapFuzz.js';

const SEED = 7;
const PACKETS = 3000;

test('packet fuzz slice: every packet target survives 3,000 mutated packets', async (t) => {
  t.timeout(60_000);
  const findings: PcapFinding[] = [];
  for (const target of PCAP_TARGETS) {
    const result = await fuzzPcapTarget(target, SEED, inputsForPackets(target, PACKETS), findings);
    t.is(result.inputs, inputsForPackets(target, PACKETS), `${target}: inputs`);
    t.true(result.packets >= PACKETS, `${target}: packets`);
    t.is(result.crashes, 0, `${target}: crashes`);
    t.is(result.hangs, 0, `${target}: hangs`);
  }
  t.deepEqual(findings.map((f) => `${f.kind} ${f.target} #${f.index}: ${f.error.split('\n')[0]}`), []);
});
