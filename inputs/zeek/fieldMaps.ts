// Zeek field maps: for every supported Zeek log kind, the Zeek field names a record needs
// (its "slots") and a converter from those raw slot values to the normalized record.
// Raw values come from either format: TSV cells (strings, already mapped from the
// #unset_field marker to undefined and from #empty_field to "") or JSON values (strings,
// numbers, booleans, arrays; null and "-" already mapped to undefined). The coercion helpers
// below accept both, so one converter per kind serves TSV and JSON alike.

import type { FlowKind, RecordOf } from '../records.js';

/** Per-file facts a converter needs besides the row itself. */
export interface ZeekRowContext {
  /** Value of the record's `interface` field. */
  interface: string;
  /** TSV #set_separator used to split set/vector cells; null for JSON (lists are arrays). */
  setSeparator: string | null;
}

export interface ZeekLogSchema<K extends FlowKind> {
  readonly kind: K;
  /**
   * Zeek field names, one entry per slot. An entry may list alternatives separated by `|`
   * (older and newer Zeek names for the same value); the first one present is used.
   * Slot 0 is always `ts`.
   */
  readonly slots: readonly string[];
  /** Builds the record from raw slot values; `ts` is already validated by the caller. */
  convert(values: readonly unknown[], ts: number, ctx: ZeekRowContext): RecordOf<K>;
}

// ---------------------------------------------------------------------------------------------
// Coercion of raw values (TSV strings or JSON values) to the normalized types.

function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return '';
  // JSON objects and arrays as JSON: String() would call a `toString` key of the data itself.
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

/** A raw value as text (for reports too), never throwing whatever JSON it is. */
export function rawText(value: unknown): string {
  return text(value);
}

function num(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const n = +value;
    return n === n ? n : 0;
  }
  return 0;
}

function isTrueText(value: string): boolean {
  return value === 'T' || value === 'true' || value === 't' || value === '1' || value === 'True';
}

function bool(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') return isTrueText(value);
  return false;
}

function boolOrNull(value: unknown): boolean | null {
  if (value === undefined || value === '') return null;
  return bool(value);
}

function textList(value: unknown, ctx: ZeekRowContext): string[] {
  if (value === undefined || value === '') return [];
  if (typeof value === 'string') {
    return ctx.setSeparator === null ? [value] : value.split(ctx.setSeparator);
  }
  if (Array.isArray(value)) {
    const out = new Array<string>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = text(value[i]);
    return out;
  }
  return [text(value)];
}

function numList(value: unknown, ctx: ZeekRowContext): number[] {
  if (value === undefined || value === '') return [];
  if (typeof value === 'number') return [value];
  const items = typeof value === 'string' && ctx.setSeparator !== null ? value.split(ctx.setSeparator) : value;
  if (Array.isArray(items)) {
    const out = new Array<number>(items.length);
    for (let i = 0; i < items.length; i++) out[i] = num(items[i]);
    return out;
  }
  return [num(items)];
}

/** Zeek conn `proto` in lower case; `unknown_transport` carries no information and becomes "". */
function transport(value: unknown): string {
  const proto = text(value);
  if (proto === 'tcp' || proto === 'udp' || proto === 'icmp') return proto;
  const lower = proto.toLowerCase();
  return lower === 'unknown_transport' ? '' : lower;
}

/**
 * Timestamp of a row as unix seconds, or NaN when missing or not a time.
 * Accepts Zeek's epoch seconds (TSV text or JSON number) and ISO 8601 text
 * (Zeek JSON with `LogAscii::json_timestamps = JSON::TS_ISO8601`).
 */
export function zeekTimestamp(value: unknown): number {
  let ts: number;
  if (typeof value === 'number') ts = value;
  else if (typeof value === 'string' && value.length > 0) {
    ts = +value;
    if (ts !== ts) ts = Date.parse(value) / 1000;
  } else return NaN;
  return ts >= 0 && ts < Infinity ? ts : NaN;
}

// ---------------------------------------------------------------------------------------------
// Schemas. `slotIndex` turns a slot list into a name -> index lookup so converters read
// values by Zeek field name instead of bare numbers.

type SlotIndex<T extends readonly string[]> = { readonly [K in T[number]]: number };

