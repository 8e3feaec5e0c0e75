// Evidence survey: analyses every dataset of a directory (each file, each Zeek log directory,
// one level of sub-directories holding them) with the engine and the shipped configuration, and
// prints, as Markdown, the evidence and alert counts per dataset with the evidence types seen,
// then the evidence types of the detection catalogue that no dataset fired.
// Usage: node dist/bench/evidenceSurvey.js [datasets dir, default /work/shared/datasets/slips]

import fs from 'node:fs';
import path from 'node:path';
import type { EvidenceType } from '../core/evidence.js';
import { DETECTORS } from '../detections/index.js';
import type { DetectionHost } from '../detections/api.js';
import { defaultConfig, detectionConfigOf } from '../core/config.js';
import { SharedKnowledge } from '../core/knowledge.js';
import { PROJECT_ROOT, runEngine } from './engineRun.js';

const DEFAULT_DATASETS = '/work/shared/datasets/slips';

/** A directory is one dataset when it holds Zeek logs; otherwise its entries are looked at. */
function datasetsIn(dir: string): string[] {
  const found: string[] = [];
  for (const name of fs.readdirSync(dir).sort()) {
    const entry = path.join(dir, name);
    if (!fs.statSync(entry).isDirectory()) found.push(entry);
    else if (fs.readdirSync(entry).some((file) => file.endsWith('.log'))) found.push(entry);
    else found.push(...datasetsIn(entry));
  }
  return found;
}

/** Every evidence type some detector can emit, in registry order. */
function catalogue(): EvidenceType[] {
  const host: DetectionHost = {
    config: detectionConfigOf(defaultConfig()),
    knowledge: new SharedKnowledge(path.join(PROJECT_ROOT, 'config')),
    emit: () => '',
    emitPair: () => undefined,
    withConnOf: () => undefined,
  };
  return [...new Set(DETECTORS.flatMap((factory) => factory(host).evidenceTypes))];
}

async function main(): Promise<void> {
  const root = path.resolve(process.argv[2] ?? DEFAULT_DATASETS);
  const seen = new Set<EvidenceType>();
  console.log('| dataset | evidence | alerts | evidence types (count) |');
  console.log('|---|---|---|---|');
  for (const dataset of datasetsIn(root)) {
    const byType = new Map<EvidenceType, number>();
    let alerts = 0;
    let evidence = 0;
    try {
      await runEngine(dataset, {
        listener: {
          evidenceAdded: ({ evidence_type: type }) => {
            evidence += 1;
            byType.set(type, (byType.get(type) ?? 0) + 1);
          },
          alertRaised: () => void (alerts += 1),
        },
      });
    } catch (error) {
      console.log(`| ${path.relative(root, dataset)} | – | – | not analysed: ${(error as Error).message} |`);
      continue;
    }
    for (const type of byType.keys()) seen.add(type);
    const types = [...byType].sort(([a], [b]) => a.localeCompare(b)).map(([type, count]) => `${type} (${count})`);
    console.log(`| ${path.relative(root, dataset)} | ${evidence} | ${alerts} | ${types.join(', ')} |`);
  }
  const never = catalogue().filter((type) => !seen.has(type));
  console.log(`\nNever fired on these datasets (${never.length}): ${never.join(', ')}`);
}

await main();
