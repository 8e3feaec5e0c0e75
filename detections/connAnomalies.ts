// Per-connection anomalies of Slips' flow_alerts conn analyzer (detections spec §3.1), checked in
// Slips' order: MULTIPLE_RECONNECTION_ATTEMPTS (rejected connections, failed telnet),
// PORT_0_CONNECTION, DIFFERENT_LOCALNET, CONNECTION_TO_MULTIPLE_PORTS, DATA_UPLOAD (one large flow,
// and the total per destination when a time window closes) and DEVICE_CHANGING_IP.
// Fixes: #9 (upload totals of the closing window only), #15/#16 (port 0: the sender is the
// suspect), #17 (multiple ports tracked per victim). DIFFERENT_LOCALNET is reported once per
// profile + time window + destination + port. The rejected-connection text is the wording Slips'
// own integration test expects (`... to Destination IP: <daddr> from IP: <saddr> ...`).
// TOR_EXIT_NODE is not implemented: it needs the Tor exit list, which is downloaded at run time and
// not available offline.
// Also exports the local-network check shared with the DNS variant of DIFFERENT_LOCALNET, and
// `remember`, the bounded-map helper of the detectors that keep run-wide state.

import { isIP } from 'node:net';
import type { ConnRecord } from '../inputs/records.js';
import type { DetectionHost, DetectorFactory, FlowContext } from './api.js';
import { pyFloat } from './format.js';
import {
  ipKey, isIpInCidr, isLinkLocal, isLoopback, isMulticast, isPrivateIp, isReserved, parseCidr, remember, type Cidr,
} from './ip.js';

/** Rejected connections to one (daddr, dport) that make a reconnection report. */
const REJECTED_ATTEMPTS = 5;
/** Failed telnet connections to one daddr that make a reconnection report. */
const TELNET_ATTEMPTS = 4;
const TELNET_PORTS = new Set([23, 2323]);
/** Transports that carry ports: only for these does a 0 port mean "port 0" rather than "no port". */
const PORTED_PROTOS = new Set(['tcp', 'udp', 'sctp']);
/** One flow sending at least this many MB is a large upload (hard-coded in Slips). */
const FLOW_UPLOAD_MB = 100;
/** Most recent uids kept per tracked item, so the state stays bounded. */
const MAX_UIDS = 100;
/** Distinct ports tracked per victim for CONNECTION_TO_MULTIPLE_PORTS. */
const MAX_TRACKED_PORTS = 1000;
/** MACs and source IPs remembered for DEVICE_CHANGING_IP (oldest forgotten first). */
const MAX_DEVICES = 65_536;
/** Slips' `"conn" in type_`: Zeek (also from pcaps) and Suricata flows, not Argus or nfdump. */
const CONN_SOURCES = new Set(['zeek', 'pcap', 'suricata']);

/** Append a uid; the list is trimmed to its MAX_UIDS newest in batches (amortised O(1) per uid). */
function pushUid(uids: string[], uid: string): void {
  uids.push(uid);
  if (uids.length >= 2 * MAX_UIDS) uids.splice(0, uids.length - MAX_UIDS);
}

/** The MAX_UIDS newest uids of a list kept by pushUid. */
function recentUids(uids: string[]): string[] {
  return uids.length > MAX_UIDS ? uids.slice(-MAX_UIDS) : uids;
}

// ---------------------------------------------------------------- DIFFERENT_LOCALNET (shared)

/** The fields of a conn or dns record the local-network check reads. */
export interface LocalnetFlow {
  ts: number;
  uid: string;
  saddr: string;
  daddr: string;
  sport: number;
  dport: number;
  proto: string;
}

function isPlainIpv4(ip: string): boolean {
  return isIP(ip) === 4 && ip !== '0.0.0.0' && ip !== '255.255.255.255' && !isLoopback(ip) && !isMulticast(ip);
}

/**
 * Slips' pre-filter of DIFFERENT_LOCALNET: both addresses plain IPv4 (not 0.0.0.0, broadcast,
 * loopback or multicast), and either both private or a public source talking to a private one.
 */
export function localnetCandidate(flow: LocalnetFlow): boolean {
  // "both private, or public -> private" is the same as "the destination is private".
  return isPrivateIp(flow.daddr) && isPlainIpv4(flow.daddr) && isPlainIpv4(flow.saddr);
}

let parsedLocalnet: { text: string; cidr: Cidr | undefined } | undefined;