function slotIndex<const T extends readonly string[]>(slots: T): SlotIndex<T> {
  const index: Record<string, number> = {};
  slots.forEach((name, i) => {
    index[name] = i;
  });
  return index as SlotIndex<T>;
}

const CONN_SLOTS = [
  'ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'proto', 'service', 'duration',
  'orig_bytes', 'resp_bytes', 'conn_state', 'history', 'orig_pkts', 'resp_pkts', 'orig_l2_addr', 'resp_l2_addr',
] as const;
const CONN = slotIndex(CONN_SLOTS);

const conn: ZeekLogSchema<'conn'> = {
  kind: 'conn',
  slots: CONN_SLOTS,
  convert: (v, ts, ctx) => ({
    kind: 'conn',
    ts,
    uid: text(v[CONN.uid]),
    saddr: text(v[CONN['id.orig_h']]),
    daddr: text(v[CONN['id.resp_h']]),
    interface: ctx.interface,
    source: 'zeek',
    sport: num(v[CONN['id.orig_p']]),
    dport: num(v[CONN['id.resp_p']]),
    proto: transport(v[CONN.proto]),
    appproto: text(v[CONN.service]).toLowerCase(),
    dur: num(v[CONN.duration]),
    sbytes: num(v[CONN.orig_bytes]),
    dbytes: num(v[CONN.resp_bytes]),
    spkts: num(v[CONN.orig_pkts]),
    dpkts: num(v[CONN.resp_pkts]),
    state: text(v[CONN.conn_state]),
    history: text(v[CONN.history]),
    smac: text(v[CONN.orig_l2_addr]),
    dmac: text(v[CONN.resp_l2_addr]),
    dir: '->',
  }),
};

const DNS_SLOTS = [
  'ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'proto', 'query', 'qclass_name', 'qtype_name',
  'rcode_name', 'answers', 'TTLs',
] as const;
const DNS = slotIndex(DNS_SLOTS);

const dns: ZeekLogSchema<'dns'> = {
  kind: 'dns',
  slots: DNS_SLOTS,
  convert: (v, ts, ctx) => ({
    kind: 'dns',
    ts,
    uid: text(v[DNS.uid]),
    saddr: text(v[DNS['id.orig_h']]),
    daddr: text(v[DNS['id.resp_h']]),
    interface: ctx.interface,
    source: 'zeek',
    sport: num(v[DNS['id.orig_p']]),
    dport: num(v[DNS['id.resp_p']]),
    proto: transport(v[DNS.proto]),
    query: text(v[DNS.query]),
    qclass_name: text(v[DNS.qclass_name]),
    qtype_name: text(v[DNS.qtype_name]),
    rcode_name: text(v[DNS.rcode_name]),
    answers: textList(v[DNS.answers], ctx),
    TTLs: numList(v[DNS.TTLs], ctx),
  }),
};

const HTTP_SLOTS = [
  'ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'method', 'host', 'uri', 'version', 'user_agent',
  'request_body_len', 'response_body_len', 'status_code', 'status_msg', 'resp_mime_types', 'resp_fuids',
] as const;
const HTTP = slotIndex(HTTP_SLOTS);

const http: ZeekLogSchema<'http'> = {
  kind: 'http',
  slots: HTTP_SLOTS,
  convert: (v, ts, ctx) => ({
    kind: 'http',
    ts,
    uid: text(v[HTTP.uid]),
    saddr: text(v[HTTP['id.orig_h']]),
    daddr: text(v[HTTP['id.resp_h']]),
    interface: ctx.interface,
    source: 'zeek',
    sport: num(v[HTTP['id.orig_p']]),
    dport: num(v[HTTP['id.resp_p']]),
    method: text(v[HTTP.method]),
    host: text(v[HTTP.host]),
    uri: text(v[HTTP.uri]),
    version: text(v[HTTP.version]),
    user_agent: text(v[HTTP.user_agent]),
    request_body_len: num(v[HTTP.request_body_len]),
    response_body_len: num(v[HTTP.response_body_len]),
    status_code: num(v[HTTP.status_code]),
    status_msg: text(v[HTTP.status_msg]),
    resp_mime_types: textList(v[HTTP.resp_mime_types], ctx),
    resp_fuids: textList(v[HTTP.resp_fuids], ctx),
  }),
};

