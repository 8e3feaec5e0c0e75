// The pcap / pcapng input: packets are read in chunks, decoded, fed to the connection tracker
// and its protocol analyzers (inputs/pcap/analyzers.ts) and turned into the records Zeek would
// log (conn, arp, tunnel and the analyzers' records), optionally also written as Zeek logs.
// Tunnels (inputs/pcap/tunnel.ts): a packet that came through IP tunnels is tracked with
// their encapsulation; a UDP datagram that opens as a tunnel is tracked itself and then its
// inner packet is decoded and tracked in turn, one level deeper.
//
// Ordering rule: an ARP record is ready when its packet is read, an analyzer's record when the
// analyzer emits it (e.g. a software record when its banner is complete, an ssh record when the
// connection ends); a conn record (ts = connection start) when the connection ends. Records wait in a reorder heap and are released in ts
// order once their ts is not after the release point = min(start of the oldest live
// connection, current packet time). So that long connections cannot hold everything, the
// release point is never older than MAX_HOLD seconds before the current packet time, and at
// most MAX_HELD records wait; a connection longer than that comes out late (out of order).
// Live capture (inputs/pcap/live.ts) releases records as soon as they are ready, and when no
// packet arrived for IDLE_TICK_MS, network time follows the wall clock so that the timers of
// idle connections still end them.

import type { ErrorSink } from '../errors.js';
import type { FlowReader } from '../reader.js';
import type { ArpRecord, ConnRecord, FlowRecord, PayloadMatchRecord } from '../records.js';
import { type AnalyzerOutput, AnalyzerSet } from './analyzer.js';
import { createAnalyzers } from './analyzers.js';
import { arpRecord } from './arp.js';
import { transportChecksumValid } from './checksum.js';
import { ConnTracker, type FinishedConn, type TrackedConn } from './conntrack.js';
import { Decoder, KIND_ARP, KIND_IP, PROTO_UDP } from './decode.js';
import { CaptureFile, type RawPacket } from './file.js';
import { findLocationLeak, type PayloadMatch } from './leak.js';
import { TimeHeap } from './timeHeap.js';
import { type EncapLayer, Tunnels } from './tunnel.js';
import { ARP_LOG, arpRow, CONN_LOG, connRow, ZeekLogWriter } from './zeekLog.js';

const NO_TUNNELS: readonly EncapLayer[] = [];

/** Longest time (seconds of packet time) a record waits for older connection records. */
const MAX_HOLD = 300;
/** Most records waiting in the reorder heap. */
const MAX_HELD = 200_000;
/** Live capture: wait this long for packets before moving network time to the wall clock. */
const IDLE_TICK_MS = 500;
/** Live capture: network time follows the wall clock this far behind (packets still in flight). */
const LIVE_LAG_SECONDS = 0.5;

export interface PcapInputOptions {
  /** Also write conn.log, arp.log and the analyzers' logs (Zeek TSV) into this directory. */
  zeekLogDir?: string;
  /** Interface name for the records ('default' when not given). */
  interfaceName?: string;
  /** The capture is live (see the header comment). */
  live?: boolean;
  /** Drop packets with a bad TCP/UDP checksum, as Zeek without -C (Slips runs Zeek with -C). */
  verifyChecksums?: boolean;
}


/** A payload match as a record, sender to receiver (the packet's direction), at the packet's time. */
function payloadMatchRecord(conn: TrackedConn, isOrig: boolean, match: PayloadMatch): PayloadMatchRecord {
  const proto = conn.ipProto === 17 ? 'udp' : 'tcp';
  return {
    kind: 'payload_match',
    ts: conn.lastTime,
    uid: conn.uid,
    saddr: isOrig ? conn.origH : conn.respH,
    daddr: isOrig ? conn.respH : conn.origH,
    interface: conn.iface,
    source: 'pcap',
    sport: isOrig ? conn.origP : conn.respP,
    dport: isOrig ? conn.respP : conn.origP,
    proto,
    rule: match.rule,
    matched: match.matched,
  };
}

function connRecord(f: FinishedConn): ConnRecord {
  const c = f.conn;
  return {
    kind: 'conn',
    ts: c.ts,
    // connFields(c), written out: a spread of it costs an object and a slow copy per connection.
    uid: c.uid,
    saddr: c.origH,
    daddr: c.respH,
    interface: c.iface,
    source: 'pcap',
    sport: c.origP,
    dport: c.respP,
    proto: f.proto,
    appproto: c.service,
    dur: f.duration ?? 0,
    sbytes: f.duration !== undefined ? f.origBytes : 0,
    dbytes: f.duration !== undefined ? f.respBytes : 0,
    spkts: c.orig.pkts,
    dpkts: c.resp.pkts,
    state: f.state,
    history: c.history,
    smac: c.smac,
    dmac: c.dmac,
    dir: '->',
  };
}

export class PcapInput implements FlowReader {
  readonly inputType: string;
  readonly totalLines = undefined;
  private stopped = false;
  /** Records waiting for their turn, by ts (ties in arrival order). */
  private readonly held = new TimeHeap<FlowRecord>();
  private readonly decoder = new Decoder();
  private readonly tracker: ConnTracker;
  private readonly tunnels: Tunnels;
  private readonly logs: ZeekLogWriter | undefined;
  private readonly iface: string;
  private readonly live: boolean;
  private readonly verifyChecksums: boolean;
  /** Packets dropped for a bad transport checksum (verifyChecksums). */
  private badChecksums = 0;

