// Normalized flow records: the one shape every reader (Zeek, Argus, Suricata, nfdump, pcap)
// produces and every later stage (profiler, detections, outputs) consumes.
// Field names follow Slips' normalized names (saddr, daddr, sport, dport, sbytes, ...).
// Timestamps are unix seconds (float). Numbers are numbers, booleans are booleans,
// absent strings are "" and absent numbers are 0, so no consumer re-parses anything.

/** Where a record came from; detections sometimes care (e.g. Zeek-only rules). */
export type FlowSource = 'zeek' | 'argus' | 'suricata' | 'nfdump' | 'pcap';

interface RecordBase {
  /** Start time, unix seconds. */
  ts: number;
  uid: string;
  saddr: string;
  daddr: string;
  /** Capture interface name, 'default' when unknown. */
  interface: string;
  source: FlowSource;
}

/** conn.log / Argus / Suricata flow / nfdump: one connection. */
export interface ConnRecord extends RecordBase {
  kind: 'conn';
  sport: number;
  dport: number;
  /** Lower-case transport: tcp, udp, icmp, ipv6-icmp, arp, igmp, ... */
  proto: string;
  /** Application protocol (Zeek service), lower-case, "" when unknown. */
  appproto: string;
  /** Duration in seconds. */
  dur: number;
  sbytes: number;
  dbytes: number;
  spkts: number;
  dpkts: number;
  /** Raw state as the source wrote it (Zeek conn_state, Argus state, Suricata flow.state). */
  state: string;
  /** Zeek history letters, "" for other sources. */
  history: string;
  smac: string;
  dmac: string;
  /** Argus/nfdump direction string, '->' for Zeek. */
  dir: string;
}

export interface DnsRecord extends RecordBase {
  kind: 'dns';
  sport: number;
  dport: number;
  proto: string;
  query: string;
  qclass_name: string;
  qtype_name: string;
  rcode_name: string;
  answers: string[];
  TTLs: number[];
}

export interface HttpRecord extends RecordBase {
  kind: 'http';
  sport: number;
  dport: number;
  method: string;
  host: string;
  uri: string;
  version: string;
  user_agent: string;
  request_body_len: number;
  response_body_len: number;
  status_code: number;
  status_msg: string;
  resp_mime_types: string[];
  resp_fuids: string[];
}

export interface SslRecord extends RecordBase {
  kind: 'ssl';
  sport: number;
  dport: number;
  version: string;
  cipher: string;
  resumed: boolean;
  established: boolean;
  cert_chain_fuids: string[];
  client_cert_chain_fuids: string[];
  subject: string;
  issuer: string;
  server_name: string;
  validation_status: string;
  curve: string;
  ja3: string;
  ja3s: string;
  is_DoH: boolean;
}

export interface SshRecord extends RecordBase {
  kind: 'ssh';
  sport: number;
  dport: number;
  version: number;
  /** true / false, or null when Zeek could not tell (unset field). */
  auth_success: boolean | null;
  auth_attempts: number;
  client: string;
  server: string;
  cipher_alg: string;
  mac_alg: string;
  compression_alg: string;
  kex_alg: string;
  host_key_alg: string;
  host_key: string;
}

export interface SmtpRecord extends RecordBase {
  kind: 'smtp';
  sport: number;
  dport: number;
  helo: string;
  mailfrom: string;
  rcptto: string[];
  last_reply: string;
}

export interface DhcpRecord extends RecordBase {
  kind: 'dhcp';
  uids: string[];
  client_addr: string;
  server_addr: string;
  smac: string;
  host_name: string;
  requested_addr: string;
  assigned_addr: string;
}

export interface ArpRecord extends RecordBase {
  kind: 'arp';
  operation: string;
  /** ARP-header hardware addresses. */
  src_hw: string;
  dst_hw: string;
  /** Ethernet addresses. */
  smac: string;
  dmac: string;
}

