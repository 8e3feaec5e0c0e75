// Connection tracking with Zeek's conn.log semantics, fed one decoded packet at a time.
// Carries over Zeek's rules (scripts/base/protocols/conn/main.zeek, TCPSessionAdapter,
// TCP_Endpoint, Session): who the originator is (first packet, flipped by the likely-server-port
// heuristic or a SYN / SYN-ACK reversal), the per-endpoint TCP state machine, history letters
// (S H A D F R once per direction, S/H/F/R again for a new sequence number, T/W/G at 1, 10,
// 100, ... occurrences, I/Q, ^ for a flip), sizes from sequence numbers, conn_state, and the
// timers that end a connection: attempt (5 s), expire checks (5 s SYN timeout, 6 s session
// timer, 5 s linger), close / reset delays (5 s), inactivity (TCP 5 min once past the
// handshake, 1 min before; UDP / ICMP 1 min). Timers run on packet time before each packet.
// A connection is reported through onConn when it is removed (timer, reuse by a new SYN, or
// flush() at end of input).
//
// Hook for protocol analyzers: `onPayload(conn, isOrig, seq, payload)` is called with every
// TCP segment's payload (seq relative to the direction's initial sequence number; segments
// arrive as captured, not reassembled) and every UDP / ICMP payload (seq 0), after the
// connection state was updated. `conn.service` may be set by an analyzer; it goes to the
// record's appproto and conn.log's service.
//
// Tunnels: a packet that came through tunnels carries its encapsulation (EncapLayer list,
// outermost first; see inputs/pcap/tunnel.ts). Like Zeek, the connection key ignores it; the
// connection remembers its current encapsulation, collects the innermost tunnel's uid of each
// encapsulation seen into `tunnelParents` (conn.log tunnel_parents), reports new and changed
// encapsulations through onEncap (up to Tunnel::max_changes_per_connection changes, then an
// 'X' history letter), and `packet()` returns the connection so that a UDP tunnel can be opened.

import type { AnalyzerSession } from './analyzer.js';
import { TimeHeap } from './timeHeap.js';
import { type ConnKey, ConnTable } from './connTable.js';
import { ZeekIds } from './zeekIds.js';
import type { EncapLayer, UdpTunnelState } from './tunnel.js';
import { KIND_IP, PROTO_ICMP, PROTO_ICMP6, PROTO_TCP, PROTO_UDP, TH_ACK, TH_FIN, TH_RST, TH_SYN, type Decoded, macString } from './decode.js';

// --- Zeek's defaults (init-bare.zeek)
const TCP_SYN_TIMEOUT = 5;
const TCP_SESSION_TIMER = 6;
const TCP_CONNECTION_LINGER = 5;
const TCP_ATTEMPT_DELAY = 5;
const TCP_CLOSE_DELAY = 5;
const TCP_RESET_DELAY = 5;
/**
 * Live capture trades Zeek's waits after a close / reset and its DNS session timeout for
 * latency (flows reach the detections within seconds); a packet arriving after the shorter wait
 * starts a new connection where Zeek would have added it to the old one.
 */
const LIVE_CLOSE_DELAY = 1;
const LIVE_RESET_DELAY = 1;
const LIVE_DNS_SESSION_TIMEOUT = 2;
const TCP_INACTIVITY_TIMEOUT = 300;
const UDP_INACTIVITY_TIMEOUT = 60;
const ICMP_INACTIVITY_TIMEOUT = 60;
const UNKNOWN_IP_INACTIVITY_TIMEOUT = 60;
const IPV6_NO_NEXT_HEADER = 59;
/** Zeek's dns_session_timeout: the DNS analyzer ends idle UDP DNS "connections" early. */
const DNS_SESSION_TIMEOUT = 10;
const DNS_UDP_PORTS = new Set([53, 137, 5353, 5355]);
const TOO_LARGE_SEQ_DELTA = 1048576;
/** Zeek's Tunnel::max_changes_per_connection. */
const MAX_TUNNEL_CHANGES = 5;
const NO_ENCAP: readonly EncapLayer[] = [];
const TWO32 = 4294967296;

// --- TCP endpoint states (Zeek's TCP_ENDPOINT_*)
export const INACTIVE = 0;
export const SYN_SENT = 1;
export const SYN_ACK_SENT = 2;
export const PARTIAL = 3;
export const ESTABLISHED = 4;
export const CLOSED = 5;
export const RESET = 6;

// History masks (orig; responder is << 16)
const HIST_SYN = 0x1;
const HIST_FIN = 0x2;
const HIST_RST = 0x4;
const HIST_FIN_RST = 0x8;
const HIST_DATA = 0x10;
const HIST_ACK = 0x20;
const HIST_MULTI_FLAG = 0x40;
const HIST_UNKNOWN = 0x80;

/**
 * Ports registered by Zeek's default analyzers (likely_server_ports): a connection whose first
 * packet comes from one of these (and is not a plain SYN) is flipped.
 */
const LIKELY_TCP_SERVER_PORTS = new Set([
  21, 22, 23, 25, 53, 79, 80, 81, 88, 110, 135, 139, 143, 389, 443, 445, 502, 563, 585, 587, 614, 631, 636, 989,
  990, 992, 993, 995, 1080, 1433, 1434, 1883, 2811, 3128, 3268, 3306, 3389, 5222, 5223, 5269, 5432, 5900, 6379,
  6666, 6667, 6668, 6669, 8000, 8080, 8888, 20000,
]);
const LIKELY_UDP_SERVER_PORTS = new Set([
  53, 67, 69, 88, 123, 137, 161, 162, 443, 514, 1812, 2123, 2152, 3544, 4789, 5060, 5072, 5353, 5355, 6081, 20000,
]);

/** The empty range list endpoints share until they hold a range (never changed). */
const NO_RANGES: number[][] = [];

class Endpoint {
  state = INACTIVE;
  prevState = INACTIVE;
  startSeq = 0;
  lastSeq = 0;
  ackSeq = 0;
  seqWraps = 0;
  ackWraps = 0;
  finCnt = 0;
  didClose = false;
  histLastSyn = -1;
  histLastFin = -1;
  histLastRst = -1;
  rxmtCnt = 0;
  rxmtThresh = 1;
  win0Cnt = 0;
  win0Thresh = 1;
  gapCnt = 0;
  gapThresh = 1;
  /** Relative sequence up to which payload was seen in order (for content gaps). */
  seenUpTo = 1;
  /** Payload seen beyond seenUpTo, as [start, end) ranges (bounded). */
  ahead: number[][] = NO_RANGES;
  /** UDP / ICMP payload bytes, -1 while nothing was sent. */
  length = -1;
  pkts = 0;
  ipBytes = 0;

