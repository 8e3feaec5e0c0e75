// slips.yaml: the typed configuration the core runs with, Slips' section and key names and defaults.
// (Loader and validation below the types.)

import { readFileSync } from 'node:fs';
import ipaddr from 'ipaddr.js';
import { parse as parseYaml } from 'yaml';
import { isEvidenceType } from './evidence.js';
import { connectExternal } from './redisServer.js';
import type { DetectionConfig } from '../detections/api.js';

export interface SlipsConfig {
  /** Path of the file it was read from. */
  file: string;
  output: { stdout: string; stderr: string; logs: string };
  parameters: {
    verbose: number;
    debug: number;
    /** Seconds; `only_one_tw` becomes 9999999999 and sets onlyOneTw. */
    time_window_width: number;
    onlyOneTw: boolean;
    /** 'out' or 'all'. */
    analysis_direction: 'out' | 'all';
    label: string;
    client_ips: string[];
    deletePrevdb: boolean;
    tcp_inactivity_timeout: number;
    delete_zeek_files: boolean;
    store_a_copy_of_zeek_files: boolean;
    store_zeek_files_in_the_output_dir: boolean;
    metadata_dir: boolean;
    pcapfilter: string;
    /** Ours: drop packets with a bad TCP/UDP checksum (Zeek without -C); Slips' Zeek ignores them (-C). */
    verify_checksums: boolean;
    export_labeled_flows: boolean;
    export_format: 'json' | 'tsv';
  };
  detection: { evidence_detection_threshold: number; popup_alerts: boolean };
  modules: { disable: string[]; timeline_human_timestamp: boolean };
  flow_alerts: {
    long_connection_threshold: number;
    ssh_succesful_detection_threshold: number;
    data_exfiltration_threshold: number;
    entropy_threshold: number;
    pastebin_download_threshold: number;
  };
  brute_force_detector: { ssh_attempt_threshold: number };
  DisabledAlerts: { disabled_detections: string[] };
  whitelists: { enable_local_whitelist: boolean; local_whitelist_path: string };
  /** Our addition: use an existing Redis instead of starting one. */
  redis: {
    /** '' = start a private redis-server; else 'host:port' or 'redis://host:port/db'. */
    external: string;
    /** Flush the external database at start (never done unless true). */
    flush_external: boolean;
    /** Max flows kept per time window in the Redis timeline (newest win). */
    timeline_max_flows_per_tw: number;
  };
  /** Problems that do not stop Slips (e.g. unknown top-level sections), each naming the file. */
  warnings: string[];
}

/** Where Slips looks for its configuration (-c default). */
export const DEFAULT_CONFIG_PATH = 'config/slips.yaml';
/** Time window width Slips uses for `time_window_width: only_one_tw`. */
export const ONLY_ONE_TW_WIDTH = 9999999999;

