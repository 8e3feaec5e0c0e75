// DNS checks of Slips' flow_alerts (detections spec §3.2) and the DNS <-> connection cross checks:
// HIGH_ENTROPY_DNS_ANSWER, INVALID_DNS_RESOLUTION, DGA_NXDOMAINS, DIFFERENT_LOCALNET (DNS variant),
// DNS_ARPA_SCAN, DNS_WITHOUT_CONNECTION (a resolved domain nobody connected to within 30 min) and
// CONNECTION_WITHOUT_DNS (a connection to an IP the host did not resolve within 24 h before, or
// 15 s after, it). Both waits run on network time: pending checks are resolved by advanceTime()
// and, at the end of input, by finish() (fix #1). Resolutions and names are kept in run-wide maps
// bounded by `remember`; the IPs a profile contacted, per time window.
// Fixes: #4 (distinct NXDOMAINs, reported at 10, 15, 20, ...), #5 (the DNS variant of
// DIFFERENT_LOCALNET filters as the conn one and skips the learned DNS server), #7 (every known
// organisation), #8 (24 h back from the connection, not from the first day), #14 (an invalid
// answer is the resolver's doing), #23 (CONNECTION_WITHOUT_DNS once per profile + time window +
// IP: the first eligible connection decides; likewise DNS_WITHOUT_CONNECTION per domain), #31 (ARPA scans in a sliding 2 s window).
// Slips skips CONNECTION_WITHOUT_DNS when the input is a single Zeek log file; a detector cannot
// see the input type, so connections are neither checked nor remembered as contacted until the
// first DNS record of the run (a lone conn.log, Argus or nfdump flows carry none), and a pending
// check still needs a DNS record to have been seen when it resolves. YOUNG_DOMAIN is not
// implemented: it needs whois data (domain creation dates), which is not available offline.

import type { ConnRecord, DnsRecord, SslRecord } from '../inputs/records.js';
import type { DetectorFactory, FlowContext } from './api.js';
import { checkOutsideLocalnet, localnetCandidate } from './connAnomalies.js';
import { pyFloat, pyRound } from './format.js';
import { ipKey, isIgnoredIp, isIpInCidr, isMulticast, isPrivateIp, isValidIp, parseCidr, remember, type Cidr } from './ip.js';

/** Network seconds a connection waits for its DNS resolution to show up. */
const CONNECTION_DNS_WAIT = 15;
/** A resolution this old (seconds before the connection) still counts. */
const RESOLUTION_LOOKBACK = 24 * 3600;
/** Network seconds a resolved domain waits for a connection to one of its IPs. */
const DNS_CONNECTION_WAIT = 30 * 60;
/** (profile, IP) resolutions remembered. */
const MAX_PAIRS = 200_000;
/** Domains (and IPs) whose resolutions are remembered. */
const MAX_NAMES = 50_000;
const MAX_IPS_PER_DOMAIN = 16;
const MAX_DOMAINS_PER_IP = 4;
/** Pending checks of each kind; beyond this the oldest is resolved at once. */
const MAX_PENDING = 50_000;
const MAX_DOH_SERVERS = 10_000;
/** Private DNS servers tracked while the local DNS server is being learned. */
const MAX_DNS_SERVER_CANDIDATES = 1000;
/** DNS flows with answers after which a private server is the learned local DNS server. */
const DNS_SERVER_FLOWS = 5;
/** NXDOMAINs for the first DGA report, then one report every DGA_STEP more. */
const DGA_FIRST = 10;
const DGA_STEP = 5;
/** Distinct reverse lookups within ARPA_SCAN_SECONDS that make an ARPA scan. */
const ARPA_SCAN_QUERIES = 10;
const ARPA_SCAN_SECONDS = 2;
const MAX_UIDS = 100;
/** Slips' `type_ == "conn"`: Zeek (also from pcaps) and Suricata flows, not Argus or nfdump. */
const CONN_SOURCES = new Set(['zeek', 'pcap', 'suricata']);
/** twState key of the IPs a profile connected to in a time window. */
const CONTACTED = 'dns:contacted';

/**
 * The IPs (by ipKey) a profile connected to in a time window, each true once its connection was
 * checked for CONNECTION_WITHOUT_DNS.
 */
type Contacted = Map<number | string, boolean>;
const newContacted = (): Contacted => new Map();

/** Checks due at a network time, in arrival order (which follows record time). */
class DueQueue<T> {
  private items: Array<{ due: number; item: T }> = [];
  private head = 0;

  /** Queue an item; returns the oldest one when the queue is over its limit (to resolve now). */
  push(due: number, item: T): T | undefined {
    this.items.push({ due, item });
    return this.items.length - this.head > MAX_PENDING ? this.shift() : undefined;
  }

