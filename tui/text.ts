// Terminal text measuring and shaping: display width (East-Asian wide characters count 2, combining
// marks 0), padding and clipping to an exact width, middle ellipsis for addresses, compact numbers,
// clock formatting, and text sparklines and bars (Unicode or ASCII).

/** Code points that take two terminal cells (East-Asian wide and fullwidth ranges, emoji). */
function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0x303e) ||
    (cp >= 0x3041 && cp <= 0x33ff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0xa000 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}

function isZeroWidth(cp: number): boolean {
  return (cp >= 0x0300 && cp <= 0x036f) || (cp >= 0x1ab0 && cp <= 0x1aff) || (cp >= 0x20d0 && cp <= 0x20ff) || (cp >= 0xfe00 && cp <= 0xfe0f);
}

export function charWidth(ch: string): number {
  const cp = ch.codePointAt(0) ?? 0;
  if (isZeroWidth(cp)) return 0;
  return isWide(cp) ? 2 : 1;
}

export function textWidth(text: string): number {
  let width = 0;
  for (const ch of text) width += charWidth(ch);
  return width;
}

/** Exactly `width` cells: clipped (with `…` when `ellipsis`) or padded with spaces. */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left', ellipsis = true): string {
  if (width <= 0) return '';
  const w = textWidth(text);
  if (w <= width) {
    const pad = ' '.repeat(width - w);
    return align === 'left' ? text + pad : pad + text;
  }
  const room = ellipsis ? width - 1 : width;
  let out = '';
  let used = 0;
  for (const ch of text) {
    const cw = charWidth(ch);
    if (used + cw > room) break;
    out += ch;
    used += cw;
  }
  return out + (ellipsis ? '…' : '') + ' '.repeat(room - used);
}

/** Shortens in the middle (`fe80::1c2a..9b01`) so both ends of an address stay readable. */
export function middleEllipsis(text: string, width: number, mark = '..'): string {
  const chars = Array.from(text);
  if (chars.length <= width) return text;
  if (width <= mark.length + 1) return chars.slice(0, width).join('');
  const tail = Math.floor((width - mark.length) / 2);
  const head = width - mark.length - tail;
  return chars.slice(0, head).join('') + mark + chars.slice(chars.length - tail).join('');
}

/** 950, 1.2k, 45.0k, 3.4M, 1.1G. */
export function compact(n: number): string {
  if (!Number.isFinite(n)) return '-';
  const abs = Math.abs(n);
  if (abs < 1000) return Number.isInteger(n) ? String(n) : n.toFixed(1);
  const units = ['k', 'M', 'G', 'T'];
  let value = n;
  let unit = '';
  for (const u of units) {
    if (Math.abs(value) < 1000) break;
    value /= 1000;
    unit = u;
  }
  return `${value.toFixed(1)}${unit}`;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** HH:MM of a unix time (seconds), local time zone (TZ honoured). */
export function hhmm(ts: number): string {
  if (!Number.isFinite(ts)) return '--:--';
  const d = new Date(ts * 1000);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
}

export function hhmmss(ts: number): string {
  if (!Number.isFinite(ts)) return '--:--:--';
  const d = new Date(ts * 1000);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

export function dateTime(ts: number): string {
  if (!Number.isFinite(ts)) return '-';
  const d = new Date(ts * 1000);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${hhmmss(ts)}`;
}

const SPARK_UTF8 = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
const SPARK_ASCII = ['_', '.', '-', '~', '=', '+', '*', '#'];

/** One cell per value, scaled to the largest value; zero is the lowest cell. */
export function sparkline(values: readonly number[], ascii: boolean): string {
  const cells = ascii ? SPARK_ASCII : SPARK_UTF8;
  const max = Math.max(0, ...values);
  return values
    .map((v) => {
      if (max <= 0 || v <= 0) return ascii ? ' ' : cells[0];
      return cells[Math.min(cells.length - 1, Math.round((v / max) * (cells.length - 1)))];
    })
    .join('');
}

/** Horizontal bar of `width` cells for value/max, eighth-cell resolution in UTF-8. */
export function bar(value: number, max: number, width: number, ascii: boolean): string {
  if (width <= 0) return '';
  const ratio = max > 0 ? Math.max(0, Math.min(1, value / max)) : 0;
  if (ascii) return '#'.repeat(Math.round(ratio * width)).padEnd(width, ' ');
  const eighths = Math.round(ratio * width * 8);
  const full = Math.floor(eighths / 8);
  const partial = eighths % 8;
  const partials = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
  const text = '█'.repeat(full) + (partial > 0 ? partials[partial] : '');
  return text + ' '.repeat(Math.max(0, width - Array.from(text).length));
}
