// TLS checks of Slips' flow_alerts ssl and downloaded-file analyzers (detections spec §3.3, §3.4):
// SELF_SIGNED_CERTIFICATE, MALICIOUS_JA3, MALICIOUS_JA3S (fix #12: own JA3S list when installed),
// INCOMPATIBLE_CN (fix #14: the server is blamed), CN_URL_MISMATCH (fix #13: RFC 6125 matching
// against the CN and the certificate's DNS SANs),
// DNS over HTTPS (reported as DIFFERENT_LOCALNET like Slips: the evidence types are fixed),
// PASTEBIN_DOWNLOAD over TLS (fix #2: threshold read, conn dbytes used) and MALICIOUS_SSL_CERT
// from files.log (fix #11: the certificate sender is the server).
// The server certificate comes from x509.log (joined by the first id of ssl.log's cert_chain_fuids
// or cert_chain_fps): Zeek writes it just after the ssl.log record, so the certificate checks of a
// TLS record wait up to CERT_WAIT s of network time for it, then run with ssl.log's subject alone.
// Zeek 6+ no longer writes the subject in ssl.log: there the certificate is the only source.

import type { FilesRecord, SslRecord, X509Record } from '../inputs/records.js';
import type { JoinedFlow } from './connByUid.js';
import type { EvidenceInput } from '../core/evidence.js';
import type { DetectionHost, DetectorFactory, FingerprintIoc } from './api.js';
import { pyFloat } from './format.js';
import { remember } from './ip.js';

/** Seconds of network time a pastebin TLS record waits for its conn.log flow (Slips: 40 s). */
const PASTEBIN_CONN_WAIT = 40;
/** Seconds of network time a TLS record waits for its server certificate in x509.log. */
const CERT_WAIT = 5;
/** Certificates remembered (Zeek logs a certificate once, then only its id in ssl.log). */
const MAX_CERTS = 10_000;
/** TLS records waiting for their certificate at most; beyond this the oldest is checked at once. */
const MAX_WAITING = 10_000;

/** What the certificate checks read from a server certificate. */
interface Certificate {
  subject: string;
  sanDns: readonly string[];
}

/** Second-level labels under which registrations happen (`example.co.uk`). */
const SECOND_LEVEL_LABELS = new Set(['co', 'com', 'net', 'org', 'gov', 'edu', 'ac', 'or', 'ne', 'go']);

/** The fields both evidence of a pair share. */
type Shared = Pick<EvidenceInput, 'evidence_type' | 'description' | 'confidence' | 'timestamp' | 'uid'>;

/** ` description: {desc}.` unless the feed gave none. */
function descriptionSuffix(ioc: FingerprintIoc): string {
  return ioc.description !== '' && ioc.description !== 'None' ? ` description: ${ioc.description}.` : '';
}

/** Python's str.capitalize(): first character upper-cased, the rest lower-cased. */
function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1).toLowerCase();
}

/**
 * The registrable domain of a host name, approximated without a public-suffix list: the last two
 * labels, or three under a two-letter country code with a common second level (`co.uk`).
 */
export function registeredDomain(name: string): string {
  const labels = name.toLowerCase().replace(/\.$/, '').split('.');
  const count = labels.length;
  const keep = count >= 3 && (labels[count - 1] as string).length === 2 && SECOND_LEVEL_LABELS.has(labels[count - 2] as string) ? 3 : 2;
  return labels.slice(-keep).join('.');
}

/**
 * RFC 6125 host name matching: case-insensitive, the whole name; a `*` is allowed only as the
 * complete left-most label and matches exactly one label.
 */
export function certNameMatches(pattern: string, host: string): boolean {
  const wanted = pattern.toLowerCase().replace(/\.$/, '');
  const name = host.toLowerCase().replace(/\.$/, '');
  if (!wanted.startsWith('*.')) return wanted === name;
  const dot = name.indexOf('.');
  return dot > 0 && name.slice(dot + 1) === wanted.slice(2);
}

