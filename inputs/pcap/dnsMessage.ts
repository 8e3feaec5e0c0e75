// DNS message parsing for the pcap DNS analyzer (inputs/pcap/dns.ts), with the facts of Zeek's
// DNS interpreter: header flags (Z = the 3 bits between RA and RCODE, so AD/CD count in it), the
// question section (names lower-cased), the answer section turned into the strings Zeek's
// dns.log `answers` holds (addresses, names, "TXT <len> <text>" per character-string, "RRSIG
// <type> <signer>", "DNSKEY <alg>", "<unknown type=N>", ...), and Zeek's name tables (query
// types, classes, response codes, opcodes). Authority and additional records are not parsed
// (Zeek's defaults dns_skip_all_auth / dns_skip_all_addl).
//
// Names: labels of at most 63 bytes (longer only towards NetBIOS port 137), at most 512 bytes in
// all, compression pointers only backwards (each pointer strictly before the one that led to
// it, which bounds the work and rules out loops). Unlike Zeek, which keeps the part of a name
// read before a bad label, a bad name fails its section: nothing is claimed from it.

import { ipv4String, ipv6String } from './decode.js';

export const DNS_HEADER_LEN = 12;
/** Zeek's dns_max_queries: messages with more questions are not DNS. */
export const DNS_MAX_QUESTIONS = 25;
const MAX_NAME = 512;

export const OPCODE_QUERY = 0;
export const OPCODE_NOTIFY = 4;
export const OPCODE_UPDATE = 5;

export interface DnsHeader {
  id: number;
  qr: boolean;
  opcode: number;
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  z: number;
  rcode: number;
  qdcount: number;
  ancount: number;
  nscount: number;
  arcount: number;
}

export interface DnsQuestion {
  /** Lower-cased, without the trailing dot (latin1: one char per byte). */
  name: string;
  qtype: number;
  qclass: number;
}

export interface DnsAnswer {
  /** Owner name, lower-cased. */
  name: string;
  type: number;
  ttl: number;
  /**
   * What Zeek's dns.log `answers` gets for the record ('' for nothing, as for WKS); null for
   * record types Zeek's scripts do not handle at all (then the reply flags are not taken either).
   */
  text: string | null;
}

/** One message as far as it parsed. */
export interface DnsMessage {
  header: DnsHeader;
  questions: DnsQuestion[];
  answers: DnsAnswer[];
  /** The question and answer sections parsed completely (Zeek's protocol confirmation). */
  complete: boolean;
}

export interface DnsParseOptions {
  /** Towards NetBIOS name service (port 137): long labels allowed, SRV (NBSTAT) not parsed. */
  netbios: boolean;
  /** Parse the answer section (off for dynamic updates, whose records mean something else). */
  answers: boolean;
}

export function parseDnsHeader(b: Buffer): DnsHeader {
  const flags = b.readUInt16BE(2);
  return {
    id: b.readUInt16BE(0),
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    z: (flags >> 4) & 0x7,
    rcode: flags & 0xf,
    qdcount: b.readUInt16BE(4),
    ancount: b.readUInt16BE(6),
    nscount: b.readUInt16BE(8),
    arcount: b.readUInt16BE(10),
  };
}

/** A read position in one message. */
class Cursor {
  constructor(readonly msg: Buffer, public pos: number) {}

  get left(): number {
    return this.msg.length - this.pos;
  }

  u8(): number {
    return this.msg[this.pos++]!;
  }

