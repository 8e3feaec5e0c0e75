// Runs the analysis engine alone over an input (parse + profiler + detections + evidence
// handling, no Redis, no output files), configured from the shipped config/slips.yaml as
// ./slips.sh configures it. Shared by the benchmark and the evidence survey.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../core/config.js';
import { Engine, engineSettingsOf } from '../core/engine.js';
import type { EvidenceListener } from '../core/evidenceHandler.js';
import { SharedKnowledge } from '../core/knowledge.js';
import type { DetectorFactory } from '../detections/api.js';
import { DETECTORS } from '../detections/index.js';
import { CollectingErrorSink } from '../inputs/errors.js';
import { openInput } from '../inputs/open.js';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface EngineRunOptions {
  detectors?: readonly DetectorFactory[];
  listener: EvidenceListener;
}

/** Analyse the input; returns the seconds the engine took (reading included). */
export async function runEngine(input: string, { detectors = DETECTORS, listener }: EngineRunOptions): Promise<number> {
  const config = loadConfig(path.join(PROJECT_ROOT, 'config', 'slips.yaml'));
  const reader = await openInput(input, new CollectingErrorSink());
  const engine = new Engine({
    ...engineSettingsOf(config),
    interfaceName: 'default',
    detectors,
    knowledge: new SharedKnowledge(path.join(PROJECT_ROOT, 'config')),
    listener,
    // What the Redis writer does after writing a closed window, so memory stays as in a real run.
    onWindowClosed: (tw) => engine.profiler.releaseAggregates(tw),
  });
  const started = process.hrtime.bigint();
  for await (const batch of reader.batches()) engine.processBatch(batch);
  engine.finish();
  return Number(process.hrtime.bigint() - started) / 1e9;
}
