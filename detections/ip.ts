// IP address classification with the semantics of Python's `ipaddress` module, which Slips uses
// everywhere: is_private (the exact network list of detections spec §1.4), is_multicast,
// is_link_local, is_loopback, is_reserved, and Slips' two derived tests (ignored IP,
// scan-interesting IP). Also CIDR parsing/matching for data files. Shared by all detectors.

import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;
/** A parsed network: address and prefix length. */
export type Cidr = [Address, number];

function networks(list: readonly string[]): Cidr[] {
  return list.map((cidr) => ipaddr.parseCIDR(cidr));
}

const PRIVATE_V6 = networks(['::1/128', 'fc00::/7', 'fe80::/10']);
const MULTICAST_V6 = networks(['ff00::/8']);
const LINK_LOCAL_V6 = networks(['fe80::/10']);
const LOOPBACK_V6 = networks(['::1/128']);
const RESERVED_V6 = networks([
  '::/8', '100::/8', '200::/7', '400::/6', '800::/5', '1000::/4', '4000::/3', '6000::/3', '8000::/3',
  'a000::/3', 'c000::/3', 'e000::/4', 'f000::/5', 'f800::/6', 'fe00::/9',
]);

const VALID = 1;
const PRIVATE = 2;
const MULTICAST = 4;
const LINK_LOCAL = 8;
const LOOPBACK = 16;
const RESERVED = 32;

function inAny(address: Address, list: readonly Cidr[]): boolean {
  return list.some((network) => address.match(network));
}

/** Dotted-quad IPv4 as an unsigned 32-bit number, or -1 when ip is not a plain IPv4 address. */
function ipv4Number(ip: string): number {
  const length = ip.length;
  if (length < 7 || length > 15) return -1;
  let result = 0;
  let parts = 0;
  let digits = 0;
  let value = 0;
  for (let i = 0; i < length; i++) {
    const code = ip.charCodeAt(i);
    if (code === 46 /* . */) {
      if (digits === 0 || parts === 3) return -1;
      result = result * 256 + value;
      parts += 1;
      value = 0;
      digits = 0;
    } else if (code >= 48 && code <= 57 && digits < 3) {
      if (digits === 1 && value === 0) return -1; // no leading zeros, as Python
      value = value * 10 + (code - 48);
      if (value > 255) return -1;
      digits += 1;
    } else {
      return -1;
    }
  }
  if (digits === 0 || parts !== 3) return -1;
  return result * 256 + value;
}

/** IPv4 classification by plain octet comparisons (the hot path: no parsing library, no memo). */
function classifyV4(address: number): number {
  const a = address >>> 24;
  const b = (address >>> 16) & 255;
  const c = (address >>> 8) & 255;
  let flags = VALID;
  const isPrivate =
    a === 0 || a === 10 || a === 127 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 0 && (c === 0 || c === 2)) || (a === 192 && b === 168) ||
    (a === 198 && (b === 18 || b === 19)) || (a === 198 && b === 51 && c === 100) ||
    (a === 203 && b === 0 && c === 113) || a >= 240;
  if (isPrivate) flags |= PRIVATE;
  if (a >= 224 && a <= 239) flags |= MULTICAST;
  if (a === 169 && b === 254) flags |= LINK_LOCAL;
  if (a === 127) flags |= LOOPBACK;
  if (a >= 240) flags |= RESERVED;
  return flags;
}

function classifyV6(ip: string): number {
  if (isIP(ip) !== 6) return 0;
  const address = ipaddr.parse(ip);
  let flags = VALID;
  if (inAny(address, PRIVATE_V6)) flags |= PRIVATE;
  if (inAny(address, MULTICAST_V6)) flags |= MULTICAST;
  if (inAny(address, LINK_LOCAL_V6)) flags |= LINK_LOCAL;
  if (inAny(address, LOOPBACK_V6)) flags |= LOOPBACK;
  if (inAny(address, RESERVED_V6)) flags |= RESERVED;
  return flags;
}

/**
 * A compact map key for an IP in state kept for a whole time window: an IPv4 address as its int32
 * (a number keeps no string, nor the input line it was cut from, alive), any other text as itself.
 */
