// Zeek's software framework for the pcap analyzers: version strings parsed like Zeek's
// Software::parse, and software.log records emitted like Zeek's default asset tracking: only for
// local hosts, and once per host + software type + name until its version changes.

import type { SoftwareRecord } from '../records.js';
import type { AnalyzerOutput } from './analyzer.js';
import type { TrackedConn } from './conntrack.js';
import { isLocalAddr, type ZeekLogSpec, zeekString, zeekTime } from './zeekLog.js';

/** Most host + software entries remembered for the once-per-version rule. */
const MAX_TRACKED_SOFTWARE = 100_000;

export const SOFTWARE_LOG: ZeekLogSpec = {
  path: 'software',
  fields: [
    ['ts', 'time'], ['host', 'addr'], ['host_p', 'port'], ['software_type', 'enum'], ['name', 'string'],
    ['version.major', 'count'], ['version.minor', 'count'], ['version.minor2', 'count'], ['version.minor3', 'count'],
    ['version.addl', 'string'], ['unparsed_version', 'string'],
  ],
};

/** A software version as Zeek's Software::Version ('' for an unset part). */
export interface SoftwareVersion {
  name: string;
  major: string;
  minor: string;
  minor2: string;
  minor3: string;
  addl: string;
}

/** The separator + number run Zeek's Software::parse splits a version string at. */
const VERSION_RUN = /([/\-_]|( [(v]+))?[0-9\-._, ]{2,}/;

/** Zeek's Software::parse for non-browser strings: name, then up to four numbers and an addl. */
export function parseSoftwareVersion(unparsed: string): SoftwareVersion {
  const out: SoftwareVersion = { name: unparsed.trim(), major: '', minor: '', minor2: '', minor3: '', addl: '' };
  const match = VERSION_RUN.exec(unparsed);
  if (match === null) return out;
  out.name = unparsed.slice(0, match.index).replace(/[[\]()]/g, '').trim();
  const numbers = match[0].replace(/^[/\-_. (v]+/, '').split(/[-._,[\]\s]/, 4);
  const count = (s: string | undefined): string => (s !== undefined && /^\d+/.test(s) ? String(Number(/^\d+/.exec(s)![0])) : '');
  out.major = count(numbers[0]);
  out.minor = count(numbers[1]);
  out.minor2 = count(numbers[2]);
  out.minor3 = count(numbers[3]);
  const rest = unparsed.slice(match.index + match[0].length);
  const parenthesized = /^\s*\(([a-zA-Z0-9\-._\s]*)\)/.exec(rest);
  out.addl = parenthesized !== null ? parenthesized[1]! : (rest.split(/[-._,;[\]\s]/)[0] ?? '').trim();
  return out;
}

/** One sighting of software on a host, as the analyzers report it. */
export interface SoftwareSighting {
  conn: TrackedConn;
  /** The host running the software is the connection's originator. */
  isOrig: boolean;
  /** Zeek's software type, e.g. SSH::CLIENT, HTTP::BROWSER, HTTP::SERVER. */
  type: string;
  unparsed: string;
  /** How the type's version strings are parsed (e.g. parseSoftwareVersion). */
  parse: (unparsed: string) => SoftwareVersion;
  /** HTTP::BROWSER (Slips' http_browser flag). */
  browser?: boolean;
}

interface ParsedVersion {
  version: SoftwareVersion;
  /** The numbers and addl joined: what "the version changed" compares. */
  versionKey: string;
}

/** Most parsed version strings remembered per parser. */
const MAX_PARSED = 10_000;

/** Emits software records and software.log lines for the sightings of one capture. */
export class SoftwareTracker {
  /** Last logged version per host + software type + name (Zeek's Software::tracked). */
  private readonly tracked = new Map<string, string>();
  /** Parsed version strings by parser (the same strings come again and again), with their version keys. */
  private readonly parsed = new Map<(unparsed: string) => SoftwareVersion, Map<string, ParsedVersion>>();

  constructor(private readonly out: AnalyzerOutput) {}

  report(s: SoftwareSighting): void {
    const conn = s.conn;
    const host = s.isOrig ? conn.origH : conn.respH;
    if (!isLocalAddr(host)) return;
    const { version: v, versionKey } = this.parsedVersion(s.unparsed, s.parse);
    const key = `${host}\0${s.type}\0${v.name}`;
    if (this.tracked.get(key) === versionKey) return;
    if (this.tracked.size >= MAX_TRACKED_SOFTWARE && !this.tracked.has(key)) this.tracked.clear();
    this.tracked.set(key, versionKey);
    const record: SoftwareRecord = {
      kind: 'software',
      ts: conn.tracker.now,
      uid: '',
      saddr: host,
      daddr: '',
      interface: conn.iface,
      source: 'pcap',
      sport: s.isOrig ? 0 : conn.respP,
      software: s.type,
      software_name: v.name,
      version_major: v.major,
      version_minor: v.minor,
      unparsed_version: s.unparsed,
      http_browser: s.browser ?? false,
    };
    this.out.record(record);
    if (!this.out.logging) return;
    const count = (n: string): string => (n === '' ? '-' : n);
    this.out.log(SOFTWARE_LOG, [
      zeekTime(record.ts), host, record.sport === 0 ? '-' : record.sport, s.type, zeekString(v.name), count(v.major),
      count(v.minor), count(v.minor2), count(v.minor3), v.addl === '' ? '-' : zeekString(v.addl), zeekString(s.unparsed),
    ]);
  }

  private parsedVersion(unparsed: string, parse: (unparsed: string) => SoftwareVersion): ParsedVersion {
    let byText = this.parsed.get(parse);
    if (byText === undefined) {
      byText = new Map();
      this.parsed.set(parse, byText);
    }
    let entry = byText.get(unparsed);
    if (entry === undefined) {
      const version = parse(unparsed);
      entry = { version, versionKey: [version.major, version.minor, version.minor2, version.minor3, version.addl].join('.') };
      if (byText.size >= MAX_PARSED) byText.clear();
      byText.set(unparsed, entry);
    }
    return entry;
  }
}
