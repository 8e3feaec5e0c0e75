// ARP checks of Slips' arp module (detections spec §4.3) over Slips' arp.log: ARP_SCAN (fix #30:
// per profile + time window, first-seen timestamps, sliding 30 s window), ARP_OUTSIDE_LOCALNET
// (fix #29: CIDR test against the learned local network), UNSOLICITED_ARP and MITM_ARP_ATTACK
// (fix #28: the gateway wording works; once per profile + time window + MAC + IP, fix #23). The
// MAC -> first IP table behind the MITM check is learned from arp.log and conn.log.

import type { ArpRecord, ConnRecord } from '../inputs/records.js';
import type { DetectionHost, DetectorFactory, FlowContext } from './api.js';
import { isIpInCidr, isLinkLocal, isMulticast, isPrivateIp, parseCidr, remember, rfc1918BlockOf, type Cidr } from './ip.js';

const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';
const ZERO_MAC = '00:00:00:00:00:00';
const UNSPECIFIED_IP = '0.0.0.0';
/** Distinct targets that make an ARP scan. */
const SCAN_TARGETS = 5;
/** ... when all were first asked for within this many seconds. */
const SCAN_WINDOW = 30;
/** After a report, further scanning of the profile + time window is reported at most this often. */
const SCAN_REPORT_INTERVAL = 10;
/** Most recent uids kept per scan. */
const MAX_SCAN_UIDS = 100;
/** MACs (and IPs) remembered at most for the MITM check. */
const MAX_MACS = 65_536;

/** ARP requests of one profile in one time window, for ARP_SCAN. */
interface ArpScan {
  /** Target IP -> first time it was asked for, in insertion (= time) order. */
  targets: Map<string, number>;
  uids: string[];
  lastReport: number | undefined;
}

/** arp.log has no uid unless the capture script adds one. */
function uidsOf(record: ArpRecord): string[] {
  return record.uid === '' ? [] : [record.uid];
}

function isGratuitous(record: ArpRecord): boolean {
  return record.operation.includes('reply') && (record.dst_hw === BROADCAST_MAC || record.dst_hw === ZERO_MAC);
}

function checkScan(host: DetectionHost, record: ArpRecord, ctx: FlowContext): void {
  if (!record.operation.includes('request') || !record.dst_hw.includes(ZERO_MAC)) return;
  if (record.saddr === UNSPECIFIED_IP || record.saddr === host.knowledge.gatewayIp()) return;
  const scan = ctx.twState<ArpScan>('arp:scan', () => ({ targets: new Map(), uids: [], lastReport: undefined }));
  if (!scan.targets.has(record.daddr)) scan.targets.set(record.daddr, record.ts);
  for (const [target, firstSeen] of scan.targets) {
    if (firstSeen >= record.ts - SCAN_WINDOW) break;
    scan.targets.delete(target);
  }
  if (record.uid !== '') scan.uids.push(record.uid);
  if (scan.uids.length > MAX_SCAN_UIDS) scan.uids.shift();
  if (scan.targets.size < SCAN_TARGETS) return;
  if (scan.lastReport !== undefined && record.ts - scan.lastReport < SCAN_REPORT_INTERVAL) return;
  host.emit({
    evidence_type: 'ARP_SCAN',
    description: 'performing an arp scan. Confidence 0.8.',
    attacker: { direction: 'SRC', ioc_type: 'IP', value: record.saddr },
    threat_level: 'low',
    confidence: 0.8,
    timestamp: record.ts,
    uid: scan.uids,
  });
  scan.lastReport = record.ts;
  scan.targets.clear();
  scan.uids = [];
}