export interface NoticeRecord extends RecordBase {
  kind: 'notice';
  sport: number;
  dport: number;
  note: string;
  msg: string;
  sub: string;
  scanning_ip: string;
  scanned_port: string;
  dst: string;
}

export interface FilesRecord extends RecordBase {
  kind: 'files';
  /** files.log fuid lives in uid; the connection uids are in conn_uids. */
  conn_uids: string[];
  tx_hosts: string[];
  rx_hosts: string[];
  file_source: string;
  analyzers: string[];
  mime_type: string;
  md5: string;
  sha1: string;
  sha256: string;
  size: number;
}

export interface SoftwareRecord extends RecordBase {
  kind: 'software';
  sport: number;
  software: string;
  software_name: string;
  version_major: string;
  version_minor: string;
  unparsed_version: string;
  http_browser: boolean;
}

export interface X509Record extends RecordBase {
  kind: 'x509';
  /** Certificate fuid (Zeek 'id' / 'fuid'). */
  fingerprint: string;
  certificate_version: number;
  certificate_serial: string;
  certificate_subject: string;
  certificate_issuer: string;
  not_valid_before: number;
  not_valid_after: number;
  key_alg: string;
  sig_alg: string;
  key_type: string;
  key_length: number;
  san_dns: string[];
  san_ip: string[];
  basic_constraints_ca: boolean | null;
}

export interface TunnelRecord extends RecordBase {
  kind: 'tunnel';
  sport: number;
  dport: number;
  tunnel_type: string;
  action: string;
}

/** login.log of Slips' Zeek script login.zeek (telnet, rlogin, rsh). */
export interface LoginRecord extends RecordBase {
  kind: 'login';
  sport: number;
  dport: number;
  proto: string;
  success: boolean;
  confused: boolean;
  user: string;
  client_user: string;
  password: string;
}

/** A payload pattern found in a packet by the pcap analyzer (Slips' leak detector rules). */
export interface PayloadMatchRecord extends RecordBase {
  kind: 'payload_match';
  sport: number;
  dport: number;
  proto: string;
  /** Rule name, e.g. NETWORK_gps_location_leaked. */
  rule: string;
  /** The matched text. */
  matched: string;
}

export interface WeirdRecord extends RecordBase {
  kind: 'weird';
  name: string;
  addl: string;
  notice: boolean;
  peer: string;
}

/**
 * A Suricata alert event: a signature matched on a flow (our addition; Slips skips alerts).
 * uid is the Suricata flow_id, so the alert can be tied to the flow's other records.
 */
export interface SuricataAlertRecord extends RecordBase {
  kind: 'suricata_alert';
  sport: number;
  dport: number;
  proto: string;
  /** Application protocol in Zeek's naming (like ConnRecord.appproto), "" when unknown. */
  appproto: string;
  signature: string;
  signature_id: number;
  gid: number;
  rev: number;
  category: string;
  /** 1 (most severe) .. 4; Suricata's default 3 when the event has none. */
  severity: number;
  /** What Suricata did: 'allowed' or 'blocked'. */
  action: string;
}

export type FlowRecord =
  | ConnRecord
  | DnsRecord
  | HttpRecord
  | SslRecord
  | SshRecord
  | SmtpRecord
  | DhcpRecord
  | ArpRecord
  | NoticeRecord
  | FilesRecord
  | SoftwareRecord
  | X509Record
  | TunnelRecord
  | LoginRecord
  | PayloadMatchRecord
  | WeirdRecord
  | SuricataAlertRecord;

export type FlowKind = FlowRecord['kind'];

export const FLOW_KINDS: readonly FlowKind[] = [
  'conn', 'dns', 'http', 'ssl', 'ssh', 'smtp', 'dhcp', 'arp', 'notice', 'files', 'software', 'x509', 'tunnel', 'login', 'weird', 'payload_match',
  'suricata_alert',
];

/** Map a kind to its record type, for typed handlers. */
export type RecordOf<K extends FlowKind> = Extract<FlowRecord, { kind: K }>;