const SSL_SLOTS = [
  'ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'version', 'cipher', 'resumed', 'established',
  'cert_chain_fuids|cert_chain_fps', 'client_cert_chain_fuids|client_cert_chain_fps', 'subject', 'issuer',
  'server_name', 'validation_status', 'curve', 'ja3', 'ja3s', 'is_DoH',
] as const;
const SSL = slotIndex(SSL_SLOTS);

const ssl: ZeekLogSchema<'ssl'> = {
  kind: 'ssl',
  slots: SSL_SLOTS,
  convert: (v, ts, ctx) => ({
    kind: 'ssl',
    ts,
    uid: text(v[SSL.uid]),
    saddr: text(v[SSL['id.orig_h']]),
    daddr: text(v[SSL['id.resp_h']]),
    interface: ctx.interface,
    source: 'zeek',
    sport: num(v[SSL['id.orig_p']]),
    dport: num(v[SSL['id.resp_p']]),
    version: text(v[SSL.version]),
    cipher: text(v[SSL.cipher]),
    resumed: bool(v[SSL.resumed]),
    established: bool(v[SSL.established]),
    cert_chain_fuids: textList(v[SSL['cert_chain_fuids|cert_chain_fps']], ctx),
    client_cert_chain_fuids: textList(v[SSL['client_cert_chain_fuids|client_cert_chain_fps']], ctx),
    subject: text(v[SSL.subject]),
    issuer: text(v[SSL.issuer]),
    server_name: text(v[SSL.server_name]),
    validation_status: text(v[SSL.validation_status]),
    curve: text(v[SSL.curve]),
    ja3: text(v[SSL.ja3]),
    ja3s: text(v[SSL.ja3s]),
    is_DoH: bool(v[SSL.is_DoH]),
  }),
};

const SSH_SLOTS = [
  'ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'version', 'auth_success', 'auth_attempts',
  'client', 'server', 'cipher_alg', 'mac_alg', 'compression_alg', 'kex_alg', 'host_key_alg',
  'host_key|host_key_fingerprint',
] as const;
const SSH = slotIndex(SSH_SLOTS);

const ssh: ZeekLogSchema<'ssh'> = {
  kind: 'ssh',
  slots: SSH_SLOTS,
  convert: (v, ts, ctx) => ({
    kind: 'ssh',
    ts,
    uid: text(v[SSH.uid]),
    saddr: text(v[SSH['id.orig_h']]),
    daddr: text(v[SSH['id.resp_h']]),
    interface: ctx.interface,
    source: 'zeek',
    sport: num(v[SSH['id.orig_p']]),
    dport: num(v[SSH['id.resp_p']]),
    version: num(v[SSH.version]),
    auth_success: boolOrNull(v[SSH.auth_success]),
    auth_attempts: num(v[SSH.auth_attempts]),
    client: text(v[SSH.client]),
    server: text(v[SSH.server]),
    cipher_alg: text(v[SSH.cipher_alg]),
    mac_alg: text(v[SSH.mac_alg]),
    compression_alg: text(v[SSH.compression_alg]),
    kex_alg: text(v[SSH.kex_alg]),
    host_key_alg: text(v[SSH.host_key_alg]),
    host_key: text(v[SSH['host_key|host_key_fingerprint']]),
  }),
};

const SMTP_SLOTS = [
  'ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'helo', 'mailfrom', 'rcptto', 'last_reply',
] as const;
const SMTP = slotIndex(SMTP_SLOTS);

const smtp: ZeekLogSchema<'smtp'> = {
  kind: 'smtp',
  slots: SMTP_SLOTS,
  convert: (v, ts, ctx) => ({
    kind: 'smtp',
    ts,
    uid: text(v[SMTP.uid]),
    saddr: text(v[SMTP['id.orig_h']]),
    daddr: text(v[SMTP['id.resp_h']]),
    interface: ctx.interface,
    source: 'zeek',
    sport: num(v[SMTP['id.orig_p']]),
    dport: num(v[SMTP['id.resp_p']]),
    helo: text(v[SMTP.helo]),
    mailfrom: text(v[SMTP.mailfrom]),
    rcptto: textList(v[SMTP.rcptto], ctx),
    last_reply: text(v[SMTP.last_reply]),
  }),
};