  constructor(public isOrig: boolean) {}

  setState(conn: TrackedConn, peer: Endpoint, next: number): void {
    if (next === this.state) return;
    // Leaving the handshake switches to the TCP inactivity timeout.
    if (!isHandshake(next) && isHandshake(this.state) && isHandshake(peer.state)) conn.tracker.setInactivity(conn, TCP_INACTIVITY_TIMEOUT);
    this.prevState = this.state;
    this.state = next;
  }

  /** Zeek's TCP_Endpoint::Size(): payload bytes from the sequence space. */
  size(peer: Endpoint): number {
    if (this.prevState === SYN_SENT && this.state === RESET && peer.state === INACTIVE && !this.noDataAcked()) return 0;
    const last = this.seqWraps * TWO32 + this.lastSeq;
    const ack = this.ackWraps * TWO32 + this.ackSeq;
    let size = (last > ack ? last : ack) - this.startSeq;
    if (size < 0) size = 0;
    if (size !== 0) size -= 1;
    if (this.finCnt > 0 && size !== 0) size -= 1;
    return size;
  }

  private noDataAcked(): boolean {
    const ack = this.ackWraps * TWO32 + this.ackSeq;
    return ack === this.startSeq || ack === this.startSeq + 1;
  }

  initSeqs(start: number, last: number): void {
    this.startSeq = start >>> 0;
    this.ackSeq = start >>> 0;
    this.lastSeq = last >>> 0;
  }

  updateLastSeq(seq: number): void {
    if (seq < this.lastSeq) this.seqWraps += 1;
    this.lastSeq = seq;
  }

  updateAckSeq(seq: number): void {
    if (seq < this.ackSeq) this.ackWraps += 1;
    this.ackSeq = seq;
  }
}

// Outcome bits of the TCP state machine step
const SM_CLOSE = 1;
const SM_GEN_EVENT = 2;
const SM_FLIPPED = 4;

/** Most out-of-order ranges remembered per direction. */
const MAX_AHEAD = 32;

/** Records payload [start, end) of a direction, advancing the in-order point through held ranges. */
function dataSeen(ep: Endpoint, start: number, end: number): void {
  if (end <= ep.seenUpTo) return;
  if (start > ep.seenUpTo) {
    if (ep.ahead === NO_RANGES) ep.ahead = [];
    if (ep.ahead.length < MAX_AHEAD) ep.ahead.push([start, end]);
    return;
  }
  ep.seenUpTo = end;
  if (ep.ahead.length === 0) return;
  ep.ahead.sort((a, b) => a[0]! - b[0]!);
  let i = 0;
  for (; i < ep.ahead.length && ep.ahead[i]![0]! <= ep.seenUpTo; i++) ep.seenUpTo = Math.max(ep.seenUpTo, ep.ahead[i]![1]!);
  ep.ahead.splice(0, i);
}

function isClean(ep: Endpoint): boolean {
  return ep.state === ESTABLISHED || (ep.state === CLOSED && ep.prevState === ESTABLISHED);
}

function isHandshake(state: number): boolean {
  return state === INACTIVE || state === SYN_SENT || state === SYN_ACK_SENT;
}

/** Signed 32-bit difference of two sequence numbers. */
function seqDelta(a: number, b: number): number {
  return (a - b) | 0;
}

/** Zeek's get_relative_seq (wrap-aware position of `cur` relative to the endpoint's start). */
function relativeSeq(ep: Endpoint, cur: number, last: number, wraps: number): { rel: number; underflow: boolean } {
  const delta = seqDelta(cur, last);
  if (delta < 0) {
    if (wraps > 0 && cur > last) wraps -= 1;
  } else if (delta > 0) {
    if (cur < last) wraps += 1;
  }
  if (wraps === 0) {
    const d = seqDelta(cur, ep.startSeq);
    return { rel: d, underflow: d < 0 };
  }
  return { rel: wraps * TWO32 + cur - ep.startSeq, underflow: false };
}

export interface TrackedConn {
  readonly tracker: ConnTracker;
  key: ConnKey;
  /** Hash of the key (ConnTable's). */
  keyHash: number;
  uid: string;
  ts: number;
  lastTime: number;
  /** IP protocol number (6, 17, 1, 58). */
  ipProto: number;
  origH: string;
  origP: number;
  respH: string;
  respP: number;
  smac: string;
  dmac: string;
  iface: string;
  orig: Endpoint;
  resp: Endpoint;
  history: string;
  histSeen: number;
  /** Zeek service (set by protocol analyzers), "" when unknown. */
  service: string;
  /** TCP: the connection is still "active" (not finished / reset / timed out). */
  isActive: boolean;
  inactivityTimeout: number;
  /** Bumped to cancel the pending timers of a kind. */
  inactivityGen: number;
  analyzerGen: number;
  removed: boolean;
  /** Timers of the connection waiting in the tracker's queue. */
  pendingTimers: number;
  missedBytes: number;
  /** Protocol-analyzer sessions still interested in the connection (AnalyzerSet's). */
  sessions: AnalyzerSession[] | undefined;
  /** Tunnels the connection's latest packet came through, outermost first. */
  encap: readonly EncapLayer[];
  /** uids of the innermost tunnels seen carrying the connection (conn.log tunnel_parents). */
  tunnelParents: string[];
  tunnelChanges: number;
  /** State of the UDP tunnel decapsulation when this connection is (maybe) a tunnel. */
  udpTunnel: UdpTunnelState | undefined;
}

/** A finished connection with everything conn.log needs. */
export interface FinishedConn {
  conn: TrackedConn;
  proto: 'tcp' | 'udp' | 'icmp' | 'unknown_transport';
  /** duration / bytes are unset (Zeek '-') when the duration is 0. */
  duration: number | undefined;
  origBytes: number;
  respBytes: number;
  state: string;
}

