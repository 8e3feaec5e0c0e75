// Every Redis read of the TUI, one pipeline per question (docs/redis.md keys, with the Slips v1.1.21
// fallbacks of spec/tui.md §3.3): analysis and counters (the 1 Hz poll), profiles and their time
// windows (chunked for large databases), and the data of each main view. Results are parsed into
// plain objects; Redis errors (WRONGTYPE, a lost connection) become empty results or a thrown
// error the caller shows as stale data.

import type { Redis } from 'ioredis';
import type { AnalysisInfo, Counters, Profile, TwInfo } from './model.js';
import {
  num,
  parseAggMember,
  parseEvidence,
  parseTimeline,
  parseTwAlerts,
  threatValue,
  twNumber,
  type AggItem,
  type EvidenceItem,
  type TimelineItem,
} from './parse.js';

type PipelineResult = Array<[Error | null, unknown]>;

/** Profiles read per pipeline while loading a large database. */
export const PROFILE_CHUNK = 2000;
/** Timeline entries read per time window (the newest). */
export const TIMELINE_LIMIT = 5000;
/** Timeline entries scanned to compute aggregates when `:agg` keys are missing. */
export const AGG_FALLBACK_LIMIT = 20000;

const PROFILE_FIELDS = ['ip', 'score', 'alerts', 'evidence', 'flows', 'starttime', 'threat_level', 'host_name', 'MAC', 'MAC_vendor', 'gateway', 'confidence'] as const;

function value<T>(result: PipelineResult, index: number, fallback: T): T {
  const entry = result[index];
  if (entry === undefined || entry[0] !== null || entry[1] === null || entry[1] === undefined) return fallback;
  return entry[1] as T;
}

function pairs(list: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < list.length; i += 2) out.push([list[i], list[i + 1]]);
  return out;
}

export interface PollResult {
  counters: Counters;
  analysis: AnalysisInfo;
  modified: Array<[string, number]>;
  blocked: string[];
  /** flows_analyzed_by_all_modules_per_minute, when Slips wrote it. */
  perMinute: number;
}

export interface AlertItem {
  id: string;
  tw: string;
  time: number;
  evidenceIds: string[];
  atl: number;
}

export interface TwStats {
  fields: Record<string, string>;
  exists: boolean;
}

export class DbReader {
  constructor(private readonly redis: Redis) {}

  private async exec(build: (p: ReturnType<Redis['pipeline']>) => void): Promise<PipelineResult> {
    const pipeline = this.redis.pipeline();
    build(pipeline);
    const result = await pipeline.exec();
    if (result === null) throw new Error('pipeline aborted');
    const failure = result.find(([err]) => err !== null && !/WRONGTYPE/.test(err.message));
    if (failure !== undefined && failure[0] !== null) throw failure[0];
    return result;
  }

  /** The 1 Hz poll: counters, analysis, changed windows since `since` (network time), blocked list. */
  async poll(since: number): Promise<PollResult> {
    const r = await this.exec((p) => {
      p.get('processed_flows_by_profiler_so_far');
      p.hgetall('analysis');
      p.get('number_of_evidence');
      p.get('number_of_alerts');
      p.zcard('profiles');
      p.get('will_slips_have_more_flows');
      p.zrangebyscore('modified_timewindows', `(${since}`, '+inf', 'WITHSCORES');
      p.hkeys('BlockedProfTW');
      p.get('flows_analyzed_by_all_modules_per_minute');
    });
    const analysisFields = value<Record<string, string>>(r, 1, {});
    const analysis = analysisOf(analysisFields);
    return {
      counters: {
        processed: num(value(r, 0, '0')),
        total: num(analysisFields.total_flows),
        evidence: num(value(r, 2, '0')),
        alerts: num(value(r, 3, '0')),
        profiles: num(value(r, 4, 0)),
        moreFlows: value<string>(r, 5, '0') === '1',
      },
      analysis,
      modified: pairs(value<string[]>(r, 6, [])).map(([k, s]) => [k, num(s)]),
      blocked: value<string[]>(r, 7, []),
      perMinute: num(value(r, 8, '0')),
    };
  }

  /** Members of `profiles` (a zset; very old databases used a set). */
  async profileKeys(): Promise<Array<[string, number]>> {
    const r = await this.exec((p) => {
      p.zrange('profiles', 0, -1, 'WITHSCORES');
      p.smembers('profiles');
    });
    const zset = value<string[]>(r, 0, []);
    if (zset.length > 0) return pairs(zset).map(([k, s]) => [k, num(s)]);
    return value<string[]>(r, 1, []).map((k) => [k, NaN]);
  }

