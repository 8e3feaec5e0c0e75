// Packet decoding: link layer (Ethernet, Linux SLL / SLL2, raw IP, BSD loopback/null, PPP),
// 802.1Q / QinQ tags, PPPoE sessions, MPLS label stacks, IPv4 (checksums not verified;
// fragments reassembled in a bounded table), IPv6 with extension headers (fragments too),
// then TCP, UDP, ICMP, ICMPv6 and ARP headers. IP-level tunnels are opened on the way, like
// Zeek: IP-in-IP / 6in4 (IP protocols 4 and 41) and GRE (version 0 with IPv4, IPv6,
// transparent Ethernet or ERSPAN I/II/III payload; version 1 / PPTP with PPP carrying IP);
// each crossed tunnel is listed in `ipTunnels` and the packet decodes to the innermost one.
// UDP tunnels (VXLAN, GTP-U, Teredo, Geneve) need the outer connection and are opened by
// inputs/pcap/tunnel.ts through decodeInner(). The result goes into one reused Decoded
// object holding offsets into the packet's bytes; strings are made only for addresses.

/** What decode() found in a packet. */
export const KIND_NONE = 0;
export const KIND_IP = 1;
export const KIND_ARP = 2;

export const PROTO_ICMP = 1;
export const PROTO_TCP = 6;
export const PROTO_UDP = 17;
export const PROTO_ICMP6 = 58;
export const PROTO_IPIP = 4;
export const PROTO_IPV6 = 41;
export const PROTO_GRE = 47;

/** Tunnel kinds (Zeek's Tunnel::Type names are in tunnel.ts). */
export const TUNNEL_IP = 1;
export const TUNNEL_GRE = 2;

/** Most tunnels crossed by one packet (Zeek's Tunnel::max_depth). */
export const MAX_TUNNEL_DEPTH = 4;

/** An IP-level tunnel a packet came through: the outer header's addresses. */
export interface IpTunnelLayer {
  type: number;
  src: string;
  dst: string;
}

export const TH_FIN = 0x01;
export const TH_SYN = 0x02;
export const TH_RST = 0x04;
export const TH_ACK = 0x10;

export interface Decoded {
  kind: number;
  /** Bytes the offsets below refer to (the packet, or a reassembled datagram). */
  data: Buffer;
  /** Offsets of the link-layer destination / source MAC in `frame`, -1 when absent. */
  frame: Buffer;
  dstMacOff: number;
  srcMacOff: number;
  // --- IP
  ipVersion: number;
  src: string;
  dst: string;
  /** IP protocol of the transport header (after IPv6 extension headers). */
  proto: number;
  /** IP-level length of the packet (IPv4 total length; IPv6 payload length + 40). */
  ipLen: number;
  /** Transport header offset and its length per the IP header. */
  l4Off: number;
  l4Len: number;
  // --- transport
  sport: number;
  dport: number;
  tcpFlags: number;
  seq: number;
  ack: number;
  window: number;
  /** Payload offset in `data` and its length per the headers (may exceed what was captured). */
  payloadOff: number;
  payloadLen: number;
  /** UDP length field. */
  udpLen: number;
  icmpType: number;
  icmpCode: number;
  // --- ARP (Ethernet / IPv4 only)
  arpOp: number;
  arpShaOff: number;
  arpThaOff: number;
  arpSpa: string;
  arpTpa: string;
  // --- IP tunnels crossed, outermost first (empty for most packets).
  ipTunnels: IpTunnelLayer[];
}

