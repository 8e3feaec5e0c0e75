// Decoding of the values read from Redis (docs/redis.md, and Slips v1.1.21 shapes): pub/sub
// payloads, evidence, alerts (plain or double-encoded JSON), timeline activities, aggregate members
// and time stamps. Pure functions: bad input gives `undefined` or an `unparsable` marker, never a throw.

export type JsonObject = Record<string, unknown>;

export function parseJson(text: string | null | undefined): unknown {
  if (text === null || text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A published payload: a JSON object, or a bare string that becomes `{text}`. */
export function parsePayload(message: string): JsonObject {
  const value = parseJson(message);
  if (isObject(value)) return value;
  if (typeof value === 'string') return { text: value };
  return { text: message };
}

export function num(value: unknown, fallback = 0): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(n) ? n : fallback;
}

export function str(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return '';
}

/**
 * Unix seconds from a number, a numeric string, ISO text or Slips' `YYYY/MM/DD HH:MM:SS.ffffff+0000`;
 * NaN when unknown.
 */
export function parseTime(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string' || value === '') return NaN;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value);
  const slips = /^(\d{4})[/-](\d{2})[/-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d+)?\s*(Z|[+-]\d{2}:?\d{2})?$/.exec(value);
  if (slips !== null) {
    const [, y, mo, d, h, mi, s, frac, zone] = slips;
    const offset = zone === undefined || zone === 'Z' ? 'Z' : `${zone.slice(0, 3)}:${zone.slice(-2)}`;
    const ms = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}${offset}`);
    return Number.isNaN(ms) ? NaN : ms / 1000 + (frac !== undefined ? Number(frac) : 0);
  }
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? NaN : ms / 1000;
}

export const THREAT_LEVELS = ['info', 'low', 'medium', 'high', 'critical'] as const;
const THREAT_VALUE: Record<string, number> = { info: 0, low: 0.2, medium: 0.5, high: 0.8, critical: 1 };

export function threatValue(level: string): number {
  return THREAT_VALUE[level.toLowerCase()] ?? 0;
}

export interface EvidenceItem {
  id: string;
  type: string;
  description: string;
  level: string;
  confidence: number;
  time: number;
  attacker: string;
  victim: string;
  twNumber: number;
  uids: string[];
  raw: JsonObject;
}

function iocValue(value: unknown): string {
  if (isObject(value)) return str(value.value);
  return str(value);
}

export function parseEvidence(id: string, json: string): EvidenceItem {
  const value = parseJson(json);
  if (!isObject(value)) {
    return { id, type: 'unparsable', description: 'unparsable', level: 'info', confidence: 0, time: NaN, attacker: '', victim: '', twNumber: NaN, uids: [], raw: {} };
  }
  const tw = value.timewindow;
  const uids = Array.isArray(value.uid) ? value.uid.map(str) : value.uid !== undefined ? [str(value.uid)] : [];
  return {
    id: str(value.id) || id,
    type: str(value.evidence_type ?? value.type_evidence ?? value.type_detection),
    description: str(value.description),
    level: str(value.threat_level) || 'info',
    confidence: num(value.confidence),
    time: parseTime(value.timestamp ?? value.stime),
    attacker: iocValue(value.attacker),
    victim: iocValue(value.victim),
    twNumber: isObject(tw) ? num(tw.number, NaN) : num(/\d+$/.exec(str(value.timewindow ?? value.twid))?.[0], NaN),
    uids,
    raw: value,
  };
}

/** `<p>_<tw>` `alerts`: `{alert id: [evidence ids]}` (ours) or `{alert id: "<JSON list>"}` (Slips). */
export function parseTwAlerts(field: string | null | undefined): Map<string, string[]> {
  const alerts = new Map<string, string[]>();
  const value = parseJson(field);
  if (!isObject(value)) return alerts;
  for (const [id, ids] of Object.entries(value)) {
    const list = typeof ids === 'string' ? parseJson(ids) : ids;
    alerts.set(id, Array.isArray(list) ? list.map(str) : []);
  }
  return alerts;
}

export interface TimelineItem {
  time: number;
  portName: string;
  outgoing: boolean;
  peer: string;
  dportProto: string;
  state: string;
  sent: number;
  recv: number;
  total: number;
  duration: number;
  dns: string;
  warning: string;
  critical: string;
  info: string;
  raw: JsonObject;
}

/** `info` of an activity as one text: an object becomes `key: value` pairs, lists joined by `, `. */
export function infoText(info: unknown): string {
  if (info === undefined || info === null || info === '') return '';
  if (typeof info === 'string') return info;
  if (Array.isArray(info)) return info.map(infoText).join(', ');
  if (isObject(info)) {
    return Object.entries(info)
      .filter(([, v]) => v !== '' && v !== undefined && v !== null)
      .map(([k, v]) => `${k}: ${infoText(v)}`)
      .join('  ');
  }
  return String(info);
}

export function parseTimeline(member: string, score: number): TimelineItem {
  const value = parseJson(member);
  if (!isObject(value)) {
    return { time: score, portName: '', outgoing: true, peer: '', dportProto: '', state: 'unparsable', sent: 0, recv: 0, total: 0, duration: 0, dns: '', warning: '', critical: '', info: member, raw: {} };
  }
  const preposition = str(value.preposition);
  const outgoing = preposition !== 'from';
  return {
    time: Number.isFinite(score) ? score : parseTime(value.ts ?? value.timestamp),
    portName: str(value.dport_name),
    outgoing,
    peer: str(outgoing ? value.daddr : value.saddr ?? value.daddr),
    dportProto: str(value['dport/proto']),
    state: str(value.state),
    sent: num(value.sent),
    recv: num(value.recv),
    total: num(value.tot ?? value.size),
    duration: num(value.duration),
    dns: str(value.dns_resolution),
    warning: str(value.warning),
    critical: str(value['critical warning']),
    info: infoText(value.info),
    raw: value,
  };
}

export interface AggItem {
  proto: string;
  key: string;
  established: boolean;
  flows: number;
  pkts: number;
  bytes: number;
}

/** `<proto>/<key>/<est|notest>` → `"<flows>,<pkts>,<bytes>"`; the key itself may contain `/`. */
export function parseAggMember(member: string, value: string): AggItem | undefined {
  const first = member.indexOf('/');
  const last = member.lastIndexOf('/');
  if (first <= 0 || last <= first) return undefined;
  const state = member.slice(last + 1);
  const [flows, pkts, bytes] = value.split(',').map((v) => num(v));
  return {
    proto: member.slice(0, first),
    key: member.slice(first + 1, last),
    established: state === 'est',
    flows: flows ?? 0,
    pkts: pkts ?? 0,
    bytes: bytes ?? 0,
  };
}

/** `profile_<ip>` → `<ip>`; `profile_<ip>_timewindow<n>` → [`<ip>`, `timewindow<n>`]. */
export function ipOfProfile(profileKey: string): string {
  return profileKey.startsWith('profile_') ? profileKey.slice('profile_'.length) : profileKey;
}

export function splitProfileTw(key: string): [string, string] | undefined {
  const match = /^profile_(.+)_(timewindow-?\d+)$/.exec(key);
  return match === null ? undefined : [match[1], match[2]];
}

export function twNumber(tw: string): number {
  return num(/-?\d+$/.exec(tw)?.[0], NaN);
}
