// Generator of a large synthetic capture for the pcap benchmark (bench/pcapBench.ts): a
// deterministic (seeded) mix of what a small network sends, written as a classic pcap file:
//   - TCP sessions (handshake, request/response segments acknowledged, FIN both ways) with
//     HTTP (requests, multi-segment responses), TLS (ClientHello, ServerHello, encrypted
//     records) and SSH (banners, then binary packets) payloads, some ended by RST;
//   - DNS queries and answers over UDP;
//   - vertical and horizontal scans (SYNs answered by RST or unanswered);
// from ~2,000 local hosts to ~20,000 remote ones, sessions interleaved over time.
//
//   node dist/bench/pcapGenerate.js --out FILE [--size-mb N] [--seed N]

import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { Rng } from './rng.js';

const SNAPLEN = 65535;
const MSS = 1448;

/** Writes pcap records into a large buffer, flushed to the file when full. */
class PcapWriter {
  private readonly buf = Buffer.alloc(8 * 1024 * 1024);
  private at = 0;
  written = 0;
  packets = 0;

  constructor(private readonly fd: number) {
    const head = Buffer.alloc(24);
    head.writeUInt32LE(0xa1b2c3d4, 0);
    head.writeUInt16LE(2, 4);
    head.writeUInt16LE(4, 6);
    head.writeUInt32LE(SNAPLEN, 16);
    head.writeUInt32LE(1, 20);
    fs.writeSync(fd, head);
    this.written = 24;
  }

  /** Reserves a record of `len` frame bytes at time ts; returns the frame's offset in buf(). */
  record(ts: number, len: number): number {
    if (this.at + 16 + len > this.buf.length) this.flush();
    const b = this.buf;
    const sec = Math.floor(ts);
    b.writeUInt32LE(sec, this.at);
    b.writeUInt32LE(Math.floor((ts - sec) * 1e6), this.at + 4);
    b.writeUInt32LE(len, this.at + 8);
    b.writeUInt32LE(len, this.at + 12);
    const off = this.at + 16;
    this.at = off + len;
    this.written += 16 + len;
    this.packets += 1;
    return off;
  }

  get bytes(): Buffer {
    return this.buf;
  }

  flush(): void {
    if (this.at > 0) fs.writeSync(this.fd, this.buf, 0, this.at);
    this.at = 0;
  }
}

interface Flow {
  client: number;
  server: number;
  sport: number;
  dport: number;
  /** Next sequence numbers of each side. */
  cseq: number;
  sseq: number;
}

const TH_FIN = 0x01, TH_SYN = 0x02, TH_RST = 0x04, TH_PSH = 0x08, TH_ACK = 0x10;

/** An Ethernet + IPv4 + TCP/UDP frame written in place. */
class FrameBuilder {
  private ipId = 1;

  constructor(private readonly out: PcapWriter, private readonly rng: Rng) {}

  private header(off: number, src: number, dst: number, proto: number, l4len: number): number {
    const b = this.out.bytes;
    // Ethernet: MACs derived from the addresses.
    b.writeUInt16BE(0x0200, off); b.writeUInt32BE(dst >>> 0, off + 2);
    b.writeUInt16BE(0x0200, off + 6); b.writeUInt32BE(src >>> 0, off + 8);
    b.writeUInt16BE(0x0800, off + 12);
    const ip = off + 14;
    b[ip] = 0x45; b[ip + 1] = 0;
    b.writeUInt16BE(20 + l4len, ip + 2);
    b.writeUInt16BE(this.ipId++ & 0xffff, ip + 4);
    b.writeUInt16BE(0x4000, ip + 6);
    b[ip + 8] = 64; b[ip + 9] = proto;
    b.writeUInt16BE(0, ip + 10);
    b.writeUInt32BE(src >>> 0, ip + 12);
    b.writeUInt32BE(dst >>> 0, ip + 16);
    return ip + 20;
  }

  tcp(ts: number, src: number, dst: number, sport: number, dport: number, seq: number, ack: number, flags: number, payload: Buffer | number): void {
    const plen = typeof payload === 'number' ? payload : payload.length;
    const off = this.out.record(ts, 14 + 20 + 20 + plen);
    const t = this.header(off, src, dst, 6, 20 + plen);
    const b = this.out.bytes;
    b.writeUInt16BE(sport, t); b.writeUInt16BE(dport, t + 2);
    b.writeUInt32BE(seq >>> 0, t + 4); b.writeUInt32BE(ack >>> 0, t + 8);
    b[t + 12] = 0x50; b[t + 13] = flags;
    b.writeUInt16BE(65535, t + 14); b.writeUInt32BE(0, t + 16);
    if (typeof payload === 'number') {
      // Encrypted-looking bytes: a cheap pattern that changes per packet.
      const x = this.rng.u32();
      let i = 0;
      for (; i + 4 <= plen; i += 4) b.writeUInt32LE(Math.imul(x, i + 1) >>> 0, t + 20 + i);
      for (; i < plen; i++) b[t + 20 + i] = x & 0xff;
    } else payload.copy(b, t + 20);
  }

