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

const PRIVATE_V4 = networks([
  '0.0.0.0/8', '10.0.0.0/8', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/24',
  '192.0.2.0/24', '192.168.0.0/16', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24', '240.0.0.0/4',
  '255.255.255.255/32',
]);
const PRIVATE_V6 = networks(['::1/128', 'fc00::/7', 'fe80::/10']);
const MULTICAST_V4 = networks(['224.0.0.0/4']);
const MULTICAST_V6 = networks(['ff00::/8']);
const LINK_LOCAL_V4 = networks(['169.254.0.0/16']);
const LINK_LOCAL_V6 = networks(['fe80::/10']);
const LOOPBACK_V4 = networks(['127.0.0.0/8']);
const LOOPBACK_V6 = networks(['::1/128']);
const RESERVED_V4 = networks(['240.0.0.0/4']);
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

function classify(ip: string): number {
  const version = isIP(ip);
  if (version === 0) return 0;
  const address = ipaddr.parse(ip);
  const v4 = version === 4;
  let flags = VALID;
  if (inAny(address, v4 ? PRIVATE_V4 : PRIVATE_V6)) flags |= PRIVATE;
  if (inAny(address, v4 ? MULTICAST_V4 : MULTICAST_V6)) flags |= MULTICAST;
  if (inAny(address, v4 ? LINK_LOCAL_V4 : LINK_LOCAL_V6)) flags |= LINK_LOCAL;
  if (inAny(address, v4 ? LOOPBACK_V4 : LOOPBACK_V6)) flags |= LOOPBACK;
  if (inAny(address, v4 ? RESERVED_V4 : RESERVED_V6)) flags |= RESERVED;
  return flags;
}

/** Classification memo: detectors ask about the same few addresses for every flow. */
const MEMO_LIMIT = 65_536;
const memo = new Map<string, number>();

function flagsOf(ip: string): number {
  let flags = memo.get(ip);
  if (flags === undefined) {
    if (memo.size >= MEMO_LIMIT) memo.clear();
    flags = classify(ip);
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
  const version = isIP(ip);
  if (version === 0) return false;
  const address = ipaddr.parse(ip);
  return address.kind() === network[0].kind() && address.match(network);
}