function checkSelfSigned(host: DetectionHost, record: SslRecord): void {
  if (!record.validation_status.includes('self signed')) return;
  const sni = record.server_name !== '' ? ` SNI: ${record.server_name}.` : '';
  const description = `Self-signed certificate. Destination IP: ${record.daddr}.${sni}`;
  const common: Shared & Pick<EvidenceInput, 'threat_level'> = {
    evidence_type: 'SELF_SIGNED_CERTIFICATE', description, threat_level: 'low', confidence: 0.5, timestamp: record.ts, uid: [record.uid],
  };
  host.emitPair(
    { ...common, attacker: { direction: 'SRC', ioc_type: 'IP', value: record.saddr }, victim: { direction: 'DST', ioc_type: 'IP', value: record.daddr } },
    { ...common, attacker: { direction: 'DST', ioc_type: 'IP', value: record.daddr }, victim: { direction: 'SRC', ioc_type: 'IP', value: record.saddr } },
  );
}

function checkMaliciousJa3(host: DetectionHost, record: SslRecord): void {
  const ioc = record.ja3 === '' ? undefined : host.knowledge.ja3Ioc(record.ja3);
  if (ioc === undefined) return;
  host.emit({
    evidence_type: 'MALICIOUS_JA3',
    description: `Malicious JA3: ${record.ja3} from source address ${record.saddr} to ${record.daddr}.${descriptionSuffix(ioc)}`,
    attacker: { direction: 'SRC', ioc_type: 'IP', value: record.saddr },
    victim: { direction: 'DST', ioc_type: 'IP', value: record.daddr },
    threat_level: ioc.threatLevel,
    confidence: 1,
    timestamp: record.ts,
    uid: [record.uid],
  });
}

function checkMaliciousJa3s(host: DetectionHost, record: SslRecord): void {
  const ioc = record.ja3s === '' ? undefined : host.knowledge.ja3sIoc(record.ja3s);
  if (ioc === undefined) return;
  const description = `Malicious JA3s: (possible C&C server): ${record.ja3s} to server ${record.daddr}.${descriptionSuffix(ioc)}`;
  const common: Shared = { evidence_type: 'MALICIOUS_JA3S', description, confidence: 1, timestamp: record.ts, uid: [record.uid] };
  host.emitPair(
    {
      ...common,
      attacker: { direction: 'DST', ioc_type: 'IP', value: record.daddr },
      victim: { direction: 'SRC', ioc_type: 'IP', value: record.saddr },
      threat_level: ioc.threatLevel,
    },
    {
      ...common,
      attacker: { direction: 'SRC', ioc_type: 'IP', value: record.saddr },
      victim: { direction: 'DST', ioc_type: 'IP', value: record.daddr },
      threat_level: 'low',
    },
  );
}

/** The certificate names an org, but neither the server IP nor the SNI belongs to it. */
function checkIncompatibleCn(host: DetectionHost, record: SslRecord, certSubject: string): void {
  if (certSubject === '') return;
  const subject = certSubject.toLowerCase();
  const knowledge = host.knowledge;
  let claimed: string | undefined;
  for (const org of knowledge.orgs()) {
    if (!subject.includes(org)) continue;
    if (knowledge.isIpInOrg(record.daddr, org)) return;
    if (record.server_name !== '' && knowledge.isOrgDomain(record.server_name, org)) return;
    claimed = org;
  }
  if (claimed === undefined) return;
  host.emit({
    evidence_type: 'INCOMPATIBLE_CN',
    description:
      `Incompatible certificate CN to IP: ${record.daddr} domain: ${record.server_name}. ` +
      `The certificate is claiming to belong to ${capitalize(claimed)}.`,
    attacker: { direction: 'DST', ioc_type: 'IP', value: record.daddr },
    victim: { direction: 'SRC', ioc_type: 'IP', value: record.saddr },
    threat_level: 'medium',
    confidence: 0.9,
    timestamp: record.ts,
    uid: [record.uid],
  });
}

/**
 * The certificate name and the SNI have one owner: the same registrable domain, or a known
 * organisation owns the certificate name and the SNI or the server IP (Slips compares whois
 * organisations instead, online).
 */
