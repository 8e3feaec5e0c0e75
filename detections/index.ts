// The registry of detectors the engine runs, in the order they see each record. Port scans come
// first so a flow that completes a scan already suppresses UNKNOWN_PORT for that profile.

import type { DetectorFactory } from './api.js';
import { arpDetector } from './arp.js';
import { connAnomaliesDetector } from './connAnomalies.js';
import { connectionDetector } from './connections.js';
import { dhcpDetector } from './dhcp.js';
import { dnsDetector } from './dns.js';
import { nonHttpPort80Detector } from './http.js';
import { httpAnalyzerDetector } from './httpAnalyzer.js';
import { icmpScanDetector } from './icmpScan.js';
import { noticeDetector } from './notice.js';
import { portScanDetector } from './portscan.js';
import { smtpDetector } from './smtp.js';
import { softwareDetector } from './software.js';
import { sshDetector } from './ssh.js';
import { nonSslPort443Detector } from './ssl.js';
import { suricataDetector } from './suricata.js';
import { tlsDetector } from './tls.js';
import { tunnelDetector } from './tunnel.js';
import { leakDetector } from './leak.js';
import { loginDetector } from './login.js';

export const DETECTORS: readonly DetectorFactory[] = [
  portScanDetector,
  connectionDetector,
  nonHttpPort80Detector,
  nonSslPort443Detector,
  connAnomaliesDetector,
  dnsDetector,
  noticeDetector,
  icmpScanDetector,
  dhcpDetector,
  smtpDetector,
  tunnelDetector,
  softwareDetector,
  tlsDetector,
  sshDetector,
  httpAnalyzerDetector,
  arpDetector,
  suricataDetector,
  loginDetector,
  leakDetector,
];
