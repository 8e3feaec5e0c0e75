// Checks of Slips' http_analyzer module over http.log and weird.log (detections spec §4.4):
// SUSPICIOUS_USER_AGENT, EMPTY_CONNECTIONS (fix #21: counted per profile + time window + host),
// MULTIPLE_USER_AGENT, INCOMPATIBLE_USER_AGENT, EXECUTABLE_MIME_TYPE, PASTEBIN_DOWNLOAD,
// HTTP_TRAFFIC and WEIRD_HTTP_METHOD. Tokens and vendor keywords match whole words and
// application/octet-stream is not an executable (fix #22); the HTTP_TRAFFIC and user-agent checks
// report once per profile + time window + key (fix #23). Slips asks useragentstring.com what a
// user agent is; here a small local parser (parseUserAgent) answers instead.

import type { ConnRecord, HttpRecord, WeirdRecord } from '../inputs/records.js';
import type { EvidenceType } from '../core/evidence.js';
import type { DetectionHost, DetectorFactory, FlowContext } from './api.js';
import { pyFloat } from './format.js';

/** User-agent tokens of malware and exploitation tools. */
const SUSPICIOUS_UA_TOKENS = ['httpsend', 'chm_msdn', 'pb', 'jndi', 'tesseract'];
/** Search engines and mail sites whose empty `/` requests malware uses to test connectivity. */
const EMPTY_CONNECTION_HOSTS = ['bing.com', 'google.com', 'yandex.com', 'yahoo.com', 'duckduckgo.com', 'gmail.com'];
/** Empty requests to one of those hosts that make the evidence. */
const EMPTY_CONNECTIONS = 4;
const EXECUTABLE_MIME_TYPES = new Set([
  'application/x-msdownload', 'application/x-ms-dos-executable', 'application/x-ms-exe', 'application/x-exe',
  'application/x-winexe', 'application/x-winhlp', 'application/x-winhelp', 'application/x-dosexec',
]);
/** Operating-system families and the words that identify them in a MAC vendor or an OS name. */
const OS_FAMILIES: readonly (readonly string[])[] = [
  ['macos', 'ios', 'apple', 'os x', 'mac', 'macintosh', 'darwin'],
  ['microsoft', 'windows', 'nt'],
  ['android', 'google'],
];
/** Seconds of network time a weird.log record waits for its conn.log flow (Slips: 15 s). */
const WEIRD_CONN_WAIT = 15;

/** What Slips keeps about a user agent: its OS name and type and the browser ("" = unknown). */
export interface UserAgentInfo {
  user_agent: string;
  os_name: string;
  os_type: string;
  browser: string;
}

/** `word` occurs in `text` (both lower-case) delimited by non-alphanumerics or the ends. */
function hasWord(text: string, word: string): boolean {
  for (let at = text.indexOf(word); at !== -1; at = text.indexOf(word, at + 1)) {
    const before = text.charAt(at - 1);
    const after = text.charAt(at + word.length);
    if (!/[a-z0-9]/.test(before) && !/[a-z0-9]/.test(after)) return true;
  }
  return false;
}

/** Python's str.capitalize(). */
function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1).toLowerCase();
}

/** Python's repr of a list of strings: ['a', 'b']. */
function pyStringList(items: readonly string[]): string {
  return `[${items.map((item) => `'${item}'`).join(', ')}]`;
}

/** [os_type, os_name pattern]: the first pattern found names the OS (os_name is the text matched). */
const OS_PATTERNS: readonly [string, RegExp][] = [
  ['Windows', /Windows (?:NT|Phone|CE)[ \d.]*|Windows(?: \d+)?/],
  ['Android', /Android[ \d.]*/],
  ['iOS', /(?:iPhone|CPU) OS [\d_]+/],
  ['iOS', /iPhone|iPad|iPod/],
  ['Macintosh', /Mac OS X[ \d_.]*|Macintosh/],
  ['Chrome OS', /CrOS/],
  ['Darwin', /Darwin/],
  ['Linux', /Ubuntu|Fedora|Debian|Linux/],
];