/** Top-level sections Slips knows (plus legacy names and our `redis`); others only warn. */
const KNOWN_SECTIONS = new Set([
  'update', 'output', 'modes', 'parameters', 'Debug', 'detection', 'modules', 'flow_ml_detection',
  'brute_force_detector', 'anomaly_detection_https', 'virustotal', 'threatintelligence', 'whitelists',
  'flow_alerts', 'flowalerts', 'exporting_alerts', 'cesnet', 'DisabledAlerts', 'Docker', 'Profiling',
  'web_interface', 'global_p2p', 'local_p2p', 'timestamp', 'redis',
]);

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The values of the shipped config/slips.yaml (Slips' file defaults). */
export function defaultConfig(): SlipsConfig {
  return {
    file: DEFAULT_CONFIG_PATH,
    output: { stdout: 'slips.log', stderr: 'errors.log', logs: 'slips.log' },
    parameters: {
      verbose: 1,
      debug: 0,
      time_window_width: 3600,
      onlyOneTw: false,
      analysis_direction: 'out',
      label: 'normal',
      client_ips: [],
      deletePrevdb: true,
      tcp_inactivity_timeout: 60,
      delete_zeek_files: false,
      store_a_copy_of_zeek_files: false,
      store_zeek_files_in_the_output_dir: true,
      metadata_dir: true,
      pcapfilter: '',
      verify_checksums: false,
      export_labeled_flows: false,
      export_format: 'json',
    },
    detection: { evidence_detection_threshold: 0.25, popup_alerts: false },
    modules: { disable: ['template'], timeline_human_timestamp: true },
    flow_alerts: {
      long_connection_threshold: 1500,
      ssh_succesful_detection_threshold: 4290,
      data_exfiltration_threshold: 500,
      entropy_threshold: 5,
      pastebin_download_threshold: 700,
    },
    brute_force_detector: { ssh_attempt_threshold: 9 },
    DisabledAlerts: { disabled_detections: [] },
    whitelists: { enable_local_whitelist: true, local_whitelist_path: 'config/whitelist.conf' },
    redis: { external: '', flush_external: false, timeline_max_flows_per_tw: 1000 },
    warnings: [],
  };
}

type Mapping = Record<string, unknown>;

function isMapping(value: unknown): value is Mapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

const positive = (n: number) => n > 0;
const nonNegative = (n: number) => n >= 0;
const positiveInteger = (n: number) => Number.isInteger(n) && n > 0;
const level = (n: number) => Number.isInteger(n) && n >= 0 && n <= 3;

function isIpOrCidr(text: string): boolean {
  return (
    ipaddr.IPv4.isValidFourPartDecimal(text) ||
    ipaddr.IPv6.isValid(text) ||
    ipaddr.IPv4.isValidCIDRFourPartDecimal(text) ||
    ipaddr.IPv6.isValidCIDR(text)
  );
}

/** Reads typed keys of one section; errors name `<file>: <section>.<key>`. */
class SectionReader {
  constructor(
    private readonly file: string,
    readonly name: string,
    private readonly values: Mapping,
  ) {}

  fail(key: string, expectation: string, got: unknown): never {
    throw new ConfigError(`${this.file}: ${this.name}.${key} must be ${expectation}, got ${show(got)}`);
  }

  /** The raw value; an absent or empty (null) key is undefined. */
  raw(key: string): unknown {
    return this.values[key] ?? undefined;
  }

  /** Numbers may be written as strings ("3600"), as Slips converts with float(). */
  number(key: string, fallback: number, expectation: string, valid: (n: number) => boolean): number {
    const value = this.raw(key);
    if (value === undefined) return fallback;
    const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
    if (!Number.isFinite(n) || !valid(n)) this.fail(key, expectation, value);
    return n;
  }

  boolean(key: string, fallback: boolean): boolean {
    const value = this.raw(key);
    if (value === undefined) return fallback;
    if (typeof value !== 'boolean') this.fail(key, 'true or false', value);
    return value;
  }

  string(key: string, fallback: string): string {
    const value = this.raw(key);
    if (value === undefined) return fallback;
    if (typeof value !== 'string') this.fail(key, 'a string', value);
    return value;
  }

  /** One of `choices`, compared case-insensitively. */
  choice<T extends string>(key: string, fallback: T, choices: readonly T[]): T {
    const value = this.raw(key);
    if (value === undefined) return fallback;
    const chosen = choices.find((option) => typeof value === 'string' && value.trim().toLowerCase() === option);
    if (chosen === undefined) this.fail(key, choices.map((option) => `'${option}'`).join(' or '), value);
    return chosen;
  }

  /** A YAML list, or a string written like one: "[10.0.0.1, 192.168.1.0/24]". */
  list(key: string, fallback: string[]): string[] {
    const value = this.raw(key);
    if (value === undefined) return fallback;
    let items: unknown[];
    if (Array.isArray(value)) items = value;
    else if (typeof value === 'string') items = value.trim().replace(/^\[/, '').replace(/\]$/, '').split(',');
    else this.fail(key, 'a list', value);
    return items.map((item) => {
      if (typeof item !== 'string' && typeof item !== 'number') this.fail(key, 'a list of names', value);
      return String(item).trim().replace(/^(['"])(.*)\1$/, '$2');
    }).filter((item) => item !== '');
  }
}

function readYaml(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ConfigError(`${file} doesn't exist. Stopping Slips`);
    throw new ConfigError(`${file}: cannot be read: ${(err as Error).message}`);
  }
  try {
    // Slips reads its file with PyYAML, i.e. YAML 1.1 (yes/no are booleans).
    return parseYaml(text, { version: '1.1' });
  } catch (err) {
    throw new ConfigError(`${file}: invalid YAML: ${(err as Error).message}`);
  }
}

/** Loads and validates a slips.yaml; missing keys take the shipped defaults. */
export function loadConfig(file: string): SlipsConfig {
  const document = readYaml(file) ?? {};
  if (!isMapping(document)) {
    throw new ConfigError(`${file}: must be a mapping of sections, got ${show(document)}`);
  }
  const defaults = defaultConfig();
  const warnings: string[] = [];
  for (const [name, value] of Object.entries(document)) {
    if (!KNOWN_SECTIONS.has(name)) warnings.push(`${file}: unknown section "${name}" ignored`);
    else if (value !== null && !isMapping(value)) throw new ConfigError(`${file}: ${name} must be a section of keys, got ${show(value)}`);
  }
  const section = (name: string, legacyName?: string): SectionReader => {
    if (legacyName !== undefined && document[legacyName] != null) {
      if (document[name] == null) return new SectionReader(file, legacyName, document[legacyName] as Mapping);
      warnings.push(`${file}: legacy section "${legacyName}" ignored because "${name}" is present`);
    }
    return new SectionReader(file, name, (document[name] ?? {}) as Mapping);
  };

  const output = section('output', 'modes');
  const params = section('parameters');
  const detection = section('detection');
  const modules = section('modules');
  const flowAlerts = section('flow_alerts', 'flowalerts');
  const bruteForce = section('brute_force_detector');
  const disabledAlerts = section('DisabledAlerts');
  const whitelists = section('whitelists');
  const redis = section('redis');
  const p = defaults.parameters;
  const fa = defaults.flow_alerts;

  const width = params.raw('time_window_width');
  const onlyOneTw = typeof width === 'string' && width.trim() === 'only_one_tw';

  const direction = params.raw('analysis_direction');
  if (typeof direction === 'object') params.fail('analysis_direction', "'out' or 'all'", direction);

  const clientIps = params.list('client_ips', p.client_ips);
  for (const ip of clientIps) {
    if (!isIpOrCidr(ip)) params.fail('client_ips', 'a list of IP addresses or CIDR ranges', ip);
  }

  const pcapfilter = params.raw('pcapfilter');

  const disabledDetections = disabledAlerts.list('disabled_detections', defaults.DisabledAlerts.disabled_detections);
  for (const name of disabledDetections) {
    if (!isEvidenceType(name)) {
      disabledAlerts.fail('disabled_detections', 'a list of evidence type names (e.g. CONNECTION_WITHOUT_DNS)', name);
    }
  }

  const external = redis.string('external', defaults.redis.external).trim();
  if (external !== '') {
    try {
      connectExternal(external);
    } catch {
      redis.fail('external', "'' or 'host:port' or 'redis://host:port/db'", external);
    }
  }

  return {
    file,
    output: {
      stdout: output.string('stdout', defaults.output.stdout),
      stderr: output.string('stderr', defaults.output.stderr),
      // Older Slips files call it logsfile.
      logs: output.string(output.raw('logs') === undefined ? 'logsfile' : 'logs', defaults.output.logs),
    },
    parameters: {
      verbose: params.number('verbose', p.verbose, 'an integer from 0 to 3', level),
      debug: params.number('debug', p.debug, 'an integer from 0 to 3', level),
      time_window_width: onlyOneTw
        ? ONLY_ONE_TW_WIDTH
        : params.number('time_window_width', p.time_window_width, "a positive number or 'only_one_tw'", positive),
      onlyOneTw,
      // Slips: anything but 'all' means 'out'.
      analysis_direction: direction === undefined ? p.analysis_direction : String(direction).trim() === 'all' ? 'all' : 'out',
      label: params.string('label', p.label),
      client_ips: clientIps,
      deletePrevdb: params.boolean('deletePrevdb', p.deletePrevdb),
      tcp_inactivity_timeout: params.number('tcp_inactivity_timeout', p.tcp_inactivity_timeout, 'a positive number of minutes', positive),
      delete_zeek_files: params.boolean('delete_zeek_files', p.delete_zeek_files),
      store_a_copy_of_zeek_files: params.boolean('store_a_copy_of_zeek_files', p.store_a_copy_of_zeek_files),
      store_zeek_files_in_the_output_dir: params.boolean('store_zeek_files_in_the_output_dir', p.store_zeek_files_in_the_output_dir),
      metadata_dir: params.boolean('metadata_dir', p.metadata_dir),
      // Older Slips files disable the filter with `pcapfilter: false`.
      pcapfilter: pcapfilter === false ? '' : params.string('pcapfilter', p.pcapfilter),
      verify_checksums: params.boolean('verify_checksums', p.verify_checksums),
      export_labeled_flows: params.boolean('export_labeled_flows', p.export_labeled_flows),
      export_format: params.choice('export_format', p.export_format, ['json', 'tsv'] as const),
    },
    detection: {
      evidence_detection_threshold: detection.number(
        'evidence_detection_threshold', defaults.detection.evidence_detection_threshold, 'a positive number', positive),
      popup_alerts: detection.boolean('popup_alerts', defaults.detection.popup_alerts),
    },
    modules: {
      disable: modules.list('disable', defaults.modules.disable),
      timeline_human_timestamp: modules.boolean('timeline_human_timestamp', defaults.modules.timeline_human_timestamp),
    },
    flow_alerts: {
      long_connection_threshold: flowAlerts.number('long_connection_threshold', fa.long_connection_threshold, 'a number >= 0', nonNegative),
      ssh_succesful_detection_threshold: flowAlerts.number(
        'ssh_succesful_detection_threshold', fa.ssh_succesful_detection_threshold, 'a number >= 0', nonNegative),
      data_exfiltration_threshold: flowAlerts.number('data_exfiltration_threshold', fa.data_exfiltration_threshold, 'a number >= 0', nonNegative),
      entropy_threshold: flowAlerts.number('entropy_threshold', fa.entropy_threshold, 'a number >= 0', nonNegative),
      pastebin_download_threshold: flowAlerts.number('pastebin_download_threshold', fa.pastebin_download_threshold, 'a number >= 0', nonNegative),
    },
    brute_force_detector: {
      ssh_attempt_threshold: bruteForce.number(
        'ssh_attempt_threshold', defaults.brute_force_detector.ssh_attempt_threshold, 'a positive integer', positiveInteger),
    },
    DisabledAlerts: { disabled_detections: disabledDetections },
    whitelists: {
      enable_local_whitelist: whitelists.boolean('enable_local_whitelist', defaults.whitelists.enable_local_whitelist),
      local_whitelist_path: whitelists.string('local_whitelist_path', defaults.whitelists.local_whitelist_path),
    },
    redis: {
      external,
      flush_external: redis.boolean('flush_external', defaults.redis.flush_external),
      timeline_max_flows_per_tw: redis.number(
        'timeline_max_flows_per_tw', defaults.redis.timeline_max_flows_per_tw, 'a positive integer', positiveInteger),
    },
    warnings,
  };
}

/** The configuration values detections read, from the validated config. */
export function detectionConfigOf(config: SlipsConfig): DetectionConfig {
  return {
    longConnectionThreshold: config.flow_alerts.long_connection_threshold,
    sshSuccessfulDetectionThreshold: config.flow_alerts.ssh_succesful_detection_threshold,
    dataExfiltrationThreshold: config.flow_alerts.data_exfiltration_threshold,
    entropyThreshold: config.flow_alerts.entropy_threshold,
    pastebinDownloadThreshold: config.flow_alerts.pastebin_download_threshold,
    sshAttemptThreshold: config.brute_force_detector.ssh_attempt_threshold,
    clientIps: config.parameters.client_ips,
    timeWindowWidth: config.parameters.time_window_width,
  };
}
