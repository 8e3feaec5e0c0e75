// The contract between the core and every detection: a detector is a set of pure handlers over
// (record, state) that emit evidence through the host. Detectors do no I/O: data files (port names,
// org ports) and configuration arrive through DetectionHost. State lives in bags the core owns
// (per profile + time window, per profile), so it is dropped when the time window closes.

import type { EvidenceInput, EvidenceType, ThreatLevelName } from '../core/evidence.js';
import type { FlowKind, RecordOf, X509Record } from '../inputs/records.js';
import type { JoinedFlow } from './connByUid.js';
import type { InterpretedState } from '../inputs/state.js';

/** Configuration values detections read (slips.yaml keys, already validated). */
export interface DetectionConfig {
  /** flow_alerts.long_connection_threshold, seconds. */
  longConnectionThreshold: number;
  /** flow_alerts.ssh_succesful_detection_threshold, bytes. */
  sshSuccessfulDetectionThreshold: number;
  /** flow_alerts.data_exfiltration_threshold, MB. */
  dataExfiltrationThreshold: number;
  /** flow_alerts.entropy_threshold. */
  entropyThreshold: number;
  /** flow_alerts.pastebin_download_threshold, bytes. */
  pastebinDownloadThreshold: number;
  /** brute_force_detector.ssh_attempt_threshold. */
  sshAttemptThreshold: number;
  /** parameters.client_ips. */
  clientIps: string[];
  /** parameters.time_window_width, seconds. */
  timeWindowWidth: number;
}

/** A threat-intel entry for a fingerprint (JA3, JA3S, certificate SHA1) from a local TI file. */
export interface FingerprintIoc {
  description: string;
  threatLevel: ThreatLevelName;
  /** The file it came from, e.g. own_malicious_JA3.csv. */
  source: string;
}

/** Facts shared by all detectors, maintained by the core from data files and traffic. */
export interface Knowledge {
  /** Service name for "<port>/<proto>" from services.csv, or undefined. */
  portName(port: number, proto: string): string | undefined;
  /** True when the port/proto is used by a known organisation and daddr belongs to it. */
  isOrgPort(port: number, proto: string, daddr: string): boolean;
  /** The learned local network (CIDR), or undefined while unknown. */
  localNetwork(): string | undefined;
  /** The gateway IP, or undefined while unknown. */
  gatewayIp(): string | undefined;
  /** FTP data ports learned from ftp.log. */
  isFtpDataPort(port: number): boolean;
  /** Malicious TLS client fingerprint (JA3 MD5), from the local TI files. */
  ja3Ioc(hash: string): FingerprintIoc | undefined;
  /** Malicious TLS server fingerprint (JA3S MD5), from the local TI files. */
  ja3sIoc(hash: string): FingerprintIoc | undefined;
  /** Malicious certificate SHA1, from the local TI files. */
  sslCertIoc(sha1: string): FingerprintIoc | undefined;
  /** The organisations with known domains and IP ranges (google, microsoft, apple, facebook, twitter). */
  orgs(): readonly string[];
  /** The IP is inside one of the org's IP ranges. */
  isIpInOrg(ip: string, org: string): boolean;
  /** The first org whose IP ranges contain the IP, or undefined. */
  orgOfIp(ip: string): string | undefined;
  /** The domain is one of the org's domains or a subdomain of one. */
  isOrgDomain(domain: string, org: string): boolean;
  /** Vendor of a MAC address (by its OUI), when a MAC-vendor database is installed. */
  macVendor(mac: string): string | undefined;
}

export interface TimeWindowInfo {
  number: number;
  /** Unix seconds. */
  start: number;
  end: number;
}

/** Per-record context: which profile and time window the record was stored under. */
export interface FlowContext {
  /** The IP of the profile that owns the record (saddr for outgoing traffic). */
  readonly profileIp: string;
  readonly tw: TimeWindowInfo;
  /** Interpreted state of a conn record ('Not Established' for other kinds). */
  readonly state: InterpretedState;
  /** State bag of this detector for this profile + time window (dropped when the window closes). */
  twState<T>(key: string, init: () => T): T;
  /** State bag of this detector for this profile (lives as long as the profile). */
  profileState<T>(key: string, init: () => T): T;
  /** Marks the profile as a port scanner in this time window (suppresses UNKNOWN_PORT). */
  markPortScanner(): void;
  isPortScanner(): boolean;
}

/** Context when a time window closes. */
export interface ClosedTimeWindow {
  readonly profileIp: string;
  readonly tw: TimeWindowInfo;
  twState<T>(key: string): T | undefined;
}

export interface DetectionHost {
  readonly config: DetectionConfig;
  readonly knowledge: Knowledge;
  /** Emit one evidence. Returns its id. */
  emit(evidence: EvidenceInput): string;
  /** Emit evidence that describe the same event (e.g. SRC and DST roles); they are linked via rel_id. */
  emitPair(first: EvidenceInput, second: EvidenceInput): void;
  /**
   * Start time and bytes of the conn.log flow of uid (TCP with payload, see detections/connByUid.ts):
   * onFlow runs now when the flow was seen, else when it arrives within maxWait s of network time
   * after ts, else never. Flows are kept only when some detector sets `joinsConnByUid`.
   */
  withConnOf(uid: string, ts: number, maxWait: number, onFlow: (flow: JoinedFlow) => void): void;
}

/** Handlers of the records that belong to a profile (x509 goes to Detector.certificate). */
export type RecordHandlers = {
  [K in Exclude<FlowKind, 'x509'>]?: (record: RecordOf<K>, ctx: FlowContext) => void;
};

export interface Detector {
  /** Short family name, e.g. 'portscan'. */
  readonly name: string;
  /** Evidence types this detector can emit. */
  readonly evidenceTypes: readonly EvidenceType[];
  readonly handlers: RecordHandlers;
  /** The detector asks DetectionHost.withConnOf for flows. */
  readonly joinsConnByUid?: boolean;
  /** An x509.log certificate: it belongs to no profile (it has no addresses), so it has no context. */
  certificate?(record: X509Record): void;
  /** Network time moved forward (max ts seen): resolve pending checks that are due. */
  advanceTime?(networkTime: number): void;
  /** A profile's time window closed (its state bags are dropped right after). */
  timeWindowClosed?(closed: ClosedTimeWindow): void;
  /** End of input: resolve everything still pending. */
  finish?(): void;
}

export type DetectorFactory = (host: DetectionHost) => Detector;
