// alerts.json: evidence and alerts as IDMEFv2 messages (Slips' idmefv2.py plus the Note the
// evidence handler adds), one JSON object per line, serialized the way Python's json.dumps does
// (`", "` and `": "` separators, non-ASCII escaped, floats like `15.0`) so the files match Slips'.
//
// Field order follows Slips: an event is Version, Analyzer, Status, ID, Severity, StartTime,
// CreateTime, Confidence, Description, Source, [Target], [Attachment], [RelID], Note.
// Source/Target Notes are JSON strings and are left out when empty.
// Difference from Slips (bug §10.16 fixed): an MD5 attacker gives an Attachment instead of
// breaking the conversion; it has no Source entry because IDMEF has no hash-valued source.

import { randomUUID } from 'node:crypto';
import { SLIPS_COMPAT_VERSION } from '../cli.js';
import { confidenceLabel, type Alert, type Evidence, type IoC, type ThreatLevelName } from '../evidence.js';
import { describeWithThreatLevel } from './alertsLog.js';
import { isoLocal, nowSeconds } from './time.js';

export const IDMEF_VERSION = '2.0.3';
/** Analyzer Model: the Slips version whose formats this port reproduces. */
export const IDMEF_MODEL = SLIPS_COMPAT_VERSION;
/** Analyzer IP when the host IP is unknown or the input is not live. */
export const DEFAULT_ANALYZER_IP = '0.0.0.0';

/** A number Python would hold as a float: serialized as `15.0`, `1e-05`, ... */
export class PyFloat {
  constructor(readonly value: number) {}
  toJSON(): number {
    return this.value;
  }
}

/** Python repr() of a float. */
export function pythonFloat(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const [mantissa, exponentText] = value.toExponential().split('e') as [string, string];
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 16) {
    const sign = exponent < 0 ? '-' : '+';
    return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  const fixed = String(value);
  return fixed.includes('.') ? fixed : `${fixed}.0`;
}

/** Characters json.dumps writes as they are (printable ASCII except `"` and `\\`). */
const NEEDS_ESCAPE = /[^\x20\x21\x23-\x5b\x5d-\x7e]/;

