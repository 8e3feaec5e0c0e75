// MIME type of a file from the first bytes of its content, like Zeek's file-magic signatures
// (base/frameworks/files/magic/*.sig): every signature is a pattern anchored at the start of the
// content (PHP's is searched anywhere) and a strength; the strongest match names the type. The
// table holds the common signatures of web and mail traffic (text, markup, scripts, images,
// archives, executables, documents, media); content matching none of them has no MIME type
// (Zeek logs '-').

/** Bytes of a file's start that are sniffed (Zeek's default_file_bof_buffer_size). */
export const SNIFF_BYTES = 4096;

/** [mime type, strength, pattern over the bytes as latin1 text]. */
type Signature = readonly [string, number, RegExp];

/** Optional byte-order mark, blank lines and HTML comments before a markup document's first tag. */
const MARKUP_LEAD = String.raw`(?:\xef\xbb\xbf)?(?:[\r\n \t]*(?:<!--[\s\S]*?-->)?[\r\n \t]*)*(?:<\?xml [\s\S]*?\?>)?(?:[\r\n \t]*(?:<!--[\s\S]*?-->)?[\r\n \t]*)*`;
const markup = (tag: string): RegExp => new RegExp(`^${MARKUP_LEAD}<${tag}`, 'i');
const SHEBANG = String.raw`^#![^\n]{1,15}bin\/(?:env[\t\n\x0b\x0c\r ]+)?`;

const SIGNATURES: readonly Signature[] = [
  // Text and structured text
  ['text/plain', -20, /^(?:\xef\xbb\xbf|(?:\x00\x00)?\xfe\xff|\xff\xfe(?:\x00\x00)?)?[\t\n\x0b\x0c\r\x20-\x7e]{10}/],
  ['text/json', 1, /^(?:\xef\xbb\xbf)?[\r\n \t]*\{[\r\n \t]*(?:"[^"]+"|[a-zA-Z][a-zA-Z0-9\\_]*)[\r\n \t]*:[\r\n \t]*(?:["[{0-9]|true|false)/],
  ['text/json', 1, /^(?:\xef\xbb\xbf)?[\r\n \t]*\[[\r\n \t]*(?:(?:(?:"[^"]+"|[0-9]+(?:\.[0-9]+)?|true|false)[\r\n \t]*,)|\{|\[)/],
  ['application/xml', 10, /^(?:\xef\xbb\xbf)?(?:[\r\n \t]*(?:<!--[\s\S]*?-->)?[\r\n \t]*)*<\?xml /],
  ['text/html', 100, markup('(?:!doctype +html|html|meta +http-equiv)')],
  ['text/html', 49, markup('!doctype +html')],
  ['text/html', 20, markup('(?:head|html|title|body)')],
  ['text/rss', 90, markup('rss')],
  ['application/soap+xml', 49, markup('soap(?:-env)?:envelope')],
  ['text/x-cross-domain-policy', 49, markup('(?:!doctype +)?cross-domain-policy')],
  ['application/x-pem', 0, /^-----BEGIN CERTIFICATE-----/],
  ['text/x-shellscript', 250, new RegExp(`${SHEBANG}(?:ba|tc|c|z|fa|ae|k)?sh`)],
  ['text/x-perl', 60, new RegExp(`${SHEBANG}perl`)],
  ['text/x-python', 60, new RegExp(`${SHEBANG}python`)],
  // Anywhere in the sniffed bytes (Zeek's ^.*<\?php): an unanchored search finds it without backtracking.
  ['text/x-php', 40, /<\?php/],
  ['application/javascript', 60, /^[\r\n \t]*<script[ \t]+(?:type|language)=['"]?(?:text\/)?javascript/i],
  ['application/javascript', 60, /^\(function\(\)[ \t\n]*\{/],
  // Executables and bytecode
  ['application/x-dosexec', 51, /^MZ/],
  ['application/x-executable', 50, /^\x7fELF[\x01\x02](?:\x01[\s\S]{10}\x02\x00|\x02[\s\S]{10}\x00\x02)/],
  ['application/x-sharedlib', 50, /^\x7fELF[\x01\x02](?:\x01[\s\S]{10}\x03\x00|\x02[\s\S]{10}\x00\x03)/],
  ['application/x-object', 50, /^\x7fELF[\x01\x02](?:\x01[\s\S]{10}\x01\x00|\x02[\s\S]{10}\x00\x01)/],
  ['application/x-mach-o-executable', 100, /^[\xce\xcf]\xfa\xed\xfe/],
  ['application/x-java-applet', 71, /^\xca\xfe\xba\xbe[\s\S]{3}[\x2d-\x34]/],
  ['application/x-shockwave-flash', 60, /^[FCZ]WS/],
  // Archives and compressed data
  ['application/zip', 10, /^PK\x03\x04[\s\S]{2}/],
  ['application/java-archive', 100, /^PK\x03\x04[\s\S]{1,200}\x14\x00[\s\S]{2}META-INF\/MANIFEST\.MF/],
  ['application/x-gzip', 100, /^\x1f\x8b/],
  ['application/x-bzip2', 60, /^BZh/],
  ['application/x-xz', 90, /^\xfd7zXZ\x00/],
  ['application/x-7z-compressed', 50, /^7z\xbc\xaf\x27\x1c/],
  ['application/x-rar', 70, /^Rar!/],
  ['application/vnd.ms-cab-compressed', 110, /^MSCF\x00\x00\x00\x00/],
  ['application/x-rpm', 70, /^(?:drpm|\xed\xab\xee\xdb)/],
  ['application/x-debian-package', 171, /^!<arch>\ndebian/],
  // Images
  ['image/png', 110, /^\x89PNG/],
  ['image/jpeg', 52, /^\xff\xd8/],
  ['image/gif', 70, /^GIF8/],
  ['image/x-icon', 70, /^\x00\x00\x01\x00/],
  ['image/x-ms-bmp', 50, /^BM[\s\S]{12}[\x0c\x28\x40\x6c\x7c\x80]\x00/],
  ['image/tiff', 70, /^(?:MM\x00[\x2a\x2b]|II[\x2a\x2b]\x00)/],
  ['image/webp', 70, /^RIFF[\s\S]{4}WEBP/],
  // Documents
  ['application/pdf', 80, /^%PDF/],
  ['application/msword', 50, /^\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1/],
  ['application/x-java-jnlp-file', 100, /^<jnlp /],
  ['application/vnd.tcpdump.pcap', 70, /^(?:\xa1\xb2\xc3\xd4|\xd4\xc3\xb2\xa1)/],
  // Media
  ['video/mp4', 70, /^[\s\S]{4}ftyp(?:isom|mp4|MSNV|M4V|avc1)/],
  ['video/x-flv', 70, /^FLV/],
  ['audio/mpeg', 70, /^ID3/],
  ['application/ogg', 70, /^OggS/],
];

/** The MIME type of content starting with `head` ('' when no signature matches). */
export function sniffMimeType(head: Buffer): string {
  if (head.length === 0) return '';
  const text = head.subarray(0, SNIFF_BYTES).toString('latin1');
  let best = '';
  let bestStrength = -Infinity;
  for (const [mime, strength, pattern] of SIGNATURES) {
    if (strength > bestStrength && pattern.test(text)) {
      best = mime;
      bestStrength = strength;
    }
  }
  return best;
}