/** True when ip is private, the local network is known and ip lies outside it. */
function outsideLocalnet(ip: string, localnet: string | undefined): localnet is string {
  if (localnet === undefined || !isPrivateIp(ip)) return false;
  if (parsedLocalnet?.text !== localnet) parsedLocalnet = { text: localnet, cidr: parseCidr(localnet) };
  const cidr = parsedLocalnet.cidr;
  return cidr !== undefined && !isIpInCidr(ip, cidr);
}

/**
 * Reports the private `side` address of the flow ('dstip' or 'srcip') when it lies outside the
 * learned local network: the destination as a HIGH DST attacker, the source as a LOW SRC one.
 * Once per profile + time window + side + destination + port (`reported`).
 */
export function checkOutsideLocalnet(
  host: DetectionHost, flow: LocalnetFlow, side: 'dstip' | 'srcip', reported: Set<string>,
): void {
  const localnet = host.knowledge.localNetwork();
  const ip = side === 'dstip' ? flow.daddr : flow.saddr;
  if (!outsideLocalnet(ip, localnet)) return;
  const key = `localnet ${side} ${flow.daddr} ${flow.dport}/${flow.proto}`;
  if (reported.has(key)) return;
  reported.add(key);
  const { saddr, daddr, dport, proto } = flow;
  const common = {
    evidence_type: 'DIFFERENT_LOCALNET' as const,
    confidence: 1,
    timestamp: flow.ts,
    uid: [flow.uid],
    src_port: flow.sport,
    dst_port: dport,
  };
  if (side === 'srcip') {
    host.emit({
      ...common,
      description:
        `A connection from a private IP (${saddr}) on port ${dport}/${proto} outside of the used local network ` +
        `${localnet}. To IP: ${daddr} `,
      attacker: { direction: 'SRC', ioc_type: 'IP', value: saddr },
      victim: { direction: 'DST', ioc_type: 'IP', value: daddr },
      threat_level: 'low',
    });
    return;
  }
  const target = proto.includes('arp') ? 'using ARP' : `on destination port: ${dport}/${proto.toUpperCase()}`;
  host.emit({
    ...common,
    description:
      `A connection to a private IP (${daddr}) on port ${dport}/${proto} outside of the used local network ` +
      `${localnet}. From IP: ${saddr} ${target}`,
    attacker: { direction: 'DST', ioc_type: 'IP', value: daddr },
    victim: { direction: 'SRC', ioc_type: 'IP', value: saddr },
    threat_level: 'high',
    profile_ip: daddr,
  });
}

// ---------------------------------------------------------------- reconnections

interface Attempts {
  count: number;
  uids: string[];
}

const newAttempts = (): Map<string, Attempts> => new Map();

/** Counts one attempt under key; returns the attempts (and resets the key) when the count reaches `limit`. */
function countAttempt(ctx: FlowContext, key: string, uid: string, limit: number): Attempts | undefined {
  const attempts = ctx.twState('connAnomalies:reconnections', newAttempts);
  let entry = attempts.get(key);
  if (entry === undefined) attempts.set(key, (entry = { count: 0, uids: [] }));
  entry.count += 1;
  pushUid(entry.uids, uid);
  if (entry.count < limit) return undefined;
  attempts.set(key, { count: 0, uids: [] });
  return entry;
}

function checkReconnections(host: DetectionHost, flow: ConnRecord, ctx: FlowContext): void {
  const { saddr, daddr } = flow;
  if (flow.state === 'REJ') {
    const rejected = countAttempt(ctx, `${saddr}-${daddr}-${flow.dport}`, flow.uid, REJECTED_ATTEMPTS);
    if (rejected !== undefined) {
      host.emit({
        evidence_type: 'MULTIPLE_RECONNECTION_ATTEMPTS',
        description:
          `Multiple reconnection attempts to Destination IP: ${daddr} from IP: ${saddr} reconnections: ${rejected.count}`,
        attacker: { direction: 'SRC', ioc_type: 'IP', value: saddr },
        victim: { direction: 'DST', ioc_type: 'IP', value: daddr },
        threat_level: 'medium',
        confidence: 0.5,
        timestamp: flow.ts,
        uid: recentUids(rejected.uids),
      });
    }
  }
  if (ctx.state === 'Not Established' && flow.proto === 'tcp' && TELNET_PORTS.has(flow.dport)) {
    const failed = countAttempt(ctx, `${saddr}-${daddr}-telnet`, flow.uid, TELNET_ATTEMPTS);
    if (failed !== undefined) {
      host.emit({
        evidence_type: 'MULTIPLE_RECONNECTION_ATTEMPTS',
        description:
          `Multiple Telnet reconnection attempts from IP: ${saddr} to Destination IP: ${daddr}  ` +
          `reconnections: ${failed.count}`,
        attacker: { direction: 'SRC', ioc_type: 'IP', value: saddr },
        victim: { direction: 'DST', ioc_type: 'IP', value: daddr },
        threat_level: 'medium',
        confidence: 0.5,
        timestamp: flow.ts,
        uid: recentUids(failed.uids),
      });
    }
  }
}

