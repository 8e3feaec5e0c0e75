// The evidence and alert model, as Slips defines it (names, threat levels, confidence labels).
// Detections build EvidenceInput; the evidence handler completes it into Evidence
// (id, profile, time window) and turns accumulated evidence into Alerts.

export const EVIDENCE_TYPES = [
  'ARP_SCAN', 'ARP_OUTSIDE_LOCALNET', 'UNSOLICITED_ARP', 'MITM_ARP_ATTACK', 'YOUNG_DOMAIN',
  'MULTIPLE_SSH_VERSIONS', 'DIFFERENT_LOCALNET', 'DEVICE_CHANGING_IP', 'NON_HTTP_PORT_80_CONNECTION',
  'NON_SSL_PORT_443_CONNECTION', 'WEIRD_HTTP_METHOD', 'INCOMPATIBLE_CN', 'CN_URL_MISMATCH', 'DGA_NXDOMAINS',
  'DNS_WITHOUT_CONNECTION', 'PASTEBIN_DOWNLOAD', 'CONNECTION_WITHOUT_DNS', 'DNS_ARPA_SCAN', 'UNKNOWN_PORT',
  'PASSWORD_GUESSING', 'HORIZONTAL_PORT_SCAN', 'CONNECTION_TO_PRIVATE_IP', 'GRE_TUNNEL', 'GRE_SCAN',
  'VERTICAL_PORT_SCAN', 'SSH_SUCCESSFUL', 'LONG_CONNECTION', 'SELF_SIGNED_CERTIFICATE',
  'MULTIPLE_RECONNECTION_ATTEMPTS', 'CONNECTION_TO_MULTIPLE_PORTS', 'HIGH_ENTROPY_DNS_ANSWER',
  'INVALID_DNS_RESOLUTION', 'PORT_0_CONNECTION', 'MALICIOUS_JA3', 'MALICIOUS_JA3S', 'DATA_UPLOAD',
  'BAD_SMTP_LOGIN', 'SMTP_LOGIN_BRUTEFORCE', 'MALICIOUS_SSL_CERT', 'MALICIOUS_FLOW', 'SUSPICIOUS_USER_AGENT',
  'EMPTY_CONNECTIONS', 'INCOMPATIBLE_USER_AGENT', 'EXECUTABLE_MIME_TYPE', 'MULTIPLE_USER_AGENT', 'HTTP_TRAFFIC',
  'MALICIOUS_JARM', 'NETWORK_GPS_LOCATION_LEAKED', 'ICMP_TIMESTAMP_SCAN', 'ICMP_ADDRESS_SCAN',
  'ICMP_ADDRESS_MASK_SCAN', 'DHCP_SCAN', 'MALICIOUS_IP_FROM_P2P_NETWORK', 'P2P_REPORT',
  'COMMAND_AND_CONTROL_CHANNEL', 'THREAT_INTELLIGENCE_BLACKLISTED_ASN', 'THREAT_INTELLIGENCE_FROM_BLACKLISTED_IP',
  'THREAT_INTELLIGENCE_TO_BLACKLISTED_IP', 'THREAT_INTELLIGENCE_BLACKLISTED_DNS_ANSWER',
  'THREAT_INTELLIGENCE_BLACKLISTED_DOMAIN', 'THREAT_INTELLIGENCE_ANSWER_OF_BLACKLISTED_QUERY',
  'MALICIOUS_DOWNLOADED_FILE', 'THREAT_INTELLIGENCE_MALICIOUS_URL', 'LOGIN', 'TOR_EXIT_NODE',
  // Our addition (Slips has none): a Suricata alert event, the signature in the description.
  'SURICATA_ALERT',
] as const;

export type EvidenceType = (typeof EVIDENCE_TYPES)[number];

export function isEvidenceType(name: string): name is EvidenceType {
  return (EVIDENCE_TYPES as readonly string[]).includes(name);
}

export type ThreatLevelName = 'info' | 'low' | 'medium' | 'high' | 'critical';

/** Numeric value of each threat level (Slips' ThreatLevel enum). */
export const THREAT_LEVEL_VALUE: Readonly<Record<ThreatLevelName, number>> = {
  info: 0,
  low: 0.2,
  medium: 0.5,
  high: 0.8,
  critical: 1,
};

export type Direction = 'SRC' | 'DST';
export type IoCType = 'IP' | 'URL' | 'DOMAIN' | 'MD5';

export interface IoC {
  direction: Direction;
  ioc_type: IoCType;
  value: string;
}

/** What a detection hands over. The handler adds id, profile, time window and defaults. */
export interface EvidenceInput {
  evidence_type: EvidenceType;
  description: string;
  attacker: IoC;
  victim?: IoC;
  threat_level: ThreatLevelName;
  /** 0..1; clamped by the handler. */
  confidence: number;
  /** Unix seconds (usually the flow start time). */
  timestamp: number;
  /** Flow uids that caused it (deduplicated by the handler). */
  uid: string[];
  /**
   * IP whose profile owns the evidence. Defaults to the attacker value when the attacker is an IP,
   * otherwise must be given (e.g. a DOMAIN attacker).
   */
  profile_ip?: string;
  proto?: 'tcp' | 'udp' | 'icmp';
  src_port?: number;
  dst_port?: number;
  /** IDMEF method; default 'Heuristic'. */
  method?: string;
  /** Ids of related evidence (pairs). Filled by the handler for evidence emitted together via emitPair. */
  rel_id?: string[];
}

export interface TimeWindowRef {
  number: number;
  /** Unix seconds. */
  start_time: number;
  end_time: number;
}

/** Stored evidence: what goes to Redis, alerts.log and alerts.json. */
export interface Evidence extends Required<Omit<EvidenceInput, 'victim' | 'proto' | 'src_port' | 'dst_port' | 'profile_ip'>> {
  id: string;
  profile: { ip: string };
  timewindow: TimeWindowRef;
  victim?: IoC;
  proto?: 'tcp' | 'udp' | 'icmp';
  src_port?: number;
  dst_port?: number;
  interface: string;
}

/** What alert texts need of each evidence in the alert (kept in memory until the alert). */
export type EvidenceSummary = Pick<Evidence, 'id' | 'description' | 'threat_level' | 'interface' | 'method'>;

export interface Alert {
  id: string;
  profile: { ip: string };
  timewindow: TimeWindowRef;
  /** Id of the evidence that crossed the threshold. */
  last_evidence: string;
  accumulated_threat_level: number;
  /** Ids of the evidence that make up this alert. */
  correl_id: string[];
  /** Unix seconds of the newest evidence in the alert. */
  last_flow_ts: number;
  threat_level: 'critical';
  confidence: number;
}

/** Slips' confidence label: >=0.80 High, >=0.55 Medium, else low. */
export function confidenceLabel(confidence: number): 'High' | 'Medium' | 'low' {
  if (confidence >= 0.8) return 'High';
  if (confidence >= 0.55) return 'Medium';
  return 'low';
}
