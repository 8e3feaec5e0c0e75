// Packet and capture-file builders for the pcap tests: Ethernet / 802.1Q, IPv4 (fragments),
// IPv6, TCP, UDP, ICMP, ARP frames, classic pcap and pcapng files, whole TCP conversations
// (handshake, data each way acknowledged, FIN both ways) and UDP exchanges, and a runner that
// reads a built capture through the pcap input.

import type { ExecutionContext } from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CollectingErrorSink } from '../../inputs/errors.js';
import { openPcapInput } from '../../inputs/pcap/reader.js';
import type { FlowRecord } from '../../inputs/records.js';

export const MAC_A = [0x02, 0, 0, 0, 0, 0x0a];
export const MAC_B = [0x02, 0, 0, 0, 0, 0x0b];
export const F = 0x01, S = 0x02, R = 0x04, P = 0x08, A = 0x10;

export interface Pkt { ts: number; frame: Buffer }

type Bytes = string | Buffer;
const bytes = (data: Bytes): Buffer => (typeof data === 'string' ? Buffer.from(data, 'latin1') : data);

export function ipBytes(ip: string): number[] {
  return ip.split('.').map(Number);
}

/** An Ethernet frame (with 802.1Q tags, QinQ when several). */
export function eth(type: number, payload: Buffer, src = MAC_A, dst = MAC_B, vlans: number[] = []): Buffer {
  const header: number[] = [...dst, ...src];
  if (vlans.length === 0) header.push(type >> 8, type & 0xff);
  else {
    header.push(vlans.length > 1 ? 0x88 : 0x81, vlans.length > 1 ? 0xa8 : 0x00);
    for (let i = 0; i < vlans.length; i++) {
      const next = i + 1 < vlans.length ? 0x8100 : type;
      header.push(vlans[i]! >> 8, vlans[i]! & 0xff, next >> 8, next & 0xff);
    }
  }
  return Buffer.concat([Buffer.from(header), payload]);
}

export function ipv4(src: string, dst: string, proto: number, payload: Buffer, opts: { id?: number; fragOff?: number; more?: boolean } = {}): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + payload.length, 2);
  h.writeUInt16BE(opts.id ?? 1, 4);
  h.writeUInt16BE(((opts.more ? 1 : 0) << 13) | ((opts.fragOff ?? 0) / 8), 6);
  h[8] = 64;
  h[9] = proto;
  Buffer.from(ipBytes(src)).copy(h, 12);
  Buffer.from(ipBytes(dst)).copy(h, 16);
  return Buffer.concat([h, payload]);
}

/** IPv6 between 2001:db8::<src> and 2001:db8::<dst>. */
export function ipv6(src: number, dst: number, next: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(40);
  h[0] = 0x60;
  h.writeUInt16BE(payload.length, 4);
  h[6] = next;
  h[7] = 64;
  h.writeUInt16BE(0x2001, 8);
  h.writeUInt16BE(0x0db8, 10);
  h[23] = src;
  h.writeUInt16BE(0x2001, 24);
  h.writeUInt16BE(0x0db8, 26);
  h[39] = dst;
  return Buffer.concat([h, payload]);
}

export function tcp(sport: number, dport: number, seq: number, ack: number, flags: number, data: Bytes = '', win = 65535): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt32BE(seq >>> 0, 4);
  h.writeUInt32BE(ack >>> 0, 8);
  h[12] = 5 << 4;
  h[13] = flags;
  h.writeUInt16BE(win, 14);
  return Buffer.concat([h, bytes(data)]);
}

export function udp(sport: number, dport: number, data: Bytes): Buffer {
  const payload = bytes(data);
  const h = Buffer.alloc(8);
  h.writeUInt16BE(sport, 0);
  h.writeUInt16BE(dport, 2);
  h.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([h, payload]);
}

export function icmp(type: number, code: number, data: Bytes): Buffer {
  return Buffer.concat([Buffer.from([type, code, 0, 0, 0, 1, 0, 1]), bytes(data)]);
}

