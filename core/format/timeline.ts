// Timeline activity: Slips' per-flow "activity" object (what its timeline module stores in
// `profile_<ip>_timewindow<n>_timeline` and the web UI shows), built from a conn record, and a
// one-line rendering of it for the timeline file.
//
// Activity keys and values follow Slips (keys with spaces included: `dport/proto`, `critical warning`).
// One addition: an incoming TCP/UDP activity (preposition `from`) also carries `saddr`, so the line
// can name the peer instead of the profile's own address.
//
// Line format (one flow per line, fields separated by single spaces, no tabs or newlines inside):
//   TCP/UDP: <timestamp> <profile ip>: <SERVICE> to|from <peer>[ (<domain>)] <dport>/<PROTO> <state>, sent <b>, recv <b>, tot <b>, dur <s>[, <warning>][, <critical warning>][, info: <k>: <v>; ...]
//   ICMP:    <timestamp> <profile ip>: <ICMP type name> from <saddr> to <daddr> <sport>/ICMP, size <b>, dur <s>[, type <0x..>][, <warning>]
//   IGMP:    <timestamp> <profile ip>: IGMP from <saddr>, size <b>, dur <s>
// e.g. `2023/11/24 12:16:57.314165+0100 192.168.1.9: HTTPS to 45.33.32.156 443/TCP Not Established, sent 0, recv 0, tot 0, dur 0.207, No data exchange!`
// so `grep ': HTTPS to '`, `grep ' 443/TCP '` or `grep 'No data exchange'` select flows.

import type { ConnRecord } from '../../inputs/records.js';
import { pythonFloat } from './idmef.js';
import { alertsFormat } from './time.js';

/** Extra information merged in from an application-layer flow with the same uid (dns, http, ssl, ssh). */
export type TimelineInfo = string | Readonly<Record<string, string | number | boolean | readonly string[]>>;

export interface TcpUdpActivity {
  timestamp: string;
  dport_name: string;
  preposition: 'to' | 'from';
  dns_resolution: string;
  /** Only for incoming flows (preposition `from`). */
  saddr?: string;
  daddr: string;
  'dport/proto': string;
  state: string;
  warning: string;
  info: TimelineInfo;
  sent: number;
  recv: number;
  tot: number;
  duration: number;
  'critical warning': string;
}

export interface IcmpActivity {
  timestamp: string;
  dport_name: string;
  preposition: 'from';
  saddr: string;
  size: number;
  duration: number;
  /** `0x<type>` for ICMP types Slips does not name (Zeek input). */
  type?: string;
  dns_resolution: '';
  daddr: string;
  'dport/proto': string;
  state: '';
  warning: string;
  sent: '';
  recv: '';
  tot: '';
  'critical warning': '';
}

export interface IgmpActivity {
  timestamp: string;
  dport_name: 'IGMP';
  preposition: 'from';
  saddr: string;
  size: number;
  duration: number;
  'critical warning': '';
}

export type TimelineActivity = TcpUdpActivity | IcmpActivity | IgmpActivity;

export interface TimelineContext {
  /** IP of the profile the activity is recorded under. */
  profileIp: string;
  /** `analysis_direction`. */
  direction: 'out' | 'all';
  /** `timeline_human_timestamp`: alerts-format local time; otherwise the unix time as Python prints it. */
  humanTimestamp: boolean;
  /** Service name for `<port>/<proto>` (Slips' portinfo), undefined when unknown. */
  portName: (port: number, proto: string) => string | undefined;
  /** Domains that resolved to an IP, oldest first. */
  domainsOf?: (ip: string) => readonly string[];
  /** Host IPs and client_ips: with direction `all`, flows to these are shown as incoming. */
  isOwnIp?: (ip: string) => boolean;
}

const UNKNOWN = '????';
const NO_DATA = 'No data exchange!';
const UNKNOWN_SERVICE = 'Protocol not recognized by Slips nor Zeek.';

/** ICMP type names by Zeek's sport (the ICMP type). */
const ZEEK_ICMP: ReadonlyMap<number, string> = new Map([
  [8, 'PING echo'],
  [11, 'ICMP Time Exceeded in Transit'],
  [3, 'ICMP Destination Net Unreachable'],
]);

/** ICMP names by Argus' sport (type and code, written 0xTTCC by Argus). */
const ARGUS_ICMP: ReadonlyMap<number, string> = new Map([
  [0x0008, 'PING echo'],
  [0x0103, 'ICMP Host Unreachable'],
  [0x0303, 'ICMP Port Unreachable'],
  [0x000b, ''],
  [0x0003, 'ICMP Destination Net Unreachable'],
]);

function bytesOrZero(value: number): number {
  return Number.isInteger(value) ? value : 0;
}

/** Slips' dns_resolution column: none -> ????, up to 3 joined by `, `, more -> the last one. */
function dnsColumn(domains: readonly string[]): string {
  if (domains.length === 0) return UNKNOWN;
  if (domains.length > 3) return domains[domains.length - 1]!;
  return domains.join(', ');
}

function serviceName(flow: ConnRecord, ctx: TimelineContext): string | undefined {
  if (flow.appproto && flow.appproto !== 'failed') return flow.appproto.toUpperCase();
  return ctx.portName(flow.dport, flow.proto.toLowerCase())?.toUpperCase();
}

