// Where the shared datasets are: `../shared` beside the repository (as CI and the acceptance
// script lay it out), else /work/shared. Tests that need them skip when neither exists.

import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const BESIDE_REPO = fileURLToPath(new URL('../../../../shared', import.meta.url));

export const SHARED_DIR = [BESIDE_REPO, '/work/shared'].find((dir) => fs.existsSync(dir)) ?? BESIDE_REPO;
export const SHARED_SLIPS_DATASETS = `${SHARED_DIR}/datasets/slips`;
export const ZEEK_TRACES = `${SHARED_DIR}/datasets/zeek-traces`;
export const ZEEK_COMPARE = `${SHARED_DIR}/bin/zeek-compare`;
