// The registry of detectors the engine runs, in the order they see each record. Port scans come
// first so a flow that completes a scan already suppresses UNKNOWN_PORT for that profile.

import type { DetectorFactory } from './api.js';
import { connectionDetector } from './connections.js';
import { nonHttpPort80Detector } from './http.js';
import { portScanDetector } from './portscan.js';
import { nonSslPort443Detector } from './ssl.js';

export const DETECTORS: readonly DetectorFactory[] = [
  portScanDetector,
  connectionDetector,
  nonHttpPort80Detector,
  nonSslPort443Detector,
];