// Timer kinds
const T_INACTIVITY = 0;
const T_EXPIRE = 1;
const T_ATTEMPT = 2;
const T_DELETE = 3;
const T_RESET = 4;
const T_DNS = 5;

/**
 * The timers, by time, ties in the order they were set (a TimeHeap of slot numbers). A slot holds
 * the timer's connection, kind and generation in typed arrays until it is popped, then goes back
 * to the free list. Timers of removed connections do nothing when they fire; once they are most
 * of the heap they are dropped in one pass (the order of the others does not change).
 */
class TimerQueue {
  private readonly heap = new TimeHeap<number>();
  private readonly conns: (TrackedConn | undefined)[] = [];
  private kinds = new Uint8Array(1024);
  private gens = new Int32Array(1024);
  private readonly free: number[] = [];
  /** Timers in the heap whose connection was removed (see dropRemoved). */
  private removedTimers = 0;
  /** The popped timer (valid until the next pop). */
  conn: TrackedConn | undefined;
  kind = 0;
  gen = 0;

  push(t: number, conn: TrackedConn, kind: number, gen: number): void {
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.conns.length;
      this.conns.push(conn);
      if (slot >= this.kinds.length) {
        this.kinds = grow(this.kinds, new Uint8Array(slot * 2));
        this.gens = grow(this.gens, new Int32Array(slot * 2));
      }
    } else this.conns[slot] = conn;
    this.kinds[slot] = kind;
    this.gens[slot] = gen;
    conn.pendingTimers += 1;
    this.heap.push(t, slot);
  }

  /** Time of the next timer (Infinity when none). */
  peekTime(): number {
    return this.heap.peekTime();
  }

  /** Removes the next timer into conn / kind / gen. */
  pop(): void {
    const slot = this.heap.pop();
    const conn = this.conns[slot]!;
    this.conn = conn;
    this.kind = this.kinds[slot]!;
    this.gen = this.gens[slot]!;
    this.release(slot, conn);
  }

  /** A connection was removed: its pending timers have nothing left to do. */
  removed(conn: TrackedConn): void {
    this.removedTimers += conn.pendingTimers;
    if (this.removedTimers > 4096 && this.removedTimers * 2 > this.heap.size) this.dropRemoved();
  }

  private release(slot: number, conn: TrackedConn): void {
    this.conns[slot] = undefined;
    this.free.push(slot);
    conn.pendingTimers -= 1;
    if (conn.removed) this.removedTimers -= 1;
  }

  /** Drops the timers of removed connections. */
  private dropRemoved(): void {
    this.heap.retain((slot) => {
      const conn = this.conns[slot]!;
      if (!conn.removed) return true;
      this.release(slot, conn);
      return false;
    });
  }
}

/** `bigger` holding a copy of `small` at its start. */
function grow<T extends Int32Array | Uint8Array>(small: T, bigger: T): T {
  bigger.set(small);
  return bigger;
}

export interface ConnTrackerOptions {
  /** Called for every connection when it ends. */
  onConn: (finished: FinishedConn) => void;
  /** Protocol-analyzer hook: payload of each direction (see the header comment). */
  onPayload?: (conn: TrackedConn, isOrig: boolean, seq: number, payload: Buffer) => void;
  /** Interface name written into the records. */
  interfaceName?: string;
  /** Live capture: shorter close / reset delays and DNS session timeout (see LIVE_CLOSE_DELAY). */
  live?: boolean;
  /** A connection was created in, or moved to, a (non-empty) encapsulation. */
  onEncap?: (conn: TrackedConn, encap: readonly EncapLayer[]) => void;
}

export class ConnTracker {
  private readonly conns = new ConnTable<TrackedConn>();
  private readonly timers = new TimerQueue();
  private readonly onConn: (finished: FinishedConn) => void;
  private readonly onPayload: ((conn: TrackedConn, isOrig: boolean, seq: number, payload: Buffer) => void) | undefined;
  private readonly iface: string;
  private readonly closeDelay: number;
  private readonly resetDelay: number;
  private readonly dnsSessionTimeout: number;
  private readonly onEncap: ((conn: TrackedConn, encap: readonly EncapLayer[]) => void) | undefined;
  private readonly uids = new ZeekIds('C', 0x2545f491);
  /** Encapsulation of the packet being processed. */
  private encap: readonly EncapLayer[] = NO_ENCAP;
  /** Latest packet time seen (network time). */
  now = 0;
  /** The key of the latest lookup(). */
  private kProto = 0;
  private kA = '';
  private kPa = 0;
  private kB = '';
  private kPb = 0;
  /** Direction of the last packet given to packet(), relative to the connection it returned. */
  lastIsOrig = true;

  constructor(options: ConnTrackerOptions) {
    this.onConn = options.onConn;
    this.onPayload = options.onPayload;
    this.iface = options.interfaceName ?? 'default';
    this.closeDelay = options.live === true ? LIVE_CLOSE_DELAY : TCP_CLOSE_DELAY;
    this.resetDelay = options.live === true ? LIVE_RESET_DELAY : TCP_RESET_DELAY;
    this.dnsSessionTimeout = options.live === true ? LIVE_DNS_SESSION_TIMEOUT : DNS_SESSION_TIMEOUT;
    this.onEncap = options.onEncap;
  }

  /** Connections currently tracked. */
  get liveConnections(): number {
    return this.conns.size;
  }

  /** Start time of the oldest live connection (Infinity when none): Map order is creation order. */
  oldestLiveStart(): number {
    for (const conn of this.conns.entries()) return conn.ts;
    return Infinity;
  }

  /** Runs the timers due at `t` (network time never goes back). */
  advance(t: number): void {
    if (t > this.now) this.now = t;
    const now = this.now;
    const timers = this.timers;
    while (timers.peekTime() <= now) {
      timers.pop();
      this.fire(timers.conn!, timers.kind, timers.gen, now);
    }
  }

  /** Ends every connection (end of input), in start-time order. */
  flush(): void {
    const live = [...this.conns.entries()].sort((a, b) => a.ts - b.ts);
    for (const conn of live) this.remove(conn);
  }

