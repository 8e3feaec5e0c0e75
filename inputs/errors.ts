// Where readers report bad input: one place that knows how to name a file and a line,
// so every reader reports the same way and the run goes on.

export interface InputProblem {
  /** Path of the file (or 'stdin'). */
  file: string;
  /** 1-based line number, or undefined for binary inputs (then offset is set). */
  line?: number;
  /** Byte offset for binary inputs. */
  offset?: number;
  /** What is wrong, e.g. "expected 21 fields, got 7". */
  message: string;
}

export interface ErrorSink {
  /** A recoverable problem with one record: logged, counted, the run continues. */
  badInput(problem: InputProblem): void;
  /** A warning that is not tied to a line (e.g. unsupported log file skipped). */
  warn(message: string): void;
}

/** Formats a problem as "<file>:<line>: <message>" (or "<file>@<offset>: ..."). */
export function formatProblem(p: InputProblem): string {
  const where = p.line !== undefined ? `${p.file}:${p.line}` : p.offset !== undefined ? `${p.file}@${p.offset}` : p.file;
  return `${where}: ${p.message}`;
}

/** Collects problems in memory; used by tests and by tools that only parse. */
export class CollectingErrorSink implements ErrorSink {
  readonly problems: InputProblem[] = [];
  readonly warnings: string[] = [];
  badInput(problem: InputProblem): void {
    this.problems.push(problem);
  }
  warn(message: string): void {
    this.warnings.push(message);
  }
}
