// A small bounded DER (ASN.1) reader for the X.509 parser of the pcap input: one TLV at a time
// over a Buffer, with the value decoders certificates need (OIDs, integers, times, strings).
// Malformed input raises DerError, which the certificate parser catches: nothing from here
// escapes an analyzer. Nesting depth and child counts are bounded by the callers' structure and
// by MAX_CHILDREN.

/** Most children read from one constructed value (a certificate has far fewer). */
const MAX_CHILDREN = 4096;

export class DerError extends Error {}

/** One DER element: its identifier, and where its value lies in the buffer. */
export interface Tlv {
  /** Tag class: 0 universal, 1 application, 2 context-specific, 3 private. */
  cls: number;
  constructed: boolean;
  /** Tag number. */
  tag: number;
  /** Offset of the identifier octet (start of the whole element). */
  start: number;
  /** Offset of the value. */
  valueStart: number;
  /** Offset just past the value. */
  end: number;
}

/** Universal tags used by certificates. */
export const TAG = {
  BOOLEAN: 1, INTEGER: 2, BIT_STRING: 3, OCTET_STRING: 4, NULL: 5, OID: 6, UTF8_STRING: 12, SEQUENCE: 16, SET: 17,
  PRINTABLE_STRING: 19, T61_STRING: 20, IA5_STRING: 22, UTC_TIME: 23, GENERALIZED_TIME: 24, UNIVERSAL_STRING: 28,
  BMP_STRING: 30,
} as const;

/** The element at `offset`, which must end by `limit`. */
export function readTlv(buf: Buffer, offset: number, limit = buf.length): Tlv {
  if (offset + 2 > limit) throw new DerError('truncated header');
  const id = buf[offset]!;
  let pos = offset + 1;
  let tag = id & 0x1f;
  if (tag === 0x1f) {
    tag = 0;
    for (let i = 0; ; i++) {
      if (pos >= limit || i > 3) throw new DerError('bad tag');
      const b = buf[pos++]!;
      tag = tag * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) break;
    }
  }
  if (pos >= limit) throw new DerError('truncated length');
  let len = buf[pos++]!;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || pos + n > limit) throw new DerError('bad length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[pos++]!;
  }
  if (pos + len > limit) throw new DerError('value overruns its container');
  return { cls: id >> 6, constructed: (id & 0x20) !== 0, tag, start: offset, valueStart: pos, end: pos + len };
}

/** The elements inside a constructed element. */
export function children(buf: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let pos = parent.valueStart; pos < parent.end; ) {
    if (out.length >= MAX_CHILDREN) throw new DerError('too many children');
    const tlv = readTlv(buf, pos, parent.end);
    out.push(tlv);
    pos = tlv.end;
  }
  return out;
}

/** Throws unless the element is the given universal tag. */
export function expect(tlv: Tlv | undefined, tag: number): Tlv {
  if (tlv === undefined || tlv.cls !== 0 || tlv.tag !== tag) throw new DerError(`expected universal tag ${tag}`);
  return tlv;
}

export function value(buf: Buffer, tlv: Tlv): Buffer {
  return buf.subarray(tlv.valueStart, tlv.end);
}

/** An OBJECT IDENTIFIER in dotted form. */
export function oidText(bytes: Buffer): string {
  if (bytes.length === 0) throw new DerError('empty OID');
  const parts: number[] = [];
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    n = n * 128 + (b & 0x7f);
    if (n > Number.MAX_SAFE_INTEGER / 256) throw new DerError('OID arc too large');
    if ((b & 0x80) === 0) {
      if (parts.length === 0) {
        const first = n < 40 ? 0 : n < 80 ? 1 : 2;
        parts.push(first, n - first * 40);
      } else {
        parts.push(n);
      }
      n = 0;
    }
  }
  return parts.join('.');
}

/** An INTEGER's magnitude as an unsigned big-endian buffer and its sign. */
export function integerParts(bytes: Buffer): { negative: boolean; magnitude: Buffer } {
  if (bytes.length === 0) return { negative: false, magnitude: Buffer.alloc(0) };
  if ((bytes[0]! & 0x80) === 0) {
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) i++;
    return { negative: false, magnitude: bytes.subarray(i) };
  }
  // Two's complement negation.
  const out = Buffer.from(bytes);
  let carry = 1;
  for (let i = out.length - 1; i >= 0; i--) {
    const v = (~out[i]! & 0xff) + carry;
    out[i] = v & 0xff;
    carry = v >> 8;
  }
  let i = 0;
  while (i < out.length - 1 && out[i] === 0) i++;
  return { negative: true, magnitude: out.subarray(i) };
}

