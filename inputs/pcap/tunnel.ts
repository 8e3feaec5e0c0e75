// Tunnels, Zeek style: the encapsulation of each packet (EncapLayer list, outermost first),
// tunnel.log with its DISCOVER / CLOSE actions (and TunnelRecords for Slips' GRE detection),
// and the UDP tunnels opened on top of a tracked UDP connection:
//  - VXLAN (responder port 4789): 8-byte header with the I flag, then an Ethernet frame;
//  - Geneve (6081): 8-byte header plus options, then Ethernet / IPv4 / IPv6;
//  - GTPv1-U (2152): G-PDU messages (version 1, protocol type GTP, type 0xff) carrying IPv4 or
//    IPv6, after the optional sequence / N-PDU / extension headers;
//  - Teredo (3544, or from the first datagram that looks like it on any port, like Zeek's
//    detection heuristic; the connection stays Teredo from then on): optional
//    authentication and origin indication headers, then an IPv6 packet.
// An inner packet must fill its datagram exactly (Zeek's IP::ParsePacket), else the tunnel
// analyzer gives up on the connection ("violation"). The outer connection gets its service
// when confirmed: at once for VXLAN, Geneve and GTP, once both directions carried valid
// Teredo (Zeek's delay_teredo_confirmation). IP-level tunnels (GRE, IP-in-IP) are decoded
// by decode.ts; here they get a uid per address pair (expiring after Zeek's
// ip_tunnel_timeout) and are never logged as connections.

import type { TunnelRecord } from '../records.js';
import { markPartial, type TrackedConn } from './conntrack.js';
import { type Decoded, type IpTunnelLayer, MAX_TUNNEL_DEPTH, TUNNEL_GRE } from './decode.js';
import { type ZeekLogSpec, type ZeekValue, zeekTime } from './zeekLog.js';

export const TUNNEL_LOG: ZeekLogSpec = {
  path: 'tunnel',
  fields: [
    ['ts', 'time'], ['uid', 'string'], ['id.orig_h', 'addr'], ['id.orig_p', 'port'], ['id.resp_h', 'addr'],
    ['id.resp_p', 'port'], ['tunnel_type', 'enum'], ['action', 'enum'],
  ],
};

/** One tunnel a packet came through (Zeek's EncapsulatingConn). */
export interface EncapLayer {
  uid: string;
  /** Zeek's Tunnel::Type, e.g. 'Tunnel::GRE'. */
  type: string;
  origH: string;
  origP: number;
  respH: string;
  respP: number;
}

/** Per-connection state of a UDP tunnel analyzer. */
export interface UdpTunnelState {
  analyzer: number;
  /** The analyzer gave up on the connection. */
  violated: boolean;
  validOrig: boolean;
  validResp: boolean;
}

const VXLAN = 1;
const GENEVE = 2;
const GTPV1 = 3;
const TEREDO = 4;

const ANALYZER_BY_PORT = new Map<number, number>([[4789, VXLAN], [6081, GENEVE], [2152, GTPV1], [3544, TEREDO]]);
const SERVICE = ['', 'vxlan', 'geneve', 'gtpv1', 'teredo'];
const TYPE = ['', 'Tunnel::VXLAN', 'Tunnel::GENEVE', 'Tunnel::GTPv1', 'Tunnel::TEREDO'];

/** Zeek's Tunnel::ip_tunnel_timeout. */
const IP_TUNNEL_TIMEOUT = 24 * 3600;
/** Most IP tunnels remembered at once (the least recently used goes). */
const MAX_IP_TUNNELS = 65536;

const LINK_ETHERNET = 1;
const LINK_RAW = 101;

/** The packet a UDP tunnel carries. */
export interface InnerPacket {
  data: Buffer;
  linkType: number;
  layer: EncapLayer;
}

export interface TunnelOutput {
  record(record: TunnelRecord): void;
  log(spec: ZeekLogSpec, values: readonly ZeekValue[]): void;
}

/** A tunnel.log line and its tunnel record (`uid` '' for a tunnel without a connection uid). */
export function reportTunnel(out: TunnelOutput, iface: string, layer: EncapLayer, action: string, ts: number): void {
  out.log(TUNNEL_LOG, [zeekTime(ts), layer.uid === '' ? '-' : layer.uid, layer.origH, layer.origP, layer.respH, layer.respP, layer.type, action]);
  out.record({
    kind: 'tunnel', ts, uid: layer.uid, saddr: layer.origH, daddr: layer.respH, interface: iface,
    source: 'pcap', sport: layer.origP, dport: layer.respP, tunnel_type: layer.type, action,
  });
}