// ---------------------------------------------------------------- port 0

function checkPort0(host: DetectionHost, flow: ConnRecord): void {
  if (flow.sport !== 0 && flow.dport !== 0) return;
  if (!PORTED_PROTOS.has(flow.proto) || isMulticast(flow.daddr)) return;
  host.emit({
    evidence_type: 'PORT_0_CONNECTION',
    description: `Connection on port 0 from ${flow.saddr}:${flow.sport} to ${flow.daddr}:${flow.dport}.`,
    attacker: { direction: 'SRC', ioc_type: 'IP', value: flow.saddr },
    victim: { direction: 'DST', ioc_type: 'IP', value: flow.daddr },
    threat_level: 'high',
    confidence: 0.8,
    timestamp: flow.ts,
    uid: [flow.uid],
    src_port: flow.sport,
    dst_port: flow.dport,
  });
}

// ---------------------------------------------------------------- multiple ports

interface PortsOfVictim {
  /** dport -> uid of the latest flow to it, in first-seen order. */
  ports: Map<number, string>;
  /** Number of ports at the last report. */
  reported: number;
}

const newVictims = (): Map<string, PortsOfVictim> => new Map();

function checkMultiplePorts(host: DetectionHost, flow: ConnRecord, ctx: FlowContext): void {
  if (flow.proto !== 'tcp' || ctx.state !== 'Established' || flow.appproto !== '') return;
  if (host.knowledge.portName(flow.dport, 'tcp') !== undefined) return;
  const victims = ctx.twState('connAnomalies:multiplePorts', newVictims);
  let victim = victims.get(flow.daddr);
  if (victim === undefined) victims.set(flow.daddr, (victim = { ports: new Map(), reported: 0 }));
  if (!victim.ports.has(flow.dport) && victim.ports.size >= MAX_TRACKED_PORTS) return;
  victim.ports.set(flow.dport, flow.uid);
  const count = victim.ports.size;
  if (count <= 1 || count <= victim.reported) return;
  victim.reported = count;
  const portList = `[${[...victim.ports.keys()].map((port) => `'${port}'`).join(', ')}]`;
  host.emit({
    evidence_type: 'CONNECTION_TO_MULTIPLE_PORTS',
    description: `Connection to multiple ports ${portList} from ${flow.saddr} to ${flow.daddr}. `,
    attacker: { direction: 'SRC', ioc_type: 'IP', value: flow.saddr },
    victim: { direction: 'DST', ioc_type: 'IP', value: flow.daddr },
    threat_level: 'info',
    confidence: 0.5,
    timestamp: flow.ts,
    uid: [...victim.ports.values()],
  });
}

// ---------------------------------------------------------------- data upload

/** A destination that received enough bytes to be tracked in detail. */
interface UploadCandidate {
  daddr: string;
  uids: string[];
  /** Start of the latest flow to this destination. */
  lastTs: number;
}

/**
 * Bytes a profile sent per destination in a time window. Destinations are keyed by ipKey and hold
 * just a number until they received MIN(CANDIDATE_MB, threshold): only then are the uids of their
 * flows kept, so the per-flow state of the common small destinations keeps nothing else alive.
 */
interface Uploads {
  bytes: Map<number | string, number>;
  candidates: Map<number | string, UploadCandidate>;
}

/** MB a destination must receive in a time window before its flows' uids are kept. */
const CANDIDATE_MB = 1;

const newUploads = (): Uploads => ({ bytes: new Map(), candidates: new Map() });

function isUploadTarget(host: DetectionHost, daddr: string): boolean {
  return daddr !== host.knowledge.gatewayIp() && !isMulticast(daddr) && !isLinkLocal(daddr) && !isReserved(daddr);
}

function reportUpload(host: DetectionHost, uploader: string, daddr: string, bytes: number, ts: number, uids: string[]): void {
  const description = `Large data upload. ${pyFloat(bytes / 1e6)} MBs sent to ${daddr}`;
  const common = { evidence_type: 'DATA_UPLOAD' as const, description, confidence: 0.6, timestamp: ts, uid: uids };
  host.emitPair(
    { ...common, attacker: { direction: 'SRC', ioc_type: 'IP', value: uploader }, threat_level: 'info' },
    { ...common, attacker: { direction: 'DST', ioc_type: 'IP', value: daddr }, threat_level: 'high' },
  );
}

