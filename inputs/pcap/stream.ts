// In-order byte stream of one TCP direction, rebuilt from segments seen in capture order, for the
// analyzers that parse a byte stream (HTTP, TLS, SMTP, DNS over TCP). Bytes are delivered as soon
// as they are contiguous; retransmitted overlap is trimmed; segments ahead of a hole wait (copied)
// until the hole is filled. When more than `maxPending` bytes wait, or at `flush()` (connection
// end), the hole is given up: its size is passed to `onGap` and delivery resumes after it, as
// Zeek's reassembler reports a content gap.

/** A shared empty buffer (zero length: nothing in it can change). */
export const NO_BYTES: Buffer = Buffer.alloc(0);

/** Bytes waiting beyond a hole before it is given up (Zeek buffers more; a capture rarely needs it). */
const DEFAULT_MAX_PENDING = 256 * 1024;

interface Segment {
  seq: number;
  data: Buffer;
}

/** The empty pending list streams share until they hold a segment (never changed). */
const NO_SEGMENTS: Segment[] = [];

export interface TcpStreamHandlers {
  /** Contiguous bytes, in order (valid only during the call). */
  data(bytes: Buffer): void;
  /** A hole of `bytes` that will never be filled; the next data continues after it. */
  gap?(bytes: number): void;
}

export class TcpStream {
  /** Relative sequence number of the next byte to deliver (undefined before the first segment). */
  private next: number | undefined;
  /** Segments waiting behind a hole, by seq (the shared empty list until the first one). */
  private pending: Segment[] = NO_SEGMENTS;
  private pendingBytes = 0;
  /** Bytes delivered so far. */
  delivered = 0;

  /**
   * @param start relative sequence number of the first byte (1 after a SYN), or undefined to start
   *   at the first segment seen (a connection picked up in the middle).
   */
  constructor(private readonly handlers: TcpStreamHandlers, start?: number, private readonly maxPending = DEFAULT_MAX_PENDING) {
    this.next = start;
  }

  /** A segment's payload at relative sequence number `seq`. */
  push(seq: number, bytes: Buffer): void {
    if (bytes.length === 0) return;
    if (this.next === undefined) this.next = seq;
    const end = seq + bytes.length;
    if (end <= this.next) return;
    if (seq <= this.next) {
      this.deliver(seq === this.next ? bytes : bytes.subarray(this.next - seq), end);
      this.drain();
      return;
    }
    let i = this.pending.length;
    while (i > 0 && this.pending[i - 1]!.seq > seq) i--;
    if (this.pending === NO_SEGMENTS) this.pending = [];
    this.pending.splice(i, 0, { seq, data: Buffer.from(bytes) });
    this.pendingBytes += bytes.length;
    while (this.pendingBytes > this.maxPending && this.pending.length > 0) this.skipHole();
  }

  /** Gives up every remaining hole and delivers all waiting bytes (at connection end). */
  flush(): void {
    while (this.pending.length > 0) this.skipHole();
  }

  private deliver(bytes: Buffer, end: number): void {
    this.next = end;
    this.delivered += bytes.length;
    this.handlers.data(bytes);
  }

  /** Delivers waiting segments that became contiguous. */
  private drain(): void {
    while (this.pending.length > 0) {
      const first = this.pending[0]!;
      if (first.seq > this.next!) return;
      this.pending.shift();
      this.pendingBytes -= first.data.length;
      const end = first.seq + first.data.length;
      if (end > this.next!) this.deliver(first.data.subarray(this.next! - first.seq), end);
    }
  }

  private skipHole(): void {
    const first = this.pending[0]!;
    if (first.seq > this.next!) {
      this.handlers.gap?.(first.seq - this.next!);
      this.next = first.seq;
    }
    this.drain();
  }
}