/** Whether a Teredo payload looks like Teredo (Zeek's detection heuristic, for any port). */
export function looksLikeTeredo(p: Buffer): boolean {
  const len = p.length;
  if (len < 40) return false;
  const b0 = p[0]!;
  if (b0 >> 4 !== 6 && (b0 !== 0 || (p[1] !== 0 && p[1] !== 1))) return false;
  // A bare IPv6 header (a bubble) from or to a Teredo address (2001:0000::/32).
  if (len === 40 && b0 >> 4 === 6 && (isTeredoPrefix(p, 8) || isTeredoPrefix(p, 24))) return true;
  let at = 0;
  let tag = p[1]!;
  if (tag === 1) {
    at = 13 + p[2]! + p[3]!;
    if (len - at < 40) return false;
    tag = p.readUInt16BE(at);
  }
  if (tag !== 0) return false;
  at += 8;
  return len - at >= 40 && p[at]! >> 4 === 6;
}

function isTeredoPrefix(p: Buffer, off: number): boolean {
  return p[off] === 0x20 && p[off + 1] === 0x01 && p[off + 2] === 0 && p[off + 3] === 0;
}

/** Offset of the IPv6 packet in a Teredo payload, -1 when the headers are not Teredo's. */
function teredoInner(p: Buffer): number {
  let at = 0;
  let origin = false;
  let auth = false;
  for (;;) {
    if (p.length - at < 2) return -1;
    const tag = p.readUInt16BE(at);
    if (tag === 0) {
      if (origin || p.length - at < 8) return -1;
      origin = true;
      at += 8;
    } else if (tag === 1) {
      if (origin || auth || p.length - at < 4) return -1;
      const total = 4 + p[at + 2]! + p[at + 3]! + 8 + 1;
      if (p.length - at < total) return -1;
      auth = true;
      at += total;
    } else if (tag >> 12 === 6) {
      return p.length - at >= 40 ? at : -1;
    } else return -1;
  }
}

/** Whether `p` holds exactly one IPv4 / IPv6 packet (Zeek's IP::ParsePacket outcome OK). */
function wholeIpPacket(p: Buffer, teredo: boolean): boolean {
  const version = p.length > 0 ? p[0]! >> 4 : 0;
  if (version === 4 && !teredo) return p.length >= 20 && p.readUInt16BE(2) === p.length;
  if (version !== 6 || p.length < 40) return false;
  const plen = p.readUInt16BE(4);
  if (plen + 40 === p.length) return true;
  // A Teredo bubble (no next header, no payload) may carry trailing bytes.
  return teredo && plen === 0 && p[6] === 59;
}

export class Tunnels {
  private readonly ipTunnels = new Map<string, { layer: EncapLayer; last: number }>();
  /** Tunnels logged as discovered and not closed yet, by uid. */
  private readonly active = new Map<string, EncapLayer>();

  constructor(
    private readonly newUid: () => string,
    private readonly out: TunnelOutput,
    private readonly iface: string,
  ) {}

  /** The encapsulation layers of the IP tunnels a decoded packet came through. */
  ipLayers(tunnels: readonly IpTunnelLayer[], ts: number): EncapLayer[] {
    const layers: EncapLayer[] = [];
    for (const t of tunnels) {
      const key = t.src < t.dst ? `${t.type}|${t.src}|${t.dst}` : `${t.type}|${t.dst}|${t.src}`;
      let entry = this.ipTunnels.get(key);
      if (entry !== undefined && ts - entry.last > IP_TUNNEL_TIMEOUT) {
        this.ipTunnels.delete(key);
        entry = undefined;
      }
      if (entry === undefined) {
        if (this.ipTunnels.size >= MAX_IP_TUNNELS) this.ipTunnels.delete(this.ipTunnels.keys().next().value as string);
        const type = t.type === TUNNEL_GRE ? 'Tunnel::GRE' : 'Tunnel::IP';
        entry = { layer: { uid: this.newUid(), type, origH: t.src, origP: 0, respH: t.dst, respP: 0 }, last: ts };
      } else this.ipTunnels.delete(key); // re-inserted below: Map order is recency order
      entry.last = ts;
      this.ipTunnels.set(key, entry);
      layers.push(entry.layer);
    }
    return layers;
  }

  /** A connection appeared in (or moved to) `encap`: tunnels not yet known are discovered. */
  register(encap: readonly EncapLayer[], ts: number): void {
    for (const layer of encap) {
      if (this.active.has(layer.uid)) continue;
      this.active.set(layer.uid, layer);
      this.emit(layer, 'Tunnel::DISCOVER', ts);
    }
  }

  /** A connection ended: if it was a discovered tunnel, the tunnel is closed. */
  closed(conn: TrackedConn, ts: number): void {
    if (this.active.size === 0) return;
    const layer = this.active.get(conn.uid);
    if (layer === undefined) return;
    this.active.delete(conn.uid);
    this.emit(layer, 'Tunnel::CLOSE', ts);
  }