export function ipKey(ip: string): number | string {
  const v4 = ipv4Number(ip);
  return v4 === -1 ? ip : v4 | 0;
}

/** IPv6 classification memo: detectors ask about the same few addresses for every flow. */
const MEMO_LIMIT = 65_536;
const memo = new Map<string, number>();

function flagsOf(ip: string): number {
  const v4 = ipv4Number(ip);
  if (v4 !== -1) return classifyV4(v4);
  let flags = memo.get(ip);
  if (flags === undefined) {
    if (memo.size >= MEMO_LIMIT) memo.clear();
    flags = classifyV6(ip);
    memo.set(ip, flags);
  }
  return flags;
}

export function isValidIp(ip: string): boolean {
  return (flagsOf(ip) & VALID) !== 0;
}

/** Python `ipaddress.ip_address(ip).is_private` (false for invalid input). */
export function isPrivateIp(ip: string): boolean {
  return (flagsOf(ip) & PRIVATE) !== 0;
}

export function isMulticast(ip: string): boolean {
  return (flagsOf(ip) & MULTICAST) !== 0;
}

export function isLinkLocal(ip: string): boolean {
  return (flagsOf(ip) & LINK_LOCAL) !== 0;
}

export function isLoopback(ip: string): boolean {
  return (flagsOf(ip) & LOOPBACK) !== 0;
}

export function isReserved(ip: string): boolean {
  return (flagsOf(ip) & RESERVED) !== 0;
}

/** Slips' `is_ignored_ip`: invalid, multicast, private, link-local, loopback or reserved. */
export function isIgnoredIp(ip: string): boolean {
  const flags = flagsOf(ip);
  return (flags & VALID) === 0 || (flags & (PRIVATE | MULTICAST | LINK_LOCAL | LOOPBACK | RESERVED)) !== 0;
}

/** A port-scan target: valid and not multicast, link-local, loopback or reserved. */
export function isScanInteresting(ip: string): boolean {
  const flags = flagsOf(ip);
  return (flags & VALID) !== 0 && (flags & (MULTICAST | LINK_LOCAL | LOOPBACK | RESERVED)) === 0;
}

/** Parse "a.b.c.d/n", "x::/n" or a bare address (a host network); undefined when malformed. */
export function parseCidr(text: string): Cidr | undefined {
  const value = text.trim();
  if (ipaddr.isValidCIDR(value)) return ipaddr.parseCIDR(value);
  const version = isIP(value);
  if (version === 0) return undefined;
  return [ipaddr.parse(value), version === 4 ? 32 : 128];
}

/** True when ip is a valid address of the same family inside the network. */
export function isIpInCidr(ip: string, network: Cidr): boolean {
  const [base, prefix] = network;
  if (base.kind() === 'ipv4') {
    const address = ipv4Number(ip);
    if (address !== -1) {
      const shift = 32 - prefix;
      const octets = (base as ipaddr.IPv4).octets;
      const start = (((octets[0] ?? 0) * 256 + (octets[1] ?? 0)) * 256 + (octets[2] ?? 0)) * 256 + (octets[3] ?? 0);
      return shift >= 32 || Math.floor(address / 2 ** shift) === Math.floor(start / 2 ** shift);
    }
  }
  const version = isIP(ip);
  if (version === 0) return false;
  const address = ipaddr.parse(ip);
  return address.kind() === network[0].kind() && address.match(network);
}

/** Slips' local-network guess from a private IPv4 address: its RFC1918 block, else undefined. */
export function rfc1918BlockOf(ip: string): string | undefined {
  if (ip.startsWith('10.')) return '10.0.0.0/8';
  if (ip.startsWith('192.168.')) return '192.168.0.0/16';
  if (!ip.startsWith('172.')) return undefined;
  const second = Number(ip.split('.', 2)[1]);
  return second >= 16 && second <= 31 ? '172.16.0.0/12' : undefined;
}

/** Set key -> value in a map that keeps at most `limit` keys, forgetting the oldest key first. */
export function remember<K, V>(map: Map<K, V>, key: K, value: V, limit: number): void {
  if (map.size >= limit && !map.has(key)) map.delete(map.keys().next().value as K);
  map.set(key, value);
}
