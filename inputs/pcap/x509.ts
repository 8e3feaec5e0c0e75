// X.509 certificates for the pcap input's TLS analyzer: a DER certificate parsed with our own
// reader (asn1.ts) into what Zeek's x509.log holds (version, serial, subject / issuer in
// OpenSSL's RFC 2253 form, validity, key and signature algorithms, key type / length / exponent
// / curve, subject alternative names, basic constraints), the certificate's SHA-256 fingerprint
// (Zeek 6+'s x509 `fingerprint` and ssl `cert_chain_fps`), x509.log rows and records, Zeek's
// default de-duplication of x509.log (a certificate is logged again only after a day, per
// fingerprint and host / client role), the SNI check of ssl.log's sni_matches_cert, and the
// self-signed part of OpenSSL's validation status (what Slips' SELF_SIGNED_CERTIFICATE reads).
// A certificate that does not parse gives undefined; nothing here throws.

import crypto from 'node:crypto';
import tls from 'node:tls';
import type { X509Record } from '../records.js';
import {
  bitLength, children, DerError, expect, integerDecimal, integerParts, isStringTag, oidText, readTlv, stringCodePoints,
  TAG, type Tlv, timeValue, value,
} from './asn1.js';
import { type ZeekLogSpec, type ZeekValue, zeekBool, zeekList, zeekOptional, zeekString, zeekTime } from './zeekLog.js';

/** Zeek's X509::relog_known_certificates_after. */
const RELOG_AFTER = 24 * 3600;
/** Most certificates remembered for de-duplication. */
const MAX_KNOWN_CERTS = 50_000;

export const X509_LOG: ZeekLogSpec = {
  path: 'x509',
  fields: [
    ['ts', 'time'], ['fingerprint', 'string'], ['certificate.version', 'count'], ['certificate.serial', 'string'],
    ['certificate.subject', 'string'], ['certificate.issuer', 'string'], ['certificate.not_valid_before', 'time'],
    ['certificate.not_valid_after', 'time'], ['certificate.key_alg', 'string'], ['certificate.sig_alg', 'string'],
    ['certificate.key_type', 'string'], ['certificate.key_length', 'count'], ['certificate.exponent', 'string'],
    ['certificate.curve', 'string'], ['san.dns', 'vector[string]'], ['san.uri', 'vector[string]'],
    ['san.email', 'vector[string]'], ['san.ip', 'vector[addr]'], ['basic_constraints.ca', 'bool'],
    ['basic_constraints.path_len', 'count'], ['host_cert', 'bool'], ['client_cert', 'bool'],
  ],
};

/** OpenSSL's short names of the attribute types seen in certificate names. */
const NAME_ATTRIBUTES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN', '2.5.4.4': 'SN', '2.5.4.5': 'serialNumber', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST',
  '2.5.4.9': 'street', '2.5.4.10': 'O', '2.5.4.11': 'OU', '2.5.4.12': 'title', '2.5.4.13': 'description',
  '2.5.4.15': 'businessCategory', '2.5.4.17': 'postalCode', '2.5.4.41': 'name', '2.5.4.42': 'GN',
  '2.5.4.43': 'initials', '2.5.4.44': 'generationQualifier', '2.5.4.46': 'dnQualifier', '2.5.4.65': 'pseudonym',
  '2.5.4.97': 'organizationIdentifier', '1.2.840.113549.1.9.1': 'emailAddress', '0.9.2342.19200300.100.1.1': 'UID',
  '0.9.2342.19200300.100.1.25': 'DC', '1.3.6.1.4.1.311.60.2.1.1': 'jurisdictionL',
  '1.3.6.1.4.1.311.60.2.1.2': 'jurisdictionST', '1.3.6.1.4.1.311.60.2.1.3': 'jurisdictionC',
};

/** OpenSSL's long names of key and signature algorithms (what Zeek logs). */
const ALGORITHMS: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.1.1': 'rsaEncryption', '1.2.840.113549.1.1.2': 'md2WithRSAEncryption',
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption', '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.113549.1.1.10': 'rsassaPss', '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption', '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
  '1.2.840.113549.1.1.14': 'sha224WithRSAEncryption', '1.2.840.10045.2.1': 'id-ecPublicKey',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1', '1.2.840.10045.4.3.1': 'ecdsa-with-SHA224',
  '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256', '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
  '1.2.840.10045.4.3.4': 'ecdsa-with-SHA512', '1.2.840.10040.4.1': 'dsaEncryption', '1.2.840.10040.4.3': 'dsaWithSHA1',
  '2.16.840.1.101.3.4.3.1': 'dsa_with_SHA224', '2.16.840.1.101.3.4.3.2': 'dsa_with_SHA256', '1.3.101.110': 'X25519',
  '1.3.101.111': 'X448', '1.3.101.112': 'ED25519', '1.3.101.113': 'ED448',
};