function pythonString(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return `"${text}"`;
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const ch = text[i];
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (code < 0x20 || code > 0x7e) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/**
 * Python `json.dumps(value)` with default settings. Integral numbers print as ints; wrap a value
 * in PyFloat to print it as a Python float. Keys whose value is undefined are skipped.
 */
export function pythonJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (value instanceof PyFloat) return pythonFloat(value.value);
  switch (typeof value) {
    case 'string': return pythonString(value);
    case 'boolean': return value ? 'true' : 'false';
    case 'number': return Number.isInteger(value) ? String(value) : pythonFloat(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
      const entries = Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${pythonString(k)}: ${pythonJson(v)}`);
      return `{${entries.join(', ')}}`;
    }
    default:
      throw new TypeError(`cannot serialize a ${typeof value} as JSON`);
  }
}

export type IdmefSeverity = 'Info' | 'Low' | 'Medium' | 'High';

const SEVERITY: Readonly<Record<ThreatLevelName, IdmefSeverity>> = {
  info: 'Info',
  low: 'Low',
  medium: 'Medium',
  high: 'High',
  critical: 'High',
};

/** IDMEFv2 Severity of a Slips threat level (critical has no IDMEF value and maps to High). */
export function idmefSeverity(level: ThreatLevelName): IdmefSeverity {
  return SEVERITY[level];
}

/** What Slips knows about an attacker or victim beyond its value (cache DB lookups). */
export interface IocEnrichment {
  /** Name of the threat-intelligence feed that lists it. */
  TI?: string;
  AS?: { org: string; number: string | number };
  rDNS?: string;
  SNI?: string;
}

export interface IdmefAnalyzer {
  IP: string;
  Name: 'Slips';
  Model: string;
  Category: ['NIDS'];
  Data: ['Flow', 'Network'];
  Method: [string];
}

/** One Source or Target entry: exactly one of IP / Hostname / URL. */
export interface IdmefEndpoint {
  IP?: string;
  Hostname?: string;
  URL?: string;
  /** JSON string, present only when there is something to say. */
  Note?: string;
  Port?: [number];
  Protocol?: [string];
  TI?: [string];
}

export interface IdmefAttachment {
  Name: string;
  Hash: [string];
  Size?: number;
}

export interface IdmefEvent {
  Version: string;
  Analyzer: IdmefAnalyzer;
  Status: 'Event';
  ID: string;
  Severity: IdmefSeverity;
  StartTime: string;
  CreateTime: string;
  Confidence: number;
  Description: string;
  Source: IdmefEndpoint[];
  Target?: IdmefEndpoint[];
  Attachment?: IdmefAttachment[];
  RelID?: string[];
  /** JSON string: {uids, accumulated_threat_level, threat_level, confidence, timewindow}. */
  Note: string;
}

export interface IdmefIncident {
  Version: string;
  Analyzer: IdmefAnalyzer;
  Source: [{ IP: string }];
  ID: string;
  Status: 'Incident';
  StartTime: string;
  CreateTime: string;
  CorrelID: string[];
  /** JSON string: {accumulated_threat_level, timewindow, EndTime}. */
  Note: string;
}

export interface IdmefCommonOptions {
  /** Host IP when running on live traffic; default 0.0.0.0. */
  analyzerIp?: string;
  /** Message creation time, unix seconds; default now. */
  now?: number;
}

export interface IdmefEventOptions extends IdmefCommonOptions {
  /** The profile+TW accumulated threat level after this evidence was counted. */
  accumulatedThreatLevel: number;
  /** Cached knowledge about the attacker / victim (TI feed, AS, rDNS, SNI). */
  enrichmentOf?: (ioc: IoC) => IocEnrichment | undefined;
}

export interface IdmefIncidentOptions extends IdmefCommonOptions {
  /** Detection method of the alert's last evidence; default Heuristic. */
  method?: string;
}

function analyzer(ip: string | undefined, method: string): IdmefAnalyzer {
  return {
    IP: ip ?? DEFAULT_ANALYZER_IP,
    Name: 'Slips',
    Model: IDMEF_MODEL,
    Category: ['NIDS'],
    Data: ['Flow', 'Network'],
    Method: [method],
  };
}

/** The Source/Target entry for an IoC; undefined for an MD5, which IDMEF carries as an Attachment. */
function endpoint(ioc: IoC): IdmefEndpoint | undefined {
  switch (ioc.ioc_type) {
    case 'IP': return { IP: ioc.value };
    case 'DOMAIN': return { Hostname: ioc.value };
    case 'URL': return { URL: ioc.value };
    case 'MD5': return undefined;
  }
}

/** Builds an endpoint in Slips' key order: value, Note, Port, Protocol, TI. */
function withExtras(
  base: IdmefEndpoint,
  note: Record<string, unknown>,
  port: number | undefined,
  protocol: string | undefined,
  ti: string | undefined,
): IdmefEndpoint {
  const out: IdmefEndpoint = { ...base };
  if (Object.keys(note).length > 0) out.Note = pythonJson(note);
  if (port) out.Port = [port];
  if (protocol) out.Protocol = [protocol];
  if (ti) out.TI = [ti];
  return out;
}

function pick(enrichment: IocEnrichment | undefined, keys: ReadonlyArray<keyof IocEnrichment>): Record<string, unknown> {
  const note: Record<string, unknown> = {};
  for (const key of keys) {
    const value = enrichment?.[key];
    if (value) note[key] = value;
  }
  return note;
}

/** Size in bytes from a downloaded-file description (`... size: 1234 bytes ...`). */
function fileSizeFrom(description: string): number | undefined {
  const match = /size:\s*([\d.]+)/.exec(description);
  if (!match) return undefined;
  const size = Number.parseInt(match[1]!.replaceAll('.', ''), 10);
  return Number.isFinite(size) ? size : undefined;
}

/** The alerts.json line object for one evidence. */
export function idmefEvent(evidence: Evidence, opts: IdmefEventOptions): IdmefEvent {
  const description = describeWithThreatLevel(evidence);
  const source: IdmefEndpoint[] = [];
  let attachment: IdmefAttachment[] | undefined;
  const attacker = endpoint(evidence.attacker);
  if (attacker) {
    const info = opts.enrichmentOf?.(evidence.attacker);
    source.push(withExtras(attacker, pick(info, ['AS', 'rDNS', 'SNI']), evidence.src_port, evidence.proto?.toUpperCase(), info?.TI));
  } else {
    const size = fileSizeFrom(description);
    attachment = [{ Name: randomUUID(), Hash: [`md5:${evidence.attacker.value}`], ...(size !== undefined ? { Size: size } : {}) }];
  }

  let target: IdmefEndpoint[] | undefined;
  const victim = evidence.victim ? endpoint(evidence.victim) : undefined;
  if (evidence.victim && victim) {
    const info = opts.enrichmentOf?.(evidence.victim);
    target = [withExtras(victim, pick(info, ['TI', 'AS', 'rDNS', 'SNI']), evidence.dst_port, undefined, undefined)];
  }

  return {
    Version: IDMEF_VERSION,
    Analyzer: analyzer(opts.analyzerIp, evidence.method),
    Status: 'Event',
    ID: evidence.id,
    Severity: idmefSeverity(evidence.threat_level),
    StartTime: isoLocal(evidence.timestamp),
    CreateTime: isoLocal(opts.now ?? nowSeconds()),
    Confidence: evidence.confidence,
    Description: description,
    Source: source,
    ...(target ? { Target: target } : {}),
    ...(attachment ? { Attachment: attachment } : {}),
    ...(evidence.rel_id.length > 0 ? { RelID: [...evidence.rel_id] } : {}),
    // Last, as Slips' evidence handler adds it after the conversion.
    Note: pythonJson({
      uids: evidence.uid,
      accumulated_threat_level: new PyFloat(opts.accumulatedThreatLevel),
      threat_level: evidence.threat_level,
      confidence: confidenceLabel(evidence.confidence),
      timewindow: evidence.timewindow.number,
    }),
  };
}

/** The alerts.json line object for one alert. */
export function idmefIncident(alert: Alert, opts: IdmefIncidentOptions = {}): IdmefIncident {
  return {
    Version: IDMEF_VERSION,
    Analyzer: analyzer(opts.analyzerIp, opts.method ?? 'Heuristic'),
    Source: [{ IP: alert.profile.ip }],
    ID: alert.id,
    Status: 'Incident',
    StartTime: isoLocal(alert.timewindow.start_time),
    CreateTime: isoLocal(opts.now ?? nowSeconds()),
    CorrelID: [...alert.correl_id],
    Note: pythonJson({
      accumulated_threat_level: new PyFloat(alert.accumulated_threat_level),
      timewindow: alert.timewindow.number,
      EndTime: isoLocal(alert.timewindow.end_time),
    }),
  };
}