function sameOwner(host: DetectionHost, certName: string, sni: string, daddr: string): boolean {
  if (registeredDomain(certName) === registeredDomain(sni)) return true;
  const knowledge = host.knowledge;
  return knowledge.orgs().some((org) =>
    knowledge.isOrgDomain(certName, org) && (knowledge.isOrgDomain(sni, org) || knowledge.isIpInOrg(daddr, org)));
}

function checkCnUrlMismatch(host: DetectionHost, record: SslRecord, subject: string, sanDns: readonly string[]): void {
  const sni = record.server_name;
  const cn = /CN=([^,]+)/.exec(subject)?.[1];
  if (sni === '' || cn === undefined) return;
  if (certNameMatches(cn, sni) || sanDns.some((name) => certNameMatches(name, sni))) return;
  if (sameOwner(host, cn.replace(/^\*\./, ''), sni, record.daddr)) return;
  const description =
    `a CN mismatch. The common name (CN) '${cn}' in the SSL certificate for the domain '${sni}' ` +
    "does not match the server's domain.";
  const common: Shared = { evidence_type: 'CN_URL_MISMATCH', description, confidence: 0.8, timestamp: record.ts, uid: [record.uid] };
  host.emitPair(
    {
      ...common,
      attacker: { direction: 'SRC', ioc_type: 'IP', value: record.saddr },
      victim: { direction: 'DST', ioc_type: 'DOMAIN', value: sni },
      threat_level: 'low',
    },
    {
      ...common,
      attacker: { direction: 'DST', ioc_type: 'DOMAIN', value: sni },
      victim: { direction: 'SRC', ioc_type: 'IP', value: record.saddr },
      threat_level: 'medium',
      profile_ip: record.daddr,
    },
  );
}

/** The checks of the server certificate: its subject from ssl.log, else from x509.log, and its SANs. */
function checkCertificate(host: DetectionHost, record: SslRecord, cert: Certificate | undefined): void {
  const subject = record.subject !== '' ? record.subject : (cert?.subject ?? '');
  checkIncompatibleCn(host, record, subject);
  checkCnUrlMismatch(host, record, subject, cert?.sanDns ?? []);
}

/** A TLS record waiting for its server certificate. */
interface WaitingRecord {
  record: SslRecord;
  certId: string;
  deadline: number;
  checked: boolean;
}

/** DNS over HTTPS (Zeek's is_DoH). Slips reports it as DIFFERENT_LOCALNET; so do we. */
function checkDoh(host: DetectionHost, record: SslRecord): void {
  if (!record.is_DoH) return;
  host.emit({
    evidence_type: 'DIFFERENT_LOCALNET',
    description: `using DNS over HTTPs. DNS server: ${record.daddr} `,
    attacker: { direction: 'DST', ioc_type: 'IP', value: record.daddr },
    victim: { direction: 'SRC', ioc_type: 'IP', value: record.saddr },
    threat_level: 'info',
    confidence: 0.9,
    timestamp: record.ts,
    uid: [record.uid],
  });
}

function reportPastebin(host: DetectionHost, record: SslRecord, flow: JoinedFlow): void {
  if (flow.dbytes < host.config.pastebinDownloadThreshold) return;
  host.emit({
    evidence_type: 'PASTEBIN_DOWNLOAD',
    description: `A downloaded file from pastebin.com. size: ${pyFloat(flow.dbytes / 1e6)} MBs`,
    attacker: { direction: 'SRC', ioc_type: 'IP', value: record.saddr },
    victim: { direction: 'DST', ioc_type: 'IP', value: record.daddr },
    threat_level: 'info',
    confidence: 1,
    timestamp: record.ts,
    uid: [record.uid],
  });
}