  /** Zeek's ExtractShort: 0 without consuming when fewer than 2 bytes are left. */
  u16(): number {
    if (this.left < 2) return 0;
    const v = this.msg.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  /** Zeek's ExtractLong: 0 without consuming when fewer than 4 bytes are left. */
  u32(): number {
    if (this.left < 4) return 0;
    const v = this.msg.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** Skips up to n bytes (Zeek's ExtractStream). */
  skip(n: number): void {
    this.pos += Math.max(0, Math.min(n, this.left));
  }
}

/**
 * A domain name at the cursor (moved past it), lower-cased unless told; undefined when malformed
 * (a label past the end, too long, a forward or self compression pointer, the name too long).
 */
function readName(c: Cursor, netbios: boolean, lower = true): string | undefined {
  const msg = c.msg;
  let pos = c.pos;
  /** Where reading must stop: the start of the pointer that led here (or the end). */
  let limit = msg.length;
  let jumped = false;
  let out = '';
  for (;;) {
    if (pos >= limit) return undefined;
    const len = msg[pos]!;
    if (len === 0) {
      pos += 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= limit) return undefined;
      const target = ((len & 0x3f) << 8) | msg[pos + 1]!;
      if (target >= pos) return undefined;
      if (!jumped) c.pos = pos + 2;
      jumped = true;
      limit = pos;
      pos = target;
      continue;
    }
    if ((len & 0xc0) !== 0 || (len > 63 && !netbios)) return undefined;
    if (pos + 1 + len > limit || out.length + len + 1 > MAX_NAME) return undefined;
    out += msg.toString('latin1', pos + 1, pos + 1 + len);
    out += '.';
    pos += 1 + len;
  }
  if (!jumped) c.pos = pos;
  if (out.length >= 2) out = out.slice(0, -1);
  return lower ? out.toLowerCase() : out;
}

/** A character-string (length byte + bytes) within `end`; undefined past it. */
function readCharString(c: Cursor, end: number): string | undefined {
  if (c.pos >= end) return undefined;
  const n = c.msg[c.pos]!;
  if (c.pos + 1 + n > end) return undefined;
  const s = c.msg.toString('latin1', c.pos + 1, c.pos + 1 + n);
  c.pos += 1 + n;
  return s;
}

/** An AAAA address as Zeek prints it (IPv4-mapped addresses are IPv4 for Zeek). */
function aaaaText(b: Buffer, off: number): string {
  const mapped = b.readUInt32BE(off) === 0 && b.readUInt32BE(off + 4) === 0 && b.readUInt32BE(off + 8) === 0xffff;
  return mapped ? ipv4String(b, off + 12) : ipv6String(b, off);
}

const TYPE_A = 1, TYPE_NS = 2, TYPE_CNAME = 5, TYPE_SOA = 6, TYPE_WKS = 11, TYPE_PTR = 12, TYPE_HINFO = 13;
const TYPE_MX = 15, TYPE_TXT = 16, TYPE_AAAA = 28, TYPE_LOC = 29, TYPE_NBS = 32, TYPE_SRV = 33;
const TYPE_NAPTR = 35, TYPE_A6 = 38, TYPE_EDNS = 41, TYPE_DS = 43, TYPE_SSHFP = 44, TYPE_RRSIG = 46;
const TYPE_NSEC = 47, TYPE_DNSKEY = 48, TYPE_NSEC3 = 50, TYPE_NSEC3PARAM = 51, TYPE_SVCB = 64, TYPE_HTTPS = 65;
const TYPE_SPF = 99, TYPE_TSIG = 250, TYPE_CAA = 257, TYPE_BINDS = 65534;

/**
 * The rdata of one record at the cursor: its dns.log text (see DnsAnswer.text), or undefined
 * when it does not parse (which ends the section, as in Zeek). The cursor
 * moves as Zeek's parser moves (usually to the end of the rdata).
 */
function readRdata(c: Cursor, type: number, owner: string, rdlength: number, opts: DnsParseOptions): string | null | undefined {
  const start = c.pos;
  const end = start + rdlength;
  switch (type) {
    case TYPE_A:
      if (rdlength !== 4) return undefined;
      c.pos = end;
      return ipv4String(c.msg, start);
    case TYPE_AAAA:
    case TYPE_A6:
      // Zeek reads 16 bytes whatever rdlength says.
      if (c.left < 16) return undefined;
      c.pos += 16;
      return aaaaText(c.msg, start);
    case TYPE_NS:
    case TYPE_CNAME:
    case TYPE_PTR:
      return readName(c, opts.netbios);
    case TYPE_SOA: {
      const mname = readName(c, opts.netbios);
      if (mname === undefined || readName(c, opts.netbios) === undefined || c.left < 20) return undefined;
      c.pos += 20;
      return mname;
    }
    case TYPE_MX:
      c.u16();
      return readName(c, opts.netbios);
    case TYPE_SRV:
      // Towards port 137 type 33 is NetBIOS NBSTAT: Zeek neither parses nor skips it.
      if (opts.netbios) return null;
      c.u16();
      c.u16();
      c.u16();
      return readName(c, opts.netbios);
    case TYPE_TXT:
    case TYPE_SPF: {
      const label = type === TYPE_TXT ? 'TXT' : 'SPF';
      const parts: string[] = [];
      while (c.pos < end) {
        const s = readCharString(c, end);
        if (s === undefined) return undefined;
        parts.push(`${label} ${s.length} ${s}`);
      }
      return parts.join(' ');
    }
    case TYPE_NAPTR: {
      if (rdlength < 4) return undefined;
      const order = c.u16();
      const preference = c.u16();
      const flags = readCharString(c, end);
      const service = flags === undefined ? undefined : readCharString(c, end);
      const regexp = service === undefined ? undefined : readCharString(c, end);
      const replacement = regexp === undefined ? undefined : readName(c, opts.netbios);
      if (replacement === undefined) return undefined;
      const tail = replacement.length > 0 ? (regexp!.length > 0 ? `${regexp} ${replacement}` : replacement) : regexp;
      return `NAPTR ${order} ${preference} ${flags} ${service} ${tail}`;
    }
    case TYPE_RRSIG: {
      if (c.left < 18) return undefined;
      const covered = c.u16();
      c.pos += 16;
      const nameStart = c.pos;
      const signer = readName(c, opts.netbios);
      if (signer === undefined) return undefined;
      c.skip(rdlength - (c.pos - nameStart + 18));
      return `RRSIG ${covered} ${signer === '' ? '<Root>' : signer}`;
    }
    case TYPE_DNSKEY: {
      if (c.left < 4) return undefined;
      const algorithm = c.msg[c.pos + 3]!;
      c.pos += 4;
      c.skip(rdlength - 4);
      return `DNSKEY ${algorithm}`;
    }
    case TYPE_DS: {
      if (c.left < 4) return undefined;
      const algorithm = c.msg[c.pos + 2]!;
      const digestType = c.msg[c.pos + 3]!;
      c.pos += 4;
      c.skip(rdlength - 4);
      return `DS ${algorithm} ${digestType}`;
    }
    case TYPE_NSEC: {
      const next = readName(c, opts.netbios);
      if (next === undefined) return undefined;
      skipTypeBitmaps(c, end);
      return `NSEC ${owner} ${next}`;
    }
    case TYPE_NSEC3: {
      if (c.left < 6) return undefined;
      c.pos += 4;
      c.skip(c.u8());
      if (c.left > 0) c.skip(c.u8());
      skipTypeBitmaps(c, end);
      return 'NSEC3';
    }
    case TYPE_NSEC3PARAM:
      if (c.left < 5) return undefined;
      c.pos += 4;
      c.skip(c.u8());
      return 'NSEC3PARAM';
    case TYPE_SSHFP: {
      if (c.left < 2) return undefined;
      c.pos += 2;
      const from = c.pos;
      c.skip(rdlength - 2);
      return `SSHFP: ${c.msg.toString('hex', from, c.pos)}`;
    }
    case TYPE_LOC: {
      if (c.left < 15) return undefined;
      const size = c.msg[c.pos + 1]!;
      const horiz = c.msg[c.pos + 2]!;
      const vert = c.msg[c.pos + 3]!;
      c.pos += 16 <= c.left ? 16 : c.left;
      return `LOC:  ${size} ${horiz} ${vert}`;
    }
    case TYPE_BINDS:
      if (c.left < 5) return undefined;
      c.pos += 4;
      c.skip(rdlength - 4);
      return 'BIND9 signing signal';
    case TYPE_CAA: {
      if (rdlength < 2) return undefined;
      const tagLen = c.msg[c.pos + 1]!;
      if (tagLen >= rdlength - 2) return undefined;
      c.pos = end;
      return null;
    }
    case TYPE_EDNS:
      // Zeek walks the options over the rest of the message.
      while (c.left > 0) {
        c.u16();
        const optionLen = c.u16();
        if (optionLen > c.left) break;
        c.pos += optionLen;
      }
      return null;
    case TYPE_TSIG: {
      if (readName(c, opts.netbios) === undefined) return undefined;
      c.u32();
      c.u16();
      c.u16();
      c.skip(c.u16());
      c.u16();
      c.u16();
      c.skip(c.u16());
      return null;
    }
    case TYPE_WKS:
      c.pos = end;
      return '';
    case TYPE_HINFO:
    case TYPE_NBS:
    case TYPE_SVCB:
    case TYPE_HTTPS:
      c.pos = end;
      return null;
    default:
      c.pos = end;
      return `<unknown type=${type}>`;
  }
}

/** NSEC / NSEC3 type bitmaps (window, length, bits) up to the end of the rdata. */
function skipTypeBitmaps(c: Cursor, end: number): void {
  while (c.pos < end && c.left > 0) {
    const bmlen = c.u16() & 0xff;
    if (bmlen === 0) return;
    c.skip(bmlen);
  }
}

/** One resource record (name, type, class, TTL, rdata); undefined when it does not parse. */
function readRecord(c: Cursor, opts: DnsParseOptions): DnsAnswer | undefined {
  const name = readName(c, opts.netbios);
  if (name === undefined || c.left < 4) return undefined;
  const type = c.u16();
  c.u16();
  const ttl = c.u32();
  const rdlength = c.u16();
  if (rdlength > c.left || (rdlength === 0 && c.left > 0)) return undefined;
  const text = readRdata(c, type, name, rdlength, opts);
  return text === undefined ? undefined : { name, type, ttl, text };
}

/** Parses a message (at least DNS_HEADER_LEN bytes) as far as it goes. */
export function parseDnsMessage(msg: Buffer, header: DnsHeader, opts: DnsParseOptions): DnsMessage {
  const out: DnsMessage = { header, questions: [], answers: [], complete: false };
  const c = new Cursor(msg, DNS_HEADER_LEN);
  for (let i = 0; i < header.qdcount; i++) {
    const name = readName(c, opts.netbios);
    if (name === undefined || c.left < 4) return out;
    out.questions.push({ name, qtype: c.u16(), qclass: c.u16() });
  }
  if (opts.answers) {
    for (let i = 0; i < header.ancount; i++) {
      const answer = readRecord(c, opts);
      if (answer === undefined) return out;
      out.answers.push(answer);
    }
  }
  out.complete = true;
  return out;
}

/** The header check of looksLikeDns (on the first DNS_HEADER_LEN bytes; false when fewer). */
export function looksLikeDnsHeader(msg: Buffer): boolean {
  if (msg.length < DNS_HEADER_LEN) return false;
  const h = parseDnsHeader(msg);
  if (h.qdcount !== 1 || (h.opcode !== OPCODE_QUERY && h.opcode !== OPCODE_NOTIFY && h.opcode !== OPCODE_UPDATE)) return false;
  return h.ancount + h.nscount + h.arcount <= 64;
}

/**
 * A message worth taking as DNS on a port that is not DNS's: one question with a clean name and
 * class, a standard / notify / update opcode, and every section parsing to the exact end.
 */
export function looksLikeDns(msg: Buffer): boolean {
  if (!looksLikeDnsHeader(msg)) return false;
  const h = parseDnsHeader(msg);
  const opts = { netbios: false, answers: true };
  const c = new Cursor(msg, DNS_HEADER_LEN);
  const name = readName(c, false);
  if (name === undefined || name === '' || !/^[\x21-\x7e]+$/.test(name) || c.left < 4) return false;
  c.u16();
  const qclass = c.u16();
  if (qclass !== 1 && qclass !== 3 && qclass !== 254 && qclass !== 255 && (qclass & 0x7fff) !== 1) return false;
  for (let i = h.ancount + h.nscount + h.arcount; i > 0; i--) {
    if (readRecord(c, opts) === undefined) return false;
  }
  return c.left === 0;
}

// ---------------------------------------------------------------------------------------------
// Zeek's names (base/protocols/dns/consts.zeek)

const QUERY_TYPES: Record<number, string> = {
  1: 'A', 2: 'NS', 3: 'MD', 4: 'MF', 5: 'CNAME', 6: 'SOA', 7: 'MB', 8: 'MG', 9: 'MR', 10: 'NULL', 11: 'WKS', 12: 'PTR',
  13: 'HINFO', 14: 'MINFO', 15: 'MX', 16: 'TXT', 17: 'RP', 18: 'AFSDB', 19: 'X25', 20: 'ISDN', 21: 'RT', 22: 'NSAP',
  23: 'NSAP-PTR', 24: 'SIG', 25: 'KEY', 26: 'PX', 27: 'GPOS', 28: 'AAAA', 29: 'LOC', 30: 'NXT', 31: 'EID',
  32: 'NIMLOC', 33: 'SRV', 34: 'ATMA', 35: 'NAPTR', 36: 'KX', 37: 'CERT', 38: 'A6', 39: 'DNAME', 40: 'SINK',
  41: 'OPT', 42: 'APL', 43: 'DS', 44: 'SSHFP', 45: 'IPSECKEY', 46: 'RRSIG', 47: 'NSEC', 48: 'DNSKEY', 49: 'DHCID',
  50: 'NSEC3', 51: 'NSEC3PARAM', 52: 'TLSA', 53: 'SMIMEA', 55: 'HIP', 56: 'NINFO', 57: 'RKEY', 58: 'TALINK',
  59: 'CDS', 60: 'CDNSKEY', 61: 'OPENPGPKEY', 62: 'CSYNC', 63: 'ZONEMD', 64: 'SVCB', 65: 'HTTPS', 99: 'SPF',
  100: 'UINFO', 101: 'UID', 102: 'GID', 103: 'UNSPEC', 104: 'NID', 105: 'L32', 106: 'L64', 107: 'LP', 108: 'EUI48',
  109: 'EUI64', 249: 'TKEY', 250: 'TSIG', 251: 'IXFR', 252: 'AXFR', 253: 'MAILB', 254: 'MAILA', 255: '*',
  256: 'URI', 257: 'CAA', 32768: 'TA', 32769: 'DLV', 65281: 'WINS', 65282: 'WINS-R', 65422: 'XPF', 65521: 'INTEGRITY',
};

const CLASSES: Record<number, string> = { 1: 'C_INTERNET', 2: 'C_CSNET', 3: 'C_CHAOS', 4: 'C_HESIOD', 254: 'C_NONE', 255: 'C_ANY' };

const RCODES: Record<number, string> = {
  0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED', 6: 'YXDOMAIN', 7: 'YXRRSET',
  8: 'NXRRSet', 9: 'NOTAUTH', 10: 'NOTZONE', 11: 'unassigned-11', 12: 'unassigned-12', 13: 'unassigned-13',
  14: 'unassigned-14', 15: 'unassigned-15',
};

const OPCODES: Record<number, string> = { 0: 'query', 1: 'iquery', 2: 'server-status', 4: 'notify', 5: 'dynamic-update', 6: 'dso' };

const NETBIOS_OPCODES: Record<number, string> = {
  0: 'netbios-query', 5: 'netbios-registration', 6: 'netbios-release', 7: 'netbios-wack', 8: 'netbios-refresh',
};

export function qtypeName(qtype: number): string {
  return QUERY_TYPES[qtype] ?? `query-${qtype}`;
}

export function qclassName(qclass: number): string {
  return CLASSES[qclass] ?? `qclass-${qclass}`;
}

export function rcodeName(rcode: number): string {
  return RCODES[rcode] ?? `rcode-${rcode}`;
}

export function opcodeName(opcode: number, netbios: boolean): string {
  return netbios ? NETBIOS_OPCODES[opcode] ?? `netbios-opcode-${opcode}` : OPCODES[opcode] ?? `opcode-${opcode}`;
}

/** Zeek's decode_netbios_name: the name in a 32-letter NetBIOS encoding, '' when it is not one. */
export function decodeNetbiosName(encoded: string): string {
  if (encoded.length !== 32) return '';
  const upper = encoded.toUpperCase();
  const bytes: number[] = [];
  for (let i = 0; i < 16; i++) {
    const hi = upper.charCodeAt(2 * i) - 65;
    const lo = upper.charCodeAt(2 * i + 1) - 65;
    if (hi < 0 || hi > 15 || lo < 0 || lo > 15) return '';
    const b = (hi << 4) | lo;
    if (!isAlnumOrPunct(b) && b !== 0x20 && b >= 3) break;
    bytes.push(b);
  }
  let length = Math.min(bytes.length, 15);
  while (length > 0 && (bytes[length - 1] === 0x20 || bytes[length - 1] === 0)) length--;
  return String.fromCharCode(...bytes.slice(0, length));
}

function isAlnumOrPunct(b: number): boolean {
  return b > 0x20 && b < 0x7f;
}