/** Adds the flow to its destination's total (whether it is an upload target is decided when reporting). */
function checkUpload(host: DetectionHost, flow: ConnRecord, ctx: FlowContext): void {
  const sent = flow.sbytes;
  if (sent <= 0) return;
  if (sent / 1e6 >= FLOW_UPLOAD_MB && isUploadTarget(host, flow.daddr)) {
    reportUpload(host, ctx.profileIp, flow.daddr, sent, flow.ts, [flow.uid]);
  }
  const uploads = ctx.twState('connAnomalies:uploads', newUploads);
  const key = ipKey(flow.daddr);
  const total = (uploads.bytes.get(key) ?? 0) + sent;
  uploads.bytes.set(key, total);
  if (total / 1e6 < Math.min(CANDIDATE_MB, host.config.dataExfiltrationThreshold)) return;
  let candidate = uploads.candidates.get(key);
  if (candidate === undefined) uploads.candidates.set(key, (candidate = { daddr: flow.daddr, uids: [], lastTs: flow.ts }));
  pushUid(candidate.uids, flow.uid);
  if (flow.ts > candidate.lastTs) candidate.lastTs = flow.ts;
}

// ---------------------------------------------------------------- device changing IP

const newStringSet = (): Set<string> => new Set();

function isDeviceIp(ip: string): boolean {
  return isIP(ip) === 4 && isPrivateIp(ip) && ip !== '0.0.0.0' && ip !== '255.255.255.255' && !isLinkLocal(ip);
}

export const connAnomaliesDetector: DetectorFactory = (host) => {
  /** MAC -> the first private IPv4 seen using it as conn source. */
  const firstIpOfMac = new Map<string, string>();
  /** Private IPv4 sources already seen in conn flows. */
  const seenSources = new Map<string, true>();

  function checkDeviceChangingIp(flow: ConnRecord): void {
    if (!CONN_SOURCES.has(flow.source) || flow.smac === '' || !isDeviceIp(flow.saddr)) return;
    const oldIp = firstIpOfMac.get(flow.smac);
    if (oldIp === undefined) remember(firstIpOfMac, flow.smac, flow.saddr, MAX_DEVICES);
    const firstTime = !seenSources.has(flow.saddr);
    if (firstTime) remember(seenSources, flow.saddr, true, MAX_DEVICES);
    if (!firstTime || oldIp === undefined || oldIp === flow.saddr) return;
    host.emit({
      evidence_type: 'DEVICE_CHANGING_IP',
      description:
        `A device changing IPs. IP ${flow.saddr} was found with MAC address ${flow.smac} but the MAC belongs ` +
        `originally to IP: ${oldIp}. `,
      attacker: { direction: 'SRC', ioc_type: 'IP', value: flow.saddr },
      threat_level: 'medium',
      confidence: 0.8,
      timestamp: flow.ts,
      uid: [flow.uid],
    });
  }

  return {
    name: 'connAnomalies',
    evidenceTypes: [
      'MULTIPLE_RECONNECTION_ATTEMPTS', 'PORT_0_CONNECTION', 'DIFFERENT_LOCALNET', 'CONNECTION_TO_MULTIPLE_PORTS',
      'DATA_UPLOAD', 'DEVICE_CHANGING_IP',
    ],
    handlers: {
      conn(flow: ConnRecord, ctx: FlowContext): void {
        checkReconnections(host, flow, ctx);
        checkPort0(host, flow);
        if (!(flow.dport === 53 && flow.proto === 'udp') && localnetCandidate(flow)) {
          const reported = ctx.twState('connAnomalies:localnetReported', newStringSet);
          checkOutsideLocalnet(host, flow, 'dstip', reported);
          checkOutsideLocalnet(host, flow, 'srcip', reported);
        }
        checkMultiplePorts(host, flow, ctx);
        checkUpload(host, flow, ctx);
        checkDeviceChangingIp(flow);
      },
    },
    timeWindowClosed(closed): void {
      const uploads = closed.twState<Uploads>('connAnomalies:uploads');
      if (uploads === undefined) return;
      const thresholdMb = host.config.dataExfiltrationThreshold;
      for (const [key, { daddr, uids, lastTs }] of uploads.candidates) {
        const bytes = uploads.bytes.get(key) ?? 0;
        if (bytes / 1e6 < thresholdMb || !isUploadTarget(host, daddr)) continue;
        reportUpload(host, closed.profileIp, daddr, bytes, lastTs, recentUids(uids));
      }
    },
  };
};
