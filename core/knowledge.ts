// Shared knowledge every detector may read, loaded once at construction from config/: port names
// (services.csv), ports known to be used by specific organisations
// (ports_used_by_specific_orgs.csv), the domains and IP ranges of the organisations Slips knows
// (organizations_info/), the local threat-intel fingerprints (local_ti_files/: JA3, JA3S, SSL
// certificate SHA1) and an optional MAC-vendor database; plus facts the core learns from traffic
// (local network, gateway IP, FTP data ports). The core does all the I/O here; detectors only
// query through the Knowledge interface.

import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import ipaddr from 'ipaddr.js';
import type { FingerprintIoc, Knowledge } from '../detections/api.js';
import { isIpInCidr, parseCidr, type Cidr } from '../detections/ip.js';
import type { ThreatLevelName } from './evidence.js';

export const SERVICES_FILE = 'services.csv';
export const ORG_PORTS_FILE = 'ports_used_by_specific_orgs.csv';
export const ORGANIZATIONS_DIR = 'organizations_info';
export const LOCAL_TI_DIR = 'local_ti_files';
/** Slips' local JA3 file: client fingerprints ("md5","level","description"). */
export const JA3_FILE = 'own_malicious_JA3.csv';
/** Server (JA3S) fingerprints, same format. Optional: without it JA3S is looked up in JA3_FILE. */
export const JA3S_FILE = 'own_malicious_JA3S.csv';
/** Malicious certificate SHA1s, same format ("sha1","level","description"). Optional. */
export const SSL_CERTS_FILE = 'own_malicious_SSL_certs.csv';
/** Slips' MAC-vendor database (maclookup.app JSON: macPrefix, vendorName). Optional. */
export const MAC_DB_FILE = 'macaddress-db.json';
/** The organisations Slips ships data for (`slips_files/organizations_info/`). */
export const SUPPORTED_ORGS = ['google', 'microsoft', 'apple', 'facebook', 'twitter'] as const;

/** Addresses and networks of the organisations known to use one port/proto. */
export interface OrgPortUsers {
  ips: Set<string>;
  networks: Cidr[];
}

function portProto(port: number | string, proto: string): string {
  return `${port}/${proto.toLowerCase()}`;
}

function dataLines(text: string): string[] {
  return text.split(/\r?\n/).filter((line) => line.trim() !== '' && !line.startsWith('#'));
}

/**
 * services.csv: `name,port,proto,description`, no header; `#` lines are comments. Returns
 * "port/proto" -> name; a later row for the same port/proto wins. Rows whose port is not a number
 * (Slips' `airport discovery,udp,192`, stored by Slips under the unmatchable key `udp/192`) are
 * skipped.
 */
export function parseServicesCsv(text: string): Map<string, string> {
  const names = new Map<string, string>();
  for (const line of dataLines(text)) {
    const [name = '', port = '', proto = ''] = line.split(',');
    if (!/^\d+$/.test(port.trim()) || proto.trim() === '') continue;
    names.set(portProto(Number(port), proto.trim()), name);
  }
  return names;
}

/**
 * ports_used_by_specific_orgs.csv: `#` comments, a `"Organization",...` header, then
 * `Org,IP|CIDR|"",port|first-last,proto`. A range gives one entry per port. Returns
 * "port/proto" -> the IPs and networks of every organisation listed for it (an empty `""` IP adds
 * none). Rows whose port is neither a number nor a `-` range (one Apple row uses an en dash,
 * which Slips stores under a key no flow can match) are skipped.
 */
export function parseOrgPortsCsv(text: string): Map<string, OrgPortUsers> {
  const users = new Map<string, OrgPortUsers>();
  for (const line of dataLines(text)) {
    if (line.startsWith('"Organization"')) continue;
    const [, ipField = '', portField = '', protoField = ''] = line.split(',').map((field) => field.trim());
    const proto = protoField.toLowerCase();
    const range = /^(\d+)(?:-(\d+))?$/.exec(portField);
    if (range === null || proto === '') continue;
    const first = Number(range[1]);
    const last = range[2] === undefined ? first : Number(range[2]);
    const ip = ipField.replace(/^"|"$/g, '');
    const network = ip.includes('/') ? parseCidr(ip) : undefined;
    for (let port = first; port <= last; port++) {
      const key = portProto(port, proto);
      let entry = users.get(key);
      if (entry === undefined) users.set(key, (entry = { ips: new Set(), networks: [] }));
      if (network !== undefined) entry.networks.push(network);
      else if (ip !== '') entry.ips.add(ip);
    }
  }
  return users;
}

const THREAT_LEVELS: ReadonlySet<string> = new Set<ThreatLevelName>(['info', 'low', 'medium', 'high', 'critical']);

