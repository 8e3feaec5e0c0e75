// Benchmark data generator: writes a deterministic, realistic Zeek conn.log (TSV with Zeek's
// header, or Zeek JSON lines) of N flows: ~2,000 internal hosts talking to ~50,000 external IPs
// over 24 h of network time, with embedded attacks (horizontal and vertical port scans, long
// connections, non-HTTP traffic on 80, non-SSL traffic on 443). Streams to disk (never holds the
// file in memory), writes to <out>.tmp and renames at the end so a partial file is never left.
//
//   node dist/bench/generateConnLog.js --flows 1000000 --out bench/data/conn.log [--format tsv|json] [--seed 42]

import { createWriteStream, mkdirSync, renameSync } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { Rng } from './rng.js';


/** Picks a key of a weight table (weights need not sum to 1). */
function weighted<K extends string>(rng: Rng, table: readonly (readonly [K, number])[]): K {
  let total = 0;
  for (const [, w] of table) total += w;
  let r = rng.float() * total;
  for (const [k, w] of table) {
    r -= w;
    if (r < 0) return k;
  }
  return table[table.length - 1]![0];
}

// ---------------------------------------------------------------------------------------------
// Flows

type Proto = 'tcp' | 'udp' | 'icmp';
type TcpState = 'SF' | 'S0' | 'S1' | 'REJ' | 'RSTO' | 'RSTR' | 'OTH';