  /**
   * Profiles of these `profile_<ip>` keys. Profiles written by our core carry their counts and score;
   * for Slips databases the time windows are read too, to find alerts, evidence and a score.
   */
  async profiles(keys: ReadonlyArray<[string, number]>, blocked: ReadonlySet<string>): Promise<Profile[]> {
    const r = await this.exec((p) => {
      for (const [key] of keys) {
        p.hmget(key, ...PROFILE_FIELDS);
        p.zrange(`tws${key}`, 0, -1, 'WITHSCORES');
      }
    });
    const out: Profile[] = [];
    const needTws: Profile[] = [];
    const twLists = new Map<Profile, Array<[string, number]>>();
    keys.forEach(([key, firstSeen], i) => {
      const values = value<Array<string | null>>(r, i * 2, []);
      const fields: Record<string, string> = {};
      PROFILE_FIELDS.forEach((f, j) => {
        const v = values[j];
        if (v !== null && v !== undefined) fields[f] = v;
      });
      const ip = key.startsWith('profile_') ? key.slice(8) : key;
      const ours = fields.evidence !== undefined && fields.alerts !== undefined;
      const profile: Profile = {
        ip,
        score: fields.score !== undefined ? num(fields.score) : threatValue(fields.threat_level ?? ''),
        alerts: num(fields.alerts),
        evidence: num(fields.evidence),
        flows: num(fields.flows),
        firstSeen: Number.isFinite(firstSeen) ? firstSeen : num(fields.starttime),
        host: fields.host_name ?? '',
        mac: fields.MAC ?? '',
        blocked: blocked.has(key) || blocked.has(ip),
        tws: undefined,
        fields,
      };
      twLists.set(profile, pairs(value<string[]>(r, i * 2 + 1, [])).map(([k, s]) => [k, num(s)]));
      if (!ours) needTws.push(profile);
      out.push(profile);
    });
    if (needTws.length > 0) {
      const all = await this.timeWindows(needTws.map((p) => [p.ip, twLists.get(p) ?? []]));
      needTws.forEach((p, i) => {
        const tws = all[i];
        p.tws = tws;
        p.alerts = tws.reduce((s, t) => s + t.alerts, 0);
        p.evidence = tws.reduce((s, t) => s + t.evidence, 0);
        if (p.fields.score === undefined && p.alerts > 0) p.score = Math.max(p.score, 1);
      });
    }
    return out;
  }

  /** Time windows of one profile with markers. */
  async profileTws(ip: string): Promise<TwInfo[]> {
    const r = await this.exec((p) => {
      p.zrange(`twsprofile_${ip}`, 0, -1, 'WITHSCORES');
    });
    const list = pairs(value<string[]>(r, 0, [])).map(([k, s]): [string, number] => [k, num(s)]);
    return (await this.timeWindows([[ip, list]]))[0];
  }

  private async timeWindows(items: ReadonlyArray<[string, Array<[string, number]>]>): Promise<TwInfo[][]> {
    const r = await this.exec((p) => {
      for (const [ip, tws] of items) {
        for (const [tw] of tws) {
          const ptw = `profile_${ip}_${tw}`;
          p.hget(ptw, 'alerts');
          p.hlen(`${ptw}_evidence`);
          p.zscore('accumulated_threat_levels', ptw);
          p.exists(ptw, `${ptw}_timeline`, `${ptw}_evidence`, `${ptw}:stats`);
        }
      }
    });
    let i = 0;
    return items.map(([, tws]) =>
      tws
        .map(([name, start]): TwInfo => {
          const alerts = parseTwAlerts(value<string | null>(r, i, null)).size;
          const evidence = num(value(r, i + 1, 0));
          const atl = num(value(r, i + 2, '0'));
          const exists = num(value(r, i + 3, 0));
          i += 4;
          return { name, number: twNumber(name), start, alerts, evidence, atl, purged: exists === 0 };
        })
        .sort((a, b) => a.number - b.number),
    );
  }

  async timeline(ip: string, tw: string): Promise<{ items: TimelineItem[]; total: number }> {
    const key = `profile_${ip}_${tw}_timeline`;
    const r = await this.exec((p) => {
      p.zcard(key);
      p.zrange(key, -TIMELINE_LIMIT, -1, 'WITHSCORES');
    });
    const items = pairs(value<string[]>(r, 1, [])).map(([m, s]) => parseTimeline(m, num(s, NaN)));
    return { items, total: num(value(r, 0, 0)) };
  }