  /**
   * Feeds one decoded IP packet captured at `ts`, which came through the tunnels `encap`.
   * Returns its connection (undefined for transports not tracked); `lastIsOrig` tells its direction.
   */
  packet(d: Decoded, ts: number, encap: readonly EncapLayer[] = NO_ENCAP): TrackedConn | undefined {
    if (d.kind !== KIND_IP) return undefined;
    this.advance(ts);
    this.encap = encap;
    const proto = d.proto;
    if (proto === PROTO_TCP) return this.tcpPacket(d, ts);
    if (proto === PROTO_UDP) return this.udpPacket(d, ts);
    if (proto === PROTO_ICMP || proto === PROTO_ICMP6) return this.icmpPacket(d, ts);
    // IPv6 "no next header" (e.g. Teredo bubbles) carries nothing to track.
    if (proto === IPV6_NO_NEXT_HEADER) return undefined;
    return this.unknownTransportPacket(d, ts);
  }

  // -------------------------------------------------------------------------------------------
  // Connections

  /** A fresh Zeek-style uid ('C' + base62), deterministic per run (also used for IP tunnels). */
  newUid(): string {
    return this.uids.next();
  }

  /**
   * The connection of key (proto, a|pa, b|pb); a direction-less key is put in a canonical order
   * first (`ordered` false). The key looked up stays in lookupKey() for create().
   */
  private lookup(proto: number, a: string, pa: number, b: string, pb: number, ordered: boolean): TrackedConn | undefined {
    if (!ordered && (a > b || (a === b && pa > pb))) {
      this.kA = b;
      this.kPa = pb;
      this.kB = a;
      this.kPb = pa;
    } else {
      this.kA = a;
      this.kPa = pa;
      this.kB = b;
      this.kPb = pb;
    }
    this.kProto = proto;
    return this.conns.get(proto, this.kA, this.kPa, this.kB, this.kPb);
  }

  private lookupKey(): ConnKey {
    return { proto: this.kProto, a: this.kA, pa: this.kPa, b: this.kB, pb: this.kPb };
  }

  private create(key: ConnKey, d: Decoded, ts: number, flip: boolean, sport: number, dport: number): TrackedConn {
    const frame = d.frame;
    const srcMac = d.srcMacOff >= 0 ? macText(frame, d.srcMacOff) : '';
    const dstMac = d.dstMacOff >= 0 ? macText(frame, d.dstMacOff) : '';
    const conn: TrackedConn = {
      tracker: this,
      key,
      keyHash: 0,
      uid: this.newUid(),
      ts,
      lastTime: ts,
      ipProto: d.proto,
      origH: flip ? d.dst : d.src,
      origP: flip ? dport : sport,
      respH: flip ? d.src : d.dst,
      respP: flip ? sport : dport,
      smac: flip ? dstMac : srcMac,
      dmac: flip ? srcMac : dstMac,
      iface: this.iface,
      orig: new Endpoint(true),
      resp: new Endpoint(false),
      history: flip ? '^' : '',
      histSeen: 0,
      service: '',
      isActive: true,
      inactivityTimeout: 0,
      inactivityGen: 0,
      analyzerGen: 0,
      removed: false,
      pendingTimers: 0,
      missedBytes: 0,
      sessions: undefined,
      encap: this.encap,
      tunnelParents: [],
      tunnelChanges: 0,
      udpTunnel: undefined,
    };
    this.conns.add(conn);
    if (this.encap.length > 0) {
      conn.tunnelParents.push(this.encap[this.encap.length - 1]!.uid);
      this.onEncap?.(conn, this.encap);
    }
    return conn;
  }

  /** Zeek's Connection::CheckEncapsulation for a packet of an existing connection. */
  private checkEncap(conn: TrackedConn): void {
    const encap = this.encap;
    if (sameEncap(conn.encap, encap)) return;
    conn.encap = encap;
    if (conn.tunnelChanges >= MAX_TUNNEL_CHANGES) {
      markPartial(conn);
      return;
    }
    conn.tunnelChanges += 1;
    if (encap.length === 0) return;
    const parent = encap[encap.length - 1]!.uid;
    if (!conn.tunnelParents.includes(parent)) conn.tunnelParents.push(parent);
    this.onEncap?.(conn, encap);
  }

  private remove(conn: TrackedConn): void {
    if (conn.removed) return;
    conn.removed = true;
    this.timers.removed(conn);
    this.conns.delete(conn);
    const duration = conn.lastTime - conn.ts;
    let proto: FinishedConn['proto'];
    let origBytes: number;
    let respBytes: number;
    let state: string;
    if (conn.ipProto === PROTO_TCP) {
      proto = 'tcp';
      origBytes = conn.orig.size(conn.resp);
      respBytes = conn.resp.size(conn.orig);
      state = tcpConnState(conn, origBytes, respBytes);
    } else {
      proto = conn.ipProto === PROTO_UDP ? 'udp' : isIcmp(conn.ipProto) ? 'icmp' : 'unknown_transport';
      origBytes = Math.max(conn.orig.length, 0);
      respBytes = Math.max(conn.resp.length, 0);
      state = proto === 'udp' ? udpConnState(conn) : 'OTH';
    }
    this.onConn({ conn, proto, duration: duration > 0 ? duration : undefined, origBytes, respBytes, state });
  }

  // -------------------------------------------------------------------------------------------
  // Timers

  setInactivity(conn: TrackedConn, timeout: number): void {
    if (timeout === conn.inactivityTimeout) return;
    conn.inactivityGen += 1;
    conn.inactivityTimeout = timeout;
    this.timers.push(conn.lastTime + timeout, conn, T_INACTIVITY, conn.inactivityGen);
  }

  private addTimer(conn: TrackedConn, kind: number, t: number): void {
    this.timers.push(t, conn, kind, conn.analyzerGen);
  }

  /** Zeek's analyzer CancelTimers(): drops the pending TCP timers (not the inactivity one). */
  private cancelTimers(conn: TrackedConn): void {
    conn.analyzerGen += 1;
  }

