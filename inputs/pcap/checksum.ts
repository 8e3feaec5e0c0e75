// TCP and UDP checksum verification (RFC 793 / 768 / 8200 pseudo-headers) for the pcap input's
// optional `verifyChecksums` mode, which drops packets with a bad transport checksum as Zeek does
// when run without -C. Slips runs Zeek with -C, so the mode is off by default. A packet whose
// segment was not captured whole, or a UDP/IPv4 datagram without a checksum (0), counts as valid.

import ipaddr from 'ipaddr.js';
import { type Decoded, PROTO_TCP, PROTO_UDP } from './decode.js';

/** One's-complement sum of 16-bit words of `bytes[start, end)`, added to `sum`. */
function addWords(sum: number, bytes: ArrayLike<number>, start: number, end: number): number {
  let i = start;
  for (; i + 1 < end; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (i < end) sum += bytes[i]! << 8;
  return sum;
}

/** Whether the TCP or UDP checksum of a decoded IP packet is right (true for other protocols). */
export function transportChecksumValid(d: Decoded): boolean {
  if (d.proto !== PROTO_TCP && d.proto !== PROTO_UDP) return true;
  const end = d.l4Off + d.l4Len;
  if (end > d.data.length || d.l4Len < (d.proto === PROTO_TCP ? 20 : 8)) return true;
  const checksumOff = d.l4Off + (d.proto === PROTO_TCP ? 16 : 6);
  if (d.proto === PROTO_UDP && d.ipVersion === 4 && d.data.readUInt16BE(checksumOff) === 0) return true;
  let sum = 0;
  sum = addWords(sum, ipaddr.parse(d.src).toByteArray(), 0, d.ipVersion === 4 ? 4 : 16);
  sum = addWords(sum, ipaddr.parse(d.dst).toByteArray(), 0, d.ipVersion === 4 ? 4 : 16);
  sum += d.proto + d.l4Len;
  sum = addWords(sum, d.data, d.l4Off, end);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum === 0xffff;
}