/** [browser, pattern], most specific first (a Chrome user agent also says Safari). */
const BROWSER_PATTERNS: readonly [string, RegExp][] = [
  ['Edge', /Edg(?:e|A|iOS)?\//],
  ['Opera', /OPR\/|Opera/],
  ['Firefox', /Firefox\/|FxiOS\//],
  ['Chrome', /Chrome\/|CriOS\//],
  ['Safari', /Version\/[\d.]+.*Safari\//],
  ['Internet Explorer', /MSIE |Trident\//],
];

/**
 * Local stand-in for Slips' useragentstring.com lookup. `server-bag[macOS,11.5.1,…]` gives
 * os_name macOS, os_type macOS11.5.1 (as Slips parses it). Otherwise os_type is the OS family,
 * os_name the text of the user agent that named it (so it occurs in the user agent), and browser
 * the browser family; unknown parts are "".
 */
export function parseUserAgent(userAgent: string): UserAgentInfo {
  const serverBag = /^server-bag\[([^,\]]*),([^,\]]*)/.exec(userAgent);
  if (serverBag !== null) {
    const [, name = '', version = ''] = serverBag;
    return { user_agent: userAgent, os_name: name, os_type: `${name}${version}`, browser: '' };
  }
  let osName = '';
  let osType = '';
  for (const [type, pattern] of OS_PATTERNS) {
    const match = pattern.exec(userAgent);
    if (match === null) continue;
    osType = type;
    osName = match[0].trim();
    break;
  }
  const browser = BROWSER_PATTERNS.find(([, pattern]) => pattern.test(userAgent))?.[0] ?? '';
  return { user_agent: userAgent, os_name: osName, os_type: osType, browser };
}

/** The OS family (index in OS_FAMILIES) a MAC vendor belongs to, or -1. */
function vendorFamily(vendor: string): number {
  const text = vendor.toLowerCase();
  return OS_FAMILIES.findIndex((words) => words.some((word) => hasWord(text, word)));
}

/** Slips' incompatibility rule between a device's MAC vendor and the OS of its user agent. */
export function isIncompatibleUserAgent(info: UserAgentInfo, vendor: string): boolean {
  if (info.browser.toLowerCase().includes('safari') && !vendor.toLowerCase().includes('apple')) return true;
  const family = vendorFamily(vendor);
  if (family === -1) return false;
  const os = `${info.os_name} ${info.os_type}`.toLowerCase();
  return OS_FAMILIES.some((words, index) => index !== family && words.some((word) => hasWord(os, word)));
}

/** What the analyzer remembers per profile: its first user agent and its MAC address. */
interface ProfileHttp {
  firstUserAgent: UserAgentInfo | undefined;
  mac: string;
}

function profileOf(ctx: FlowContext): ProfileHttp {
  return ctx.profileState<ProfileHttp>('http:profile', () => ({ firstUserAgent: undefined, mac: '' }));
}

/** True the first time (type, key) is seen in this profile + time window. */
function firstReport(ctx: FlowContext, type: EvidenceType, key: string): boolean {
  const reported = ctx.twState('http:reported', () => new Set<string>());
  const id = `${type} ${key}`;
  if (reported.has(id)) return false;
  reported.add(id);
  return true;
}

function checkSuspiciousUserAgent(host: DetectionHost, record: HttpRecord, ctx: FlowContext): void {
  const userAgent = record.user_agent.toLowerCase();
  if (!SUSPICIOUS_UA_TOKENS.some((token) => hasWord(userAgent, token))) return;
  if (!firstReport(ctx, 'SUSPICIOUS_USER_AGENT', record.user_agent)) return;
  host.emit({
    evidence_type: 'SUSPICIOUS_USER_AGENT',
    description: `Suspicious user-agent: ${record.user_agent} while connecting to ${record.host}${record.uri}`,
    attacker: { direction: 'SRC', ioc_type: 'IP', value: ctx.profileIp },
    threat_level: 'high',
    confidence: 1,
    timestamp: record.ts,
    uid: [record.uid],
  });
}

function checkEmptyConnections(host: DetectionHost, record: HttpRecord, ctx: FlowContext): void {
  if (record.uri !== '/' || record.request_body_len !== 0) return;
  const requested = record.host.toLowerCase();
  const site = EMPTY_CONNECTION_HOSTS.find((name) => requested === name || requested === `www.${name}`);
  if (site === undefined) return;
  const counters = ctx.twState('http:emptyConnections', () => new Map<string, string[]>());
  const uids = counters.get(site) ?? [];
  uids.push(record.uid);
  if (uids.length < EMPTY_CONNECTIONS) {
    counters.set(site, uids);
    return;
  }
  counters.delete(site);
  host.emit({
    evidence_type: 'EMPTY_CONNECTIONS',
    description: `Multiple empty HTTP connections to ${site}`,
    attacker: { direction: 'SRC', ioc_type: 'IP', value: record.saddr },
    threat_level: 'medium',
    confidence: 1,
    timestamp: record.ts,
    uid: uids,
  });
}

/** Caches the profile's first user agent; reports later ones that do not name its OS. */
function checkUserAgents(host: DetectionHost, record: HttpRecord, ctx: FlowContext): void {
  if (record.user_agent === '') return;
  const profile = profileOf(ctx);
  const first = profile.firstUserAgent;
  if (first === undefined) {
    profile.firstUserAgent = parseUserAgent(record.user_agent);
    return;
  }
  const current = record.user_agent;
  if (current.includes(first.os_type) || current.includes(first.os_name)) return;
  if (!firstReport(ctx, 'MULTIPLE_USER_AGENT', current)) return;
  host.emit({
    evidence_type: 'MULTIPLE_USER_AGENT',
    description: `Using multiple user-agents: "${first.user_agent}" then "${current}"`,
    attacker: { direction: 'SRC', ioc_type: 'IP', value: record.saddr },
    threat_level: 'info',
    confidence: 1,
    timestamp: record.ts,
    uid: [record.uid],
  });
}

function checkIncompatibleUserAgent(host: DetectionHost, record: HttpRecord, ctx: FlowContext): void {
  const { firstUserAgent: info, mac } = profileOf(ctx);
  const vendor = mac === '' ? undefined : host.knowledge.macVendor(mac);
  if (info === undefined || vendor === undefined || !isIncompatibleUserAgent(info, vendor)) return;
  if (!firstReport(ctx, 'INCOMPATIBLE_USER_AGENT', info.user_agent)) return;
  host.emit({
    evidence_type: 'INCOMPATIBLE_USER_AGENT',
    description:
      `using incompatible user-agent (${info.user_agent}) that belongs to OS: ${info.os_name.toLowerCase()} ` +
      `type: ${info.os_type.toLowerCase()} browser: ${info.browser.toLowerCase()}. ` +
      `while connecting to ${record.host}${record.uri}. IP has MAC vendor: ${capitalize(vendor)}`,
    attacker: { direction: 'SRC', ioc_type: 'IP', value: record.saddr },
    threat_level: 'high',
    confidence: 1,
    timestamp: record.ts,
    uid: [record.uid],
  });
}

function checkExecutable(host: DetectionHost, record: HttpRecord): void {
  if (!record.resp_mime_types.some((type) => EXECUTABLE_MIME_TYPES.has(type))) return;
  const description =
    `Download of an executable with MIME type: ${pyStringList(record.resp_mime_types)} ` +
    `by ${record.saddr} from ${record.daddr}.`;
  const common = { evidence_type: 'EXECUTABLE_MIME_TYPE', description, threat_level: 'low', confidence: 1, timestamp: record.ts } as const;
  host.emitPair(
    {
      ...common,
      attacker: { direction: 'SRC', ioc_type: 'IP', value: record.saddr },
      victim: { direction: 'DST', ioc_type: 'IP', value: record.daddr },
      uid: [record.uid],
    },
    {
      ...common,
      attacker: { direction: 'DST', ioc_type: 'IP', value: record.daddr },
      victim: { direction: 'SRC', ioc_type: 'IP', value: record.saddr },
      uid: [record.uid],
    },
  );
}

function checkPastebin(host: DetectionHost, record: HttpRecord): void {
  if (!record.host.includes('pastebin') || record.method !== 'GET') return;
  if (!(record.response_body_len > host.config.pastebinDownloadThreshold)) return;
  host.emit({
    evidence_type: 'PASTEBIN_DOWNLOAD',
    description: `A downloaded file from pastebin.com. Size: ${pyFloat(record.response_body_len / 1e6)} MBs`,
    attacker: { direction: 'SRC', ioc_type: 'IP', value: record.saddr },
    victim: { direction: 'DST', ioc_type: 'IP', value: record.daddr },
    threat_level: 'info',
    confidence: 1,
    timestamp: record.ts,
    uid: [record.uid],
  });
}

function checkHttpTraffic(host: DetectionHost, record: HttpRecord, ctx: FlowContext): void {
  if (!firstReport(ctx, 'HTTP_TRAFFIC', record.daddr)) return;
  host.emit({
    evidence_type: 'HTTP_TRAFFIC',
    description: `Unencrypted HTTP traffic from ${record.saddr} to ${record.daddr}.`,
    attacker: { direction: 'SRC', ioc_type: 'IP', value: record.saddr },
    victim: { direction: 'DST', ioc_type: 'IP', value: record.daddr },
    threat_level: 'info',
    confidence: 1,
    timestamp: record.ts,
    uid: [record.uid],
  });
}

function reportWeirdMethod(host: DetectionHost, weird: WeirdRecord): void {
  host.emit({
    evidence_type: 'WEIRD_HTTP_METHOD',
    description: `Weird HTTP method ${weird.addl} to IP: ${weird.daddr}. by Zeek.`,
    attacker: { direction: 'SRC', ioc_type: 'IP', value: weird.saddr },
    victim: { direction: 'DST', ioc_type: 'IP', value: weird.daddr },
    threat_level: 'medium',
    confidence: 0.9,
    timestamp: weird.ts,
    uid: [weird.uid],
  });
}

export const httpAnalyzerDetector: DetectorFactory = (host) => {
  return {
    name: 'httpAnalyzer',
    evidenceTypes: [
      'SUSPICIOUS_USER_AGENT', 'EMPTY_CONNECTIONS', 'MULTIPLE_USER_AGENT', 'INCOMPATIBLE_USER_AGENT',
      'EXECUTABLE_MIME_TYPE', 'PASTEBIN_DOWNLOAD', 'HTTP_TRAFFIC', 'WEIRD_HTTP_METHOD',
    ],
    joinsConnByUid: true,
    handlers: {
      conn(flow: ConnRecord, ctx: FlowContext): void {
        if (flow.smac !== '') profileOf(ctx).mac = flow.smac;
      },
      http(record: HttpRecord, ctx: FlowContext): void {
        checkSuspiciousUserAgent(host, record, ctx);
        checkEmptyConnections(host, record, ctx);
        checkUserAgents(host, record, ctx);
        checkIncompatibleUserAgent(host, record, ctx);
        checkExecutable(host, record);
        checkPastebin(host, record);
        checkHttpTraffic(host, record, ctx);
      },
      weird(record: WeirdRecord): void {
        if (record.name.includes('unknown_HTTP_method')) {
          host.withConnOf(record.uid, record.ts, WEIRD_CONN_WAIT, () => reportWeirdMethod(host, record));
        }
      },
    },
  };
};