/** Named curves: OpenSSL's short name and the key size it reports. */
const CURVES: Readonly<Record<string, readonly [string, number]>> = {
  '1.2.840.10045.3.1.7': ['prime256v1', 256], '1.3.132.0.34': ['secp384r1', 384], '1.3.132.0.35': ['secp521r1', 521],
  '1.3.132.0.10': ['secp256k1', 256], '1.2.840.10045.3.1.1': ['prime192v1', 192], '1.3.132.0.33': ['secp224r1', 224],
  '1.3.36.3.3.2.8.1.1.7': ['brainpoolP256r1', 256], '1.3.36.3.3.2.8.1.1.11': ['brainpoolP384r1', 384],
  '1.3.36.3.3.2.8.1.1.13': ['brainpoolP512r1', 512],
};

const OID_RSA = '1.2.840.113549.1.1.1';
const OID_RSA_PSS = '1.2.840.113549.1.1.10';
const OID_EC = '1.2.840.10045.2.1';
const OID_DSA = '1.2.840.10040.4.1';
const OID_SAN = '2.5.29.17';
const OID_BASIC_CONSTRAINTS = '2.5.29.19';
const OID_CN = '2.5.4.3';

/** One parsed certificate: what x509.log shows, plus what validation needs. */
export interface Certificate {
  der: Buffer;
  /** SHA-256 of the DER, lowercase hex. */
  fingerprint: string;
  version: number;
  serial: string;
  subject: string;
  issuer: string;
  /** The common names of the subject (for the SNI check when there is no SAN). */
  subjectCns: string[];
  notValidBefore: number;
  notValidAfter: number;
  keyAlg: string;
  sigAlg: string;
  /** 'rsa' / 'dsa' / 'ecdsa', '' when another type. */
  keyType: string;
  /** undefined when not known for the key type. */
  keyLength: number | undefined;
  exponent: string;
  curve: string;
  sanDns: string[];
  sanUri: string[];
  sanEmail: string[];
  sanIp: string[];
  /** undefined when the certificate has no basicConstraints extension. */
  ca: boolean | undefined;
  pathLen: number | undefined;
  /** DER of the issuer and subject Names (for self-issued checks). */
  issuerDer: Buffer;
  subjectDer: Buffer;
  /** What the signature covers, its algorithm OID and value, and the subject's public key (SPKI DER). */
  tbs: Buffer;
  sigOid: string;
  signature: Buffer;
  spki: Buffer;
}

/** Characters OpenSSL escapes with a backslash in RFC 2253 output. */
const RFC2253_SPECIAL = new Set([',', '+', '"', '\\', '<', '>', ';']);

/** An attribute value as OpenSSL's X509_NAME_print_ex with XN_FLAG_RFC2253 writes it. */
function attributeText(buf: Buffer, tlv: Tlv): string {
  if (!isStringTag(tlv)) return `#${buf.subarray(tlv.start, tlv.end).toString('hex').toUpperCase()}`;
  const points = stringCodePoints(buf, tlv);
  let out = '';
  for (let i = 0; i < points.length; i++) {
    const cp = points[i]!;
    if (cp > 0x7f) {
      for (const byte of Buffer.from(codePointsText([cp]), 'utf8')) out += `\\${byte.toString(16).toUpperCase().padStart(2, '0')}`;
      continue;
    }
    const ch = String.fromCharCode(cp);
    if (cp < 0x20 || cp === 0x7f) out += `\\${cp.toString(16).toUpperCase().padStart(2, '0')}`;
    else if (RFC2253_SPECIAL.has(ch) || (i === 0 && (ch === '#' || ch === ' ')) || (i === points.length - 1 && ch === ' ')) out += `\\${ch}`;
    else out += ch;
  }
  return out;
}

function codePointsText(points: readonly number[]): string {
  let out = '';
  for (const cp of points) out += String.fromCodePoint(cp > 0x10ffff ? 0xfffd : cp);
  return out;
}