/** An INTEGER in decimal (exponents). */
export function integerDecimal(bytes: Buffer): string {
  const { negative, magnitude } = integerParts(bytes);
  const n = magnitude.length === 0 ? 0n : BigInt(`0x${magnitude.toString('hex')}`);
  return `${negative ? '-' : ''}${n.toString()}`;
}

/** Bits of an unsigned big-endian number (leading zero bytes ignored). */
export function bitLength(magnitude: Buffer): number {
  let i = 0;
  while (i < magnitude.length && magnitude[i] === 0) i++;
  if (i === magnitude.length) return 0;
  return (magnitude.length - i - 1) * 8 + (32 - Math.clz32(magnitude[i]!));
}

/** UTCTime / GeneralizedTime as epoch seconds (UTC; fractions and offsets honoured). */
export function timeValue(buf: Buffer, tlv: Tlv): number {
  const text = value(buf, tlv).toString('latin1');
  let m: RegExpExecArray | null;
  let year: number;
  let rest: string;
  if (tlv.tag === TAG.UTC_TIME) {
    m = /^(\d{2})(\d{10}(?:\d{2})?)(.*)$/.exec(text);
    if (m === null) throw new DerError('bad UTCTime');
    const yy = Number(m[1]);
    year = yy < 50 ? 2000 + yy : 1900 + yy;
    rest = m[2]!;
  } else if (tlv.tag === TAG.GENERALIZED_TIME) {
    m = /^(\d{4})(\d{10}(?:\d{2})?(?:[.,]\d+)?)(.*)$/.exec(text);
    if (m === null) throw new DerError('bad GeneralizedTime');
    year = Number(m[1]);
    rest = m[2]!;
  } else {
    throw new DerError('not a time');
  }
  const zone = m[3]!;
  const month = Number(rest.slice(0, 2));
  const day = Number(rest.slice(2, 4));
  const hour = Number(rest.slice(4, 6));
  const minute = Number(rest.slice(6, 8));
  const second = rest.length >= 10 ? Number(rest.slice(8, 10)) : 0;
  const fraction = rest.length > 11 ? Number(`0.${rest.slice(11)}`) : 0;
  let seconds = Date.UTC(year, month - 1, day, hour, minute, second) / 1000 + fraction;
  const offset = /^([+-])(\d{2})(\d{2})$/.exec(zone);
  if (offset !== null) seconds -= (offset[1] === '-' ? -1 : 1) * (Number(offset[2]) * 3600 + Number(offset[3]) * 60);
  else if (zone !== 'Z' && zone !== '') throw new DerError('bad time zone');
  if (!Number.isFinite(seconds)) throw new DerError('bad time');
  return seconds;
}

/**
 * A directory string's characters as Unicode code points (BMPString is UCS-2, UniversalString
 * UCS-4, UTF8String UTF-8, the others one byte per character).
 */
export function stringCodePoints(buf: Buffer, tlv: Tlv): number[] {
  const bytes = value(buf, tlv);
  const out: number[] = [];
  if (tlv.tag === TAG.BMP_STRING) {
    for (let i = 0; i + 1 < bytes.length; i += 2) out.push(bytes.readUInt16BE(i));
  } else if (tlv.tag === TAG.UNIVERSAL_STRING) {
    for (let i = 0; i + 3 < bytes.length; i += 4) out.push(bytes.readUInt32BE(i));
  } else if (tlv.tag === TAG.UTF8_STRING) {
    for (const ch of bytes.toString('utf8')) out.push(ch.codePointAt(0)!);
  } else {
    for (const b of bytes) out.push(b);
  }
  return out;
}

/** Universal tags of the directory string types (26 is VisibleString). */
const STRING_TAGS: ReadonlySet<number> = new Set([
  TAG.UTF8_STRING, TAG.PRINTABLE_STRING, TAG.T61_STRING, TAG.IA5_STRING, 26, TAG.UNIVERSAL_STRING, TAG.BMP_STRING,
]);

/** Whether the element is one of the directory string types. */
export function isStringTag(tlv: Tlv): boolean {
  return tlv.cls === 0 && STRING_TAGS.has(tlv.tag);
}