export function newDecoded(): Decoded {
  return {
    kind: KIND_NONE, data: Buffer.alloc(0), frame: Buffer.alloc(0), dstMacOff: -1, srcMacOff: -1,
    ipVersion: 0, src: '', dst: '', proto: 0, ipLen: 0, l4Off: 0, l4Len: 0,
    sport: 0, dport: 0, tcpFlags: 0, seq: 0, ack: 0, window: 0, payloadOff: 0, payloadLen: 0, udpLen: 0,
    icmpType: 0, icmpCode: 0, arpOp: 0, arpShaOff: 0, arpThaOff: 0, arpSpa: '', arpTpa: '',
    ipTunnels: [],
  };
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

// Big-endian reads of bytes known to be in the buffer, without Buffer's per-call argument checks.
function be16(buf: Buffer, off: number): number {
  return (buf[off]! << 8) | buf[off + 1]!;
}

function be32(buf: Buffer, off: number): number {
  return buf[off]! * 0x1000000 + ((buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!);
}

/** "aa:bb:cc:dd:ee:ff" for the 6 bytes at `off`. */
export function macString(buf: Buffer, off: number): string {
  return `${HEX[buf[off]!]}:${HEX[buf[off + 1]!]}:${HEX[buf[off + 2]!]}:${HEX[buf[off + 3]!]}:${HEX[buf[off + 4]!]}:${HEX[buf[off + 5]!]}`;
}

export function ipv4String(buf: Buffer, off: number): string {
  return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
}

/** Recently made IPv4 address texts, in a direct-mapped cache: a hash of the address picks the slot. */
const IPV4_CACHE_BITS = 17;
const ipv4CacheAddrs = new Int32Array(1 << IPV4_CACHE_BITS);
const ipv4CacheTexts = new Array<string>(1 << IPV4_CACHE_BITS).fill('');

/** ipv4String without making a new string for an address seen lately (the hot path's case). */
function ipv4Text(buf: Buffer, off: number): string {
  const addr = (buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!;
  const slot = Math.imul(addr, 0x9e3779b1) >>> (32 - IPV4_CACHE_BITS);
  const cached = ipv4CacheTexts[slot]!;
  if (ipv4CacheAddrs[slot] === addr && cached !== '') return cached;
  const text = ipv4String(buf, off);
  ipv4CacheAddrs[slot] = addr;
  ipv4CacheTexts[slot] = text;
  return text;
}

/** RFC 5952 text of the IPv6 address at `off` (longest zero run of 2+ groups compressed). */
export function ipv6String(buf: Buffer, off: number): string {
  const groups = new Array<number>(8);
  for (let i = 0; i < 8; i++) groups[i] = buf.readUInt16BE(off + 2 * i);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  // IPv4-mapped ::ffff:a.b.c.d
  if (bestStart === 0 && bestLen === 5 && groups[5] === 0xffff) return `::ffff:${ipv4String(buf, off + 12)}`;
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += '::';
      i += bestLen - 1;
      continue;
    }
    if (out !== '' && !out.endsWith(':')) out += ':';
    out += groups[i]!.toString(16);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Fragment reassembly

interface Fragments {
  firstSeen: number;
  /** Header to put in front of the reassembled payload (IPv4 header or a bare IPv6 header). */
  header: Buffer | undefined;
  /** Next protocol (IPv6) of the fragmented payload. */
  nextHeader: number;
  pieces: { off: number; bytes: Buffer }[];
  /** Payload length, known once the last fragment arrived; -1 before. */
  total: number;
}

/** Most datagrams under reassembly at once; the oldest is dropped beyond it. */
const MAX_FRAGMENTED = 4096;
/** A datagram whose fragments are older than this is dropped (Zeek's frag_timeout is unset; we bound it). */
const FRAGMENT_TIMEOUT = 60;
/** Largest reassembled datagram. */
const MAX_DATAGRAM = 65535 + 40;

export class FragmentTable {
  private readonly pending = new Map<string, Fragments>();
  /** Datagrams dropped incomplete (timeout or table full). */
  dropped = 0;

  /**
   * Adds a fragment; returns the whole datagram (header + payload) when it is complete.
   * `header` is the header to keep (taken from the fragment at offset 0).
   */
  add(key: string, ts: number, fragOff: number, more: boolean, header: Buffer, nextHeader: number, payload: Buffer): Buffer | undefined {
    this.expire(ts);
    let entry = this.pending.get(key);
    if (entry === undefined) {
      if (this.pending.size >= MAX_FRAGMENTED) {
        this.pending.delete(this.pending.keys().next().value as string);
        this.dropped += 1;
      }
      entry = { firstSeen: ts, header: undefined, nextHeader, pieces: [], total: -1 };
      this.pending.set(key, entry);
    }
    if (fragOff === 0) {
      entry.header = Buffer.from(header);
      entry.nextHeader = nextHeader;
    }
    if (!more) entry.total = fragOff + payload.length;
    if (fragOff + payload.length > MAX_DATAGRAM) {
      this.pending.delete(key);
      this.dropped += 1;
      return undefined;
    }
    entry.pieces.push({ off: fragOff, bytes: Buffer.from(payload) });
    if (entry.total < 0 || entry.header === undefined) return undefined;
    entry.pieces.sort((a, b) => a.off - b.off);
    let covered = 0;
    for (const piece of entry.pieces) {
      if (piece.off > covered) return undefined;
      covered = Math.max(covered, piece.off + piece.bytes.length);
    }
    if (covered < entry.total) return undefined;
    this.pending.delete(key);
    const out = Buffer.alloc(entry.header.length + entry.total);
    entry.header.copy(out, 0);
    for (const piece of entry.pieces) piece.bytes.copy(out, entry.header.length + piece.off, 0, Math.min(piece.bytes.length, entry.total - piece.off));
    return out;
  }

  private expire(ts: number): void {
    for (const [key, entry] of this.pending) {
      if (entry.firstSeen >= ts - FRAGMENT_TIMEOUT) break;
      this.pending.delete(key);
      this.dropped += 1;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_ARP = 0x0806;
const ETH_VLAN = 0x8100;
const ETH_QINQ = 0x88a8;
const ETH_QINQ_OLD = 0x9100;
const ETH_MPLS = 0x8847;
const ETH_PPPOE = 0x8864;
const ETH_FABRICPATH = 0x8903;
/** GRE payload types besides IPv4 / IPv6. */
const GRE_TEB = 0x6558;
const GRE_ERSPAN_2 = 0x88be;
const GRE_ERSPAN_3 = 0x22eb;
const GRE_PPP = 0x880b;

export class Decoder {
  readonly out: Decoded = newDecoded();
  readonly fragments = new FragmentTable();
  /** Packets whose link type we cannot decode. */
  unknownLinkType = 0;
  private ts = 0;

  /**
   * Decodes one packet. Returns false for anything we do not track (other link types or
   * ethertypes, truncated headers, fragments still waiting for the rest).
   */
  decode(data: Buffer, linkType: number, ts: number): boolean {
    const d = this.out;
    d.kind = KIND_NONE;
    d.frame = data;
    d.dstMacOff = -1;
    d.srcMacOff = -1;
    if (d.ipTunnels.length > 0) d.ipTunnels = [];
    this.ts = ts;
    switch (linkType) {
      case 1: // Ethernet
        if (data.length < 14) return false;
        d.dstMacOff = 0;
        d.srcMacOff = 6;
        return this.ether(data, 12);
      case 113: { // Linux cooked capture v1
        if (data.length < 16) return false;
        if (data.readUInt16BE(4) === 6) d.srcMacOff = 6;
        return this.ether(data, 14);
      }
      case 276: // Linux cooked capture v2
        if (data.length < 20) return false;
        if (data[11] === 6) d.srcMacOff = 12;
        return this.etherType(data, data.readUInt16BE(0), 20);
      case 101: case 12: case 14: // raw IP
        return this.rawIp(data, 0);
      case 228:
        return this.ipv4(data, 0);
      case 229:
        return this.ipv6(data, 0);
      case 0: case 108: // BSD loopback / OpenBSD loop: 4-byte family, then IP
        return data.length > 4 && this.rawIp(data, 4);
      case 9: // PPP, optionally with the HDLC address/control bytes
        if (data.length >= 4 && data[0] === 0xff && data[1] === 0x03) return this.ppp(data, data.readUInt16BE(2), 4);
        return data.length >= 2 && this.ppp(data, data.readUInt16BE(0), 2);
      default:
        this.unknownLinkType += 1;
        return false;
    }
  }

  /** Ethertype at `typeOff`, then 802.1Q/QinQ tags. */
  private ether(data: Buffer, typeOff: number): boolean {
    return this.etherType(data, be16(data, typeOff), typeOff + 2);
  }

  private etherType(data: Buffer, type: number, off: number): boolean {
    while (type === ETH_VLAN || type === ETH_QINQ || type === ETH_QINQ_OLD) {
      if (data.length < off + 4) return false;
      type = data.readUInt16BE(off + 2);
      off += 4;
    }
    switch (type) {
      case ETH_IPV4: return this.ipv4(data, off);
      case ETH_IPV6: return this.ipv6(data, off);
      case ETH_ARP: return this.arp(data, off);
      case ETH_MPLS: {
        // Pop labels up to the bottom of the stack, then guess the payload from its version.
        for (;;) {
          if (data.length < off + 4) return false;
          const bottom = (data[off + 2]! & 0x01) !== 0;
          off += 4;
          if (bottom) break;
        }
        return this.rawIp(data, off);
      }
      case ETH_FABRICPATH:
        // Cisco FabricPath: a 2-byte tag after the outer ethertype, then the inner Ethernet frame.
        if (data.length < off + 16) return false;
        this.out.dstMacOff = off + 2;
        this.out.srcMacOff = off + 8;
        return this.ether(data, off + 14);
      case ETH_PPPOE:
        if (data.length < off + 8) return false;
        return this.ppp(data, data.readUInt16BE(off + 6), off + 8);
      default:
        return false;
    }
  }

  private ppp(data: Buffer, protocol: number, off: number): boolean {
    if (protocol === 0x0021) return this.ipv4(data, off);
    if (protocol === 0x0057) return this.ipv6(data, off);
    return false;
  }

  private rawIp(data: Buffer, off: number): boolean {
    if (data.length <= off) return false;
    const version = data[off]! >> 4;
    if (version === 4) return this.ipv4(data, off);
    if (version === 6) return this.ipv6(data, off);
    return false;
  }

  private arp(data: Buffer, off: number): boolean {
    if (data.length < off + 28) return false;
    // Ethernet hardware, IPv4 protocol addresses only (like Zeek's ARP analyzer).
    if (data.readUInt16BE(off + 2) !== ETH_IPV4 || data[off + 4] !== 6 || data[off + 5] !== 4) return false;
    const d = this.out;
    d.kind = KIND_ARP;
    d.data = data;
    d.arpOp = data.readUInt16BE(off + 6);
    d.arpShaOff = off + 8;
    d.arpSpa = ipv4String(data, off + 14);
    d.arpThaOff = off + 18;
    d.arpTpa = ipv4String(data, off + 24);
    return true;
  }

  private ipv4(data: Buffer, off: number): boolean {
    if (data.length < off + 20) return false;
    const ihl = (data[off]! & 0x0f) * 4;
    if (data[off]! >> 4 !== 4 || ihl < 20 || data.length < off + ihl) return false;
    let total = be16(data, off + 2);
    // TSO captures write 0; take the captured length then.
    if (total === 0) total = data.length - off;
    if (total < ihl) return false;
    const fragField = be16(data, off + 6);
    const more = (fragField & 0x2000) !== 0;
    const fragOff = (fragField & 0x1fff) * 8;
    const proto = data[off + 9]!;
    if (more || fragOff !== 0) {
      const end = Math.min(off + total, data.length);
      const key = `4|${data.readUInt32BE(off + 12)}|${data.readUInt32BE(off + 16)}|${data.readUInt16BE(off + 4)}|${proto}`;
      const whole = this.fragments.add(key, this.ts, fragOff, more, data.subarray(off, off + ihl), proto, data.subarray(off + ihl, end));
      if (whole === undefined) return false;
      whole.writeUInt16BE(whole.length, 2);
      whole.writeUInt16BE(0, 6);
      return this.ipv4(whole, 0);
    }
    const d = this.out;
    d.kind = KIND_IP;
    d.data = data;
    d.ipVersion = 4;
    d.src = ipv4Text(data, off + 12);
    d.dst = ipv4Text(data, off + 16);
    d.proto = proto;
    d.ipLen = total;
    d.l4Off = off + ihl;
    d.l4Len = total - ihl;
    if (proto === PROTO_GRE || proto === PROTO_IPIP || proto === PROTO_IPV6) return this.ipTunnel(data);
    return this.transport(data);
  }

  private ipv6(data: Buffer, off: number): boolean {
    if (data.length < off + 40 || data[off]! >> 4 !== 6) return false;
    const plen = data.readUInt16BE(off + 4);
    let next = data[off + 6]!;
    let at = off + 40;
    const end = off + 40 + plen;
    // Walk the extension headers up to the transport header.
    for (;;) {
      if (next === 0 || next === 43 || next === 60 || next === 135) {
        if (data.length < at + 2) return false;
        const nh = data[at]!;
        at += (data[at + 1]! + 1) * 8;
        next = nh;
      } else if (next === 51) { // AH: length in 4-byte units minus 2
        if (data.length < at + 2) return false;
        const nh = data[at]!;
        at += (data[at + 1]! + 2) * 4;
        next = nh;
      } else if (next === 44) { // fragment
        if (data.length < at + 8) return false;
        const nh = data[at]!;
        const field = data.readUInt16BE(at + 2);
        const fragOff = field & 0xfff8;
        const more = (field & 1) !== 0;
        const id = data.readUInt32BE(at + 4);
        const key = `6|${data.toString('latin1', off + 8, off + 40)}|${id}`;
        const header = Buffer.from(data.subarray(off, off + 40));
        const whole = this.fragments.add(key, this.ts, fragOff, more, header, nh, data.subarray(at + 8, Math.min(end, data.length)));
        if (whole === undefined) return false;
        whole.writeUInt16BE(whole.length - 40, 4);
        whole[6] = nh;
        return this.ipv6(whole, 0);
      } else break;
      if (at > end) return false;
    }
    const d = this.out;
    d.kind = KIND_IP;
    d.data = data;
    d.ipVersion = 6;
    d.src = ipv6String(data, off + 8);
    d.dst = ipv6String(data, off + 24);
    d.proto = next;
    d.ipLen = plen + 40;
    d.l4Off = at;
    d.l4Len = end - at;
    if (next === PROTO_GRE || next === PROTO_IPIP || next === PROTO_IPV6) return this.ipTunnel(data);
    return this.transport(data);
  }

  /**
   * The packet in d is an IP-in-IP or GRE packet: records the tunnel and decodes the packet it
   * carries in its place (false when the payload is not one we open, or too deep).
   */
  private ipTunnel(data: Buffer): boolean {
    const d = this.out;
    if (d.ipTunnels.length >= MAX_TUNNEL_DEPTH) return false;
    const off = d.l4Off;
    const end = Math.min(off + d.l4Len, data.length);
    // The inner packet is its own datagram: nothing past the outer IP payload belongs to it.
    const inner = end < data.length ? data.subarray(0, end) : data;
    if (d.proto !== PROTO_GRE) {
      d.ipTunnels.push({ type: TUNNEL_IP, src: d.src, dst: d.dst });
      d.dstMacOff = -1;
      d.srcMacOff = -1;
      return d.proto === PROTO_IPIP ? this.ipv4(inner, off) : this.ipv6(inner, off);
    }
    if (end - off < 4) return false;
    const flags = data[off]!;
    const version = data[off + 1]! & 0x07;
    const type = data.readUInt16BE(off + 2);
    // Routing present (obsolete RFC 1701 source routes): not opened, like Zeek.
    if ((flags & 0x40) !== 0) return false;
    let at = off + 4;
    if (version === 0) {
      if (flags & 0x80) at += 4; // checksum + reserved
      if (flags & 0x20) at += 4; // key
      if (flags & 0x10) at += 4; // sequence number
    } else if (version === 1) {
      // Enhanced GRE (PPTP): key always present, then optional sequence and acknowledgement.
      if ((flags & 0x20) === 0 || type !== GRE_PPP) return false;
      at += 4;
      if (flags & 0x10) at += 4;
      if (data[off + 1]! & 0x80) at += 4;
    } else return false;
    if (at > end) return false;
    const src = d.src;
    const dst = d.dst;
    d.ipTunnels.push({ type: TUNNEL_GRE, src, dst });
    d.dstMacOff = -1;
    d.srcMacOff = -1;
    switch (type) {
      case ETH_IPV4: return this.ipv4(inner, at);
      case ETH_IPV6: return this.ipv6(inner, at);
      case GRE_PPP: {
        // PPP frame, with or without the HDLC address / control bytes.
        if (inner.length >= at + 2 && inner[at] === 0xff && inner[at + 1] === 0x03) at += 2;
        return inner.length >= at + 2 && this.ppp(inner, inner.readUInt16BE(at), at + 2);
      }
      case GRE_TEB: return this.innerEther(inner, at);
      case GRE_ERSPAN_2:
        // ERSPAN type II carries a sequence number and an 8-byte header; type I has neither.
        return this.innerEther(inner, (flags & 0x10) !== 0 ? at + 8 : at);
      case GRE_ERSPAN_3: {
        // 12-byte header, plus an 8-byte platform-specific subheader when its O flag is set.
        if (inner.length < at + 12) return false;
        return this.innerEther(inner, at + 12 + ((inner[at + 11]! & 0x01) !== 0 ? 8 : 0));
      }
      default:
        return false;
    }
  }

  /** An Ethernet frame carried inside a tunnel at `off`: its MACs become the packet's. */
  private innerEther(data: Buffer, off: number): boolean {
    if (data.length < off + 14) return false;
    const d = this.out;
    d.frame = data;
    d.dstMacOff = off;
    d.srcMacOff = off + 6;
    return this.ether(data, off + 12);
  }

  private transport(data: Buffer): boolean {
    const d = this.out;
    const off = d.l4Off;
    const avail = data.length - off;
    switch (d.proto) {
      case PROTO_TCP: {
        if (avail < 20 || d.l4Len < 20) return false;
        const hlen = (data[off + 12]! >> 4) * 4;
        if (hlen < 20 || hlen > d.l4Len) return false;
        d.sport = be16(data, off);
        d.dport = be16(data, off + 2);
        d.seq = be32(data, off + 4);
        d.ack = be32(data, off + 8);
        d.tcpFlags = data[off + 13]!;
        d.window = be16(data, off + 14);
        d.payloadOff = off + hlen;
        d.payloadLen = d.l4Len - hlen;
        return true;
      }
      case PROTO_UDP:
        if (avail < 8 || d.l4Len < 8) return false;
        d.sport = be16(data, off);
        d.dport = be16(data, off + 2);
        d.udpLen = be16(data, off + 4);
        d.payloadOff = off + 8;
        d.payloadLen = d.l4Len - 8;
        return true;
      case PROTO_ICMP:
      case PROTO_ICMP6:
        if (avail < 8 || d.l4Len < 8) return false;
        d.icmpType = data[off]!;
        d.icmpCode = data[off + 1]!;
        d.payloadOff = off + 8;
        d.payloadLen = d.l4Len - 8;
        return true;
      default:
        d.sport = 0;
        d.dport = 0;
        d.payloadOff = off;
        d.payloadLen = d.l4Len;
        return true;
    }
  }
}