/** A Name in RFC 2253 order (last RDN first), and its common names. */
function nameText(buf: Buffer, name: Tlv): { text: string; cns: string[] } {
  const rdns: string[] = [];
  const cns: string[] = [];
  for (const rdn of children(buf, name)) {
    const members: string[] = [];
    for (const atv of children(buf, expect(rdn, TAG.SET))) {
      const [type, val] = children(buf, expect(atv, TAG.SEQUENCE));
      const oid = oidText(value(buf, expect(type, TAG.OID)));
      if (val === undefined) throw new DerError('attribute without value');
      const text = attributeText(buf, val);
      if (oid === OID_CN) cns.push(isStringTag(val) ? codePointsText(stringCodePoints(buf, val)) : text);
      members.push(`${NAME_ATTRIBUTES[oid] ?? oid}=${text}`);
    }
    rdns.push(members.reverse().join('+'));
  }
  return { text: rdns.reverse().join(','), cns };
}

/** The algorithm OID of an AlgorithmIdentifier. */
function algorithmOid(buf: Buffer, tlv: Tlv | undefined): { oid: string; params: Tlv | undefined } {
  const [oid, params] = children(buf, expect(tlv, TAG.SEQUENCE));
  return { oid: oidText(value(buf, expect(oid, TAG.OID))), params };
}

/** Reads the subject alternative names. */
function readSan(ext: Buffer, cert: Certificate): void {
  const seq = readTlv(ext, 0);
  for (const name of children(ext, expect(seq, TAG.SEQUENCE))) {
    if (name.cls !== 2) continue;
    const bytes = value(ext, name);
    if (name.tag === 1) cert.sanEmail.push(bytes.toString('latin1'));
    else if (name.tag === 2) cert.sanDns.push(bytes.toString('latin1'));
    else if (name.tag === 6) cert.sanUri.push(bytes.toString('latin1'));
    else if (name.tag === 7) {
      if (bytes.length === 4) cert.sanIp.push([...bytes].join('.'));
      else if (bytes.length === 16) cert.sanIp.push(ipv6Text(bytes));
    }
  }
}

/** An IPv6 address in Zeek's compressed form. */
function ipv6Text(bytes: Buffer): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i));
  let bestStart = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Reads the public key's type, size, exponent and curve. */
function readKey(buf: Buffer, spki: Tlv, cert: Certificate): void {
  const [alg, key] = children(buf, expect(spki, TAG.SEQUENCE));
  const { oid, params } = algorithmOid(buf, alg);
  cert.keyAlg = ALGORITHMS[oid] ?? oid;
  const bits = value(buf, expect(key, TAG.BIT_STRING)).subarray(1);
  if (oid === OID_RSA || oid === OID_RSA_PSS) {
    cert.keyType = 'rsa';
    const rsa = readTlv(bits, 0);
    const [modulus, exponent] = children(bits, expect(rsa, TAG.SEQUENCE));
    cert.keyLength = bitLength(integerParts(value(bits, expect(modulus, TAG.INTEGER))).magnitude);
    cert.exponent = integerDecimal(value(bits, expect(exponent, TAG.INTEGER)));
  } else if (oid === OID_EC) {
    cert.keyType = 'ecdsa';
    if (params !== undefined && params.cls === 0 && params.tag === TAG.OID) {
      const curve = CURVES[oidText(value(buf, params))];
      if (curve !== undefined) [cert.curve, cert.keyLength] = curve;
    }
  } else if (oid === OID_DSA) {
    cert.keyType = 'dsa';
    if (params !== undefined && params.cls === 0 && params.tag === TAG.SEQUENCE) {
      const [p] = children(buf, params);
      cert.keyLength = bitLength(integerParts(value(buf, expect(p, TAG.INTEGER))).magnitude);
    }
  }
}

/** Parses a DER certificate; undefined when it is not one. */
export function parseCertificate(der: Buffer): Certificate | undefined {
  try {
    return parseOrThrow(der);
  } catch (error) {
    if (error instanceof DerError || error instanceof RangeError) return undefined;
    throw error;
  }
}