export const arpDetector: DetectorFactory = (host) => {
  const firstIpOfMac = new Map<string, string>();
  const firstMacOfIp = new Map<string, string>();
  let localNet: { text: string; cidr: Cidr | undefined } = { text: '', cidr: undefined };

  /** The local network: learned by the core, else the RFC1918 block of the sender. */
  function localNetworkFor(saddr: string): Cidr | undefined {
    const text = host.knowledge.localNetwork() ?? rfc1918BlockOf(saddr);
    if (text === undefined) return undefined;
    if (localNet.text !== text) localNet = { text, cidr: parseCidr(text) };
    return localNet.cidr;
  }

  /** Private IPv4 <-> MAC pairs seen as senders (public IPs arrive behind the gateway's MAC). */
  function learn(mac: string, ip: string): void {
    if (mac === '' || mac === BROADCAST_MAC || mac === ZERO_MAC || ip === UNSPECIFIED_IP) return;
    if (!isPrivateIp(ip) || !ip.includes('.')) return;
    // First come: the first value stored for a key stays.
    if (!firstIpOfMac.has(mac)) remember(firstIpOfMac, mac, ip, MAX_MACS);
    if (!firstMacOfIp.has(ip)) remember(firstMacOfIp, ip, mac, MAX_MACS);
  }

  function checkOutsideLocalnet(record: ArpRecord): void {
    const { saddr, daddr } = record;
    if (saddr === UNSPECIFIED_IP || daddr === UNSPECIFIED_IP || isMulticast(daddr) || isLinkLocal(daddr)) return;
    const network = localNetworkFor(saddr);
    if (network === undefined || isIpInCidr(daddr, network) || !daddr.includes('.')) return;
    host.emit({
      evidence_type: 'ARP_OUTSIDE_LOCALNET',
      description: `${saddr} sending ARP packet to a destination address outside of local network: ${daddr}. `,
      attacker: { direction: 'SRC', ioc_type: 'IP', value: saddr },
      victim: { direction: 'DST', ioc_type: 'IP', value: daddr },
      threat_level: 'low',
      confidence: 0.6,
      timestamp: record.ts,
      uid: uidsOf(record),
    });
  }

  function checkUnsolicited(record: ArpRecord): void {
    if (record.dmac !== BROADCAST_MAC || record.dst_hw !== BROADCAST_MAC) return;
    if (record.smac === ZERO_MAC || record.src_hw === ZERO_MAC) return;
    host.emit({
      evidence_type: 'UNSOLICITED_ARP',
      description: 'broadcasting unsolicited ARP',
      attacker: { direction: 'SRC', ioc_type: 'IP', value: record.saddr },
      threat_level: 'low',
      confidence: 0.8,
      timestamp: record.ts,
      uid: uidsOf(record),
    });
  }

  /** A gratuitous reply claiming a MAC that was first seen with another IP. */
  function checkMitm(record: ArpRecord, ctx: FlowContext): void {
    const { saddr, smac } = record;
    const original = firstIpOfMac.get(smac);
    if (original === undefined || original === saddr) return;
    const reported = ctx.twState('arp:mitmReported', () => new Set<string>());
    const key = `${smac} ${original}`;
    if (reported.has(key)) return;
    reported.add(key);
    const gatewayIp = host.knowledge.gatewayIp();
    const who = saddr === gatewayIp ? `The gateway ${saddr}` : saddr;
    const mac = gatewayIp !== undefined && firstMacOfIp.get(gatewayIp) === smac ? `of the gateway ${smac}` : smac;
    host.emit({
      evidence_type: 'MITM_ARP_ATTACK',
      description: `${who} performing a MITM ARP attack. The MAC ${mac}, now belonging to ${who}, was seen before for IP ${original}.`,
      attacker: { direction: 'SRC', ioc_type: 'IP', value: saddr },
      victim: { direction: 'DST', ioc_type: 'IP', value: original },
      threat_level: 'critical',
      confidence: 0.2,
      timestamp: record.ts,
      uid: uidsOf(record),
    });
  }

  return {
    name: 'arp',
    evidenceTypes: ['ARP_SCAN', 'ARP_OUTSIDE_LOCALNET', 'UNSOLICITED_ARP', 'MITM_ARP_ATTACK'],
    handlers: {
      arp(record: ArpRecord, ctx: FlowContext): void {
        if (isGratuitous(record)) checkMitm(record, ctx);
        else checkScan(host, record, ctx);
        if (record.operation.includes('request')) checkOutsideLocalnet(record);
        else if (record.operation.includes('reply')) checkUnsolicited(record);
        learn(record.smac, record.saddr);
      },
      conn(flow: ConnRecord): void {
        learn(flow.smac, flow.saddr);
      },
    },
  };
};
