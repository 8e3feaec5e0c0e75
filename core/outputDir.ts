// The output directory: its default name, preparing it (emptied, alerts/ created) and the
// metadata/ folder (info.txt plus copies of the config and whitelist), as Slips lays them out.
// These run once at start or end of a run, before/after any log stream exists, so they are
// synchronous: nothing can race with the cleaning.

import { appendFileSync, copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { OUR_VERSION, SLIPS_COMPAT_VERSION } from './cli.js';
import { alertsFormat, strftime } from './format/time.js';

/** A file whose name contains this survives cleaning with keepSlipsOutput (the integration harness writes it). */
export const SLIPS_OUTPUT_FILE = 'slips_output.txt';

function seconds(date: Date): number {
  return date.getTime() / 1000;
}

/**
 * Slips' default output dir: `output/<basename of the input>_<%Y-%m-%d_%H:%M:%S>/` (local time).
 * For a directory input it is the directory's own name; for an interface, the interface name.
 */
export function defaultOutputDir(input: string, now: Date): string {
  const name = path.basename(path.normalize(input));
  return `${path.join('output', `${name}_${strftime(seconds(now), '%Y-%m-%d_%H:%M:%S')}`)}/`;
}

export interface PrepareOptions {
  /** Keep files whose name contains `slips_output.txt` (Slips' -t). */
  keepSlipsOutput: boolean;
}

/**
 * The log of a core started by the TUI (kalipso.sh): the TUI creates it in the output directory
 * before the core starts and the core's stdout/stderr go to it, so cleaning never deletes it.
 */
export const TUI_CORE_LOG = 'tui_core.log';

/** What an output directory of an earlier run contains (any one of these). */
const OUTPUT_MARKERS = ['alerts', 'errors.log', 'slips.log', SLIPS_OUTPUT_FILE, 'metadata', 'redis', 'databases', 'zeek_files', 'timeline.txt', TUI_CORE_LOG];

/**
 * Creates the directory (and parents), deletes what is inside it but the TUI's core log, and creates `alerts/`.
 * Like Slips, an earlier run's output is replaced; unlike Slips, a non-empty directory that does not
 * look like an output directory (say `-o ~` by mistake) is refused instead of emptied.
 */
export function prepareOutputDir(dir: string, opts: PrepareOptions): void {
  mkdirSync(dir, { recursive: true });
  const entries = readdirSync(dir);
  if (entries.length > 0 && !entries.some((entry) => OUTPUT_MARKERS.some((marker) => entry.includes(marker)))) {
    throw new Error(`${dir} is not empty and is not the output directory of an earlier run: refusing to delete its content. Choose another -o.`);
  }
  for (const entry of entries) {
    if (entry === TUI_CORE_LOG) continue;
    if (opts.keepSlipsOutput && entry.includes(SLIPS_OUTPUT_FILE)) continue;
    rmSync(path.join(dir, entry), { recursive: true, force: true });
  }
  mkdirSync(path.join(dir, 'alerts'), { recursive: true });
}

export interface RunMetadata {
  /** Config file used; copied into metadata/. */
  configPath: string;
  /** Local whitelist file; copied into metadata/ when given. */
  whitelistPath?: string;
  /** The command line, joined by spaces. */
  command: string;
  /** Input file, directory or interface. */
  input: string;
  startDate: Date;
  /** Zeek's version (`zeek --version` after "version "), when Zeek is used. */
  zeekVersion?: string;
}

function infoPath(dir: string): string {
  return path.join(dir, 'metadata', 'info.txt');
}

/**
 * Writes `<dir>/metadata/`: info.txt (`Slips version:`, `File:`, `Command:`, `Slips start date:`,
 * `Zeek version:` when given) and copies of the config and whitelist. Returns the info.txt path.
 */
export function writeMetadata(dir: string, meta: RunMetadata): string {
  const metadataDir = path.join(dir, 'metadata');
  mkdirSync(metadataDir, { recursive: true });
  copyFileSync(meta.configPath, path.join(metadataDir, path.basename(meta.configPath)));
  if (meta.whitelistPath) {
    copyFileSync(meta.whitelistPath, path.join(metadataDir, path.basename(meta.whitelistPath)));
  }
  let info = `Slips version: ${SLIPS_COMPAT_VERSION} (slips-ts ${OUR_VERSION})\n` +
    `File: ${meta.input}\n` +
    `Command: ${meta.command}\n` +
    `Slips start date: ${alertsFormat(seconds(meta.startDate))}\n`;
  if (meta.zeekVersion) info += `Zeek version: ${meta.zeekVersion.trim()}\n`;
  const file = infoPath(dir);
  writeFileSync(file, info);
  return file;
}

/** Appends `Slips end date: <alerts format>` to metadata/info.txt. */
export function appendEndDate(dir: string, endDate: Date): void {
  appendFileSync(infoPath(dir), `Slips end date: ${alertsFormat(seconds(endDate))}\n`);
}