function parseOrThrow(der: Buffer): Certificate {
  const top = expect(readTlv(der, 0), TAG.SEQUENCE);
  const [tbsTlv, sigAlgTlv, sigTlv] = children(der, top);
  const fields = children(der, expect(tbsTlv, TAG.SEQUENCE));
  let i = 0;
  let version = 1;
  if (fields[0]?.cls === 2 && fields[0].tag === 0) {
    const [v] = children(der, fields[0]);
    version = Number(integerDecimal(value(der, expect(v, TAG.INTEGER)))) + 1;
    i++;
  }
  const serialTlv = expect(fields[i++], TAG.INTEGER);
  i++; // the signature algorithm inside the TBS (the outer one is logged)
  const issuerTlv = expect(fields[i++], TAG.SEQUENCE);
  const validity = children(der, expect(fields[i++], TAG.SEQUENCE));
  const subjectTlv = expect(fields[i++], TAG.SEQUENCE);
  const spkiTlv = expect(fields[i++], TAG.SEQUENCE);
  const issuer = nameText(der, issuerTlv);
  const subject = nameText(der, subjectTlv);
  if (validity.length < 2) throw new DerError('bad validity');
  const serial = integerParts(value(der, serialTlv));
  const sig = algorithmOid(der, sigAlgTlv);
  const cert: Certificate = {
    der,
    fingerprint: crypto.createHash('sha256').update(der).digest('hex'),
    version,
    serial: `${serial.negative ? '-' : ''}${serial.magnitude.length === 0 ? '00' : serial.magnitude.toString('hex').toUpperCase()}`,
    subject: subject.text,
    issuer: issuer.text,
    subjectCns: subject.cns,
    notValidBefore: timeValue(der, validity[0]!),
    notValidAfter: timeValue(der, validity[1]!),
    keyAlg: '',
    sigAlg: ALGORITHMS[sig.oid] ?? sig.oid,
    keyType: '',
    keyLength: undefined,
    exponent: '',
    curve: '',
    sanDns: [],
    sanUri: [],
    sanEmail: [],
    sanIp: [],
    ca: undefined,
    pathLen: undefined,
    issuerDer: der.subarray(issuerTlv.start, issuerTlv.end),
    subjectDer: der.subarray(subjectTlv.start, subjectTlv.end),
    tbs: der.subarray(tbsTlv!.start, tbsTlv!.end),
    sigOid: sig.oid,
    signature: value(der, expect(sigTlv, TAG.BIT_STRING)).subarray(1),
    spki: der.subarray(spkiTlv.start, spkiTlv.end),
  };
  readKey(der, spkiTlv, cert);
  for (; i < fields.length; i++) {
    const f = fields[i]!;
    if (f.cls !== 2 || f.tag !== 3) continue;
    const [list] = children(der, f);
    for (const ext of children(der, expect(list, TAG.SEQUENCE))) {
      const parts = children(der, expect(ext, TAG.SEQUENCE));
      const oid = oidText(value(der, expect(parts[0], TAG.OID)));
      const body = value(der, expect(parts[parts.length - 1], TAG.OCTET_STRING));
      if (oid === OID_SAN) readSan(body, cert);
      else if (oid === OID_BASIC_CONSTRAINTS) readBasicConstraints(body, cert);
    }
  }
  return cert;
}

function readBasicConstraints(body: Buffer, cert: Certificate): void {
  const seq = expect(readTlv(body, 0), TAG.SEQUENCE);
  cert.ca = false;
  for (const item of children(body, seq)) {
    if (item.cls === 0 && item.tag === TAG.BOOLEAN) cert.ca = body[item.valueStart] !== 0;
    else if (item.cls === 0 && item.tag === TAG.INTEGER) cert.pathLen = Number(integerDecimal(value(body, item)));
  }
}

/** A string as Zeek's reader gives it back from a log cell (escaped, '' when empty). */
export function loggedText(text: string): string {
  return text === '' ? '' : zeekString(text);
}

/** The x509.log row of a certificate seen at `ts`. */
export function x509Row(ts: number, c: Certificate, hostCert: boolean, clientCert: boolean): ZeekValue[] {
  return [
    zeekTime(ts), c.fingerprint, c.version, zeekString(c.serial), zeekOptional(c.subject), zeekOptional(c.issuer),
    zeekTime(c.notValidBefore), zeekTime(c.notValidAfter), zeekOptional(c.keyAlg), zeekOptional(c.sigAlg),
    zeekOptional(c.keyType), c.keyLength ?? '-', zeekOptional(c.exponent), zeekOptional(c.curve),
    c.sanDns.length > 0 ? zeekList(c.sanDns) : '-', c.sanUri.length > 0 ? zeekList(c.sanUri) : '-',
    c.sanEmail.length > 0 ? zeekList(c.sanEmail) : '-', c.sanIp.length > 0 ? zeekList(c.sanIp) : '-',
    zeekBool(c.ca), c.pathLen ?? '-', zeekBool(hostCert), zeekBool(clientCert),
  ];
}