  private fire(conn: TrackedConn, kind: number, gen: number, t: number): void {
    if (conn.removed) return;
    if (kind === T_INACTIVITY) {
      if (gen !== conn.inactivityGen) return;
      if (conn.lastTime + conn.inactivityTimeout <= t) this.remove(conn);
      else this.timers.push(conn.lastTime + conn.inactivityTimeout, conn, T_INACTIVITY, conn.inactivityGen);
      return;
    }
    if (gen !== conn.analyzerGen) return;
    const { orig, resp } = conn;
    switch (kind) {
      case T_ATTEMPT:
        if (!conn.isActive) return;
        if ((orig.state === SYN_SENT || orig.state === SYN_ACK_SENT) && resp.state === INACTIVE) {
          conn.isActive = false;
          this.remove(conn);
        }
        return;
      case T_EXPIRE:
        if (!conn.isActive) return;
        if (conn.lastTime + TCP_CONNECTION_LINGER < t) {
          if (orig.didClose || resp.didClose) {
            if ((orig.didClose && resp.didClose) || orig.state === RESET || resp.state === RESET ||
                orig.state === INACTIVE || resp.state === INACTIVE) {
              conn.isActive = false;
              this.remove(conn);
              return;
            }
          }
          if (resp.state === INACTIVE && orig.state === INACTIVE) {
            this.remove(conn);
            return;
          }
        }
        this.addTimer(conn, T_EXPIRE, t + TCP_SESSION_TIMER);
        return;
      case T_RESET:
        if (!conn.isActive) return;
        if (!(orig.didClose && resp.didClose)) conn.isActive = false;
        this.remove(conn);
        return;
      case T_DELETE:
        this.remove(conn);
        return;
      case T_DNS:
        if (t - conn.lastTime >= this.dnsSessionTimeout - 1) this.remove(conn);
        else this.addTimer(conn, T_DNS, t + this.dnsSessionTimeout);
        return;
    }
  }

  // -------------------------------------------------------------------------------------------
  // History

  private checkHistory(conn: TrackedConn, isOrig: boolean, mask: number, code: string): boolean {
    const m = isOrig ? mask : mask << 16;
    if ((conn.histSeen & m) === 0) {
      conn.histSeen |= m;
      conn.history += isOrig ? code : code.toLowerCase();
      return false;
    }
    return true;
  }

  private addHistory(conn: TrackedConn, isOrig: boolean, code: string): void {
    conn.history += isOrig ? code : code.toLowerCase();
  }

  /** Letters recorded at the 1st, 10th, 100th, ... occurrence (T, W, G). */
  private scaled(conn: TrackedConn, ep: Endpoint, code: string, which: 'rxmt' | 'win0' | 'gap'): void {
    const cntKey = `${which}Cnt` as const;
    const threshKey = `${which}Thresh` as const;
    ep[cntKey] += 1;
    if (ep[cntKey] === ep[threshKey]) {
      this.addHistory(conn, ep.isOrig, code);
      ep[threshKey] *= 10;
    }
  }

  // -------------------------------------------------------------------------------------------
  // TCP

  /** Zeek's TCPSessionAdapter::IsReuse: a SYN that starts a new connection on this tuple. */
  private isReuse(conn: TrackedConn, flags: number, seq: number): boolean {
    if ((flags & TH_SYN) === 0) return false;
    let connOrig = conn.orig;
    if (flags & TH_ACK) {
      if (conn.orig.state !== INACTIVE) return false;
      connOrig = conn.resp;
    }
    if (!(conn.orig.didClose || conn.resp.didClose)) {
      if (seq === connOrig.startSeq) return false;
      if ((flags & TH_ACK) === 0 && connOrig.state === SYN_ACK_SENT && conn.resp.state === INACTIVE && seq === conn.resp.startSeq) return false;
    }
    return true;
  }

  private tcpPacket(d: Decoded, ts: number): TrackedConn {
    const flags = d.tcpFlags;
    let conn = this.lookup(PROTO_TCP, d.src, d.sport, d.dst, d.dport, false);
    if (conn !== undefined && this.isReuse(conn, flags, d.seq)) {
      this.remove(conn);
      conn = undefined;
    }
    if (conn === undefined) {
      let flip = false;
      if ((flags & TH_SYN) === 0 || (flags & TH_ACK) !== 0) {
        if (LIKELY_TCP_SERVER_PORTS.has(d.sport) && !isBroadcastOrMulticast(d.dst)) {
          flip = LIKELY_TCP_SERVER_PORTS.has(d.dport) ? (flags & TH_SYN) === 0 && d.sport < d.dport : true;
        }
      }
      conn = this.create(this.lookupKey(), d, ts, flip, d.sport, d.dport);
      this.setInactivity(conn, UDP_INACTIVITY_TIMEOUT);
      this.addTimer(conn, T_EXPIRE, ts + TCP_SYN_TIMEOUT);
    }
    const isOrig = d.src === conn.origH && d.sport === conn.origP;
    if (conn.encap !== this.encap) this.checkEncap(conn);
    // Counted on the endpoint object, which stays right if the packet flips the roles.
    const ep = isOrig ? conn.orig : conn.resp;
    this.tcpProcess(conn, isOrig, d, ts);
    ep.pkts += 1;
    ep.ipBytes += d.ipLen;
    this.lastIsOrig = ep === conn.orig;
    return conn;
  }