  udp(ts: number, src: number, dst: number, sport: number, dport: number, payload: Buffer): void {
    const off = this.out.record(ts, 14 + 20 + 8 + payload.length);
    const u = this.header(off, src, dst, 17, 8 + payload.length);
    const b = this.out.bytes;
    b.writeUInt16BE(sport, u); b.writeUInt16BE(dport, u + 2);
    b.writeUInt16BE(8 + payload.length, u + 4); b.writeUInt16BE(0, u + 6);
    payload.copy(b, u + 8);
  }
}

const LOCAL_BASE = (10 << 24) | (1 << 16);
const REMOTE_BASE = (93 << 24) | (184 << 16);
const NAMES = ['example.org', 'cdn.example.net', 'mail.example.com', 'api.service.io', 'update.vendor.com', 'static.news.org'];
const AGENTS = ['Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/120.0', 'curl/8.4.0', 'python-requests/2.31.0'];
const SSH_SERVERS = ['SSH-2.0-OpenSSH_9.3p1 Debian-1', 'SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.4', 'SSH-2.0-dropbear_2022.83'];

function dnsMessage(id: number, name: string, answer: number | undefined): Buffer {
  const labels = Buffer.concat([...name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
  const head = Buffer.alloc(12);
  head.writeUInt16BE(id, 0);
  head.writeUInt16BE(answer === undefined ? 0x0100 : 0x8180, 2);
  head.writeUInt16BE(1, 4);
  head.writeUInt16BE(answer === undefined ? 0 : 1, 6);
  const question = Buffer.concat([labels, Buffer.from([0, 1, 0, 1])]);
  if (answer === undefined) return Buffer.concat([head, question]);
  const rr = Buffer.alloc(16);
  rr.writeUInt16BE(0xc00c, 0); rr.writeUInt16BE(1, 2); rr.writeUInt16BE(1, 4); rr.writeUInt32BE(300, 6); rr.writeUInt16BE(4, 10);
  rr.writeUInt32BE(answer >>> 0, 12);
  return Buffer.concat([head, question, rr]);
}

function tlsClientHello(rng: Rng, sni: string): Buffer {
  const ext = Buffer.concat([Buffer.from([0, 0, 0, sni.length + 5, 0, sni.length + 3, 0, 0, sni.length]), Buffer.from(sni)]);
  const body = Buffer.concat([Buffer.from([0x03, 0x03]), Buffer.from(Array.from({ length: 32 }, () => rng.below(256))), Buffer.from([0, 0, 4, 0x13, 0x01, 0xc0, 0x2f, 1, 0]),
    Buffer.from([ext.length >> 8, ext.length & 0xff]), ext]);
  const hs = Buffer.concat([Buffer.from([1, 0, body.length >> 8, body.length & 0xff]), body]);
  return Buffer.concat([Buffer.from([0x16, 0x03, 0x01, hs.length >> 8, hs.length & 0xff]), hs]);
}

function tlsServerHello(rng: Rng): Buffer {
  const body = Buffer.concat([Buffer.from([0x03, 0x03]), Buffer.from(Array.from({ length: 32 }, () => rng.below(256))), Buffer.from([0, 0xc0, 0x2f, 0, 0, 0])]);
  const hs = Buffer.concat([Buffer.from([2, 0, body.length >> 8, body.length & 0xff]), body]);
  return Buffer.concat([Buffer.from([0x16, 0x03, 0x03, hs.length >> 8, hs.length & 0xff]), hs]);
}

/** Generates about `sizeBytes` of capture into `out`; returns packets and bytes written. */
export function generatePcap(out: string, sizeBytes: number, seed: number): { packets: number; bytes: number } {
  const rng = new Rng(seed, 0x9cab);
  const fd = fs.openSync(out, 'w');
  const writer = new PcapWriter(fd);
  const frames = new FrameBuilder(writer, rng);
  let ts = 1_700_000_000;
  const local = (): number => LOCAL_BASE + 1 + rng.below(2000);
  const remote = (): number => REMOTE_BASE + rng.below(20000);
  try {
    while (writer.written < sizeBytes) {
      ts += rng.float() * 0.002;
      const kind = rng.below(100);
      const f: Flow = { client: local(), server: remote(), sport: 1024 + rng.below(60000), dport: 80, cseq: rng.u32(), sseq: rng.u32() };
      const step = (): number => (ts += 0.0001 + rng.float() * 0.0005);
      const send = (fromClient: boolean, flags: number, payload: Buffer | number): void => {
        const len = typeof payload === 'number' ? payload : payload.length;
        if (fromClient) {
          frames.tcp(step(), f.client, f.server, f.sport, f.dport, f.cseq, f.sseq, flags, payload);
          f.cseq += len + ((flags & (TH_SYN | TH_FIN)) !== 0 ? 1 : 0);
        } else {
          frames.tcp(step(), f.server, f.client, f.dport, f.sport, f.sseq, f.cseq, flags, payload);
          f.sseq += len + ((flags & (TH_SYN | TH_FIN)) !== 0 ? 1 : 0);
        }
      };
      const open = (): void => {
        send(true, TH_SYN, 0);
        send(false, TH_SYN | TH_ACK, 0);
        send(true, TH_ACK, 0);
      };
      const close = (): void => {
        if (rng.chance(0.1)) {
          send(false, TH_RST | TH_ACK, 0);
          return;
        }
        send(true, TH_FIN | TH_ACK, 0);
        send(false, TH_FIN | TH_ACK, 0);
        send(true, TH_ACK, 0);
      };
      /** A message of `total` bytes in MSS segments, acknowledged every two segments. */
      const bulk = (fromClient: boolean, first: Buffer, total: number): void => {
        send(fromClient, TH_PSH | TH_ACK, first);
        let left = total - first.length;
        let n = 0;
        while (left > 0) {
          const len = Math.min(MSS, left);
          send(fromClient, TH_ACK, len);
          left -= len;
          if (++n % 2 === 0) send(!fromClient, TH_ACK, 0);
        }
        send(!fromClient, TH_ACK, 0);
      };
      if (kind < 35) { // HTTP
        f.dport = rng.chance(0.8) ? 80 : 8080;
        open();
        const host = rng.pick(NAMES);
        for (let r = rng.int(1, 3); r > 0; r--) {
          bulk(true, Buffer.from(`GET /${rng.u32().toString(36)}/index.html HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: ${rng.pick(AGENTS)}\r\nAccept: */*\r\n\r\n`), 0);
          const size = Math.floor(rng.logNormal(6000, 1.5));
          bulk(false, Buffer.from(`HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html\r\nContent-Length: ${size}\r\n\r\n`), size);
        }
        close();
      } else if (kind < 65) { // TLS
        f.dport = 443;
        open();
        bulk(true, tlsClientHello(rng, rng.pick(NAMES)), 0);
        bulk(false, tlsServerHello(rng), 3000 + rng.below(2000));
        for (let r = rng.int(1, 4); r > 0; r--) {
          bulk(true, Buffer.from([0x17, 0x03, 0x03, 0x01, 0x00]), 261);
          bulk(false, Buffer.from([0x17, 0x03, 0x03, 0x40, 0x00]), Math.floor(rng.logNormal(8000, 1.3)));
        }
        close();
      } else if (kind < 70) { // SSH
        f.dport = 22;
        open();
        bulk(false, Buffer.from(`${rng.pick(SSH_SERVERS)}\r\n`), 0);
        bulk(true, Buffer.from('SSH-2.0-OpenSSH_9.6\r\n'), 0);
        for (let r = rng.int(3, 12); r > 0; r--) {
          bulk(true, Buffer.from([0, 0, 0, 0x2c]), 48);
          bulk(false, Buffer.from([0, 0, 0, 0x5c]), 96 + rng.below(1200));
        }
        close();
      } else if (kind < 93) { // DNS
        const id = rng.below(65536);
        const name = rng.pick(NAMES);
        const sport = 1024 + rng.below(60000);
        const resolver = LOCAL_BASE + 53;
        frames.udp(step(), f.client, resolver, sport, 53, dnsMessage(id, name, undefined));
        if (rng.chance(0.95)) frames.udp(step(), resolver, f.client, 53, sport, dnsMessage(id, name, remote()));
      } else { // scans: one host many ports (RST) or many hosts one port (no answer)
        const vertical = rng.chance(0.5);
        const port = rng.pick([22, 23, 445, 3389, 8080]);
        for (let i = 0; i < 50; i++) {
          f.dport = vertical ? 1 + rng.below(10000) : port;
          if (!vertical) f.server = remote();
          f.sport = 40000 + i;
          send(true, TH_SYN, 0);
          if (vertical) send(false, TH_RST | TH_ACK, 0);
        }
      }
    }
    writer.flush();
  } finally {
    fs.closeSync(fd);
  }
  return { packets: writer.packets, bytes: writer.written };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string' }, 'size-mb': { type: 'string', default: '1024' }, seed: { type: 'string', default: '42' } } });
  if (values.out === undefined) {
    console.error('usage: node dist/bench/pcapGenerate.js --out FILE [--size-mb N] [--seed N]');
    process.exit(2);
  }
  const started = Date.now();
  const { packets, bytes } = generatePcap(values.out, Number(values['size-mb']) * 1024 * 1024, Number(values.seed));
  console.log(`pcapGenerate: ${packets} packets, ${(bytes / 1048576).toFixed(0)} MB in ${((Date.now() - started) / 1000).toFixed(1)} s -> ${values.out}`);
}

if (process.argv[1] !== undefined && import.meta.url === `file://${process.argv[1]}`) await main();