  /** Evidence of the given windows, minus whitelisted ids, oldest first. */
  async evidence(ip: string, tws: readonly string[]): Promise<EvidenceItem[]> {
    const r = await this.exec((p) => {
      p.hkeys('whitelisted_evidence');
      p.smembers('whitelisted_evidence');
      for (const tw of tws) p.hgetall(`profile_${ip}_${tw}_evidence`);
    });
    const whitelisted = new Set([...value<string[]>(r, 0, []), ...value<string[]>(r, 1, [])]);
    const out: EvidenceItem[] = [];
    tws.forEach((tw, i) => {
      for (const [id, json] of Object.entries(value<Record<string, string>>(r, i + 2, {}))) {
        if (whitelisted.has(id)) continue;
        const item = parseEvidence(id, json);
        if (!Number.isFinite(item.twNumber)) item.twNumber = twNumber(tw);
        out.push(item);
      }
    });
    return out.sort((a, b) => (a.time || 0) - (b.time || 0));
  }

  /** Alerts of the given windows, with their time from our `alerts` hash or their newest evidence. */
  async alerts(ip: string, tws: readonly string[]): Promise<AlertItem[]> {
    const r = await this.exec((p) => {
      for (const tw of tws) p.hget(`profile_${ip}_${tw}`, 'alerts');
    });
    const found: AlertItem[] = [];
    tws.forEach((tw, i) => {
      for (const [id, evidenceIds] of parseTwAlerts(value<string | null>(r, i, null))) {
        found.push({ id, tw, time: NaN, evidenceIds, atl: NaN });
      }
    });
    if (found.length === 0) return found;
    const details = await this.exec((p) => {
      for (const a of found) p.hget('alerts', a.id);
    });
    found.forEach((a, i) => {
      const json = value<string | null>(details, i, null);
      if (json === null) return;
      const parsed = parseEvidence(a.id, json);
      a.time = num(parsed.raw.last_flow_ts, NaN);
      a.atl = num(parsed.raw.accumulated_threat_level, NaN);
    });
    return found;
  }

  async twStats(ip: string, tws: readonly string[]): Promise<TwStats[]> {
    const r = await this.exec((p) => {
      for (const tw of tws) p.hgetall(`profile_${ip}_${tw}:stats`);
    });
    return tws.map((_, i) => {
      const fields = value<Record<string, string>>(r, i, {});
      return { fields, exists: Object.keys(fields).length > 0 };
    });
  }

  /** `:agg:<dim>` of one window; undefined when the key does not exist (Slips database). */
  async agg(ip: string, tw: string, dim: string): Promise<AggItem[] | undefined> {
    const r = await this.exec((p) => {
      p.hgetall(`profile_${ip}_${tw}:agg:${dim}`);
    });
    const fields = value<Record<string, string>>(r, 0, {});
    const entries = Object.entries(fields);
    if (entries.length === 0) return undefined;
    return entries.map(([m, v]) => parseAggMember(m, v)).filter((a): a is AggItem => a !== undefined);
  }

  async aggFallbackTimeline(ip: string, tw: string): Promise<TimelineItem[]> {
    const key = `profile_${ip}_${tw}_timeline`;
    const r = await this.exec((p) => {
      p.zrange(key, -AGG_FALLBACK_LIMIT, -1, 'WITHSCORES');
    });
    return pairs(value<string[]>(r, 0, [])).map(([m, s]) => parseTimeline(m, num(s, NaN)));
  }

  /** Whatever the main DB knows about one IP: its profile hash, DNS resolution. */
  async ipInfo(ip: string): Promise<Record<string, string>> {
    const r = await this.exec((p) => {
      p.hgetall(`profile_${ip}`);
      p.hget('DNSresolution', ip);
    });
    const info = { ...value<Record<string, string>>(r, 0, {}) };
    const dns = value<string | null>(r, 1, null);
    if (dns !== null) info.DNSresolution = dns;
    return info;
  }
}

export function analysisOf(fields: Record<string, string>): AnalysisInfo {
  return {
    name: fields.name ?? '',
    width: num(fields.time_window_width, 3600) || 3600,
    threshold: num(fields.evidence_detection_threshold, 0.25) || 0.25,
    pid: num(fields.pid),
    fields,
  };
}