const DHCP_SLOTS = [
  'ts', 'uids', 'client_addr', 'server_addr', 'mac', 'host_name', 'requested_addr', 'assigned_addr',
] as const;
const DHCP = slotIndex(DHCP_SLOTS);

const dhcp: ZeekLogSchema<'dhcp'> = {
  kind: 'dhcp',
  slots: DHCP_SLOTS,
  convert: (v, ts, ctx) => {
    const uids = textList(v[DHCP.uids], ctx);
    const clientAddr = text(v[DHCP.client_addr]);
    const serverAddr = text(v[DHCP.server_addr]);
    const mac = text(v[DHCP.mac]);
    return {
      kind: 'dhcp',
      ts,
      // dhcp.log has no single uid; the first connection uid is the closest thing.
      uid: uids.length > 0 ? uids[0] : '',
      // Slips: saddr = client_addr, or the client's MAC when neither address is known.
      saddr: clientAddr !== '' || serverAddr !== '' ? clientAddr : mac,
      daddr: serverAddr,
      interface: ctx.interface,
      source: 'zeek',
      uids,
      client_addr: clientAddr,
      server_addr: serverAddr,
      smac: mac,
      host_name: text(v[DHCP.host_name]),
      requested_addr: text(v[DHCP.requested_addr]),
      assigned_addr: text(v[DHCP.assigned_addr]),
    };
  },
};

// Slips' own arp.log (zeek-scripts/arp.zeek); base Zeek writes no ARP log.
const ARP_SLOTS = ['ts', 'uid', 'orig_h', 'resp_h', 'orig_hw', 'resp_hw', 'src_mac', 'dst_mac', 'operation'] as const;
const ARP = slotIndex(ARP_SLOTS);

const arp: ZeekLogSchema<'arp'> = {
  kind: 'arp',
  slots: ARP_SLOTS,
  convert: (v, ts, ctx) => ({
    kind: 'arp',
    ts,
    uid: text(v[ARP.uid]),
    saddr: text(v[ARP.orig_h]),
    daddr: text(v[ARP.resp_h]),
    interface: ctx.interface,
    source: 'zeek',
    operation: text(v[ARP.operation]),
    src_hw: text(v[ARP.orig_hw]),
    dst_hw: text(v[ARP.resp_hw]),
    smac: text(v[ARP.src_mac]),
    dmac: text(v[ARP.dst_mac]),
  }),
};

const NOTICE_SLOTS = [
  'ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'note', 'msg', 'sub', 'src', 'dst', 'p',
] as const;
const NOTICE = slotIndex(NOTICE_SLOTS);

const notice: ZeekLogSchema<'notice'> = {
  kind: 'notice',
  slots: NOTICE_SLOTS,
  convert: (v, ts, ctx) => {
    // Scan notices carry no connection id: the scanner is `src`, the port `p`.
    const scanningIp = text(v[NOTICE.src]);
    const dst = text(v[NOTICE.dst]);
    const scannedPort = text(v[NOTICE.p]);
    const origHost = text(v[NOTICE['id.orig_h']]);
    const saddr = origHost !== '' ? origHost : scanningIp;
    const respHost = text(v[NOTICE['id.resp_h']]);
    const respPort = num(v[NOTICE['id.resp_p']]);
    return {
      kind: 'notice',
      ts,
      uid: text(v[NOTICE.uid]),
      saddr,
      daddr: respHost !== '' ? respHost : dst !== '' ? dst : saddr,
      interface: ctx.interface,
      source: 'zeek',
      sport: num(v[NOTICE['id.orig_p']]),
      dport: respPort !== 0 ? respPort : num(scannedPort),
      note: text(v[NOTICE.note]),
      msg: text(v[NOTICE.msg]),
      sub: text(v[NOTICE.sub]),
      scanning_ip: scanningIp,
      scanned_port: scannedPort,
      dst,
    };
  },
};

// Older Zeek: fuid, tx_hosts, rx_hosts, conn_uids. Zeek 7+: fuid plus the connection's uid and
// id.*, with is_orig telling which side sent the file.
const FILES_SLOTS = [
  'ts', 'fuid', 'conn_uids', 'tx_hosts', 'rx_hosts', 'source', 'analyzers', 'mime_type', 'md5', 'sha1', 'sha256',
  'total_bytes', 'uid', 'id.orig_h', 'id.resp_h', 'is_orig',
] as const;
const FILES = slotIndex(FILES_SLOTS);