  private emit(layer: EncapLayer, action: string, ts: number): void {
    reportTunnel(this.out, this.iface, layer, action, ts);
  }

  /**
   * The UDP datagram in `d` (just given to the tracker, which returned `conn`) opened as a
   * tunnel: the packet it carries, or undefined when it is not (or no longer) a tunnel.
   * `depth` is the number of tunnels the datagram itself came through.
   */
  udpInner(conn: TrackedConn, isOrig: boolean, d: Decoded, depth: number): InnerPacket | undefined {
    let state = conn.udpTunnel;
    if (state?.violated === true) return undefined;
    const payload = d.data.subarray(d.payloadOff, Math.min(d.payloadOff + d.payloadLen, d.data.length));
    if (state === undefined) {
      const analyzer = ANALYZER_BY_PORT.get(conn.respP) ?? (looksLikeTeredo(payload) ? TEREDO : 0);
      if (analyzer === 0) return undefined;
      state = { analyzer, violated: false, validOrig: false, validResp: false };
      conn.udpTunnel = state;
    }
    if (depth >= MAX_TUNNEL_DEPTH) {
      markPartial(conn);
      return undefined;
    }
    const analyzer = state.analyzer;
    let inner: Buffer | undefined;
    let linkType = LINK_RAW;
    switch (analyzer) {
      case VXLAN:
        if (payload.length < 8 || (payload[0]! & 0x08) === 0) break;
        this.confirm(conn, analyzer);
        // A header with nothing behind it is valid but carries no packet.
        if (payload.length === 8) return undefined;
        inner = payload.subarray(8);
        linkType = LINK_ETHERNET;
        break;
      case GENEVE: {
        if (payload.length < 8 || payload[0]! >> 6 !== 0) break;
        const start = 8 + (payload[0]! & 0x3f) * 4;
        const proto = payload.readUInt16BE(2);
        if (payload.length <= start || (proto !== 0x6558 && proto !== 0x0800 && proto !== 0x86dd)) break;
        this.confirm(conn, analyzer);
        inner = payload.subarray(start);
        linkType = proto === 0x6558 ? LINK_ETHERNET : LINK_RAW;
        break;
      }
      case GTPV1: {
        const at = gtpInner(payload);
        if (at === -2) return undefined; // a valid message that carries no packet
        if (at < 0) break;
        const candidate = payload.subarray(at, 8 + payload.readUInt16BE(2));
        if (!wholeIpPacket(candidate, false)) break;
        this.confirm(conn, analyzer);
        inner = candidate;
        break;
      }
      case TEREDO: {
        const at = teredoInner(payload);
        if (at < 0 || !wholeIpPacket(payload.subarray(at), true)) break;
        if (isOrig) state.validOrig = true;
        else state.validResp = true;
        if (state.validOrig && state.validResp) this.confirm(conn, analyzer);
        inner = payload.subarray(at);
        break;
      }
    }
    if (inner === undefined) {
      state.violated = true;
      return undefined;
    }
    const layer: EncapLayer = {
      uid: conn.uid, type: TYPE[analyzer]!, origH: conn.origH, origP: conn.origP, respH: conn.respH, respP: conn.respP,
    };
    return { data: inner, linkType, layer };
  }

  private confirm(conn: TrackedConn, analyzer: number): void {
    const service = SERVICE[analyzer]!;
    if (conn.service === '') conn.service = service;
    else if (!conn.service.split(',').includes(service)) conn.service += `,${service}`;
  }
}

/**
 * Offset of the packet in a GTPv1-U G-PDU; -2 for another valid GTPv1 message (echo,
 * error indication, ...), -1 when the bytes are not GTPv1-U.
 */
function gtpInner(p: Buffer): number {
  if (p.length < 8) return -1;
  const flags = p[0]!;
  // Version 1, protocol type GTP (not GTP').
  if (flags >> 5 !== 1 || (flags & 0x10) === 0) return -1;
  const length = p.readUInt16BE(2);
  if (8 + length > p.length) return -1;
  let at = 8;
  if ((flags & 0x07) !== 0) {
    if (length < 4) return -1;
    let next = p[11]!;
    at = 12;
    // Extension headers: a length in 4-byte units, contents, then the next type.
    while ((flags & 0x04) !== 0 && next !== 0) {
      if (at >= 8 + length) return -1;
      const extLen = p[at]! * 4;
      if (extLen === 0 || at + extLen > 8 + length) return -1;
      next = p[at + extLen - 1]!;
      at += extLen;
    }
  }
  return p[1] === 0xff ? at : -2;
}