/**
 * The activity Slips' timeline records for a conn flow, or undefined for protocols it ignores
 * (anything but TCP, UDP, ICMP variants and IGMP).
 * @param state the interpreted state (Established, Not Established, ...).
 */
export function timelineActivity(flow: ConnRecord, state: string, ctx: TimelineContext): TimelineActivity | undefined {
  const proto = flow.proto.toUpperCase();
  const timestamp = ctx.humanTimestamp ? alertsFormat(flow.ts) : pythonFloat(flow.ts);
  const duration = Number(flow.dur.toFixed(3));
  const sent = bytesOrZero(flow.sbytes);
  const total = sent + bytesOrZero(flow.dbytes);

  if (proto.includes('TCP') || proto.includes('UDP')) {
    const name = serviceName(flow, ctx);
    const incoming = ctx.direction === 'all' && (ctx.isOwnIp?.(flow.daddr) ?? false);
    return {
      timestamp,
      dport_name: name ?? UNKNOWN,
      preposition: incoming ? 'from' : 'to',
      dns_resolution: dnsColumn(ctx.domainsOf?.(flow.daddr) ?? []),
      ...(incoming ? { saddr: flow.saddr } : {}),
      daddr: flow.daddr,
      'dport/proto': `${flow.dport}/${proto}`,
      state,
      warning: total === 0 ? NO_DATA : '',
      info: '',
      sent,
      recv: total - sent,
      tot: total,
      duration,
      'critical warning': name ? '' : UNKNOWN_SERVICE,
    };
  }

  if (proto.includes('ICMP')) {
    const argus = flow.source === 'argus';
    let name: string;
    let type: string | undefined;
    let warning = '';
    if (argus) {
      name = ARGUS_ICMP.get(flow.sport) ?? 'ICMP Unknown type';
      if (flow.sport === 0x0303) warning = `Unreachable port is ${flow.dport}`;
    } else {
      name = ZEEK_ICMP.get(flow.sport) ?? 'ICMP Unknown type';
      if (!ZEEK_ICMP.has(flow.sport)) type = `0x${flow.sport}`;
    }
    const sport = argus ? `0x${flow.sport.toString(16).padStart(4, '0')}` : String(flow.sport);
    return {
      timestamp,
      dport_name: name,
      preposition: 'from',
      saddr: flow.saddr,
      size: total,
      duration,
      ...(type !== undefined ? { type } : {}),
      dns_resolution: '',
      daddr: flow.daddr,
      'dport/proto': `${sport}/ICMP`,
      state: '',
      warning,
      sent: '',
      recv: '',
      tot: '',
      'critical warning': '',
    };
  }

  if (proto.includes('IGMP')) {
    return {
      timestamp,
      dport_name: 'IGMP',
      preposition: 'from',
      saddr: flow.saddr,
      size: total,
      duration,
      'critical warning': '',
    };
  }
  return undefined;
}

/** Control characters escaped so a value can never break the one-line-per-flow format. */
function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, (ch) => {
    switch (ch) {
      case '\n': return '\\n';
      case '\r': return '\\r';
      case '\t': return '\\t';
      default: return `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
    }
  });
}

function infoText(info: TimelineInfo): string {
  if (typeof info === 'string') return info;
  return Object.entries(info)
    .map(([key, value]) => `${key}: ${Array.isArray(value) ? value.join(' ') : String(value)}`)
    .join('; ');
}

function isTcpUdp(activity: TimelineActivity): activity is TcpUdpActivity {
  return typeof (activity as TcpUdpActivity).tot === 'number';
}

function isIcmp(activity: TimelineActivity): activity is IcmpActivity {
  return !isTcpUdp(activity) && 'daddr' in activity;
}

/** The timeline-file line for an activity (no trailing newline); format in the module header. */
export function timelineLine(profileIp: string, activity: TimelineActivity): string {
  const head = `${activity.timestamp} ${profileIp}: `;
  let line: string;
  if (isTcpUdp(activity)) {
    const a = activity;
    const peer = a.preposition === 'from' && a.saddr ? a.saddr : a.daddr;
    const domain = a.dns_resolution && a.dns_resolution !== UNKNOWN ? ` (${a.dns_resolution})` : '';
    line = `${head}${a.dport_name} ${a.preposition} ${peer}${domain} ${a['dport/proto']} ${a.state}, ` +
      `sent ${a.sent}, recv ${a.recv}, tot ${a.tot}, dur ${a.duration}`;
    if (a.warning) line += `, ${a.warning}`;
    if (a['critical warning']) line += `, ${a['critical warning']}`;
    const info = infoText(a.info);
    if (info) line += `, info: ${info}`;
  } else if (isIcmp(activity)) {
    const a = activity;
    line = `${head}${a.dport_name || 'ICMP'} from ${a.saddr} to ${a.daddr} ${a['dport/proto']}, size ${a.size}, dur ${a.duration}`;
    if (a.type) line += `, type ${a.type}`;
    if (a.warning) line += `, ${a.warning}`;
  } else {
    line = `${head}IGMP from ${activity.saddr}, size ${activity.size}, dur ${activity.duration}`;
  }
  return oneLine(line);
}