const files: ZeekLogSchema<'files'> = {
  kind: 'files',
  slots: FILES_SLOTS,
  convert: (v, ts, ctx) => {
    let connUids = textList(v[FILES.conn_uids], ctx);
    let txHosts = textList(v[FILES.tx_hosts], ctx);
    let rxHosts = textList(v[FILES.rx_hosts], ctx);
    if (connUids.length === 0 && v[FILES.uid] !== undefined) connUids = [text(v[FILES.uid])];
    if (txHosts.length === 0 && rxHosts.length === 0 && v[FILES['id.orig_h']] !== undefined) {
      const origHost = text(v[FILES['id.orig_h']]);
      const respHost = text(v[FILES['id.resp_h']]);
      const sentByOrig = bool(v[FILES.is_orig]);
      txHosts = [sentByOrig ? origHost : respHost];
      rxHosts = [sentByOrig ? respHost : origHost];
    }
    return {
      kind: 'files',
      ts,
      uid: text(v[FILES.fuid]),
      saddr: txHosts.length > 0 ? txHosts[0] : '',
      daddr: rxHosts.length > 0 ? rxHosts[0] : '',
      interface: ctx.interface,
      source: 'zeek',
      conn_uids: connUids,
      tx_hosts: txHosts,
      rx_hosts: rxHosts,
      file_source: text(v[FILES.source]),
      analyzers: textList(v[FILES.analyzers], ctx),
      mime_type: text(v[FILES.mime_type]),
      md5: text(v[FILES.md5]),
      sha1: text(v[FILES.sha1]),
      sha256: text(v[FILES.sha256]),
      size: num(v[FILES.total_bytes]),
    };
  },
};

const SOFTWARE_SLOTS = [
  'ts', 'host', 'host_p', 'software_type', 'name', 'version.major', 'version.minor', 'unparsed_version',
] as const;
const SOFTWARE = slotIndex(SOFTWARE_SLOTS);

const software: ZeekLogSchema<'software'> = {
  kind: 'software',
  slots: SOFTWARE_SLOTS,
  convert: (v, ts, ctx) => {
    const softwareType = text(v[SOFTWARE.software_type]);
    return {
      kind: 'software',
      ts,
      uid: '',
      saddr: text(v[SOFTWARE.host]),
      daddr: '',
      interface: ctx.interface,
      source: 'zeek',
      sport: num(v[SOFTWARE.host_p]),
      software: softwareType,
      software_name: text(v[SOFTWARE.name]),
      version_major: text(v[SOFTWARE['version.major']]),
      version_minor: text(v[SOFTWARE['version.minor']]),
      unparsed_version: text(v[SOFTWARE.unparsed_version]),
      http_browser: softwareType === 'HTTP::BROWSER',
    };
  },
};

// Older Zeek names the certificate by its file id (`id`), Zeek 6+ by its SHA-256 (`fingerprint`).
const X509_SLOTS = [
  'ts', 'fingerprint|id', 'certificate.version', 'certificate.serial', 'certificate.subject', 'certificate.issuer',
  'certificate.not_valid_before', 'certificate.not_valid_after', 'certificate.key_alg', 'certificate.sig_alg',
  'certificate.key_type', 'certificate.key_length', 'san.dns', 'san.ip', 'basic_constraints.ca',
] as const;
const X509 = slotIndex(X509_SLOTS);

const x509: ZeekLogSchema<'x509'> = {
  kind: 'x509',
  slots: X509_SLOTS,
  convert: (v, ts, ctx) => ({
    kind: 'x509',
    ts,
    uid: '',
    saddr: '',
    daddr: '',
    interface: ctx.interface,
    source: 'zeek',
    fingerprint: text(v[X509['fingerprint|id']]),
    certificate_version: num(v[X509['certificate.version']]),
    certificate_serial: text(v[X509['certificate.serial']]),
    certificate_subject: text(v[X509['certificate.subject']]),
    certificate_issuer: text(v[X509['certificate.issuer']]),
    not_valid_before: num(v[X509['certificate.not_valid_before']]),
    not_valid_after: num(v[X509['certificate.not_valid_after']]),
    key_alg: text(v[X509['certificate.key_alg']]),
    sig_alg: text(v[X509['certificate.sig_alg']]),
    key_type: text(v[X509['certificate.key_type']]),
    key_length: num(v[X509['certificate.key_length']]),
    san_dns: textList(v[X509['san.dns']], ctx),
    san_ip: textList(v[X509['san.ip']], ctx),
    basic_constraints_ca: boolOrNull(v[X509['basic_constraints.ca']]),
  }),
};