  private tcpProcess(conn: TrackedConn, isOrig: boolean, d: Decoded, t: number): void {
    const flags = d.tcpFlags;
    const syn = (flags & TH_SYN) !== 0;
    const fin = (flags & TH_FIN) !== 0;
    const rst = (flags & TH_RST) !== 0;
    const ack = (flags & TH_ACK) !== 0;
    const baseSeq = d.seq;
    const ackSeq = d.ack;
    const len = d.payloadLen;
    const endpoint = isOrig ? conn.orig : conn.resp;
    const peer = isOrig ? conn.resp : conn.orig;

    let segLen = len + (syn ? 1 : 0) + (fin ? 1 : 0);
    if (rst) segLen -= len;
    const seqOnePast = (baseSeq + segLen) >>> 0;

    // init_endpoint
    switch (endpoint.state) {
      case INACTIVE:
        if (syn) endpoint.initSeqs(baseSeq, seqOnePast);
        else endpoint.initSeqs(baseSeq - 1, baseSeq);
        break;
      case SYN_SENT:
      case SYN_ACK_SENT:
        if (syn && baseSeq !== endpoint.startSeq) endpoint.initSeqs(baseSeq, seqOnePast);
        break;
      case ESTABLISHED:
      case PARTIAL:
        if (syn) endpoint.initSeqs(baseSeq, seqOnePast);
        break;
      case RESET:
        if (syn && endpoint.prevState === INACTIVE) endpoint.initSeqs(baseSeq, seqOnePast);
        break;
    }

    const { rel: relSeq, underflow } = relativeSeq(endpoint, baseSeq, endpoint.lastSeq, endpoint.seqWraps);

    // update_history
    const bits = (syn ? 1 : 0) + (fin ? 1 : 0) + (rst ? 1 : 0);
    if (bits > 1) {
      if (fin && rst) this.checkHistory(conn, isOrig, HIST_FIN_RST, 'I');
      else this.checkHistory(conn, isOrig, HIST_MULTI_FLAG, 'Q');
    } else if (bits === 1) {
      if (syn) {
        const code = ack ? 'H' : 'S';
        if (this.checkHistory(conn, isOrig, HIST_SYN, code) && relSeq !== endpoint.histLastSyn) this.addHistory(conn, isOrig, code);
        endpoint.histLastSyn = relSeq;
      }
      if (fin) {
        if (this.checkHistory(conn, isOrig, HIST_FIN, 'F') && relSeq + len !== endpoint.histLastFin) this.addHistory(conn, isOrig, 'F');
        endpoint.histLastFin = relSeq + len;
      }
      if (rst) {
        if (this.checkHistory(conn, isOrig, HIST_RST, 'R') && relSeq !== endpoint.histLastRst) this.addHistory(conn, isOrig, 'R');
        endpoint.histLastRst = relSeq;
      }
    } else if (len > 0) this.checkHistory(conn, isOrig, HIST_DATA, 'D');
    else if (ack) this.checkHistory(conn, isOrig, HIST_ACK, 'A');

    // update_window: only the zero-window letter matters here.
    if (d.window === 0 && !rst && peer.state !== CLOSED && endpoint.state !== RESET) this.scaled(conn, endpoint, 'W', 'win0');

    if (!conn.orig.didClose || !conn.resp.didClose) conn.lastTime = t;

    if (fin) endpoint.finCnt += 1;

    let relAck = 0;
    if (ack) {
      if (peer.state === INACTIVE) {
        relAck = 1;
        peer.initSeqs(ackSeq - 1, ackSeq - 1);
      } else {
        const r = relativeSeq(peer, ackSeq, peer.ackSeq, peer.ackWraps);
        if (r.underflow) relAck = 0;
        else {
          relAck = r.rel;
          if (!rst) {
            const deltaAck = seqDelta(ackSeq, peer.ackSeq);
            if (!(ackSeq === 0 && deltaAck > TOO_LARGE_SEQ_DELTA) && deltaAck > 0) peer.updateAckSeq(ackSeq);
          }
        }
      }
    }

    // update_last_seq
    const deltaLast = seqDelta(seqOnePast, endpoint.lastSeq);
    if ((syn || rst) && (deltaLast > TOO_LARGE_SEQ_DELTA || deltaLast < -TOO_LARGE_SEQ_DELTA)) {
      // untrusted jump
    } else if (fin && endpoint.lastSeq === ((endpoint.startSeq + 1) >>> 0)) endpoint.updateLastSeq(seqOnePast);
    else if (endpoint.state === RESET) {
      // no sequence numbers trusted after a RST
    } else if (deltaLast > 0) endpoint.updateLastSeq(seqOnePast);
    else if (len > 0) this.scaled(conn, endpoint, 'T', 'rxmt');

    const close = this.stateMachine(conn, t, endpoint, peer, baseSeq, len, isOrig, flags);
    // A SYN/SYN-ACK reversal swapped the roles: this packet now comes from the originator.
    if ((close & SM_FLIPPED) !== 0) isOrig = !isOrig;

    if (ack) this.ackReceived(conn, peer, relAck);

    const relDataSeq = syn ? relSeq + 1 : relSeq;
    if (len > 0 && !rst && !underflow) {
      dataSeen(endpoint, relDataSeq, relDataSeq + len);
      if (this.onPayload !== undefined) {
        const end = Math.min(d.payloadOff + len, d.data.length);
        if (end > d.payloadOff) this.onPayload(conn, isOrig, relDataSeq, d.data.subarray(d.payloadOff, end));
      }
    }

    if ((close & SM_CLOSE) !== 0) this.connectionClosed(conn, endpoint, peer, (close & SM_GEN_EVENT) !== 0);
  }

  /**
   * Content gaps: the peer acknowledged data of `ep` we never saw (Zeek's reassembler reports
   * them as content_gap -> missed_bytes and the G/g history letter). Gaps acknowledged by a
   * FIN or RST at the very end are not counted, like Zeek.
   */
  private ackReceived(conn: TrackedConn, ep: Endpoint, relAck: number): void {
    let upTo = relAck;
    if (ep.finCnt > 0) {
      const finAt = ep.size(ep === conn.orig ? conn.resp : conn.orig) + 1;
      if (upTo > finAt) upTo = finAt;
    }
    if (upTo <= ep.seenUpTo) return;
    const peer = ep === conn.orig ? conn.resp : conn.orig;
    // Zeek counts gaps while both sides are established or closing cleanly (closed from established).
    if (isClean(ep) && isClean(peer)) {
      conn.missedBytes += upTo - ep.seenUpTo;
      this.scaled(conn, ep, 'G', 'gap');
    }
    dataSeen(ep, ep.seenUpTo, upTo);
  }