interface Flow {
  ts: number;
  uid: string;
  origH: string;
  origP: number;
  respH: string;
  respP: number;
  proto: Proto;
  service: string; // '' = unset
  /** null for single-packet connections: Zeek leaves duration and byte counts unset. */
  duration: number | null;
  origBytes: number;
  respBytes: number;
  state: string;
  localOrig: boolean;
  localResp: boolean;
  history: string;
  origPkts: number;
  origIpBytes: number;
  respPkts: number;
  respIpBytes: number;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Zeek-like uid: 'C' + 17 base62 characters. */
function makeUid(rng: Rng): string {
  let s = 'C';
  for (let chunk = 0; chunk < 4; chunk++) {
    let r = rng.u32();
    for (let i = 0; i < (chunk < 3 ? 5 : 2); i++) {
      s += BASE62[r % 62];
      r = Math.floor(r / 62);
    }
  }
  return s;
}

const TCP_HDR = 52; // IPv4 20 + TCP 20 + timestamp option 12
const SYN_HDR = 60; // SYN carries the larger option set
const UDP_HDR = 28;
const MSS = 1448;
const WRITE_DELAY_CAP = 300; // Zeek writes a flow when it ends; capped to keep reordering small

const TS_START = 1700784000; // 2023-11-24 00:00:00 UTC
const DAY = 86400;

interface Endpoints {
  origH: string;
  origP: number;
  respH: string;
  respP: number;
}

interface FlowFactory {
  isLocal(ip: string): boolean;
  rng: Rng;
}

function baseFlow(f: FlowFactory, ts: number, e: Endpoints, proto: Proto, service: string): Flow {
  return {
    ts,
    uid: makeUid(f.rng),
    origH: e.origH,
    origP: e.origP,
    respH: e.respH,
    respP: e.respP,
    proto,
    service,
    duration: null,
    origBytes: 0,
    respBytes: 0,
    state: 'OTH',
    localOrig: f.isLocal(e.origH),
    localResp: f.isLocal(e.respH),
    history: '',
    origPkts: 0,
    origIpBytes: 0,
    respPkts: 0,
    respIpBytes: 0,
  };
}

const SF_HISTORIES = [['ShADadFf', 50], ['ShADadfF', 20], ['ShADdaFf', 15], ['ShAdDaFf', 10], ['ShADadFRf', 5]] as const;

/**
 * TCP flow whose packets, history and byte counts agree with its state.
 * ob/rb/dur are used only by states that exchange data.
 */
function tcpFlow(
  f: FlowFactory, ts: number, e: Endpoints, service: string, state: TcpState, ob: number, rb: number, dur: number,
): Flow {
  const fl = baseFlow(f, ts, e, 'tcp', service);
  const rng = f.rng;
  fl.state = state;
  switch (state) {
    case 'S0': {
      // Unanswered SYN, retransmitted after 1 s and 3 s.
      const syns = weighted(rng, [['1', 6], ['2', 2], ['3', 2]] as const);
      fl.history = 'S';
      fl.origPkts = Number(syns);
      fl.origIpBytes = fl.origPkts * SYN_HDR;
      if (fl.origPkts > 1) fl.duration = (fl.origPkts === 2 ? 1 : 3) + rng.float() * 0.01;
      return fl;
    }
    case 'REJ':
      fl.history = 'Sr';
      fl.duration = rng.logNormal(0.03, 1.2);
      fl.origPkts = 1;
      fl.origIpBytes = SYN_HDR;
      fl.respPkts = 1;
      fl.respIpBytes = 40;
      return fl;
    case 'OTH':
      // Midstream: the handshake was not seen.
      fl.history = rng.pick(['DdA', 'Dd', 'DadA']);
      break;
    case 'S1':
      fl.history = 'ShADad';
      break;
    case 'RSTO':
      fl.history = rng.pick(['ShADadR', 'ShADdaR']);
      break;
    case 'RSTR':
      fl.history = rng.pick(['ShADadr', 'ShADdar']);
      break;
    case 'SF':
      fl.history = weighted(rng, SF_HISTORIES);
      break;
  }
  const handshake = state === 'OTH' ? 0 : 1;
  fl.duration = dur;
  fl.origBytes = Math.round(ob);
  fl.respBytes = Math.round(rb);
  fl.origPkts = 2 * handshake + 1 + Math.ceil(fl.origBytes / MSS) + Math.floor(fl.respBytes / (2 * MSS));
  fl.respPkts = handshake + 1 + Math.ceil(fl.respBytes / MSS) + Math.floor(fl.origBytes / (2 * MSS));
  fl.origIpBytes = fl.origBytes + fl.origPkts * TCP_HDR + handshake * (SYN_HDR - TCP_HDR);
  fl.respIpBytes = fl.respBytes + fl.respPkts * TCP_HDR + handshake * (SYN_HDR - TCP_HDR);
  return fl;
}

/** UDP flow: SF = request and reply seen, S0 = no reply. */
function udpFlow(
  f: FlowFactory, ts: number, e: Endpoints, service: string, answered: boolean,
  ob: number, rb: number, dur: number, pkts = 1,
): Flow {
  const fl = baseFlow(f, ts, e, 'udp', service);
  fl.state = answered ? 'SF' : 'S0';
  fl.history = answered ? 'Dd' : 'D';
  fl.origPkts = pkts;
  fl.origIpBytes = Math.round(ob) + pkts * UDP_HDR;
  if (answered) {
    fl.respPkts = pkts;
    fl.respIpBytes = Math.round(rb) + pkts * UDP_HDR;
  }
  if (answered || pkts > 1) {
    fl.duration = dur;
    fl.origBytes = Math.round(ob);
    fl.respBytes = answered ? Math.round(rb) : 0;
  }
  return fl;
}

// ---------------------------------------------------------------------------------------------
// Addresses

function ipStr(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function isPublic(n: number): boolean {
  const a = n >>> 24;
  const b = (n >>> 16) & 255;
  if (a === 0 || a === 10 || a === 127 || a >= 224) return false;
  if (a === 100 && b >= 64 && b < 128) return false;
  if (a === 169 && b === 254) return false;
  if (a === 172 && b >= 16 && b < 32) return false;
  if (a === 192 && b === 168) return false;
  if (a === 192 && b === 0) return false;
  if (a === 198 && (b === 18 || b === 19 || b === 51)) return false;
  if (a === 203 && b === 0) return false;
  const last = n & 255;
  return last !== 0 && last !== 255;
}

function isLocalIp(ip: string): boolean {
  return ip.startsWith('192.168.') || ip.startsWith('10.');
}

class AddressBook {
  readonly internal: string[] = [];
  readonly external: string[] = [];
  private readonly used = new Set<number>();

  constructor(private readonly rng: Rng, internalCount: number, externalCount: number) {
    const in192 = Math.round(internalCount * 0.65);
    while (this.internal.length < in192) {
      const n = (192 << 24) | (168 << 16) | (this.rng.int(0, 7) << 8) | this.rng.int(20, 250);
      this.claim(n) && this.internal.push(ipStr(n >>> 0));
    }
    while (this.internal.length < internalCount) {
      const n = (10 << 24) | (this.rng.int(0, 3) << 16) | (this.rng.int(0, 255) << 8) | this.rng.int(2, 254);
      this.claim(n) && this.internal.push(ipStr(n >>> 0));
    }
    while (this.external.length < externalCount) this.external.push(this.newPublic());
  }

  /** A public IP not handed out before (servers reserved for one role). */
  newPublic(): string {
    for (;;) {
      const n = this.rng.u32();
      if (isPublic(n) && this.claim(n)) return ipStr(n);
    }
  }

  private claim(n: number): boolean {
    if (this.used.has(n)) return false;
    this.used.add(n);
    return true;
  }
}

const RESOLVER = '192.168.1.1';
const FILE_SERVER = '192.168.1.10';
const MDNS_GROUP = '224.0.0.251';

function ephemeralPort(rng: Rng): number {
  return rng.int(32768, 65535);
}

// ---------------------------------------------------------------------------------------------
// Background traffic

type Service = 'dns' | 'ssl' | 'http' | 'ntp' | 'ssh' | 'smb' | 'mdns' | 'icmp' | 'unknown';

const SERVICE_MIX: readonly (readonly [Service, number])[] = [
  ['dns', 36], ['ssl', 36], ['http', 10], ['unknown', 6], ['smb', 4],
  ['icmp', 3], ['ntp', 2], ['mdns', 2], ['ssh', 1],
];
// No OTH (midstream, unnamed service) on web ports: only the embedded attacks are unnamed there.
const WEB_STATES: readonly (readonly [TcpState, number])[] = [
  ['SF', 83], ['RSTO', 6], ['RSTR', 5], ['S0', 4], ['REJ', 1], ['S1', 1],
];
const UNKNOWN_STATES: readonly (readonly [TcpState, number])[] = [
  ['SF', 45], ['S0', 25], ['REJ', 15], ['RSTO', 5], ['RSTR', 5], ['OTH', 5],
];
const APP_PORTS = [5222, 5228, 8080, 8443, 1935, 9001, 6881, 3478, 5060, 19302, 4070, 7000] as const;
const MAX_BG_DURATION = 1200; // below the 1500 s long-connection threshold: only attacks exceed it

class Background implements FlowFactory {
  private readonly ntpServers: string[];
  private readonly sshServers: string[];
  private readonly hostOrder: string[];

  constructor(readonly rng: Rng, private readonly book: AddressBook) {
    this.ntpServers = Array.from({ length: 4 }, () => book.newPublic());
    this.sshServers = Array.from({ length: 30 }, () => book.newPublic());
    // Activity is skewed by index: shuffle so busy hosts are spread over both networks.
    this.hostOrder = [...book.internal];
    for (let i = this.hostOrder.length - 1; i > 0; i--) {
      const j = rng.int(0, i);
      [this.hostOrder[i], this.hostOrder[j]] = [this.hostOrder[j]!, this.hostOrder[i]!];
    }
  }

  isLocal = isLocalIp;

  *flows(count: number): Generator<Flow> {
    const rng = this.rng;
    const meanGap = DAY / count;
    let t = TS_START;
    for (let i = 0; i < count; i++) {
      // Diurnal rate: lowest at 03:00, highest at 15:00, mean 1.
      const hour = (t - TS_START) / 3600;
      const rate = 1 - 0.65 * Math.cos((2 * Math.PI * (hour - 3)) / 24);
      t += rng.exp(meanGap / rate);
      yield this.flow(t);
    }
  }

  private external(): string {
    return this.book.external[this.rng.skewed(this.book.external.length, 2.5)]!;
  }

  private flow(ts: number): Flow {
    const rng = this.rng;
    const host = this.hostOrder[rng.skewed(this.hostOrder.length, 2)]!;
    const sport = ephemeralPort(rng);
    switch (weighted(rng, SERVICE_MIX)) {
      case 'dns': {
        const answered = rng.float() < 0.97;
        const q = rng.int(28, 60);
        return udpFlow(this, ts, { origH: host, origP: sport, respH: RESOLVER, respP: 53 }, 'dns',
          answered, q, q + rng.int(16, 300), rng.logNormal(0.01, 1));
      }
      case 'ssl':
      case 'http': {
        const ssl = rng.float() < 30 / 38;
        const state = weighted(rng, WEB_STATES);
        const e = { origH: host, origP: sport, respH: this.external(), respP: ssl ? 443 : 80 };
        const ob = ssl ? 200 + rng.logNormal(1500, 1.2) : 100 + rng.logNormal(500, 0.8);
        const rb = ssl ? 300 + rng.logNormal(8000, 2) : rng.logNormal(5000, 2.2);
        const dur = Math.min(MAX_BG_DURATION, rng.logNormal(ssl ? 3 : 0.4, 1.6));
        // Zeek names the service only once it saw enough of the protocol.
        const named = state === 'SF' || state === 'RSTO' || state === 'RSTR' || state === 'S1';
        return tcpFlow(this, ts, e, named ? (ssl ? 'ssl' : 'http') : '', state, ob, Math.min(rb, 2e8), dur);
      }
      case 'unknown': {
        const e = {
          origH: host, origP: sport, respH: this.external(),
          respP: rng.float() < 0.8 ? rng.pick(APP_PORTS) : rng.int(1024, 65535),
        };
        const ob = rng.logNormal(300, 2);
        const rb = rng.logNormal(800, 2.5);
        const dur = Math.min(MAX_BG_DURATION, rng.logNormal(2, 2));
        if (rng.float() < 0.35) return udpFlow(this, ts, e, '', rng.float() < 0.6, ob, rb, dur, rng.int(1, 20));
        return tcpFlow(this, ts, e, '', weighted(rng, UNKNOWN_STATES), ob, Math.min(rb, 5e7), dur);
      }
      case 'smb': {
        const e = { origH: host, origP: sport, respH: FILE_SERVER, respP: 445 };
        return tcpFlow(this, ts, e, 'smb', weighted(rng, WEB_STATES), 200 + rng.logNormal(5000, 2),
          200 + rng.logNormal(20000, 2.5), Math.min(MAX_BG_DURATION, rng.logNormal(5, 2)));
      }
      case 'icmp': {
        const fl = baseFlow(this, ts, { origH: host, origP: 8, respH: this.external(), respP: 0 }, 'icmp', '');
        const pings = rng.int(1, 10);
        const replied = rng.float() < 0.9;
        fl.history = '-';
        fl.origPkts = pings;
        fl.origIpBytes = pings * 84;
        if (replied) {
          fl.respPkts = pings;
          fl.respIpBytes = pings * 84;
        }
        if (pings > 1 || replied) {
          fl.duration = (pings - 1) + rng.logNormal(0.02, 1);
          fl.origBytes = pings * 56;
          fl.respBytes = replied ? pings * 56 : 0;
        }
        return fl;
      }
      case 'ntp':
        return udpFlow(this, ts, {
          origH: host, origP: rng.float() < 0.5 ? 123 : sport, respH: rng.pick(this.ntpServers), respP: 123,
        }, 'ntp', rng.float() < 0.98, 48, 48, rng.logNormal(0.02, 0.8));
      case 'mdns':
        return udpFlow(this, ts, { origH: host, origP: 5353, respH: MDNS_GROUP, respP: 5353 }, 'dns',
          false, rng.int(40, 400), 0, rng.logNormal(0.5, 1), rng.int(1, 3));
      case 'ssh': {
        const e = { origH: host, origP: sport, respH: rng.pick(this.sshServers), respP: 22 };
        return tcpFlow(this, ts, e, 'ssh', rng.float() < 0.9 ? 'SF' : 'RSTO', 2000 + rng.logNormal(3000, 1.5),
          2000 + rng.logNormal(4000, 1.8), Math.min(MAX_BG_DURATION, rng.logNormal(20, 1.8)));
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Attacks: each is a generator of flows in start-time order.

interface Attack {
  kind: string;
  describe: string;
  count: number;
  start: number;
  flows: Generator<Flow>;
}

interface AttackPlan {
  horizontal: { port: number; targets: number; spanMin: number }[];
  vertical: { ports: number; spanMin: number; internalTarget: boolean }[];
  longConnections: number;
  nonHttp80: number;
  nonSsl443: number;
}

const FULL_PLAN: AttackPlan = {
  horizontal: [
    { port: 23, targets: 3000, spanMin: 10 },
    { port: 445, targets: 2000, spanMin: 20 },
    { port: 3389, targets: 1200, spanMin: 30 },
  ],
  vertical: [
    { ports: 1500, spanMin: 8, internalTarget: false },
    { ports: 1024, spanMin: 2, internalTarget: true },
  ],
  longConnections: 25,
  nonHttp80: 40,
  nonSsl443: 40,
};
const FULL_PLAN_FLOWS = 100_000; // below this many flows, attacks shrink proportionally

function scalePlan(flows: number): AttackPlan {
  const s = Math.min(1, flows / FULL_PLAN_FLOWS);
  const sz = (n: number, min: number): number => Math.max(min, Math.round(n * s));
  return {
    horizontal: FULL_PLAN.horizontal.map((h) => ({ ...h, targets: sz(h.targets, 12) })),
    vertical: FULL_PLAN.vertical.map((v) => ({ ...v, ports: sz(v.ports, 12) })),
    longConnections: sz(FULL_PLAN.longConnections, 2),
    nonHttp80: sz(FULL_PLAN.nonHttp80, 2),
    nonSsl443: sz(FULL_PLAN.nonSsl443, 2),
  };
}

function planFlows(p: AttackPlan): number {
  return p.horizontal.reduce((n, h) => n + h.targets, 0) + p.vertical.reduce((n, v) => n + v.ports, 0)
    + p.longConnections + p.nonHttp80 + p.nonSsl443;
}

class Attacks implements FlowFactory {
  isLocal = isLocalIp;

  constructor(readonly rng: Rng, private readonly book: AddressBook) {}

  private attacker(): string {
    return this.rng.pick(this.book.internal);
  }

  private startTime(): number {
    return TS_START + 3600 + this.rng.float() * (DAY - 3 * 3600);
  }

  all(plan: AttackPlan): Attack[] {
    return [
      ...plan.horizontal.map((h) => this.horizontal(h.port, h.targets, h.spanMin)),
      ...plan.vertical.map((v) => this.vertical(v.ports, v.spanMin, v.internalTarget)),
      this.longConnections(plan.longConnections),
      this.wrongProtocol(80, plan.nonHttp80, 'non-HTTP on 80/tcp'),
      this.wrongProtocol(443, plan.nonSsl443, 'non-SSL on 443/tcp'),
    ];
  }

  /** One source sweeping consecutive addresses of a public range on one port. */
  private horizontal(port: number, targets: number, spanMin: number): Attack {
    const src = this.attacker();
    let base: number;
    do base = (this.rng.u32() & 0xffff0000) >>> 0; while (!isPublic(base | 1));
    const start = this.startTime();
    const self = this;
    function* gen(): Generator<Flow> {
      const rng = self.rng;
      let t = start;
      let n = base + 1;
      for (let i = 0; i < targets; i++, n++) {
        if ((n & 255) === 0 || (n & 255) === 255) n += 2;
        t += rng.exp((spanMin * 60) / targets);
        const e = { origH: src, origP: ephemeralPort(rng), respH: ipStr(n >>> 0), respP: port };
        yield tcpFlow(self, t, e, '', rng.float() < 0.7 ? 'S0' : 'REJ', 0, 0, 0);
      }
    }
    return {
      kind: 'horizontal scan', count: targets, start, flows: gen(),
      describe: `${src} -> ${targets} IPs in ${ipStr(base).replace(/\.0\.0$/, '.0.0/16')} on ${port}/tcp (S0/REJ)`,
    };
  }

  /** One source probing many ports of one IP (connect scan: closed REJ, open RSTO, filtered S0). */
  private vertical(ports: number, spanMin: number, internalTarget: boolean): Attack {
    const src = this.attacker();
    const dst = internalTarget ? FILE_SERVER : this.book.newPublic();
    const start = this.startTime();
    const self = this;
    function* gen(): Generator<Flow> {
      const rng = self.rng;
      // Distinct ports: 1..1024 first (shuffled), then random higher ones.
      const chosen = new Set<number>();
      const list: number[] = [];
      for (let p = 1; p <= Math.min(1024, ports); p++) list.push(p);
      for (let i = list.length - 1; i > 0; i--) {
        const j = rng.int(0, i);
        [list[i], list[j]] = [list[j]!, list[i]!];
      }
      for (const p of list) chosen.add(p);
      while (list.length < ports) {
        const p = rng.int(1025, 65535);
        if (!chosen.has(p)) {
          chosen.add(p);
          list.push(p);
        }
      }
      let t = start;
      for (const port of list) {
        t += rng.exp((spanMin * 60) / ports);
        const e = { origH: src, origP: ephemeralPort(rng), respH: dst, respP: port };
        const r = rng.float();
        if (r < 0.02) {
          const fl = tcpFlow(self, t, e, '', 'RSTO', 0, 0, 0);
          fl.history = 'ShAR';
          fl.duration = rng.logNormal(0.05, 1);
          fl.origPkts = 3;
          fl.origIpBytes = SYN_HDR + 2 * TCP_HDR;
          fl.respPkts = 1;
          fl.respIpBytes = SYN_HDR;
          yield fl;
        } else {
          yield tcpFlow(self, t, e, '', r < 0.04 ? 'S0' : 'REJ', 0, 0, 0);
        }
      }
    }
    return {
      kind: 'vertical scan', count: ports, start, flows: gen(),
      describe: `${src} -> ${ports} ports of ${dst} (REJ/RSTO/S0)`,
    };
  }

  /** Connections lasting 1,600 s to 8 h (state S1 if still open, SF otherwise). */
  private longConnections(count: number): Attack {
    const self = this;
    const starts = Array.from({ length: count }, () => this.startTime()).sort((a, b) => a - b);
    const hosts = Array.from({ length: count }, () => this.attacker());
    function* gen(): Generator<Flow> {
      const rng = self.rng;
      for (let i = 0; i < count; i++) {
        const [service, port] = rng.pick([['ssl', 443], ['ssh', 22], ['', 5222], ['', 1194]] as const);
        const e = { origH: hosts[i]!, origP: ephemeralPort(rng), respH: self.book.newPublic(), respP: port };
        const dur = 1600 + rng.float() * (8 * 3600 - 1600);
        const ob = dur * rng.logNormal(50, 1);
        yield tcpFlow(self, starts[i]!, e, service, rng.float() < 0.3 ? 'S1' : 'SF', ob, ob * rng.logNormal(3, 1), dur);
      }
    }
    return { kind: 'long connections', count, start: starts[0]!, flows: gen(), describe: `${count} flows of 1600 s to 8 h` };
  }

  /** Established TCP with data on a well-known port, without that port's protocol (service unset). */
  private wrongProtocol(port: number, count: number, kind: string): Attack {
    const src = this.attacker();
    const dsts = Array.from({ length: 3 }, () => this.book.newPublic());
    const start = this.startTime();
    const self = this;
    function* gen(): Generator<Flow> {
      const rng = self.rng;
      let t = start;
      for (let i = 0; i < count; i++) {
        t += rng.exp(600); // beacon-like, every ~10 min
        const e = { origH: src, origP: ephemeralPort(rng), respH: rng.pick(dsts), respP: port };
        yield tcpFlow(self, t, e, '', 'SF', rng.int(200, 5000), rng.int(100, 20000), rng.logNormal(5, 1));
      }
    }
    return { kind, count, start, flows: gen(), describe: `${src} -> ${dsts.join(', ')}: ${count} flows` };
  }
}

// ---------------------------------------------------------------------------------------------
// Reordering: Zeek writes a flow when it ends, so lines come out ordered by (capped) end time.

interface Pending {
  at: number;
  seq: number;
  flow: Flow;
}

class MinHeap {
  private readonly items: Pending[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): Pending | undefined {
    return this.items[0];
  }

  push(p: Pending): void {
    const a = this.items;
    a.push(p);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(a[i]!, a[parent]!)) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }

  pop(): Pending {
    const a = this.items;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && less(a[l]!, a[m]!)) m = l;
        if (r < a.length && less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

function less(x: Pending, y: Pending): boolean {
  return x.at < y.at || (x.at === y.at && x.seq < y.seq);
}

// ---------------------------------------------------------------------------------------------
// Output

const TSV_FIELDS = 'ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\t'
  + 'resp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\t'
  + 'resp_pkts\tresp_ip_bytes\ttunnel_parents';
const TSV_TYPES = 'time\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\t'
  + 'count\tstring\tcount\tcount\tcount\tcount\tset[string]';

function zeekDate(ts: number): string {
  const d = new Date(ts * 1000);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}-`
    + `${p(d.getUTCHours())}-${p(d.getUTCMinutes())}-${p(d.getUTCSeconds())}`;
}

function tsvHeader(openTs: number): string {
  return '#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n'
    + `#open\t${zeekDate(openTs)}\n#fields\t${TSV_FIELDS}\n#types\t${TSV_TYPES}\n`;
}

function tsvLine(f: Flow): string {
  const set = f.duration !== null;
  return `${f.ts.toFixed(6)}\t${f.uid}\t${f.origH}\t${f.origP}\t${f.respH}\t${f.respP}\t${f.proto}\t`
    + `${f.service || '-'}\t${set ? f.duration!.toFixed(6) : '-'}\t${set ? f.origBytes : '-'}\t`
    + `${set ? f.respBytes : '-'}\t${f.state}\t${f.localOrig ? 'T' : 'F'}\t${f.localResp ? 'T' : 'F'}\t0\t`
    + `${f.history}\t${f.origPkts}\t${f.origIpBytes}\t${f.respPkts}\t${f.respIpBytes}\t-\n`;
}

/** Zeek's JSON writer: unset fields are left out. */
function jsonLine(f: Flow): string {
  const set = f.duration !== null;
  return `{"ts":${+f.ts.toFixed(6)},"uid":"${f.uid}","id.orig_h":"${f.origH}","id.orig_p":${f.origP},`
    + `"id.resp_h":"${f.respH}","id.resp_p":${f.respP},"proto":"${f.proto}",`
    + (f.service ? `"service":"${f.service}",` : '')
    + (set ? `"duration":${+f.duration!.toFixed(6)},"orig_bytes":${f.origBytes},"resp_bytes":${f.respBytes},` : '')
    + `"conn_state":"${f.state}","local_orig":${f.localOrig},"local_resp":${f.localResp},"missed_bytes":0,`
    + `"history":"${f.history}","orig_pkts":${f.origPkts},"orig_ip_bytes":${f.origIpBytes},`
    + `"resp_pkts":${f.respPkts},"resp_ip_bytes":${f.respIpBytes}}\n`;
}

// ---------------------------------------------------------------------------------------------

interface Options {
  flows: number;
  out: string;
  format: 'tsv' | 'json';
  seed: number;
}

const USAGE = 'usage: node dist/bench/generateConnLog.js --flows N --out FILE [--format tsv|json] [--seed N]';
const MIN_FLOWS = 200;

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      flows: { type: 'string', default: '1000000' },
      out: { type: 'string' },
      format: { type: 'string', default: 'tsv' },
      seed: { type: 'string', default: '42' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const flows = Number(values.flows);
  const seed = Number(values.seed);
  const format = values.format;
  const fail = (msg: string): never => {
    console.error(`generateConnLog: ${msg}\n${USAGE}`);
    process.exit(2);
  };
  if (!values.out) fail('--out is required');
  if (!Number.isInteger(flows) || flows < MIN_FLOWS) fail(`--flows must be an integer >= ${MIN_FLOWS}`);
  if (!Number.isInteger(seed)) fail('--seed must be an integer');
  if (format !== 'tsv' && format !== 'json') fail('--format must be tsv or json');
  return { flows, out: values.out!, format: format as 'tsv' | 'json', seed };
}

async function main(): Promise<void> {
  const opts = parseOptions();
  const started = performance.now();
  const rng = new Rng(opts.seed);
  const book = new AddressBook(rng, 2000, 50_000);
  const background = new Background(rng, book);
  const attacksFactory = new Attacks(rng, book);
  const plan = scalePlan(opts.flows);
  const attacks = attacksFactory.all(plan);
  const bgCount = opts.flows - planFlows(plan);

  const sources = [background.flows(bgCount), ...attacks.map((a) => a.flows)];
  const heads: (Flow | undefined)[] = sources.map((s) => s.next().value as Flow | undefined);

  mkdirSync(dirname(opts.out), { recursive: true });
  const tmp = `${opts.out}.tmp`;
  const out = createWriteStream(tmp);
  const line = opts.format === 'tsv' ? tsvLine : jsonLine;
  let chunk = opts.format === 'tsv' ? tsvHeader(TS_START) : '';
  const write = async (): Promise<void> => {
    if (!out.write(chunk)) await once(out, 'drain');
    chunk = '';
  };

  const heap = new MinHeap();
  const hosts = new Set<string>();
  const externals = new Set<string>();
  const states = new Map<string, number>();
  let seq = 0;
  let written = 0;
  let lastTs = 0;
  let backwards = 0;
  let maxBack = 0;
  let maxTs = 0;

  const emit = (f: Flow): void => {
    chunk += line(f);
    written++;
    if (f.ts < lastTs) {
      backwards++;
      maxBack = Math.max(maxBack, lastTs - f.ts);
    } else {
      lastTs = f.ts;
    }
    maxTs = Math.max(maxTs, f.ts);
    for (const ip of [f.origH, f.respH]) (isLocalIp(ip) ? hosts : externals).add(ip);
    states.set(f.state, (states.get(f.state) ?? 0) + 1);
  };

  for (;;) {
    let k = -1;
    for (let i = 0; i < heads.length; i++) {
      if (heads[i] && (k < 0 || heads[i]!.ts < heads[k]!.ts)) k = i;
    }
    const now = k < 0 ? Infinity : heads[k]!.ts;
    while (heap.size > 0 && heap.peek()!.at <= now) emit(heap.pop().flow);
    if (chunk.length > 1 << 16) await write();
    if (k < 0) break;
    const f = heads[k]!;
    heap.push({ at: f.ts + Math.min(f.duration ?? 0, WRITE_DELAY_CAP), seq: seq++, flow: f });
    heads[k] = sources[k]!.next().value as Flow | undefined;
  }
  if (opts.format === 'tsv') chunk += `#close\t${zeekDate(Math.ceil(maxTs))}\n`;
  await write();
  out.end();
  await finished(out);
  renameSync(tmp, opts.out);

  const secs = (performance.now() - started) / 1000;
  const mix = [...states].sort((a, b) => b[1] - a[1]).map(([s, n]) => `${s} ${((100 * n) / written).toFixed(1)}%`);
  console.error([
    `generateConnLog: wrote ${written} flows (${opts.format}, seed ${opts.seed}) to ${opts.out} in ${secs.toFixed(1)} s`,
    `  network time ${new Date(TS_START * 1000).toISOString()} .. ${new Date(maxTs * 1000).toISOString()}`,
    `  ${hosts.size} internal hosts (192.168.0.0/16, 10.0.0.0/8), ${externals.size} external IPs`
      + ` (${book.external.length} background pool + servers + scan targets)`,
    `  conn_state: ${mix.join(', ')}`,
    `  out of order: ${backwards} lines, at most ${maxBack.toFixed(1)} s behind (Zeek writes flows when they end)`,
    `  background: ${bgCount} flows`,
    ...attacks.map((a) => `  attack: ${a.kind} at ${new Date(a.start * 1000).toISOString()}: ${a.describe}`),
  ].join('\n'));
}

await main();
