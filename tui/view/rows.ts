// The row model shared by every main view: a row has an id (selection survives reloads), a plain
// text for search and filter, and renders to one or more lines of styled segments at a given width.
// Also word wrapping (long evidence descriptions, notes) and packing of ` | `-separated fields.

import { charWidth, textWidth } from '../text.js';
import type { Segment } from './canvas.js';

export interface ViewRow {
  id: string;
  /** Plain text matched by `/` search and `f` filter. */
  text: string;
  lines(width: number): Segment[][];
  /** IP the Detail pane describes when this row is under the cursor. */
  peer?: string;
  /** Full text of the row for the Detail pane (`i`). */
  detail?: string[];
  /** Sort keys by column name (`s` cycles through them). */
  sortKeys?: Record<string, number | string>;
}

/** A row that is one line built by `render`. */
export function lineRow(id: string, text: string, render: (width: number) => Segment[], extra: Partial<ViewRow> = {}): ViewRow {
  return { id, text, lines: (width) => [render(width)], ...extra };
}

/** A non-data row (headers, notes, summary lines), wrapped at spaces to the pane width. */
export function noteRow(id: string, text: string, style: Segment['style'] = 'plain'): ViewRow {
  return { id, text, lines: (width) => wrap(text, width).map((line): Segment[] => [{ text: line, style }]) };
}

/** Breaks text into lines of at most `width` cells, at spaces when possible. */
export function wrap(text: string, width: number): string[] {
  if (width <= 0) return [];
  const lines: string[] = [];
  let line = '';
  let lineWidth = 0;
  const words = text.split(/( +)/);
  for (const word of words) {
    let w = 0;
    for (const ch of word) w += charWidth(ch);
    if (lineWidth + w <= width) {
      line += word;
      lineWidth += w;
      continue;
    }
    if (line.trim() !== '') lines.push(line.trimEnd());
    line = '';
    lineWidth = 0;
    if (word.trim() === '') continue;
    // a word longer than the line is cut into pieces
    for (const ch of word) {
      const cw = charWidth(ch);
      if (lineWidth + cw > width) {
        lines.push(line);
        line = '';
        lineWidth = 0;
      }
      line += ch;
      lineWidth += cw;
    }
  }
  if (line.trim() !== '' || lines.length === 0) lines.push(line.trimEnd());
  return lines;
}

/** Fields joined by ` | ` into lines of at most width cells; a field wider than a line is wrapped. */
export function packFields(fields: readonly string[], width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const field of fields) {
    const joined = line === '' ? field : `${line} | ${field}`;
    if (textWidth(joined) <= width) {
      line = joined;
      continue;
    }
    if (line !== '') lines.push(line);
    const pieces = wrap(field, width);
    lines.push(...pieces.slice(0, -1));
    line = pieces[pieces.length - 1] ?? '';
  }
  if (line !== '') lines.push(line);
  return lines;
}
