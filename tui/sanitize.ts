// The one sanitizer for text that comes from traffic or from the database (domains, user agents,
// certificate subjects, file names, evidence descriptions, timeline info, core log lines) before it
// reaches the terminal: escape sequences, control, bidi and zero-width characters become `·`, and a
// field is capped at 256 characters. Markup is not a concern here: the screen is drawn with blessed
// tags off (see view/screen.ts), so `{...}` stays literal text.

export const FIELD_CAP = 256;
export const REPLACEMENT = '·';

// ESC followed by: CSI (ESC [ params final), OSC/DCS/SOS/PM/APC (ESC ] P X ^ _ ... up to BEL or ST),
// or a two-character escape (ESC + one char). C1 CSI (U+009B) and C1 string starters are handled
// the same way.
const ESCAPE_SEQUENCE =
  /(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?|\x1b[\x20-\x7e]?/g;

// C0 (except nothing: tabs and newlines are not wanted inside one field either), DEL, C1, bidi
// embedding/override/isolate controls, zero-width characters and the BOM.
const UNSAFE_CHAR = /[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200b-\u200d\ufeff]/g;

/** Safe, single-line, capped rendering of an untrusted value. */
export function sanitize(value: unknown, cap = FIELD_CAP): string {
  const text = typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
  const cleaned = text.replace(ESCAPE_SEQUENCE, REPLACEMENT).replace(UNSAFE_CHAR, REPLACEMENT);
  const chars = Array.from(cleaned);
  return chars.length > cap ? `${chars.slice(0, cap - 1).join('')}…` : cleaned;
}