/** The text of an optional data file, or undefined when it does not exist. */
function readOptional(file: string): string | undefined {
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
}

/**
 * Slips' local fingerprint files (own_malicious_JA3.csv): `#` comment lines, then rows
 * `"hash","threat level","description"`. Quotes are removed and fields trimmed; a description may
 * itself contain commas. Rows whose hash is not `hashLength` hex digits are skipped, an unknown
 * threat level becomes medium. Every data row counts (Slips drops the first one). Returns the
 * lower-cased hash -> IoC, with `source` set to the file name.
 */
export function parseFingerprintFile(text: string, hashLength: number, source: string): Map<string, FingerprintIoc> {
  const iocs = new Map<string, FingerprintIoc>();
  const validHash = new RegExp(`^[0-9a-f]{${hashLength}}$`);
  for (const line of dataLines(text)) {
    const [hashField = '', levelField = '', ...rest] = line.replaceAll('"', '').split(',');
    const hash = hashField.trim().toLowerCase();
    if (!validHash.test(hash)) continue;
    const level = levelField.trim().toLowerCase();
    iocs.set(hash, {
      description: rest.join(',').trim(),
      threatLevel: THREAT_LEVELS.has(level) ? (level as ThreatLevelName) : 'medium',
      source,
    });
  }
  return iocs;
}

/** An inclusive range of addresses as integers. */
type Interval = [bigint, bigint];

/** One supported organisation: its domains and its IPv4/IPv6 ranges (sorted, merged). */
interface OrgData {
  domains: Set<string>;
  v4: Interval[];
  v6: Interval[];
}

function addressValue(address: ipaddr.IPv4 | ipaddr.IPv6): bigint {
  let value = 0n;
  for (const byte of address.toByteArray()) value = (value << 8n) | BigInt(byte);
  return value;
}

function cidrInterval([address, prefix]: Cidr): Interval {
  const bits = BigInt(address.kind() === 'ipv4' ? 32 : 128);
  const hostBits = bits - BigInt(prefix);
  const start = (addressValue(address) >> hostBits) << hostBits;
  return [start, start + (1n << hostBits) - 1n];
}

function mergeIntervals(intervals: Interval[]): Interval[] {
  intervals.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const merged: Interval[] = [];
  for (const interval of intervals) {
    const last = merged[merged.length - 1];
    if (last !== undefined && interval[0] <= last[1] + 1n) {
      if (interval[1] > last[1]) last[1] = interval[1];
    } else {
      merged.push([interval[0], interval[1]]);
    }
  }
  return merged;
}

function inIntervals(value: bigint, intervals: readonly Interval[]): boolean {
  let low = 0;
  let high = intervals.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const [start, end] = intervals[middle] as Interval;
    if (value < start) high = middle - 1;
    else if (value > end) low = middle + 1;
    else return true;
  }
  return false;
}

/**
 * `{org}_domains` and `{org}_ip_ranges` (one item per line, `#` lines skipped, domains
 * lower-cased, malformed ranges skipped). A missing file gives no entries.
 */
export function parseOrgData(domainsText: string, rangesText: string): OrgData {
  const domains = new Set(dataLines(domainsText).map((line) => line.trim().toLowerCase().replace(/\.$/, '')));
  const v4: Interval[] = [];
  const v6: Interval[] = [];
  for (const line of dataLines(rangesText)) {
    const network = parseCidr(line);
    if (network === undefined) continue;
    (network[0].kind() === 'ipv4' ? v4 : v6).push(cidrInterval(network));
  }
  return { domains, v4: mergeIntervals(v4), v6: mergeIntervals(v6) };
}

/**
 * Slips' MAC-vendor database: either a JSON array or one JSON object per line, each with
 * `macPrefix` ("AA:BB:CC") and `vendorName`. Returns the upper-cased prefix -> vendor.
 */
export function parseMacVendors(text: string): Map<string, string> {
  const vendors = new Map<string, string>();
  const trimmed = text.trim();
  const entries: unknown[] = trimmed.startsWith('[')
    ? (JSON.parse(trimmed) as unknown[])
    : dataLines(trimmed).map((line) => JSON.parse(line.replace(/,\s*$/, '')) as unknown);
  for (const entry of entries) {
    const { macPrefix, vendorName } = entry as { macPrefix?: unknown; vendorName?: unknown };
    if (typeof macPrefix === 'string' && typeof vendorName === 'string') vendors.set(macPrefix.toUpperCase(), vendorName);
  }
  return vendors;
}