export function arp(op: number, sha: number[], spa: string, tha: number[], tpa: string): Buffer {
  return Buffer.from([0, 1, 0x08, 0x00, 6, 4, 0, op, ...sha, ...ipBytes(spa), ...tha, ...ipBytes(tpa)]);
}

/** An Ethernet + IPv4 + TCP frame from `src` to `dst` (MAC_A for the client side `fromA`). */
export function tcpFrame(src: string, dst: string, sport: number, dport: number, seq: number, ack: number, flags: number, data: Bytes = '', fromA = true): Buffer {
  return eth(0x0800, ipv4(src, dst, 6, tcp(sport, dport, seq, ack, flags, data)), fromA ? MAC_A : MAC_B, fromA ? MAC_B : MAC_A);
}

/** An Ethernet + IPv4 + UDP frame. */
export function udpFrame(src: string, dst: string, sport: number, dport: number, data: Bytes, fromA = true): Buffer {
  return eth(0x0800, ipv4(src, dst, 17, udp(sport, dport, data)), fromA ? MAC_A : MAC_B, fromA ? MAC_B : MAC_A);
}

/** One side's message in a conversation. */
export interface Message { fromClient: boolean; data: Bytes }

export interface Endpoints { client: string; server: string; sport: number; dport: number }

/**
 * A whole TCP conversation: handshake, each message in its own segment acknowledged by the
 * peer, then FIN both ways and the last ACK (or a server RST with `end: 'rst'`). Packets are
 * `step` seconds apart from t0.
 */
export function tcpConversation(t0: number, ends: Endpoints, messages: Message[], opts: { end?: 'fin' | 'rst'; step?: number } = {}): Pkt[] {
  const { client, server, sport, dport } = ends;
  let c = 1000, s = 9000;
  const frames: Buffer[] = [];
  const send = (fromClient: boolean, flags: number, data: Buffer = Buffer.alloc(0)): void => {
    frames.push(fromClient
      ? tcpFrame(client, server, sport, dport, c, s, flags, data, true)
      : tcpFrame(server, client, dport, sport, s, c, flags, data, false));
    const used = data.length + ((flags & (S | F)) !== 0 ? 1 : 0);
    if (fromClient) c += used;
    else s += used;
  };
  send(true, S);
  frames.push(tcpFrame(server, client, dport, sport, s, c, S | A, '', false));
  s += 1;
  send(true, A);
  for (const m of messages) {
    send(m.fromClient, P | A, bytes(m.data));
    send(!m.fromClient, A);
  }
  if ((opts.end ?? 'fin') === 'fin') {
    send(true, F | A);
    send(false, F | A);
    send(true, A);
  } else send(false, R | A);
  const step = opts.step ?? 0.01;
  return frames.map((frame, i) => ({ ts: t0 + i * step, frame }));
}

/** UDP datagrams of one client/server pair, `step` seconds apart. */
export function udpExchange(t0: number, ends: Endpoints, messages: Message[], step = 0.01): Pkt[] {
  return messages.map((m, i) => ({
    ts: t0 + i * step,
    frame: m.fromClient
      ? udpFrame(ends.client, ends.server, ends.sport, ends.dport, m.data, true)
      : udpFrame(ends.server, ends.client, ends.dport, ends.sport, m.data, false),
  }));
}

