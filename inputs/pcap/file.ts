// Streaming reader of capture files: classic pcap (both byte orders, micro- and nanosecond
// magic) and pcapng (sections of either byte order, interfaces with their own link type and
// timestamp resolution, enhanced / simple / obsolete packet blocks; other blocks skipped).
// The file is read in chunks; a packet's bytes are a view into the chunk buffer, valid only
// during the callback. Damage (truncation, impossible lengths) is reported to the ErrorSink
// with the byte offset; reading continues when the framing still makes sense. The bytes come
// from a file or from a stream (a pipe, e.g. tcpdump -w - for live capture): chunks are
// whatever the stream delivered so far.

import fs from 'node:fs';
import type { Readable } from 'node:stream';
import type { ErrorSink } from '../errors.js';

/** Where the capture's bytes come from: reads go forward only, from the start. */
interface ByteSource {
  /** Reads up to `length` bytes into buf at `offset`; 0 only at the end of the input. */
  read(buf: Buffer, offset: number, length: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * A file as a ByteSource. Reads are synchronous: a chunk comes from the page cache in about a
 * millisecond, and an asynchronous read would leave the parser idle meanwhile.
 */
async function fileSource(path: string): Promise<ByteSource> {
  const fd = await new Promise<number>((resolve, reject) => fs.open(path, 'r', (error, opened) => (error ? reject(error) : resolve(opened))));
  return {
    read: (buf, offset, length) => Promise.resolve(fs.readSync(fd, buf, offset, length, null)),
    close: () => new Promise<void>((resolve) => fs.close(fd, () => resolve())),
  };
}

/** A readable stream as a ByteSource: each read waits until bytes arrived or the stream ended. */
function streamSource(stream: Readable): ByteSource {
  const queue: Buffer[] = [];
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  stream.on('data', (chunk: Buffer) => {
    queue.push(chunk);
    // Back-pressure: the reader parses what it has before more is taken in.
    if (queue.length > 64) stream.pause();
    notify();
  });
  stream.once('end', () => { ended = true; notify(); });
  stream.once('close', () => { ended = true; notify(); });
  stream.once('error', (error: Error) => { failure = error; ended = true; notify(); });
  return {
    async read(buf, offset, length) {
      while (queue.length === 0 && !ended) await new Promise<void>((resolve) => { wake = resolve; });
      if (failure !== undefined && queue.length === 0) throw failure;
      let n = 0;
      while (queue.length > 0 && n < length) {
        const head = queue[0]!;
        const take = Math.min(head.length, length - n);
        head.copy(buf, offset + n, 0, take);
        n += take;
        if (take === head.length) queue.shift();
        else queue[0] = head.subarray(take);
      }
      if (queue.length <= 16 && stream.isPaused()) stream.resume();
      return n;
    },
    close: async () => {
      stream.destroy();
    },
  };
}

/** One captured packet; a reused object, valid only inside the callback. */
export interface RawPacket {
  /** Capture time, unix seconds. */
  ts: number;
  /** LINKTYPE_* of the interface the packet was captured on. */
  linkType: number;
  /** The captured bytes (a view into the reader's buffer). */
  data: Buffer;
  /** Length of the packet on the wire (may exceed data.length when snaplen cut it). */
  wireLen: number;
  /** pcapng interface index (0 for classic pcap). */
  iface: number;
  /** Byte offset of the packet's record in the file. */
  offset: number;
}

interface Interface {
  linkType: number;
  /** Timestamp units per second. */
  unitsPerSecond: number;
  snapLen: number;
}

const CHUNK_BYTES = 4 * 1024 * 1024;
/** libpcap's largest accepted snapshot length; larger record lengths are garbage. */
const MAX_CAPLEN = 262144;
/** pcapng blocks larger than this are taken as garbage. */
const MAX_BLOCK = 64 * 1024 * 1024;

const PCAP_MICRO = 0xa1b2c3d4;
const PCAP_NANO = 0xa1b23c4d;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BOM = 0x1a2b3c4d;

/** Thrown when the file is not a capture file at all (wrong magic). */
export class CaptureFormatError extends Error {}

export class CaptureFile {
  /** Packets read so far. */
  packets = 0;
  private buf: Buffer = Buffer.alloc(CHUNK_BYTES);
  /** Valid bytes are buf[start, end). */
  private start = 0;
  private end = 0;
  /** File offset of buf[0]. */
  private base = 0;
  private eof = false;
  private broken = false;
  private readonly pkt: RawPacket = { ts: 0, linkType: 0, data: Buffer.alloc(0), wireLen: 0, iface: 0, offset: 0 };
  // classic pcap
  private le = true;
  private pcapUnits = 1e6;
  private pcapLinkType = 1;
  private pcapSnapLen = MAX_CAPLEN;
  // pcapng
  private interfaces: Interface[] = [];

  format: 'pcap' | 'pcapng' = 'pcap';

  private constructor(
    private readonly source: ByteSource,
    readonly path: string,
    readonly sink: ErrorSink,
  ) {}

  /** Opens `path` and checks its magic; throws CaptureFormatError for anything else. */
  static async open(path: string, sink: ErrorSink): Promise<CaptureFile> {
    return CaptureFile.start(await fileSource(path), path, sink);
  }

  /** Reads a capture from a stream (named `name` in messages); waits for its first bytes. */
  static async fromStream(stream: Readable, name: string, sink: ErrorSink): Promise<CaptureFile> {
    return CaptureFile.start(streamSource(stream), name, sink);
  }

  /** Reads until the magic is in the buffer and takes the format from it. */
  private static async start(source: ByteSource, path: string, sink: ErrorSink): Promise<CaptureFile> {
    const file = new CaptureFile(source, path, sink);
    try {
      while (file.end < 4 && (await file.fill()));
      const be = file.end >= 4 ? file.buf.readUInt32BE(0) : 0;
      const le = file.end >= 4 ? file.buf.readUInt32LE(0) : 0;
      if (be === PCAPNG_SHB) file.format = 'pcapng';
      else if (le === PCAP_MICRO || le === PCAP_NANO) file.le = true;
      else if (be === PCAP_MICRO || be === PCAP_NANO) file.le = false;
      else throw new CaptureFormatError(`${path}: not a pcap or pcapng file (magic 0x${be.toString(16).padStart(8, '0')})`);
      file.pcapUnits = (file.le ? le : be) === PCAP_NANO ? 1e9 : 1e6;
      return file;
    } catch (error) {
      await source.close();
      throw error;
    }
  }

  async close(): Promise<void> {
    await this.source.close();
  }

  private problem(offset: number, message: string): void {
    this.sink.badInput({ file: this.path, offset, message });
  }

  /**
   * Reads the next chunk. Returns false once the file is exhausted (a trailing partial record
   * is then reported as truncated).
   */
  async fill(): Promise<boolean> {
    if (this.eof || this.broken) return false;
    // Keep the unparsed tail at the front of the buffer.
    const left = this.end - this.start;
    if (this.start > 0) {
      this.buf.copy(this.buf, 0, this.start, this.end);
      this.base += this.start;
      this.start = 0;
      this.end = left;
    }
    if (this.end === this.buf.length) {
      const bigger = Buffer.alloc(this.buf.length * 2);
      this.buf.copy(bigger, 0, 0, this.end);
      this.buf = bigger;
    }
    const bytesRead = await this.source.read(this.buf, this.end, this.buf.length - this.end);
    this.end += bytesRead;
    if (bytesRead === 0) {
      this.eof = true;
      if (this.end > this.start) {
        this.problem(this.base + this.start, `truncated file: last record incomplete (${this.end - this.start} bytes left)`);
      }
      return false;
    }
    return true;
  }

  /** Parses every complete record in the buffer, calling onPacket for each packet. */
  parse(onPacket: (pkt: RawPacket) => void): void {
    if (this.broken) return;
    if (this.format === 'pcap') this.parsePcap(onPacket);
    else this.parsePcapng(onPacket);
  }

  // Reads of bytes known to be in the buffer, without Buffer's per-call argument checks.
  private u32(at: number, le: boolean): number {
    const b = this.buf;
    return le
      ? (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)) + b[at + 3]! * 0x1000000
      : b[at]! * 0x1000000 + ((b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!);
  }

  private u16(at: number, le: boolean): number {
    const b = this.buf;
    return le ? b[at]! | (b[at + 1]! << 8) : (b[at]! << 8) | b[at + 1]!;
  }

  private parsePcap(onPacket: (pkt: RawPacket) => void): void {
    const le = this.le;
    if (this.base === 0 && this.start === 0) {
      if (this.end < 24) {
        if (this.eof) this.broken = true;
        return;
      }
      this.pcapSnapLen = this.u32(16, le) || MAX_CAPLEN;
      this.pcapLinkType = this.u32(20, le) & 0xffff;
      this.start = 24;
    }
    const pkt = this.pkt;
    while (this.end - this.start >= 16) {
      const at = this.start;
      const capLen = this.u32(at + 8, le);
      const wireLen = this.u32(at + 12, le);
      if (capLen > MAX_CAPLEN && capLen > this.pcapSnapLen) {
        this.problem(this.base + at, `record length ${capLen} is larger than any snapshot length: file damaged, reading stops`);
        this.broken = true;
        return;
      }
      if (this.end - at < 16 + capLen) return;
      if (capLen > this.pcapSnapLen) this.problem(this.base + at, `record length ${capLen} exceeds the snapshot length ${this.pcapSnapLen}`);
      pkt.ts = this.u32(at, le) + this.u32(at + 4, le) / this.pcapUnits;
      pkt.linkType = this.pcapLinkType;
      pkt.data = this.buf.subarray(at + 16, at + 16 + capLen);
      pkt.wireLen = wireLen;
      pkt.iface = 0;
      pkt.offset = this.base + at;
      this.start = at + 16 + capLen;
      this.packets += 1;
      onPacket(pkt);
    }
  }

  private parsePcapng(onPacket: (pkt: RawPacket) => void): void {
    const pkt = this.pkt;
    while (this.end - this.start >= 12) {
      const at = this.start;
      const type = this.u32(at, this.le);
      if (type === PCAPNG_SHB) {
        // Byte order of the section comes from its byte-order magic.
        const bom = this.buf.readUInt32LE(at + 8);
        if (bom === PCAPNG_BOM) this.le = true;
        else if (this.buf.readUInt32BE(at + 8) === PCAPNG_BOM) this.le = false;
        else {
          this.problem(this.base + at, 'section header with an unknown byte-order magic: reading stops');
          this.broken = true;
          return;
        }
      }
      const total = this.u32(at + 4, this.le);
      if (total < 12 || total % 4 !== 0 || total > MAX_BLOCK) {
        this.problem(this.base + at, `block of type 0x${type.toString(16)} has an impossible length ${total}: reading stops`);
        this.broken = true;
        return;
      }
      if (this.end - at < total) return;
      this.start = at + total;
      if (this.u32(at + total - 4, this.le) !== total) {
        this.problem(this.base + at, `block of type 0x${type.toString(16)}: trailing length differs from the leading one`);
      }
      switch (type) {
        case PCAPNG_SHB:
          this.interfaces = [];
          break;
        case 1:
          this.interfaces.push(this.readInterface(at, total));
          break;
        case 6:
        case 2:
        case 3: {
          if (!this.readPacketBlock(type, at, total)) continue;
          this.packets += 1;
          onPacket(pkt);
          break;
        }
        default:
          break;
      }
    }
  }

  private readInterface(at: number, total: number): Interface {
    const le = this.le;
    const iface: Interface = { linkType: this.u16(at + 8, le), unitsPerSecond: 1e6, snapLen: this.u32(at + 12, le) || MAX_CAPLEN };
    let opt = at + 16;
    const stop = at + total - 4;
    while (opt + 4 <= stop) {
      const code = this.u16(opt, le);
      const len = this.u16(opt + 2, le);
      if (code === 0) break;
      if (code === 9 && len >= 1) {
        const v = this.buf[opt + 4]!;
        iface.unitsPerSecond = v & 0x80 ? 2 ** (v & 0x7f) : 10 ** v;
      }
      opt += 4 + ((len + 3) & ~3);
    }
    return iface;
  }

  /** Fills this.pkt from an EPB (6), obsolete PB (2) or SPB (3); false when it is unusable. */
  private readPacketBlock(type: number, at: number, total: number): boolean {
    const le = this.le;
    const pkt = this.pkt;
    let ifIndex = 0;
    let dataAt: number;
    let capLen: number;
    let wireLen: number;
    let tsHigh = 0;
    let tsLow = 0;
    if (type === 3) {
      wireLen = this.u32(at + 8, le);
      dataAt = at + 12;
      capLen = Math.min(wireLen, total - 16, this.interfaces[0]?.snapLen ?? MAX_CAPLEN);
    } else {
      ifIndex = type === 6 ? this.u32(at + 8, le) : this.u16(at + 8, le);
      tsHigh = this.u32(at + 12, le);
      tsLow = this.u32(at + 16, le);
      capLen = this.u32(at + 20, le);
      wireLen = this.u32(at + 24, le);
      dataAt = at + 28;
    }
    const iface = this.interfaces[ifIndex];
    if (iface === undefined) {
      this.problem(this.base + at, `packet block for undeclared interface ${ifIndex}: skipped`);
      return false;
    }
    if (dataAt + capLen > at + total - 4) {
      this.problem(this.base + at, `packet block: captured length ${capLen} overruns the block: skipped`);
      return false;
    }
    if (capLen > iface.snapLen) this.problem(this.base + at, `captured length ${capLen} exceeds the snapshot length ${iface.snapLen}`);
    // A simple packet block has no timestamp: it keeps the previous packet's time.
    if (type !== 3) pkt.ts = (tsHigh * 4294967296 + tsLow) / iface.unitsPerSecond;
    pkt.linkType = iface.linkType;
    pkt.data = this.buf.subarray(dataAt, dataAt + capLen);
    pkt.wireLen = wireLen;
    pkt.iface = ifIndex;
    pkt.offset = this.base + at;
    return true;
  }
}
