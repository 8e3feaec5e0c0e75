// Per-connection checks of Slips' flow_alerts conn analyzer (detections spec §3.1):
// LONG_CONNECTION, UNKNOWN_PORT and CONNECTION_TO_PRIVATE_IP. Each is reported at most once per
// profile + time window + key (fix #23); the P2P exemption of UNKNOWN_PORT counts per profile +
// time window (fix #18).

import type { ConnRecord } from '../inputs/records.js';
import type { EvidenceType } from '../core/evidence.js';
import type { DetectionHost, DetectorFactory, FlowContext } from './api.js';
import { pyRound } from './format.js';
import { isMulticast, isPrivateIp } from './ip.js';

/** udp ports above this are candidates for the P2P exemption of UNKNOWN_PORT. */
const P2P_MIN_PORT = 30000;
/** Flows to one daddr after which its high udp ports count as P2P. */
const P2P_FLOWS_PER_DADDR = 6;
/** Distinct daddrs on high udp ports after which the profile counts as P2P. */
const P2P_DADDRS = 5;
/** DNS and DHCP: udp ports a host legitimately uses to reach its gateway. */
const GATEWAY_SERVICE_PORTS = new Set([53, 67, 68]);

/** True the first time (type, key) is seen in this profile + time window. */
function firstReport(ctx: FlowContext, type: EvidenceType, key: string): boolean {
  const reported = ctx.twState('connections:reported', () => new Set<string>());
  const id = `${type} ${key}`;
  if (reported.has(id)) return false;
  reported.add(id);
  return true;
}

/** Slips' is_p2p, scoped to the profile + time window: many high udp ports to one or many hosts. */
function isP2p(flow: ConnRecord, ctx: FlowContext): boolean {
  if (flow.proto !== 'udp' || flow.dport <= P2P_MIN_PORT) return false;
  const flowsByDaddr = ctx.twState('connections:p2p', () => new Map<string, number>());
  const flows = flowsByDaddr.get(flow.daddr) ?? 0;
  if (flows >= P2P_FLOWS_PER_DADDR) return true;
  flowsByDaddr.set(flow.daddr, flows + 1);
  return flowsByDaddr.size >= P2P_DADDRS;
}

function checkLongConnection(host: DetectionHost, flow: ConnRecord, ctx: FlowContext): void {
  if (!(flow.dur > host.config.longConnectionThreshold)) return;
  if (isMulticast(flow.saddr) || isMulticast(flow.daddr)) return;
  if (!firstReport(ctx, 'LONG_CONNECTION', flow.daddr)) return;
  host.emit({
    evidence_type: 'LONG_CONNECTION',
    description:
      `Long Connection. Connection from ${flow.saddr} to destination address: ${flow.daddr} ` +
      `took ${Math.trunc(flow.dur / 60)} mins`,
    attacker: { direction: 'SRC', ioc_type: 'IP', value: flow.saddr },
    victim: { direction: 'DST', ioc_type: 'IP', value: flow.daddr },
    threat_level: 'low',
    confidence: pyRound(Math.min(1, flow.dur / 86400), 2),
    timestamp: flow.ts,
    uid: [flow.uid],
  });
}

function checkUnknownPort(host: DetectionHost, flow: ConnRecord, ctx: FlowContext): void {
  const { dport, proto } = flow;
  if (!dport || ctx.isPortScanner()) return;
  const knowledge = host.knowledge;
  if (knowledge.portName(dport, proto) !== undefined) return;
  if (knowledge.isOrgPort(dport, proto, flow.daddr)) return;
  if (proto.includes('icmp') || isP2p(flow, ctx) || knowledge.isFtpDataPort(dport)) return;
  if (!firstReport(ctx, 'UNKNOWN_PORT', `${flow.daddr}/${dport}/${proto}`)) return;
  host.emit({
    evidence_type: 'UNKNOWN_PORT',
    description: `Connection to unknown destination port ${dport}/${proto.toUpperCase()} destination IP ${flow.daddr}.`,
    attacker: { direction: 'SRC', ioc_type: 'IP', value: flow.saddr },
    victim: { direction: 'DST', ioc_type: 'IP', value: flow.daddr },
    threat_level: ctx.state === 'Established' ? 'high' : 'medium',
    confidence: 1,
    timestamp: flow.ts,
    uid: [flow.uid],
  });
}

function privateIpTarget(flow: ConnRecord): string {
  if (flow.proto === 'arp') return '';
  if (flow.proto === 'icmp') return 'protocol: ICMP';
  return `on destination port: ${flow.dport}`;
}

function checkConnectionToPrivateIp(host: DetectionHost, flow: ConnRecord, ctx: FlowContext): void {
  if (!isPrivateIp(flow.saddr) || !isPrivateIp(flow.daddr)) return;
  if (flow.proto === 'udp' && GATEWAY_SERVICE_PORTS.has(flow.dport) && flow.daddr === host.knowledge.gatewayIp()) return;
  if (!firstReport(ctx, 'CONNECTION_TO_PRIVATE_IP', `${flow.daddr}/${flow.dport}`)) return;
  host.emit({
    evidence_type: 'CONNECTION_TO_PRIVATE_IP',
    description: `Connecting to private IP: ${flow.daddr} ${privateIpTarget(flow)}`,
    attacker: { direction: 'SRC', ioc_type: 'IP', value: flow.saddr },
    victim: { direction: 'DST', ioc_type: 'IP', value: flow.daddr },
    threat_level: 'info',
    confidence: 1,
    timestamp: flow.ts,
    uid: [flow.uid],
  });
}

export const connectionDetector: DetectorFactory = (host) => ({
  name: 'connections',
  evidenceTypes: ['LONG_CONNECTION', 'UNKNOWN_PORT', 'CONNECTION_TO_PRIVATE_IP'],
  handlers: {
    conn(flow: ConnRecord, ctx: FlowContext): void {
      checkLongConnection(host, flow, ctx);
      checkUnknownPort(host, flow, ctx);
      checkConnectionToPrivateIp(host, flow, ctx);
    },
  },
});