  /** Zeek's UpdateStateMachine; returns SM_* bits: whether to close (and generate the event) and whether the roles flipped. */
  private stateMachine(
    conn: TrackedConn, t: number, endpoint: Endpoint, peer: Endpoint, baseSeq: number,
    len: number, isOrig: boolean, flags: number,
  ): number {
    const syn = (flags & TH_SYN) !== 0;
    const fin = (flags & TH_FIN) !== 0;
    const rst = (flags & TH_RST) !== 0;
    const ack = (flags & TH_ACK) !== 0;
    let doClose = false;
    let genEvent = false;
    let flipped = false;
    switch (endpoint.state) {
      case INACTIVE: {
        if (syn) {
          if (isOrig) {
            endpoint.setState(conn, peer, ack ? SYN_ACK_SENT : SYN_SENT);
            this.addTimer(conn, T_ATTEMPT, t + TCP_ATTEMPT_DELAY);
          } else {
            if (!ack && peer.state === SYN_ACK_SENT && baseSeq === endpoint.startSeq) {
              // SYN seen after its SYN-ACK: flip the roles and establish.
              this.flipRoles(conn);
              flipped = true;
              peer.setState(conn, endpoint, ESTABLISHED);
            }
            if (peer.state === SYN_SENT) peer.setState(conn, endpoint, ESTABLISHED);
            endpoint.setState(conn, peer, ESTABLISHED);
          }
        }
        if (fin) {
          endpoint.setState(conn, peer, CLOSED);
          doClose = genEvent = true;
        }
        if (rst) {
          endpoint.setState(conn, peer, RESET);
          let isReject = false;
          if (isOrig) isReject = peer.state === ESTABLISHED;
          else isReject = peer.state === SYN_SENT || peer.state === SYN_ACK_SENT;
          doClose = true;
          genEvent = !isReject;
        }
        if (endpoint.state === INACTIVE) {
          if (!isOrig && len === 0 && conn.orig.state === SYN_SENT) {
            // an early ACK of the SYN does not make the connection partial
          } else if (ack && peer.state === ESTABLISHED) {
            endpoint.setState(conn, peer, ESTABLISHED);
          } else {
            endpoint.setState(conn, peer, PARTIAL);
          }
        }
        break;
      }
      case SYN_SENT:
      case SYN_ACK_SENT:
        if (fin) {
          endpoint.setState(conn, peer, CLOSED);
          doClose = genEvent = true;
        }
        if (rst) {
          endpoint.setState(conn, peer, RESET);
          conn.isActive = false;
          doClose = true;
        }
        break;
      case ESTABLISHED:
      case PARTIAL:
        if (syn && endpoint.state === PARTIAL && peer.state === INACTIVE && !ack) endpoint.setState(conn, peer, SYN_SENT);
        if (fin && !rst) {
          endpoint.setState(conn, peer, CLOSED);
          if (peer.state === RESET && peer.prevState === CLOSED) peer.setState(conn, endpoint, CLOSED);
          doClose = genEvent = true;
        }
        if (rst) {
          endpoint.setState(conn, peer, RESET);
          doClose = true;
          if (peer.state !== RESET || peer.prevState !== ESTABLISHED) conn.isActive = false;
        }
        break;
      case CLOSED:
        if (rst && peer.state !== CLOSED) {
          endpoint.setState(conn, peer, RESET);
          if (!endpoint.didClose) doClose = true;
          this.addTimer(conn, T_RESET, t + this.resetDelay);
        }
        break;
      case RESET:
        break;
    }
    return (doClose ? SM_CLOSE : 0) | (genEvent ? SM_GEN_EVENT : 0) | (flipped ? SM_FLIPPED : 0);
  }

  /** Swaps originator and responder (Zeek's FlipRoles; also used by analyzers, e.g. DNS replies seen first). */
  flipRoles(conn: TrackedConn): void {
    const tmpH = conn.origH;
    conn.origH = conn.respH;
    conn.respH = tmpH;
    const tmpP = conn.origP;
    conn.origP = conn.respP;
    conn.respP = tmpP;
    const tmpM = conn.smac;
    conn.smac = conn.dmac;
    conn.dmac = tmpM;
    const tmpE = conn.orig;
    conn.orig = conn.resp;
    conn.resp = tmpE;
    conn.orig.isOrig = true;
    conn.resp.isOrig = false;
    conn.history += '^';
  }

  private connectionClosed(conn: TrackedConn, endpoint: Endpoint, peer: Endpoint, genEvent: boolean): void {
    if (endpoint.didClose) return;
    endpoint.didClose = true;
    const complete = endpoint.state === RESET || peer.didClose || peer.state === INACTIVE;
    if (complete) {
      if ((endpoint.prevState !== INACTIVE || peer.state !== INACTIVE) && genEvent) conn.isActive = false;
      this.cancelTimers(conn);
      this.addTimer(conn, T_DELETE, conn.lastTime + this.closeDelay);
    } else if (endpoint.prevState !== INACTIVE) {
      this.addTimer(conn, T_EXPIRE, conn.lastTime + TCP_SESSION_TIMER);
    }
  }

  // -------------------------------------------------------------------------------------------
  // UDP and ICMP

  private udpPacket(d: Decoded, ts: number): TrackedConn {
    let conn = this.lookup(PROTO_UDP, d.src, d.sport, d.dst, d.dport, false);
    if (conn === undefined) {
      const flip = LIKELY_UDP_SERVER_PORTS.has(d.sport) && !LIKELY_UDP_SERVER_PORTS.has(d.dport) && !isBroadcastOrMulticast(d.dst);
      conn = this.create(this.lookupKey(), d, ts, flip, d.sport, d.dport);
      this.setInactivity(conn, UDP_INACTIVITY_TIMEOUT);
      if (DNS_UDP_PORTS.has(conn.respP)) this.addTimer(conn, T_DNS, ts + this.dnsSessionTimeout);
    }
    const isOrig = d.src === conn.origH && d.sport === conn.origP;
    if (conn.encap !== this.encap) this.checkEncap(conn);
    const ep = isOrig ? conn.orig : conn.resp;
    ep.pkts += 1;
    ep.ipBytes += d.ipLen;
    conn.lastTime = ts;
    this.checkHistory(conn, isOrig, HIST_DATA, 'D');
    const len = d.udpLen - 8;
    ep.length = ep.length < 0 ? len : ep.length + len;
    this.lastIsOrig = isOrig;
    this.deliverDatagram(conn, isOrig, d, d.l4Len - 8);
    return conn;
  }

  private icmpPacket(d: Decoded, ts: number): TrackedConn {
    const v6 = d.proto === PROTO_ICMP6;
    const type = d.icmpType;
    const counterpart = v6 ? icmp6Counterpart(type) : icmp4Counterpart(type);
    const oneWay = counterpart < 0;
    const dport = oneWay ? d.icmpCode : counterpart;
    let conn = this.lookup(d.proto, d.src, type, d.dst, dport, oneWay);
    if (conn === undefined) {
      conn = this.create(this.lookupKey(), d, ts, false, type, dport);
      this.setInactivity(conn, ICMP_INACTIVITY_TIMEOUT);
    }
    const isOrig = d.src === conn.origH && type === conn.origP;
    if (conn.encap !== this.encap) this.checkEncap(conn);
    const ep = isOrig ? conn.orig : conn.resp;
    ep.pkts += 1;
    ep.ipBytes += d.ipLen;
    conn.lastTime = ts;
    const len = d.l4Len - 8;
    ep.length = ep.length < 0 ? len : ep.length + len;
    this.lastIsOrig = isOrig;
    this.deliverDatagram(conn, isOrig, d, len);
    return conn;
  }

