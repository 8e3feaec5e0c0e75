// alerts.log lines and the terminal alert block, worded exactly as Slips writes them.
//
// Every function takes evidence as stored (raw description); the ` Threat level: <level>.`
// suffix Slips' evidence handler appends is added here (describeWithThreatLevel), once.
//
//   evidence line: <ISO flow time> (TW <n>): Src IP <ip padded to 26>. Detected <description> Threat level: <l>. <extra>
//   alert line:    <ISO last flow time>: Src IP <ip padded to 26>. Generated an alert given enough evidence on timewindow <n>. (real time <alerts format now>)
//   CLI block:     <alerts format ts> IP <ip> [(<host>) ]detected as malicious in timewindow <n> (start <t>, stop <t>) given the following evidence:
//                  \t- Detected <description> Threat level: <l>.[ Interface: <i>.]   (wrapped every 155 chars)

import type { Alert, Evidence, EvidenceSummary } from '../evidence.js';
import { alertsFormat, humanTime, isoLocal, nowSeconds } from './time.js';

/** Width Slips pads the profile IP (plus hostname) to in alerts.log. */
const PROFILE_COLUMN = 26;
/** Characters per line of an evidence description in the terminal alert block. */
const WRAP_AT = 155;
const WRAP_INDENT = `\n${' '.repeat(10)}`;

/** Cached identification of an IP, as shown after an evidence line; empty values are skipped. */
export interface IpIdentification {
  AS?: string;
  rDNS?: string;
  SNI?: string;
  TI?: string;
  queries?: string;
}

const IDENTIFICATION_ORDER: ReadonlyArray<keyof IpIdentification> = ['AS', 'rDNS', 'SNI', 'TI', 'queries'];

export interface EvidenceTextContext {
  /** Host name known for a profile IP (e.g. from DHCP); shown as `<ip> (<host>)`. */
  hostnameOf?: (ip: string) => string | undefined;
  /** Cached AS / rDNS / SNI / TI / queries of an IP attacker or victim. */
  identificationOf?: (ip: string) => IpIdentification | undefined;
}

/** Colouring hooks for the terminal block; identity when output is not a TTY. */
export interface AlertColors {
  red(text: string): string;
  cyan(text: string): string;
}

const NO_COLORS: AlertColors = { red: (t) => t, cyan: (t) => t };

/** `<description> Threat level: <level>.`: the description as alerts.log, alerts.json and the terminal show it. */
export function describeWithThreatLevel(evidence: Pick<Evidence, 'description' | 'threat_level'>): string {
  return `${evidence.description} Threat level: ${evidence.threat_level}.`;
}

/** `<ip>` or `<ip> (<host>)`, padded to 26 characters. */
function profileColumn(ip: string, hostname: string | undefined): string {
  if (!hostname) return ip.padEnd(PROFILE_COLUMN);
  const text = `${ip} (${hostname})`;
  return text + ' '.repeat(Math.max(0, PROFILE_COLUMN - text.length));
}

function identificationText(identification: IpIdentification): string {
  let text = '';
  for (const key of IDENTIFICATION_ORDER) {
    const value = identification[key];
    if (value) text += `${key}: ${value}, `;
  }
  return text;
}

/** `IP <v>: <info>` for the IP attacker and victim that have cached data, joined by `, `. */
function extraInfo(evidence: Evidence, ctx: EvidenceTextContext): string {
  const parts: string[] = [];
  for (const ioc of [evidence.attacker, evidence.victim]) {
    if (!ioc || ioc.ioc_type !== 'IP') continue;
    const identification = ctx.identificationOf?.(ioc.value);
    const info = identification ? identificationText(identification) : '';
    if (info) parts.push(`IP ${ioc.value}: ${info}`);
  }
  return parts.join(', ');
}

/** One alerts.log line for an evidence (no trailing newline). */
export function evidenceLogLine(evidence: Evidence, ctx: EvidenceTextContext = {}): string {
  const ip = evidence.profile.ip;
  return `${isoLocal(evidence.timestamp)} (TW ${evidence.timewindow.number}): ` +
    `Src IP ${profileColumn(ip, ctx.hostnameOf?.(ip))}. ` +
    `Detected ${describeWithThreatLevel(evidence)} ${extraInfo(evidence, ctx)}`;
}

export interface AlertLineOptions {
  /** The profile was blocked (`Is blocked ` replaces `Generated an alert `). */
  blocked?: boolean;
  /** The "real time" stamp, unix seconds; default now. */
  now?: number;
}

/** One alerts.log line for an alert (no trailing newline). */
export function alertLogLine(alert: Alert, opts: AlertLineOptions = {}): string {
  const verb = opts.blocked ? 'Is blocked ' : 'Generated an alert ';
  return `${isoLocal(alert.last_flow_ts)}: Src IP ${alert.profile.ip.padEnd(PROFILE_COLUMN)}. ` +
    `${verb}given enough evidence on timewindow ${alert.timewindow.number}. ` +
    `(real time ${alertsFormat(opts.now ?? nowSeconds())})`;
}

/** Cuts text into 155-character pieces joined by a newline and 10 spaces (code points, as Python slices). */
export function lineWrap(text: string): string {
  const chars = Array.from(text);
  const pieces: string[] = [];
  for (let i = 0; i < chars.length; i += WRAP_AT) pieces.push(chars.slice(i, i + WRAP_AT).join(''));
  return pieces.join(WRAP_INDENT);
}

export interface AlertBlockOptions {
  /** Host name of the alerted profile, if known. */
  hostname?: string;
  /** Append ` Interface: <i>.` to each evidence (Slips does with -ap, two interfaces). */
  showInterface?: boolean;
  colors?: AlertColors;
}

/**
 * The text printed (sender `evidence_handler_worker`) when an alert fires: a header naming the IP
 * and time window, then one `\t- Detected ...` line per evidence; ends with a newline.
 */
export function cliAlertBlock(alert: Alert, evidence: readonly EvidenceSummary[], opts: AlertBlockOptions = {}): string {
  const colors = opts.colors ?? NO_COLORS;
  const host = opts.hostname ? `(${opts.hostname}) ` : '';
  const tw = alert.timewindow;
  const header = `IP ${alert.profile.ip} ${host}detected as malicious in timewindow ${tw.number} ` +
    `(start ${humanTime(tw.start_time)}, stop ${humanTime(tw.end_time)})`;
  let text = colors.red(`${alertsFormat(alert.last_flow_ts)} `) + colors.red(header) +
    colors.red(' given the following evidence:\n');
  for (const item of evidence) {
    let description = describeWithThreatLevel(item);
    if (opts.showInterface) description += ` Interface: ${item.interface}.`;
    text += colors.cyan(`\t- ${lineWrap(`Detected ${description.trim()}`)}\n`);
  }
  return text;
}
