// The output files written during a run: alerts/alerts.log + alerts/alerts.json (AlertOutputs)
// and timeline.txt (TimelineFile), all through buffered write streams (no synchronous write per
// line). LogFile is the shared writer, also used by the console printer for slips.log/errors.log.

import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import type { Alert, Evidence, EvidenceSummary } from './evidence.js';
import { alertLogLine, evidenceLogLine, type EvidenceTextContext } from './format/alertsLog.js';
import { idmefEvent, idmefIncident, pythonJson, type IdmefEventOptions } from './format/idmef.js';
import { timelineLine, type TimelineActivity } from './format/timeline.js';
import { nowSeconds } from './format/time.js';

export interface LogFileOptions {
  /** 'a' appends (default); 'w' starts the file empty. */
  flags?: 'a' | 'w';
  /** Called once, on the first write failure; later writes are dropped. */
  onError?: (error: Error) => void;
}

/** An append-only text file behind a buffered stream. Lines are written as given (add the newline). */
export class LogFile {
  private readonly stream: WriteStream;
  private failure: Error | undefined;

  constructor(readonly filePath: string, opts: LogFileOptions = {}) {
    mkdirSync(path.dirname(filePath), { recursive: true });
    this.stream = createWriteStream(filePath, { flags: opts.flags ?? 'a' });
    this.stream.on('error', (error: Error) => {
      if (this.failure) return;
      this.failure = error;
      opts.onError?.(error);
    });
  }

  write(text: string): void {
    if (this.failure || this.stream.destroyed) return;
    this.stream.write(text);
  }

  /** Flushes and closes; rejects with the first write failure, if any. */
  async close(): Promise<void> {
    if (!this.stream.closed) {
      const closed = once(this.stream, 'close').catch(() => undefined);
      this.stream.end();
      await closed;
    }
    if (this.failure) throw this.failure;
  }
}

export interface AlertOutputsOptions extends EvidenceTextContext, Pick<IdmefEventOptions, 'analyzerIp' | 'enrichmentOf'> {
  /** Clock for CreateTime and "real time", unix seconds; default the system clock. */
  now?: () => number;
}

/**
 * alerts/alerts.log (text) and alerts/alerts.json (IDMEFv2 JSON lines) of an output directory.
 * Both start empty, as Slips clears them when it starts.
 */
export class AlertOutputs {
  private readonly log: LogFile;
  private readonly json: LogFile;
  private readonly now: () => number;

  constructor(outputDir: string, private readonly opts: AlertOutputsOptions = {}) {
    const alertsDir = path.join(outputDir, 'alerts');
    this.log = new LogFile(path.join(alertsDir, 'alerts.log'), { flags: 'w' });
    this.json = new LogFile(path.join(alertsDir, 'alerts.json'), { flags: 'w' });
    this.now = opts.now ?? nowSeconds;
  }

  /** Logs one processed evidence; `accumulatedThreatLevel` is the profile+TW total after counting it. */
  writeEvidence(evidence: Evidence, accumulatedThreatLevel: number): void {
    this.log.write(`${evidenceLogLine(evidence, this.opts)}\n`);
    const event = idmefEvent(evidence, {
      accumulatedThreatLevel,
      analyzerIp: this.opts.analyzerIp,
      enrichmentOf: this.opts.enrichmentOf,
      now: this.now(),
    });
    this.json.write(`${pythonJson(event)}\n`);
  }

  /** Logs an alert; `evidence` are those that make it up (the last one gives the IDMEF method). */
  writeAlert(alert: Alert, evidence: readonly EvidenceSummary[], blocked = false): void {
    const now = this.now();
    this.log.write(`${alertLogLine(alert, { blocked, now })}\n`);
    const last = evidence.find((e) => e.id === alert.last_evidence);
    const incident = idmefIncident(alert, { analyzerIp: this.opts.analyzerIp, method: last?.method, now });
    this.json.write(`${pythonJson(incident)}\n`);
  }

  /** Flushes both files; rejects if either could not be written. */
  async close(): Promise<void> {
    const results = await Promise.allSettled([this.log.close(), this.json.close()]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}

/** `<out>/timeline.txt`: one line per flow activity (format in format/timeline.ts). */
export class TimelineFile {
  private readonly file: LogFile;

  constructor(outputDir: string) {
    this.file = new LogFile(path.join(outputDir, 'timeline.txt'), { flags: 'w' });
  }

  write(profileIp: string, activity: TimelineActivity): void {
    this.file.write(`${timelineLine(profileIp, activity)}\n`);
  }

  close(): Promise<void> {
    return this.file.close();
  }
}
