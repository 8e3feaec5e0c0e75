// An off-screen grid of styled cells the frame is drawn into, then turned into blessed content.
// Text is placed cell by cell with its display width (a wide character takes two cells), clipped at
// the right edge, so no widget can overflow into another. Data never becomes markup: braces are
// escaped when the grid is converted, and colours come only from the STYLES table.

import { charWidth } from '../text.js';

export type Style =
  | 'plain'
  | 'border'
  | 'borderFocus'
  | 'title'
  | 'titleFocus'
  | 'alert'
  | 'warn'
  | 'dim'
  | 'good'
  | 'match'
  | 'status'
  | 'statusAlert'
  | 'key'
  | 'header';

/** blessed tags per style; `mono` is used with --no-color / NO_COLOR. */
const STYLES: Record<Style, { color: string; mono: string }> = {
  plain: { color: '', mono: '' },
  border: { color: '{blue-fg}', mono: '' },
  borderFocus: { color: '{magenta-fg}', mono: '' },
  title: { color: '{bold}', mono: '' },
  titleFocus: { color: '{bold}{magenta-fg}', mono: '{bold}' },
  alert: { color: '{red-fg}{bold}', mono: '{bold}' },
  warn: { color: '{yellow-fg}', mono: '' },
  dim: { color: '{gray-fg}', mono: '' },
  good: { color: '{green-fg}', mono: '' },
  match: { color: '{yellow-fg}{bold}', mono: '{bold}' },
  status: { color: '{inverse}', mono: '{inverse}' },
  statusAlert: { color: '{inverse}{red-fg}', mono: '{inverse}{bold}' },
  key: { color: '{cyan-fg}', mono: '{bold}' },
  header: { color: '{bold}', mono: '{bold}' },
};

export interface Segment {
  text: string;
  style?: Style;
}

/** Highlights laid over a cell's own style (its colour stays: a red `!` stays red under the cursor). */
export type Mark = 'cursor' | 'cursorDim';

const MARKS: Record<Mark, string> = { cursor: '{inverse}', cursorDim: '{underline}' };

interface Cell {
  ch: string;
  style: Style;
  mark?: Mark;
}

export class Canvas {
  private readonly cells: Cell[][];

  constructor(readonly width: number, readonly height: number) {
    this.cells = Array.from({ length: height }, () => Array.from({ length: width }, () => ({ ch: ' ', style: 'plain' as Style })));
  }

  /** Writes text at (x, y), not past `maxX` (exclusive); returns the x after the text. */
  put(x: number, y: number, text: string, style: Style = 'plain', maxX = this.width): number {
    if (y < 0 || y >= this.height) return x;
    const row = this.cells[y];
    const limit = Math.min(maxX, this.width);
    for (const ch of text) {
      const w = charWidth(ch);
      if (w === 0) continue;
      if (x + w > limit) break;
      if (x >= 0) {
        row[x] = { ch, style };
        if (w === 2) row[x + 1] = { ch: '', style };
      }
      x += w;
    }
    return x;
  }

  /** Segments one after another from (x, y), clipped at `maxX`. */
  putSegments(x: number, y: number, segments: readonly Segment[], maxX = this.width): number {
    for (const s of segments) x = this.put(x, y, s.text, s.style ?? 'plain', maxX);
    return x;
  }

  /** Marks `count` cells (the cursor row) keeping their characters and colours. */
  mark(x: number, y: number, count: number, mark: Mark): void {
    if (y < 0 || y >= this.height) return;
    for (let i = Math.max(0, x); i < Math.min(this.width, x + count); i += 1) this.cells[y][i].mark = mark;
  }

  fill(x: number, y: number, w: number, h: number, style: Style = 'plain'): void {
    for (let r = y; r < Math.min(this.height, y + h); r += 1) {
      for (let c = Math.max(0, x); c < Math.min(this.width, x + w); c += 1) this.cells[r][c] = { ch: ' ', style };
    }
  }

  /** Plain text rows (for tests and the docs capture). */
  lines(): string[] {
    return this.cells.map((row) => row.map((c) => c.ch).join(''));
  }

  /** blessed content with tags: styles become tags, braces in text are escaped. */
  toTagged(mono: boolean): string {
    return this.cells
      .map((row) => {
        let out = '';
        let current: Style = 'plain';
        let currentMark: Mark | undefined;
        let run = '';
        const flush = (): void => {
          if (run === '') return;
          const tag = (mono ? STYLES[current].mono : STYLES[current].color) + (currentMark !== undefined ? MARKS[currentMark] : '');
          const text = run.replace(/[{}]/g, (b) => (b === '{' ? '{open}' : '{close}'));
          out += tag === '' ? text : `${tag}${text}{/}`;
          run = '';
        };
        for (const cell of row) {
          if (cell.style !== current || cell.mark !== currentMark) {
            flush();
            current = cell.style;
            currentMark = cell.mark;
          }
          run += cell.ch;
        }
        flush();
        return out;
      })
      .join('\n');
  }
}
