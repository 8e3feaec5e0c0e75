// The TUI's one sanitizer (tui/sanitize.ts, spec/tui.md §4.8): escape sequences, C0/DEL/C1, bidi
// and zero-width characters become `·`, fields are capped at 256 characters, markup braces and
// ordinary Unicode pass unchanged; and the canvas never lets data braces become blessed tags.

import test from 'ava';
import { FIELD_CAP, REPLACEMENT, sanitize } from '../tui/sanitize.js';
import { Canvas } from '../tui/view/canvas.js';

const DOT = REPLACEMENT;

test('escape sequences are replaced as a whole: OSC title, CSI clear, SGR colour, C1 CSI', (t) => {
  t.is(sanitize('a\x1b]0;pwned\x07b'), `a${DOT}b`);
  t.is(sanitize('a\x1b]2;pwned\x1b\\b'), `a${DOT}b`);
  t.is(sanitize('\x1b[2Jclear'), `${DOT}clear`);
  t.is(sanitize('\x1b[31mred\x1b[0m'), `${DOT}red${DOT}`);
  t.is(sanitize('x\u009b31my'), `x${DOT}y`);
  t.is(sanitize('\x1bPdcs data\x1b\\z'), `${DOT}z`);
  t.is(sanitize('\x1bcreset'), `${DOT}reset`);
});

test('C0, DEL and C1 controls, bidi controls and zero-width characters become ·', (t) => {
  t.is(sanitize('a\x00b\x07c\x08d\te\nf\rg\x7fh\u0085i'), `a${DOT}b${DOT}c${DOT}d${DOT}e${DOT}f${DOT}g${DOT}h${DOT}i`);
  for (const ch of ['\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069']) t.is(sanitize(`evil${ch}txt.exe`), `evil${DOT}txt.exe`);
  for (const ch of ['\u200b', '\u200c', '\u200d', '\ufeff']) t.is(sanitize(`g${ch}oogle.com`), `g${DOT}oogle.com`);
});

test('ordinary text, markup-looking braces and wide characters are kept', (t) => {
  t.is(sanitize('{red-fg}x{/}'), '{red-fg}x{/}');
  t.is(sanitize('scanme.nmap.org 45.33.32.156 Mozilla/5.0 (X11; Linux)'), 'scanme.nmap.org 45.33.32.156 Mozilla/5.0 (X11; Linux)');
  t.is(sanitize('例え.jp café'), '例え.jp café');
});

test('fields are capped at 256 characters (code points), with an ellipsis', (t) => {
  const long = 'x'.repeat(1000);
  const out = sanitize(long);
  t.is(Array.from(out).length, FIELD_CAP);
  t.true(out.endsWith('…'));
  t.is(sanitize('y'.repeat(FIELD_CAP)), 'y'.repeat(FIELD_CAP));
  t.is(Array.from(sanitize('😀'.repeat(300))).length, FIELD_CAP);
  t.is(sanitize('abcdef', 4), 'abc…');
});

test('non-strings are rendered as text; null and undefined as empty', (t) => {
  t.is(sanitize(42), '42');
  t.is(sanitize(undefined), '');
  t.is(sanitize(null), '');
});

test('canvas output escapes braces so data never becomes blessed markup', (t) => {
  const canvas = new Canvas(20, 1);
  canvas.put(0, 0, sanitize('{red-fg}x{/}'), 'plain');
  const tagged = canvas.toTagged(false);
  t.false(tagged.includes('{red-fg}'));
  t.true(tagged.startsWith('{open}red-fg{close}x{open}/{close}'));
  t.is(canvas.lines()[0], '{red-fg}x{/}        ');
});