/** A certificate (files.log, source SSL, SHA1 computed) listed as malicious. tx host = server. */
function checkMaliciousCert(host: DetectionHost, file: FilesRecord): void {
  if (!file.file_source.includes('SSL') || !file.analyzers.includes('SHA1') || file.sha1 === '') return;
  const ioc = host.knowledge.sslCertIoc(file.sha1);
  if (ioc === undefined) return;
  const server = file.saddr;
  const client = file.daddr;
  const description = `Malicious SSL certificate to server ${server}. description: ${ioc.description}`;
  const common: Shared = { evidence_type: 'MALICIOUS_SSL_CERT', description, confidence: 1, timestamp: file.ts, uid: file.conn_uids.length > 0 ? file.conn_uids : [file.uid] };
  if (client === '') {
    host.emit({ ...common, attacker: { direction: 'DST', ioc_type: 'IP', value: server }, threat_level: ioc.threatLevel });
    return;
  }
  host.emitPair(
    {
      ...common,
      attacker: { direction: 'DST', ioc_type: 'IP', value: server },
      victim: { direction: 'SRC', ioc_type: 'IP', value: client },
      threat_level: ioc.threatLevel,
    },
    {
      ...common,
      attacker: { direction: 'SRC', ioc_type: 'IP', value: client },
      victim: { direction: 'DST', ioc_type: 'IP', value: server },
      threat_level: 'low',
    },
  );
}

export const tlsDetector: DetectorFactory = (host) => {
  /** Certificate id (fuid or fingerprint) -> the certificate. */
  const certificates = new Map<string, Certificate>();
  /** TLS records waiting for their certificate, in arrival order, and by certificate id. */
  let waiting: WaitingRecord[] = [];
  const waitingByCert = new Map<string, WaitingRecord[]>();

  function check(entry: WaitingRecord, cert: Certificate | undefined): void {
    if (entry.checked) return;
    entry.checked = true;
    checkCertificate(host, entry.record, cert);
  }

  function waitForCertificate(record: SslRecord, certId: string): void {
    const entry: WaitingRecord = { record, certId, deadline: record.ts + CERT_WAIT, checked: false };
    waiting.push(entry);
    const list = waitingByCert.get(certId);
    if (list === undefined) waitingByCert.set(certId, [entry]);
    else list.push(entry);
    if (waiting.length > MAX_WAITING) checkDue(-Infinity, waiting.length - MAX_WAITING);
  }

  /** Check without a certificate the records whose deadline passed at networkTime, and at least the `atLeast` oldest. */
  function checkDue(networkTime: number, atLeast = 0): void {
    let done = 0;
    while (done < waiting.length) {
      const entry = waiting[done] as WaitingRecord;
      if (done >= atLeast && !entry.checked && entry.deadline >= networkTime) break;
      done += 1;
      if (!entry.checked) {
        waitingByCert.delete(entry.certId);
        check(entry, undefined);
      }
    }
    if (done > 0) waiting = waiting.slice(done);
  }

  return {
    name: 'tls',
    evidenceTypes: [
      'SELF_SIGNED_CERTIFICATE', 'MALICIOUS_JA3', 'MALICIOUS_JA3S', 'INCOMPATIBLE_CN', 'CN_URL_MISMATCH',
      'DIFFERENT_LOCALNET', 'PASTEBIN_DOWNLOAD', 'MALICIOUS_SSL_CERT',
    ],
    joinsConnByUid: true,
    handlers: {
      ssl(record: SslRecord): void {
        checkSelfSigned(host, record);
        checkMaliciousJa3(host, record);
        checkMaliciousJa3s(host, record);
        const certId = record.cert_chain_fuids[0] ?? '';
        const cert = certId === '' ? undefined : certificates.get(certId);
        if (certId === '' || cert !== undefined) checkCertificate(host, record, cert);
        else waitForCertificate(record, certId);
        checkDoh(host, record);
        if (record.server_name.includes('pastebin')) {
          host.withConnOf(record.uid, record.ts, PASTEBIN_CONN_WAIT, (flow) => reportPastebin(host, record, flow));
        }
      },
      files(file: FilesRecord): void {
        checkMaliciousCert(host, file);
      },
    },
    certificate(record: X509Record): void {
      if (record.fingerprint === '') return;
      const cert: Certificate = { subject: record.certificate_subject, sanDns: record.san_dns };
      remember(certificates, record.fingerprint, cert, MAX_CERTS);
      const list = waitingByCert.get(record.fingerprint);
      if (list === undefined) return;
      waitingByCert.delete(record.fingerprint);
      for (const entry of list) check(entry, cert);
    },
    advanceTime: (networkTime) => checkDue(networkTime),
    finish: () => checkDue(Infinity),
  };
};