/** The x509 record the Zeek reader makes of that row. */
export function x509Record(ts: number, c: Certificate, iface: string): X509Record {
  return {
    kind: 'x509', ts, uid: '', saddr: '', daddr: '', interface: iface, source: 'pcap',
    fingerprint: c.fingerprint,
    certificate_version: c.version,
    certificate_serial: loggedText(c.serial),
    certificate_subject: loggedText(c.subject),
    certificate_issuer: loggedText(c.issuer),
    not_valid_before: c.notValidBefore,
    not_valid_after: c.notValidAfter,
    key_alg: loggedText(c.keyAlg),
    sig_alg: loggedText(c.sigAlg),
    key_type: loggedText(c.keyType),
    key_length: c.keyLength ?? 0,
    san_dns: c.sanDns.map((n) => zeekString(n)),
    san_ip: c.sanIp,
    basic_constraints_ca: c.ca ?? null,
  };
}

/** Zeek's default x509.log de-duplication: once per certificate and role per RELOG_AFTER. */
export class KnownCertificates {
  private readonly lastLogged = new Map<string, number>();

  /** Whether this certificate in this role should be logged at `ts` (and remembers it). */
  shouldLog(fingerprint: string, hostCert: boolean, clientCert: boolean, ts: number): boolean {
    const key = `${fingerprint}|${hostCert ? 1 : 0}${clientCert ? 1 : 0}`;
    const last = this.lastLogged.get(key);
    if (last !== undefined && ts - last < RELOG_AFTER) return false;
    if (last === undefined && this.lastLogged.size >= MAX_KNOWN_CERTS) {
      const oldest = this.lastLogged.keys().next().value;
      if (oldest !== undefined) this.lastLogged.delete(oldest);
    }
    this.lastLogged.delete(key);
    this.lastLogged.set(key, ts);
    return true;
  }
}

/**
 * Zeek's x509_check_cert_hostname: the host name against the certificate's DNS names (its
 * common names when it has none); a '*' label matches one label.
 */
export function certMatchesHost(cert: Certificate, host: string): boolean {
  const names = cert.sanDns.length > 0 ? cert.sanDns : cert.subjectCns;
  const wanted = host.toLowerCase();
  return names.some((pattern) => {
    const p = pattern.toLowerCase();
    if (!p.includes('*')) return p === wanted;
    const re = new RegExp(`^${p.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^.]*')}$`);
    return re.test(wanted);
  });
}

let roots: Set<string> | undefined;

/** SHA-256 fingerprints of the root certificates Node trusts (Mozilla's list, like Zeek's). */
function knownRoots(): Set<string> {
  if (roots === undefined) {
    roots = new Set();
    for (const pem of tls.rootCertificates) {
      const base64 = pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
      roots.add(crypto.createHash('sha256').update(Buffer.from(base64, 'base64')).digest('hex'));
    }
  }
  return roots;
}

/** Whether the certificate's signature verifies with the given public key (SPKI DER). */
function signedBy(cert: Certificate, spki: Buffer): boolean {
  const hash = /sha(1|224|256|384|512)/i.exec(ALGORITHMS[cert.sigOid] ?? '')?.[0]?.toLowerCase() ?? null;
  try {
    const key = crypto.createPublicKey({ key: spki, format: 'der', type: 'spki' });
    const isEdwards = key.asymmetricKeyType === 'ed25519' || key.asymmetricKeyType === 'ed448';
    return crypto.verify(isEdwards ? null : hash, cert.tbs, key, cert.signature);
  } catch {
    return false;
  }
}

/** A certificate is self-signed: issued by its own subject and signed by its own key. */
export function isSelfSigned(cert: Certificate): boolean {
  return cert.issuerDer.equals(cert.subjectDer) && signedBy(cert, cert.spki);
}

/**
 * The self-signed outcomes of OpenSSL's chain validation, in its wording (Zeek's
 * validation_status): a lone self-signed server certificate, or a chain ending in a self-signed
 * certificate that is not a known root. '' when neither applies (not validated further).
 */
export function selfSignedStatus(chain: readonly Certificate[]): string {
  const last = chain.at(-1);
  if (last === undefined || !isSelfSigned(last) || knownRoots().has(last.fingerprint)) return '';
  return chain.length === 1 ? 'self signed certificate' : 'self signed certificate in certificate chain';
}
