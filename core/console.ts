// The console printer: every message the core shows goes through here, following Slips' rules.
//   - A message (sender, text, verbose=1, debug=0) is shown iff 0<verbose<=3 and verbose<=-v,
//     or 0<debug<=3 and debug<=-e; as `[<sender>] <text>`, without the sender when text contains `Start`.
//   - Shown messages are appended to slips.log as `<%Y/%m/%d %H:%M:%S.%f%z> [<sender>] <text>`
//     (no slips.log in daemon mode); debug==1 messages always go to errors.log, shown or not.
//   - error() is for bad input and failures: errors.log and stderr, whatever the levels.
//   - statsLine() redraws one status line on a TTY (`\r`, no newline) and prints a plain line
//     otherwise; it is never logged. The caller decides how often.
//   - Colours only on a TTY; log files never contain colour codes.
// slips.log and errors.log start with `Using slips-ts <version> - <now>` and an empty line.

import type { Writable } from 'node:stream';
import { OUR_VERSION } from './cli.js';
import { LogFile } from './outputFiles.js';
import { alertsFormat, nowSeconds, strftime } from './format/time.js';

export interface PrinterOptions {
  /** -v level. */
  verbose: number;
  /** -e level. */
  debug: number;
  /** slips.log; omitted in daemon mode. */
  slipsLogPath?: string;
  errorsLogPath: string;
  stdout: Writable;
  stderr: Writable;
  /** Whether stdout is a terminal: colours and in-place stats line. */
  isTTY: boolean;
  /** Clock, unix seconds; default the system clock. */
  now?: () => number;
}

/** termcolor-style colouring; each function returns the text unchanged when colours are off. */
export interface Colors {
  red(text: string): string;
  green(text: string): string;
  cyan(text: string): string;
}

const ANSI = /\u001b\[[0-9;]*m/g;

function ansiColors(enabled: boolean): Colors {
  const paint = (code: number) => (text: string) => (enabled ? `\u001b[${code}m${text}\u001b[0m` : text);
  return { red: paint(31), green: paint(32), cyan: paint(36) };
}

function inRange(level: number, limit: number): boolean {
  return level > 0 && level <= 3 && level <= limit;
}

export class Printer {
  readonly colors: Colors;
  private readonly slipsLog: LogFile | undefined;
  private readonly errorsLog: LogFile;
  private readonly now: () => number;
  /** A TTY stats line is on screen and must be cleared before the next message. */
  private statsShown = false;

  constructor(private readonly opts: PrinterOptions) {
    this.colors = ansiColors(opts.isTTY);
    this.now = opts.now ?? nowSeconds;
    const onError = (error: Error) => this.opts.stderr.write(`[printer] Cannot write a log file: ${error.message}\n`);
    const header = `Using slips-ts ${OUR_VERSION} - ${strftime(this.now(), '%Y-%m-%d %H:%M:%S.%f')}\n\n`;
    this.errorsLog = new LogFile(opts.errorsLogPath, { onError });
    this.errorsLog.write(header);
    if (opts.slipsLogPath) {
      this.slipsLog = new LogFile(opts.slipsLogPath, { onError });
      this.slipsLog.write(header);
    }
  }

  /** Whether a message with these levels would be shown. */
  shows(verbose: number, debug = 0): boolean {
    return inRange(verbose, this.opts.verbose) || inRange(debug, this.opts.debug);
  }

  print(sender: string, text: string, verbose = 1, debug = 0): void {
    if (this.shows(verbose, debug)) {
      const shown = sender && !text.includes('Start') ? `[${sender}] ${text}` : text;
      this.writeTerminal(this.opts.stdout, debug === 3 ? this.colors.red(shown) : shown);
      this.slipsLog?.write(this.logLine(sender, text));
    }
    if (debug === 1) this.errorsLog.write(this.logLine(sender, text));
  }

  /** Bad input and failures: always to errors.log and stderr. */
  error(sender: string, text: string): void {
    this.writeTerminal(this.opts.stderr, `[${sender}] ${text}`);
    this.errorsLog.write(this.logLine(sender, text));
  }

  /**
   * The periodic stats line (text without `\r`); never logged. On a TTY it overwrites the previous
   * one in place; `final` leaves it on screen (ends it with a newline), for the last one of a run.
   */
  statsLine(text: string, final = false): void {
    if (!this.opts.isTTY) {
      this.opts.stdout.write(`${text}\n`);
      return;
    }
    this.opts.stdout.write(`\r${text}\u001b[K${final ? '\n' : ''}`);
    this.statsShown = !final;
  }

  /** Flushes and closes the log files (write failures were already reported on stderr). */
  async close(): Promise<void> {
    await Promise.allSettled([this.errorsLog.close(), this.slipsLog?.close()]);
  }

  private writeTerminal(stream: Writable, line: string): void {
    if (this.statsShown) {
      this.opts.stdout.write('\r\u001b[K');
      this.statsShown = false;
    }
    stream.write(`${line}\n`);
  }

  private logLine(sender: string, text: string): string {
    return `${alertsFormat(this.now())} [${sender}] ${text.replace(ANSI, '')}\n`;
  }
}
