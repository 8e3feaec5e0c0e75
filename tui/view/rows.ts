// The row model shared by every main view: a row has an id (selection survives reloads), a plain
// text for search and filter, and renders to one or more lines of styled segments at a given width.
// Also word wrapping, used for long evidence descriptions.

import { charWidth } from '../text.js';
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

/** A non-data line (headers, notes, summary lines). */
export function noteRow(id: string, text: string, style: Segment['style'] = 'plain'): ViewRow {
  return lineRow(id, text, () => [{ text, style }]);
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