  /**
   * Any other IP protocol (SCTP, L2TP, ...): Zeek's unknown_transport connection between two
   * addresses, ports 0, no payload analysis, counted by packets and IP bytes only.
   */
  private unknownTransportPacket(d: Decoded, ts: number): TrackedConn {
    let conn = this.lookup(d.proto, d.src, 0, d.dst, 0, false);
    if (conn === undefined) {
      conn = this.create(this.lookupKey(), d, ts, false, 0, 0);
      this.setInactivity(conn, UNKNOWN_IP_INACTIVITY_TIMEOUT);
    }
    const isOrig = d.src === conn.origH;
    if (conn.encap !== this.encap) this.checkEncap(conn);
    const ep = isOrig ? conn.orig : conn.resp;
    ep.pkts += 1;
    ep.ipBytes += d.ipLen;
    conn.lastTime = ts;
    this.lastIsOrig = isOrig;
    return conn;
  }

  private deliverDatagram(conn: TrackedConn, isOrig: boolean, d: Decoded, len: number): void {
    if (this.onPayload === undefined || len <= 0) return;
    const end = Math.min(d.payloadOff + len, d.data.length);
    if (end > d.payloadOff) this.onPayload(conn, isOrig, 0, d.data.subarray(d.payloadOff, end));
  }
}

/** Recently made MAC address texts, in a direct-mapped cache: a hash of the address picks the slot. */
const MAC_CACHE_BITS = 12;
const macCacheHigh = new Int32Array(1 << MAC_CACHE_BITS);
const macCacheLow = new Int32Array(1 << MAC_CACHE_BITS);
const macCacheTexts = new Array<string>(1 << MAC_CACHE_BITS).fill('');

/** macString without making a new string for an address seen lately (few MACs make most connections). */
function macText(frame: Buffer, off: number): string {
  const high = (frame[off]! << 8) | frame[off + 1]!;
  const low = (frame[off + 2]! << 24) | (frame[off + 3]! << 16) | (frame[off + 4]! << 8) | frame[off + 5]!;
  const slot = Math.imul(low ^ Math.imul(high, 0x85ebca6b), 0x9e3779b1) >>> (32 - MAC_CACHE_BITS);
  const cached = macCacheTexts[slot]!;
  if (cached !== '' && macCacheLow[slot] === low && macCacheHigh[slot] === high) return cached;
  const text = macString(frame, off);
  macCacheHigh[slot] = high;
  macCacheLow[slot] = low;
  macCacheTexts[slot] = text;
  return text;
}

function isIcmp(ipProto: number): boolean {
  return ipProto === PROTO_ICMP || ipProto === PROTO_ICMP6;
}

/** Zeek's 'X' history letter (analysis partial, e.g. a tunnel limit exceeded), once, either direction. */
export function markPartial(conn: TrackedConn): void {
  if ((conn.histSeen & HIST_UNKNOWN) !== 0) return;
  conn.histSeen |= HIST_UNKNOWN;
  conn.history += 'X';
}

/** Whether two encapsulations are the same tunnels (compared by the tunnels' uids). */
function sameEncap(a: readonly EncapLayer[], b: readonly EncapLayer[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.uid !== b[i]!.uid) return false;
  return true;
}

/** Responders that are broadcast / multicast addresses are never flipped to originators. */
function isBroadcastOrMulticast(addr: string): boolean {
  if (addr === '255.255.255.255') return true;
  if (addr.includes(':')) return addr.startsWith('ff');
  const first = +addr.slice(0, addr.indexOf('.'));
  return first >= 224 && first <= 239;
}

/** ICMPv4 request/reply pairs (Zeek's ICMP4_counterpart); -1 for one-way messages. */
function icmp4Counterpart(type: number): number {
  switch (type) {
    case 8: return 0;
    case 0: return 8;
    case 13: return 14;
    case 14: return 13;
    case 15: return 16;
    case 16: return 15;
    case 10: return 9;
    case 9: return 10;
    case 17: return 18;
    case 18: return 17;
    default: return -1;
  }
}

/** ICMPv6 request/reply pairs (Zeek's ICMP6_counterpart); -1 for one-way messages. */
function icmp6Counterpart(type: number): number {
  switch (type) {
    case 128: return 129;
    case 129: return 128;
    case 133: return 134;
    case 134: return 133;
    case 135: return 136;
    case 136: return 135;
    case 130: return 131;
    case 131: return 130;
    case 139: return 140;
    case 140: return 139;
    case 144: return 145;
    case 145: return 144;
    default: return -1;
  }
}

/** Zeek's conn_state() for TCP. */
function tcpConnState(conn: TrackedConn, origSize: number, respSize: number): string {
  const os = conn.orig.state;
  const rs = conn.resp.state;
  const oInactive = os === INACTIVE || os === PARTIAL;
  const rInactive = rs === INACTIVE || rs === PARTIAL;
  if (rs === RESET) {
    if (os === SYN_SENT || os === SYN_ACK_SENT || (os === RESET && origSize === 0 && respSize === 0)) return 'REJ';
    return oInactive ? 'RSTRH' : 'RSTR';
  }
  if (os === RESET) {
    if (rInactive) return /^\^?S[^HAFGIQ]*R/.test(conn.history) ? 'RSTOS0' : 'OTH';
    return 'RSTO';
  }
  if (rs === CLOSED && os === CLOSED) return 'SF';
  if (os === CLOSED) return rInactive ? 'SH' : 'S2';
  if (rs === CLOSED) return oInactive ? 'SHR' : 'S3';
  if (os === SYN_SENT && rs === INACTIVE) return 'S0';
  if (os === ESTABLISHED && rs === ESTABLISHED) return 'S1';
  return 'OTH';
}

/** Zeek's conn_state() for UDP. */
function udpConnState(conn: TrackedConn): string {
  const o = conn.orig.length >= 0;
  const r = conn.resp.length >= 0;
  if (o) return r ? 'SF' : 'S0';
  return r ? 'SHR' : 'OTH';
}