/** A classic pcap file (little-endian µs unless told; link type Ethernet unless told). */
export function pcapFile(pkts: Pkt[], opts: { be?: boolean; nano?: boolean; linkType?: number } = {}): Buffer {
  const be = opts.be ?? false;
  const w32 = (b: Buffer, v: number, at: number): void => { if (be) b.writeUInt32BE(v >>> 0, at); else b.writeUInt32LE(v >>> 0, at); };
  const w16 = (b: Buffer, v: number, at: number): void => { if (be) b.writeUInt16BE(v, at); else b.writeUInt16LE(v, at); };
  const head = Buffer.alloc(24);
  w32(head, opts.nano ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  w16(head, 2, 4);
  w16(head, 4, 6);
  w32(head, 65535, 16);
  w32(head, opts.linkType ?? 1, 20);
  const parts: Buffer[] = [head];
  for (const p of pkts) {
    const rec = Buffer.alloc(16);
    const sec = Math.floor(p.ts);
    w32(rec, sec, 0);
    w32(rec, Math.round((p.ts - sec) * (opts.nano ? 1e9 : 1e6)), 4);
    w32(rec, p.frame.length, 8);
    w32(rec, p.frame.length, 12);
    parts.push(rec, p.frame);
  }
  return Buffer.concat(parts);
}

export function pcapngBlock(type: number, body: Buffer): Buffer {
  const pad = (4 - (body.length % 4)) % 4;
  const total = 12 + body.length + pad;
  const b = Buffer.alloc(total);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(total, 4);
  body.copy(b, 8);
  b.writeUInt32LE(total, total - 4);
  return b;
}

/** pcapng with one IDB per entry of `ifaces` (link type, tsresol exponent) and an unknown block. */
export function pcapngFile(ifaces: { linkType: number; tsresol: number }[], pkts: (Pkt & { iface: number })[]): Buffer {
  const shb = Buffer.alloc(16);
  shb.writeUInt32LE(0x1a2b3c4d, 0);
  shb.writeUInt16LE(1, 4);
  shb.writeInt32LE(-1, 8);
  shb.writeInt32LE(-1, 12);
  const blocks = [pcapngBlock(0x0a0d0d0a, shb)];
  for (const i of ifaces) {
    const idb = Buffer.alloc(8 + 8 + 4);
    idb.writeUInt16LE(i.linkType, 0);
    idb.writeUInt32LE(65535, 4);
    idb.writeUInt16LE(9, 8);
    idb.writeUInt16LE(1, 10);
    idb[12] = i.tsresol;
    blocks.push(pcapngBlock(1, idb));
  }
  blocks.push(pcapngBlock(0x0bad, Buffer.alloc(8)));
  for (const p of pkts) {
    const units = BigInt(Math.round(p.ts * 10 ** ifaces[p.iface]!.tsresol));
    const epb = Buffer.alloc(20);
    epb.writeUInt32LE(p.iface, 0);
    epb.writeUInt32LE(Number(units >> 32n), 4);
    epb.writeUInt32LE(Number(units & 0xffffffffn), 8);
    epb.writeUInt32LE(p.frame.length, 12);
    epb.writeUInt32LE(p.frame.length, 16);
    blocks.push(pcapngBlock(6, Buffer.concat([epb, p.frame])));
  }
  return Buffer.concat(blocks);
}

export interface PcapRun { records: FlowRecord[]; sink: CollectingErrorSink; packets: number }

/** Writes `capture` to a temporary file (removed after the test) and reads it through the pcap input. */
export async function readCapture(t: ExecutionContext, capture: Buffer, zeekLogDir?: string): Promise<PcapRun> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pcap-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'in.pcap');
  fs.writeFileSync(file, capture);
  const sink = new CollectingErrorSink();
  const reader = await openPcapInput(file, sink, zeekLogDir !== undefined ? { zeekLogDir } : {});
  const records: FlowRecord[] = [];
  for await (const batch of reader.batches()) records.push(...batch);
  return { records, sink, packets: reader.linesRead };
}

/** Data lines of a Zeek TSV log as objects keyed by the #fields names. */
export function zeekRows(file: string): Record<string, string>[] {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const fields = lines.find((l) => l.startsWith('#fields'))!.split('\t').slice(1);
  return lines.filter((l) => l !== '' && !l.startsWith('#')).map((l) => {
    const cells = l.split('\t');
    return Object.fromEntries(fields.map((f, i) => [f, cells[i]!]));
  });
}
