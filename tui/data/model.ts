// What the TUI knows about the database: profiles with their scores, markers and time windows, the
// analysis hash and the global counters. Kept as plain maps plus one sorted, filtered array of IPs
// (never blessed list items), so 100,000 profiles cost one sort per change, not one widget each.

export interface TwInfo {
  name: string;
  number: number;
  start: number;
  alerts: number;
  evidence: number;
  atl: number;
  /** Listed in tws<p> but its detail keys are gone (Slips deletes windows two behind a closed one). */
  purged: boolean;
}

export interface Profile {
  ip: string;
  score: number;
  alerts: number;
  evidence: number;
  flows: number;
  firstSeen: number;
  host: string;
  mac: string;
  blocked: boolean;
  /** Time windows, loaded when the profile is expanded or its TWs are needed for its markers. */
  tws: TwInfo[] | undefined;
  /** The `<p>` hash as read. */
  fields: Record<string, string>;
}

export interface Counters {
  processed: number;
  total: number;
  evidence: number;
  alerts: number;
  profiles: number;
  moreFlows: boolean;
}

export interface AnalysisInfo {
  name: string;
  width: number;
  threshold: number;
  pid: number;
  fields: Record<string, string>;
}

export type TreeSort = 'score' | 'ip' | 'first seen' | 'alerts';
export const TREE_SORTS: readonly TreeSort[] = ['score', 'ip', 'first seen', 'alerts'];

export type TreeFilter = 'alerts' | 'evidence' | 'blocked' | 'host' | 'score';

export interface TreeFilterState {
  kind: TreeFilter;
  minScore: number;
}

/**
 * A string whose plain order is the numeric IP order: IPv4 first (`4` + 8 hex digits), then IPv6
 * (`6` + 32 hex digits), then anything else. Computed once per profile, so sorting 100k is cheap.
 */
export function ipOrderKey(ip: string): string {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return `4${ip.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join('')}`;
  if (ip.includes(':')) {
    const [head, tail] = ip.split('::');
    const h = head === '' ? [] : head.split(':');
    const t = tail === undefined || tail === '' ? [] : tail.split(':');
    const groups = tail === undefined ? h : [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
    return `6${groups.map((g) => (parseInt(g, 16) || 0).toString(16).padStart(4, '0')).join('')}`;
  }
  return `9${ip}`;
}

/** Numeric order of IP addresses: 10.0.0.2 before 10.0.0.10. */
export function compareIp(a: string, b: string): number {
  const ka = ipOrderKey(a);
  const kb = ipOrderKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : a < b ? -1 : a > b ? 1 : 0;
}

export class Model {
  readonly profiles = new Map<string, Profile>();
  analysis: AnalysisInfo = { name: '', width: 3600, threshold: 0.25, pid: 0, fields: {} };
  counters: Counters = { processed: 0, total: 0, evidence: 0, alerts: 0, profiles: 0, moreFlows: false };
  blocked = new Set<string>();
  sort: TreeSort = 'score';
  reverse = false;
  filter: TreeFilterState | undefined;
  private order: string[] = [];
  private orderDirty = true;
  private readonly ipKeys = new Map<string, string>();

  /** Threshold of an alert in one window: evidence_detection_threshold × width / 60 (15 by default). */
  get alertThreshold(): number {
    return (this.analysis.threshold * this.analysis.width) / 60;
  }

  upsert(profile: Profile): void {
    this.profiles.set(profile.ip, profile);
    if (!this.ipKeys.has(profile.ip)) this.ipKeys.set(profile.ip, ipOrderKey(profile.ip));
    this.orderDirty = true;
  }

  invalidateOrder(): void {
    this.orderDirty = true;
  }

  clear(): void {
    this.profiles.clear();
    this.ipKeys.clear();
    this.blocked.clear();
    this.order = [];
    this.orderDirty = true;
  }

  private passes(p: Profile): boolean {
    const f = this.filter;
    if (f === undefined) return true;
    switch (f.kind) {
      case 'alerts':
        return p.alerts > 0;
      case 'evidence':
        return p.evidence > 0 || p.alerts > 0;
      case 'blocked':
        return p.blocked;
      case 'host':
        return p.host !== '';
      case 'score':
        return p.score >= f.minScore;
    }
  }

  private compare(a: Profile, b: Profile): number {
    let d = 0;
    switch (this.sort) {
      case 'score':
        d = b.score - a.score || b.alerts - a.alerts || b.evidence - a.evidence;
        break;
      case 'alerts':
        d = b.alerts - a.alerts || b.evidence - a.evidence || b.score - a.score;
        break;
      case 'first seen':
        d = a.firstSeen - b.firstSeen;
        break;
      case 'ip':
        break;
    }
    if (d === 0) {
      const ka = this.ipKeys.get(a.ip) ?? '';
      const kb = this.ipKeys.get(b.ip) ?? '';
      d = ka < kb ? -1 : ka > kb ? 1 : 0;
    }
    return this.reverse ? -d : d;
  }

  /** The IPs shown in the tree, sorted and filtered; recomputed only after a change. */
  orderedIps(): readonly string[] {
    if (this.orderDirty) {
      const list: Profile[] = [];
      for (const p of this.profiles.values()) if (this.passes(p)) list.push(p);
      list.sort((a, b) => this.compare(a, b));
      this.order = list.map((p) => p.ip);
      this.orderDirty = false;
    }
    return this.order;
  }
}