  constructor(private readonly file: CaptureFile, options: PcapInputOptions) {
    this.iface = options.interfaceName ?? 'default';
    this.live = options.live === true;
    this.verifyChecksums = options.verifyChecksums === true;
    this.inputType = this.live ? 'interface' : 'pcap';
    this.logs = options.zeekLogDir !== undefined ? new ZeekLogWriter(options.zeekLogDir) : undefined;
    const output: AnalyzerOutput = {
      record: (record) => this.hold(record),
      log: (spec, values) => this.logs?.write(spec, values),
      logging: this.logs !== undefined,
    };
    const analyzers = new AnalyzerSet(createAnalyzers(output));
    this.tracker = new ConnTracker({
      interfaceName: this.iface,
      live: this.live,
      onEncap: (_conn, encap) => this.tunnels.register(encap, this.tracker.now),
      onPayload: (conn, isOrig, seq, payload) => {
        analyzers.payload(conn, isOrig, seq, payload);
        const leak = findLocationLeak(payload);
        if (leak !== undefined) this.hold(payloadMatchRecord(conn, isOrig, leak));
      },
      onConn: (finished) => {
        analyzers.finish(finished);
        this.tunnels.closed(finished.conn, this.tracker.now);
        this.logs?.write(CONN_LOG, connRow(finished));
        this.hold(connRecord(finished));
      },
    });
    this.tunnels = new Tunnels(() => this.tracker.newUid(), output, this.iface);
  }

  private hold(record: FlowRecord): void {
    this.held.push(record.ts, record);
  }

  get linesRead(): number {
    return this.file.packets;
  }

  stop(): void {
    this.stopped = true;
  }

  private readonly onPacket = (pkt: RawPacket): void => {
    if (this.decoder.decode(pkt.data, pkt.linkType, pkt.ts)) this.track(pkt.ts, NO_TUNNELS);
  };

  /** Tracks the packet in the decoder's output, which came through the UDP tunnels `outer`. */
  private track(ts: number, outer: readonly EncapLayer[]): void {
    const d = this.decoder.out;
    const encap = d.ipTunnels.length === 0 ? outer : outer.concat(this.tunnels.ipLayers(d.ipTunnels, ts));
    if (d.kind === KIND_IP) {
      if (this.verifyChecksums && !transportChecksumValid(d)) {
        this.badChecksums += 1;
        return;
      }
      const conn = this.tracker.packet(d, ts, encap);
      if (conn === undefined || d.proto !== PROTO_UDP) return;
      const inner = this.tunnels.udpInner(conn, this.tracker.lastIsOrig, d, encap.length);
      if (inner !== undefined && this.decoder.decode(inner.data, inner.linkType, ts)) this.track(ts, encap.concat(inner.layer));
    } else if (d.kind === KIND_ARP) {
      this.tracker.advance(ts);
      const record: ArpRecord | undefined = arpRecord(d, ts, this.iface);
      if (record !== undefined) {
        this.logs?.write(ARP_LOG, arpRow(record));
        this.hold(record);
      }
    }
  }

  /** Records whose turn has come (all of them when `all`). */
  private release(all: boolean): FlowRecord[] {
    const out: FlowRecord[] = [];
    const now = this.tracker.now;
    let point = all ? Infinity : Math.min(this.tracker.oldestLiveStart(), now);
    if (point < now - MAX_HOLD) point = now - MAX_HOLD;
    while (this.held.size > 0 && (this.held.peekTime() <= point || this.held.size > MAX_HELD)) out.push(this.held.pop());
    return out;
  }

  /** The next fill() outcome; live, 'idle' when no bytes came for IDLE_TICK_MS. */
  private async next(pending: Promise<boolean>): Promise<boolean | 'idle'> {
    if (!this.live) return pending;
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<'idle'>((resolve) => { timer = setTimeout(() => resolve('idle'), IDLE_TICK_MS); });
    try {
      return await Promise.race([pending, idle]);
    } finally {
      clearTimeout(timer);
    }
  }

  async *batches(): AsyncIterable<FlowRecord[]> {
    try {
      // Opening the capture already read its first bytes.
      this.file.parse(this.onPacket);
      let pending = this.file.fill();
      while (!this.stopped) {
        const more = await this.next(pending);
        if (more === false) break;
        if (more === 'idle') this.tracker.advance(Date.now() / 1000 - LIVE_LAG_SECONDS);
        else {
          this.file.parse(this.onPacket);
          pending = this.file.fill();
        }
        const ready = this.release(this.live);
        this.logs?.flush();
        if (ready.length > 0) yield ready;
      }
      // A partial record at the end has been reported by fill(); parse what is complete.
      if (!this.stopped) this.file.parse(this.onPacket);
      this.tracker.flush();
      const rest = this.release(true);
      if (rest.length > 0) yield rest;
    } finally {
      if (this.badChecksums > 0) this.file.sink.warn(`${this.file.path}: skipped ${this.badChecksums} packet(s) with a bad TCP/UDP checksum (verify_checksums)`);
      this.logs?.close();
      await this.file.close();
    }
  }
}

/** Opens a pcap or pcapng file; throws for a file that is neither. */
export async function openPcapInput(path: string, sink: ErrorSink, options: PcapInputOptions = {}): Promise<FlowReader> {
  const file = await CaptureFile.open(path, sink);
  return new PcapInput(file, options);
}