const TUNNEL_SLOTS = ['ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'tunnel_type', 'action'] as const;
const TUNNEL = slotIndex(TUNNEL_SLOTS);

const tunnel: ZeekLogSchema<'tunnel'> = {
  kind: 'tunnel',
  slots: TUNNEL_SLOTS,
  convert: (v, ts, ctx) => ({
    kind: 'tunnel',
    ts,
    uid: text(v[TUNNEL.uid]),
    saddr: text(v[TUNNEL['id.orig_h']]),
    daddr: text(v[TUNNEL['id.resp_h']]),
    interface: ctx.interface,
    source: 'zeek',
    sport: num(v[TUNNEL['id.orig_p']]),
    dport: num(v[TUNNEL['id.resp_p']]),
    tunnel_type: text(v[TUNNEL.tunnel_type]),
    action: text(v[TUNNEL.action]),
  }),
};

const LOGIN_SLOTS = [
  'ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'proto', 'success', 'confused', 'user', 'client_user',
  'password',
] as const;
const LOGIN = slotIndex(LOGIN_SLOTS);

const login: ZeekLogSchema<'login'> = {
  kind: 'login',
  slots: LOGIN_SLOTS,
  convert: (v, ts, ctx) => ({
    kind: 'login',
    ts,
    uid: text(v[LOGIN.uid]),
    saddr: text(v[LOGIN['id.orig_h']]),
    daddr: text(v[LOGIN['id.resp_h']]),
    interface: ctx.interface,
    source: 'zeek',
    sport: num(v[LOGIN['id.orig_p']]),
    dport: num(v[LOGIN['id.resp_p']]),
    proto: text(v[LOGIN.proto]).toLowerCase(),
    success: bool(v[LOGIN.success]),
    confused: bool(v[LOGIN.confused]),
    user: text(v[LOGIN.user]),
    client_user: text(v[LOGIN.client_user]),
    password: text(v[LOGIN.password]),
  }),
};

const WEIRD_SLOTS = ['ts', 'uid', 'id.orig_h', 'id.resp_h', 'name', 'addl', 'notice', 'peer'] as const;
const WEIRD = slotIndex(WEIRD_SLOTS);

const weird: ZeekLogSchema<'weird'> = {
  kind: 'weird',
  slots: WEIRD_SLOTS,
  convert: (v, ts, ctx) => ({
    kind: 'weird',
    ts,
    uid: text(v[WEIRD.uid]),
    saddr: text(v[WEIRD['id.orig_h']]),
    daddr: text(v[WEIRD['id.resp_h']]),
    interface: ctx.interface,
    source: 'zeek',
    name: text(v[WEIRD.name]),
    addl: text(v[WEIRD.addl]),
    notice: bool(v[WEIRD.notice]),
    peer: text(v[WEIRD.peer]),
  }),
};

/** Record kinds that come from a Zeek log of the same name (not Suricata alerts nor payload matches). */
export type ZeekLogKind = Exclude<FlowKind, 'suricata_alert' | 'payload_match'>;

/** One schema per Zeek record kind; the log kind of a Zeek file is its basename up to the first dot. */
export const ZEEK_LOG_SCHEMAS: { readonly [K in ZeekLogKind]: ZeekLogSchema<K> } = {
  conn, dns, http, ssl, ssh, smtp, dhcp, arp, notice, files, software, x509, tunnel, login, weird,
};

/** The schema of some kind, as a reader holds it for a file. */
export type AnyZeekLogSchema = (typeof ZEEK_LOG_SCHEMAS)[ZeekLogKind];

export function isSupportedZeekKind(kind: string): kind is ZeekLogKind {
  return Object.prototype.hasOwnProperty.call(ZEEK_LOG_SCHEMAS, kind);
}