  /** Remove and return the items due at networkTime (all of them when networkTime is Infinity). */
  takeDue(networkTime: number): T[] {
    const due: T[] = [];
    for (let next = this.items[this.head]; next !== undefined && next.due <= networkTime; next = this.items[this.head]) {
      due.push(next.item);
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return due;
  }

  private shift(): T | undefined {
    return this.items[this.head++]?.item;
  }
}

/** A resolution waiting for a connection. */
interface PendingResolution {
  record: DnsRecord;
  /** IPs the profile connected to in the record's time window (kept up to date by the conn handler). */
  contacted: Contacted;
  /** Domains already reported in the record's profile + time window. */
  reported: Set<string>;
}

interface NxDomains {
  domains: Set<string>;
  uids: string[];
}

/** Slips' Shannon entropy of a string, in bits per character (summed in first-seen order). */
export function shannonEntropy(text: string): number {
  const chars = Array.from(text);
  const counts = new Map<string, number>();
  for (const char of chars) counts.set(char, (counts.get(char) ?? 0) + 1);
  let sum = 0;
  for (const count of counts.values()) {
    const p = count / chars.length;
    sum += p * (Math.log(p) / Math.LN2);
  }
  return 0 - sum;
}

/** Add value to the list under key (kept unique and at most `limit` long, newest last). */
function addToList(map: Map<string, string[]>, key: string, value: string, limit: number): void {
  const list = map.get(key) ?? [];
  const index = list.indexOf(value);
  if (index >= 0) list.splice(index, 1);
  list.push(value);
  if (list.length > limit) list.shift();
  remember(map, key, list, MAX_NAMES);
}

function pairKey(profileIp: string, ip: string): string {
  return `${profileIp} ${ip}`;
}

function isEligibleForConnectionCheck(record: DnsRecord): boolean {
  const query = record.query;
  return !query.includes('arpa') && !query.includes('.local') && (record.qtype_name === 'A' || record.qtype_name === 'AAAA') &&
    !query.includes('*') && !query.slice(-10).includes('.cymru.com') && query.split('.').length > 1 &&
    record.rcode_name === 'NOERROR' && record.answers.length > 0;
}

export const dnsDetector: DetectorFactory = (host) => {
  const knowledge = host.knowledge;
  const clientNetworks = host.config.clientIps.map(parseCidr).filter((cidr): cidr is Cidr => cidr !== undefined);
  /** "<profile> <ip>" -> newest time the profile got ip in a DNS answer. */
  const resolvedAt = new Map<string, number>();
  /** Domain -> IPs it resolved to (any profile). */
  const ipsOfDomain = new Map<string, string[]>();
  /** IP -> domain names seen for it (DNS answers, TLS SNI). */
  const domainsOfIp = new Map<string, string[]>();
  /** Servers ssl.log marked as DNS over HTTPS. */
  const dohServers = new Map<string, true>();
  /** Connections waiting for their DNS resolution. */
  const pendingConnections = new DueQueue<ConnRecord>();
  const pendingResolutions = new DueQueue<PendingResolution>();
  let dnsSeen = false;
  /** The local DNS server, once learned, and the private servers counted until then. */
  let learnedDnsServer: string | undefined;
  const dnsServerFlows = new Map<string, number>();

  function isWellKnownOrg(ip: string): boolean {
    if (knowledge.orgOfIp(ip) !== undefined) return true;
    const domains = domainsOfIp.get(ip) ?? [];
    return domains.some((domain) => knowledge.orgs().some((org) => knowledge.isOrgDomain(domain, org)));
  }

  function wasResolved(flow: ConnRecord): boolean {
    const resolved = resolvedAt.get(pairKey(flow.saddr, flow.daddr));
    return resolved !== undefined && resolved >= flow.ts - RESOLUTION_LOOKBACK;
  }

  function resolveConnection(flow: ConnRecord): void {
    if (!dnsSeen || wasResolved(flow) || isWellKnownOrg(flow.daddr)) return;
    host.emit({
      evidence_type: 'CONNECTION_WITHOUT_DNS',
      description: `A connection without DNS resolution to Destination IP: ${flow.daddr}`,
      attacker: { direction: 'SRC', ioc_type: 'IP', value: flow.saddr },
      threat_level: 'info',
      confidence: 0.8,
      timestamp: flow.ts,
      uid: [flow.uid],
      src_port: flow.sport,
      dst_port: flow.dport,
    });
  }

  /** Whether the profile connected, in the record's time window, to an answer, a known IP of the domain or of a CNAME. */
  function wasContacted({ record, contacted }: PendingResolution): boolean {
    return [record.query, ...record.answers].some((answer) =>
      isValidIp(answer) ? contacted.has(ipKey(answer)) : (ipsOfDomain.get(answer) ?? []).some((ip) => contacted.has(ipKey(ip))));
  }

  function resolveResolution(pending: PendingResolution): void {
    const { record, reported } = pending;
    if (reported.has(record.query) || wasContacted(pending)) return;
    reported.add(record.query);
    host.emit({
      evidence_type: 'DNS_WITHOUT_CONNECTION',
      description: `domain ${record.query} resolved with no connection`,
      attacker: { direction: 'SRC', ioc_type: 'IP', value: record.saddr },
      victim: { direction: 'DST', ioc_type: 'DOMAIN', value: record.query },
      threat_level: 'info',
      confidence: 0.8,
      timestamp: record.ts,
      uid: [record.uid],
    });
  }

  function onConnection(flow: ConnRecord, ctx: FlowContext): void {
    const { daddr } = flow;
    if (!dnsSeen || !isValidIp(daddr)) return;
    const key = ipKey(daddr);
    const contacted = ctx.twState(CONTACTED, newContacted);
    const checked = contacted.get(key);
    // The first eligible connection of the profile + time window to daddr decides for all of them.
    if (checked === true) return;
    if (!needsResolution(flow)) {
      if (checked === undefined) contacted.set(key, false);
      return;
    }
    contacted.set(key, true);
    if (wasResolved(flow)) return;
    const overflow = pendingConnections.push(flow.ts + CONNECTION_DNS_WAIT, flow);
    if (overflow !== undefined) resolveConnection(overflow);
  }

  /** Whether CONNECTION_WITHOUT_DNS applies to the flow's kind and destination. */
  function needsResolution(flow: ConnRecord): boolean {
    const { daddr } = flow;
    if (!CONN_SOURCES.has(flow.source) || flow.appproto === 'dns' || flow.appproto === 'icmp') return false;
    if (isIgnoredIp(daddr) || dohServers.has(daddr)) return false;
    return clientNetworks.length === 0 || !clientNetworks.some((network) => isIpInCidr(daddr, network));
  }

  function learnResolutions(record: DnsRecord): void {
    for (const answer of record.answers) {
      // Private answers are INVALID_DNS_RESOLUTION material, not resolutions (Slips deletes them).
      if (!isValidIp(answer) || isPrivateIp(answer)) continue;
      const key = pairKey(record.saddr, answer);
      resolvedAt.delete(key); // the newest resolutions are the last to be forgotten
      remember(resolvedAt, key, record.ts, MAX_PAIRS);
      addToList(ipsOfDomain, record.query, answer, MAX_IPS_PER_DOMAIN);
      addToList(domainsOfIp, answer, record.query, MAX_DOMAINS_PER_IP);
    }
  }

  function checkHighEntropyAnswers(record: DnsRecord): void {
    if (isMulticast(record.saddr) || !isValidIp(record.daddr)) return;
    for (const answer of record.answers) {
      if (!answer.includes('TXT')) continue;
      const entropy = shannonEntropy(answer);
      if (entropy < host.config.entropyThreshold) continue;
      const common = {
        evidence_type: 'HIGH_ENTROPY_DNS_ANSWER' as const,
        description:
          `A DNS TXT answer with high entropy. query: ${record.query} answer: "${answer}" ` +
          `entropy: ${pyFloat(pyRound(entropy, 2))} `,
        confidence: 0.6,
        timestamp: record.ts,
        uid: [record.uid],
      };
      host.emitPair(
        { ...common, attacker: { direction: 'DST', ioc_type: 'IP', value: record.daddr }, threat_level: 'medium' },
        { ...common, attacker: { direction: 'SRC', ioc_type: 'IP', value: record.saddr }, threat_level: 'low' },
      );
    }
  }

  function checkInvalidAnswers(record: DnsRecord): void {
    const query = record.query;
    if (query === 'localhost' || query.endsWith('.local') || query.endsWith('.arpa')) return;
    if (!isValidIp(record.daddr)) return;
    for (const answer of record.answers) {
      if (!isPrivateIp(answer)) continue;
      host.emit({
        evidence_type: 'INVALID_DNS_RESOLUTION',
        description: `Invalid DNS answer. The DNS query ${query} was resolved to the private IP: ${answer}`,
        attacker: { direction: 'DST', ioc_type: 'IP', value: record.daddr },
        victim: { direction: 'DST', ioc_type: 'DOMAIN', value: query },
        threat_level: 'info',
        confidence: 0.8,
        timestamp: record.ts,
        uid: [record.uid],
      });
    }
  }

  function checkNxDomains(record: DnsRecord, ctx: FlowContext): void {
    const query = record.query;
    if (!record.rcode_name.includes('NXDOMAIN') || query === '' || query.endsWith('.arpa') || query.endsWith('.local')) return;
    const nx = ctx.twState('dns:nxdomains', (): NxDomains => ({ domains: new Set(), uids: [] }));
    if (nx.domains.has(query)) return;
    nx.domains.add(query);
    nx.uids.push(record.uid);
    if (nx.uids.length > MAX_UIDS) nx.uids.shift();
    const n = nx.domains.size;
    if (n < DGA_FIRST || n % DGA_STEP !== 0) return;
    host.emit({
      evidence_type: 'DGA_NXDOMAINS',
      description: `Possible DGA or domain scanning. ${record.saddr} failed to resolve ${n} different domains`,
      attacker: { direction: 'SRC', ioc_type: 'IP', value: record.saddr },
      threat_level: 'high',
      confidence: pyRound(Math.min(1, n / 100), 2),
      timestamp: record.ts,
      uid: [...nx.uids],
    });
  }

  /** True while the DNS flow to a private server only teaches which server is the local one. */
  function learnsDnsServer(record: DnsRecord): boolean {
    if (learnedDnsServer !== undefined || record.answers.length === 0) return false;
    const flows = (dnsServerFlows.get(record.daddr) ?? 0) + 1;
    if (flows >= DNS_SERVER_FLOWS) {
      learnedDnsServer = record.daddr;
      dnsServerFlows.clear();
    } else {
      remember(dnsServerFlows, record.daddr, flows, MAX_DNS_SERVER_CANDIDATES);
    }
    return true;
  }

  function checkLocalnet(record: DnsRecord, ctx: FlowContext): void {
    if (record.proto !== 'udp' || record.dport !== 53 || !localnetCandidate(record)) return;
    const reported = ctx.twState('dns:localnetReported', () => new Set<string>());
    checkOutsideLocalnet(host, record, 'srcip', reported);
    if (record.daddr === learnedDnsServer || learnsDnsServer(record)) return;
    checkOutsideLocalnet(host, record, 'dstip', reported);
  }

  function checkArpaScan(record: DnsRecord, ctx: FlowContext): void {
    if (!record.query.endsWith('.in-addr.arpa')) return;
    // Distinct reverse lookups of the last 2 s: query -> its latest ts and uid, oldest first.
    const recent = ctx.profileState('dns:arpaQueries', () => new Map<string, { ts: number; uid: string }>());
    recent.delete(record.query);
    recent.set(record.query, { ts: record.ts, uid: record.uid });
    for (const [query, seen] of recent) {
      if (seen.ts >= record.ts - ARPA_SCAN_SECONDS) break;
      recent.delete(query);
    }
    if (recent.size < ARPA_SCAN_QUERIES) return;
    const uids = [...recent.values()].map((seen) => seen.uid);
    recent.clear();
    host.emit({
      evidence_type: 'DNS_ARPA_SCAN',
      description: `Doing DNS ARPA scan. Scanned ${ARPA_SCAN_QUERIES} hosts within ${ARPA_SCAN_SECONDS} seconds.`,
      attacker: { direction: 'SRC', ioc_type: 'IP', value: record.saddr },
      threat_level: 'medium',
      confidence: 0.7,
      timestamp: record.ts,
      uid: uids,
    });
  }

  function onDns(record: DnsRecord, ctx: FlowContext): void {
    dnsSeen = true;
    learnResolutions(record);
    if (isEligibleForConnectionCheck(record)) {
      const reported = ctx.twState('dns:resolutionsWithoutConnection', () => new Set<string>());
      if (!reported.has(record.query)) {
        const pending = { record, contacted: ctx.twState(CONTACTED, newContacted), reported };
        const overflow = pendingResolutions.push(record.ts + DNS_CONNECTION_WAIT, pending);
        if (overflow !== undefined) resolveResolution(overflow);
      }
    }
    checkHighEntropyAnswers(record);
    checkInvalidAnswers(record);
    checkNxDomains(record, ctx);
    checkLocalnet(record, ctx);
    checkArpaScan(record, ctx);
  }

  function resolveDue(networkTime: number): void {
    for (const pending of pendingConnections.takeDue(networkTime)) resolveConnection(pending);
    for (const pending of pendingResolutions.takeDue(networkTime)) resolveResolution(pending);
  }

  return {
    name: 'dns',
    evidenceTypes: [
      'DNS_WITHOUT_CONNECTION', 'CONNECTION_WITHOUT_DNS', 'HIGH_ENTROPY_DNS_ANSWER', 'INVALID_DNS_RESOLUTION',
      'DGA_NXDOMAINS', 'DIFFERENT_LOCALNET', 'DNS_ARPA_SCAN',
    ],
    handlers: {
      dns: onDns,
      conn: onConnection,
      ssl(record: SslRecord): void {
        if (record.is_DoH) remember(dohServers, record.daddr, true, MAX_DOH_SERVERS);
        if (record.server_name !== '') addToList(domainsOfIp, record.daddr, record.server_name, MAX_DOMAINS_PER_IP);
      },
    },
    advanceTime: resolveDue,
    finish: () => resolveDue(Infinity),
  };
};
