// HTTP/1.x line parsing for the pcap HTTP analyzer, with the acceptance rules of Zeek's HTTP
// analyzer: a request line is a method made of token characters, whitespace, then a URI that
// runs up to the whitespace before "HTTP/" (no "HTTP/" at all: an HTTP/0.9 request, which needs a
// method of 3+ characters and a URI); a status line starts with "HTTP/", then a 3-digit code
// (0 when not digits) and an optional reason phrase. Versions are reported as Zeek prints them
// ("%.1f" of major.minor). Also Zeek's URI unescaping (%XX, %uXXXX) and the file name of a
// Content-Disposition / Content-Type header (extract_filename_from_content_disposition).

export interface RequestLine {
  method: string;
  /** The URI as sent. */
  uri: string;
  /** "1.1", "1.0", "0.9", or '' when the version after "HTTP/" is malformed. */
  version: string;
}

export interface StatusLine {
  version: string;
  code: number;
  /** The reason phrase; undefined when absent (Zeek logs "<empty>"). */
  reason: string | undefined;
}

/** Token characters of RFC 7230 (Zeek's is_HTTP_token_char). */
function isTokenChar(c: number): boolean {
  return c > 31 && c < 127 && '\t ()<>@,;:\\"/[]?={}'.indexOf(String.fromCharCode(c)) < 0;
}

const URI_CHARS = /[A-Za-z0-9:/?#[\]@!$&'()*+,;=\-_.~%]/;

function isWhite(ch: string | undefined): boolean {
  return ch === ' ' || ch === '\t';
}

function skipWhite(text: string, at: number): number {
  while (at < text.length && isWhite(text[at])) at++;
  return at;
}

function startsHttp(text: string, at: number): boolean {
  return text.slice(at, at + 5).toUpperCase() === 'HTTP/';
}

/** "x.y" as Zeek prints an HTTP version, or '' when malformed. */
function versionAt(text: string, at: number): string {
  const v = /^([0-9])\.([0-9])/.exec(text.slice(at));
  return v === null ? '' : `${v[1]}.${v[2]}`;
}

/** Parses a request line (latin1 text without line end); undefined when it is not one. */
export function parseRequestLine(line: string): RequestLine | undefined {
  let end = 0;
  while (end < line.length && isTokenChar(line.charCodeAt(end))) end++;
  if (end === 0) return undefined;
  const start = skipWhite(line, end);
  if (start === end) return undefined;
  const rest = line.slice(start);
  let uriEnd = 0;
  while (uriEnd < rest.length && URI_CHARS.test(rest[uriEnd]!)) uriEnd++;
  if (uriEnd >= rest.length && startsHttp(rest, 0)) uriEnd = 0;
  let versionStart = uriEnd;
  let found = false;
  while (versionStart < rest.length) {
    uriEnd = versionStart;
    versionStart = skipWhite(rest, versionStart);
    if (startsHttp(rest, versionStart)) {
      found = true;
      break;
    }
    versionStart++;
  }
  let version: string;
  if (!found) {
    version = '0.9';
    if (end < 3 || uriEnd === 0) return undefined;
  } else version = versionStart + 8 <= rest.length ? versionAt(rest, versionStart + 5) : '';
  return { method: line.slice(0, end), uri: rest.slice(0, uriEnd), version };
}

/** Parses a status line; undefined when it does not start with "HTTP/" or has no code. */
export function parseStatusLine(line: string): StatusLine | undefined {
  if (!startsHttp(line, 0)) return undefined;
  const version = versionAt(line, 5);
  let at = 5;
  while (at < line.length && !isWhite(line[at])) at++;
  if (at >= line.length) return undefined;
  at = skipWhite(line, at);
  if (at + 3 > line.length) return undefined;
  const digits = line.slice(at, at + 3);
  const code = /^[0-9]{3}$/.test(digits) ? Number(digits) : 0;
  at += 3;
  while (at < line.length && !isWhite(line[at])) at++;
  if (at >= line.length) return { version: version === '' ? '0.0' : version, code, reason: undefined };
  return { version: version === '' ? '0.0' : version, code, reason: line.slice(skipWhite(line, at)) };
}

/** Zeek's unescape_URI: %XX and %uXXXX decoded, other '%' kept. */
export function unescapeUri(uri: string): string {
  if (uri.indexOf('%') < 0) return uri;
  let out = '';
  for (let i = 0; i < uri.length; i++) {
    const ch = uri[i]!;
    if (ch !== '%') {
      out += ch;
      continue;
    }
    const a = uri[i + 1];
    const b = uri[i + 2];
    if (a === undefined) {
      out += '%';
      break;
    }
    if (b === undefined) {
      out += `%${a}`;
      break;
    }
    if (a === '%') continue;
    if (/[0-9a-fA-F]/.test(a) && /[0-9a-fA-F]/.test(b)) {
      out += String.fromCharCode(parseInt(a + b, 16));
      i += 2;
    } else if (a === 'u' && /^[0-9a-fA-F]{4}$/.test(uri.slice(i + 2, i + 6))) {
      const hi = uri.slice(i + 2, i + 4);
      if (hi !== '00') out += String.fromCharCode(parseInt(hi, 16));
      out += String.fromCharCode(parseInt(uri.slice(i + 4, i + 6), 16));
      i += 5;
    } else {
      out += `%${a}`;
      i += 1;
    }
  }
  return out;
}

/** The file name in a Content-Disposition (or Content-Type name=) value. */
export function filenameFromDisposition(value: string): string {
  let name = value.replace(/^.*name[ \t]*\*?=[ \t]*/is, '');
  if (name.startsWith('"')) name = name.split('"')[1] ?? '';
  if (/^[a-zA-Z0-9!#$%&+\-^_`{}~]+'[a-zA-Z0-9!#$%&+\-^_`{}~]*'/.test(name)) name = name.replace(/^.+'.*'/, '');
  return unescapeUri(name);
}