export class SharedKnowledge implements Knowledge {
  private readonly portNames: ReadonlyMap<string, string>;
  private readonly orgPorts: ReadonlyMap<string, OrgPortUsers>;
  private localNet: string | undefined;
  private gateway: string | undefined;
  private readonly ftpDataPorts = new Set<number>();
  private readonly orgData = new Map<string, OrgData>();
  private readonly ja3: ReadonlyMap<string, FingerprintIoc>;
  private readonly ja3s: ReadonlyMap<string, FingerprintIoc>;
  private readonly sslCerts: ReadonlyMap<string, FingerprintIoc>;
  private readonly macVendors: ReadonlyMap<string, string>;

  /**
   * Reads services.csv and ports_used_by_specific_orgs.csv (throws if missing), then the optional
   * organisation files, local threat-intel files and MAC-vendor database, all from configDir.
   */
  constructor(configDir: string) {
    this.portNames = parseServicesCsv(readFileSync(path.join(configDir, SERVICES_FILE), 'utf8'));
    this.orgPorts = parseOrgPortsCsv(readFileSync(path.join(configDir, ORG_PORTS_FILE), 'utf8'));
    const orgDir = path.join(configDir, ORGANIZATIONS_DIR);
    for (const org of SUPPORTED_ORGS) {
      const domains = readOptional(path.join(orgDir, `${org}_domains`)) ?? '';
      const ranges = readOptional(path.join(orgDir, `${org}_ip_ranges`)) ?? '';
      this.orgData.set(org, parseOrgData(domains, ranges));
    }
    const tiDir = path.join(configDir, LOCAL_TI_DIR);
    const fingerprints = (file: string, hashLength: number): Map<string, FingerprintIoc> | undefined => {
      const text = readOptional(path.join(tiDir, file));
      return text === undefined ? undefined : parseFingerprintFile(text, hashLength, file);
    };
    this.ja3 = fingerprints(JA3_FILE, 32) ?? new Map();
    this.ja3s = fingerprints(JA3S_FILE, 32) ?? this.ja3;
    this.sslCerts = fingerprints(SSL_CERTS_FILE, 40) ?? new Map();
    const macDb = readOptional(path.join(configDir, MAC_DB_FILE));
    this.macVendors = macDb === undefined ? new Map() : parseMacVendors(macDb);
  }

  portName(port: number, proto: string): string | undefined {
    return this.portNames.get(portProto(port, proto));
  }

  /**
   * The port/proto is listed for an organisation and daddr is one of its listed IPs or inside one
   * of its listed networks.
   */
  isOrgPort(port: number, proto: string, daddr: string): boolean {
    const users = this.orgPorts.get(portProto(port, proto));
    if (users === undefined) return false;
    return users.ips.has(daddr) || users.networks.some((network) => isIpInCidr(daddr, network));
  }

  ja3Ioc(hash: string): FingerprintIoc | undefined {
    return this.ja3.get(hash.toLowerCase());
  }

  /** From own_malicious_JA3S.csv; without that file, from the JA3 file as Slips does. */
  ja3sIoc(hash: string): FingerprintIoc | undefined {
    return this.ja3s.get(hash.toLowerCase());
  }

  sslCertIoc(sha1: string): FingerprintIoc | undefined {
    return this.sslCerts.get(sha1.toLowerCase());
  }

  orgs(): readonly string[] {
    return SUPPORTED_ORGS;
  }

  isIpInOrg(ip: string, org: string): boolean {
    const data = this.orgData.get(org);
    if (data === undefined || isIP(ip) === 0) return false;
    const address = ipaddr.parse(ip);
    return inIntervals(addressValue(address), address.kind() === 'ipv4' ? data.v4 : data.v6);
  }

  orgOfIp(ip: string): string | undefined {
    return SUPPORTED_ORGS.find((org) => this.isIpInOrg(ip, org));
  }

  /** The domain is one of the org's domains or a subdomain of one (`evilgoogle.com` is not google's). */
  isOrgDomain(domain: string, org: string): boolean {
    const domains = this.orgData.get(org)?.domains;
    if (domains === undefined) return false;
    let candidate = domain.toLowerCase().replace(/\.$/, '');
    while (candidate !== '') {
      if (domains.has(candidate)) return true;
      const dot = candidate.indexOf('.');
      candidate = dot === -1 ? '' : candidate.slice(dot + 1);
    }
    return false;
  }

  macVendor(mac: string): string | undefined {
    return this.macVendors.get(mac.slice(0, 8).toUpperCase());
  }

  localNetwork(): string | undefined {
    return this.localNet;
  }

  gatewayIp(): string | undefined {
    return this.gateway;
  }

  isFtpDataPort(port: number): boolean {
    return this.ftpDataPorts.has(port);
  }

  setLocalNetwork(cidr: string): void {
    this.localNet = cidr;
  }

  setGatewayIp(ip: string): void {
    this.gateway = ip;
  }

  addFtpDataPort(port: number): void {
    this.ftpDataPorts.add(port);
  }
}
