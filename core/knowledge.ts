// Shared knowledge every detector may read: port names (config/services.csv) and ports known to
// be used by specific organisations (config/ports_used_by_specific_orgs.csv), read once at
// construction, plus facts the core learns from traffic (local network, gateway IP, FTP data
// ports). The core does all the I/O here; detectors only query through the Knowledge interface.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Knowledge } from '../detections/api.js';
import { isIpInCidr, parseCidr, type Cidr } from '../detections/ip.js';

export const SERVICES_FILE = 'services.csv';
export const ORG_PORTS_FILE = 'ports_used_by_specific_orgs.csv';

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

export class SharedKnowledge implements Knowledge {
  private readonly portNames: ReadonlyMap<string, string>;
  private readonly orgPorts: ReadonlyMap<string, OrgPortUsers>;
  private localNet: string | undefined;
  private gateway: string | undefined;
  private readonly ftpDataPorts = new Set<number>();

  /** Reads services.csv and ports_used_by_specific_orgs.csv from configDir (throws if missing). */
  constructor(configDir: string) {
    this.portNames = parseServicesCsv(readFileSync(path.join(configDir, SERVICES_FILE), 'utf8'));
    this.orgPorts = parseOrgPortsCsv(readFileSync(path.join(configDir, ORG_PORTS_FILE), 'utf8'));
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
