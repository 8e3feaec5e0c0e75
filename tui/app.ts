// The TUI application: owns the state (focus, selection by IP/TW id, views, search, filters, prompts),
// dispatches keys, reacts to live Redis messages and the 1 Hz poll, loads the data of the open view,
// and renders at most once per refresh interval (coalesced dirty flag). Data access is in data/,
// drawing in view/, the core child and private redis-server in core/.

import blessed from 'blessed';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { RedisConnection, type Channel, type Endpoint } from './data/connection.js';
import { Model, TREE_SORTS, type Profile, type TreeFilter } from './data/model.js';
import { isObject, num, parseJson, splitProfileTw, str, type AggItem, type EvidenceItem, type JsonObject, type TimelineItem } from './data/parse.js';
import { DbReader, PROFILE_CHUNK, analysisOf, type AlertItem, type TwStats } from './data/reader.js';
import { CoreChild, START_GRACE_MS } from './core/child.js';
import { RdbServer } from './core/rdbServer.js';
import { waitForRedis } from './core/processes.js';
import { HELP_KEYS } from './keymap.js';
import { sanitize } from './sanitize.js';
import { compact, fit, hhmm, hhmmss, textWidth } from './text.js';
import type { Segment } from './view/canvas.js';
import { Canvas } from './view/canvas.js';
import { drawFrame, type FrameContent, type PaneContent } from './view/frame.js';
import { ASCII_GLYPHS, UNICODE_GLYPHS, computeLayout, tooSmallText, type Glyphs, type Layout } from './view/layout.js';
import {
  AGG_DIMS, AGG_METRICS, AGG_STATES, NOT_IN_DB, VIEW_NAMES,
  aggFromTimeline, aggRows, aggregate, alertRows, evidenceRows, fitTitle, flowRows, graphRows, logRows, summaryRows, timelineRows, tupleRows, twLabel,
  type AggMetric, type AggState, type TwSeries, type ViewId,
} from './view/mainViews.js';
import { noteRow, packFields, wrap, type ViewRow } from './view/rows.js';
import { flattenTree, renderProfileRow, renderTwRow, treeRowId, type TreeRow } from './view/tree.js';

export interface AppOptions {
  ascii: boolean;
  mono: boolean;
  refreshMs: number;
  letters: number;
  repoRoot: string;
  /** attach to this Redis */
  endpoint?: Endpoint;
  /** browse this dump read-only */
  rdbPath?: string;
  /** run the core with these args */
  coreArgs?: string[];
}

type Pane = 'tree' | 'main' | 'detail';
type PromptKind = 'search' | 'goto' | 'filter' | 'minScore' | 'database';
type MenuKind = 'filter' | 'core' | 'quit';

interface Prompt {
  kind: PromptKind;
  text: string;
}

interface Selection {
  ip: string;
  tw: string | undefined;
}

/** Raw data of the open view; rows are rebuilt from it when display options change. */
interface Loaded {
  key: string;
  timeline?: TimelineItem[];
  timelineTotal?: number;
  flows?: string[];
  tuples?: Array<[string, string]>;
  evidence?: EvidenceItem[];
  alerts?: AlertItem[];
  alertEvidence?: Map<string, EvidenceItem>;
  stats?: TwStats;
  aggCounts?: { dstIps: number; dstPorts: number };
  agg?: AggItem[];
  aggFallback?: boolean;
  series?: TwSeries[];
  topPorts?: AggItem[];
  topIps?: AggItem[];
  error?: string;
}

interface ListState {
  cursor: string | undefined;
  index: number;
  top: number;
}

const VIEW_KEYS: readonly ViewId[] = ['1', '2', '3', '4', '5', '6', '7', '8', '9', 'L'];
const POLL_MS = 1000;
const PROFILE_FLUSH_MS = 200;
const DETAIL_DEBOUNCE_MS = 100;
const TICK_FRESH_MS = 3000;
const HINTS = ' ?help /find f filter s sort Enter open Tab pane 1-9 view c core r reload q quit';

export class App {
  private readonly screen: blessed.Widgets.Screen;
  private readonly box: blessed.Widgets.BoxElement;
  private readonly glyphs: Glyphs;
  private readonly model = new Model();
  private connection: RedisConnection | undefined;
  private reader: DbReader | undefined;
  private rdb: RdbServer | undefined;
  private child: CoreChild | undefined;
  private sourceGen = 0;
  private replacingCore = false;

  // connection and counters
  private redisUp = false;
  private everConnected = false;
  private retries = 0;
  private paused = false;
  private newWhilePaused = 0;
  private lastTickAt = 0;
  private modifiedSince = 0;
  private flowsPerSecond = 0;
  private lastProcessed: { at: number; value: number } | undefined;
  private attachedStopping = false;

  // tree
  private readonly expanded = new Set<string>();
  private treeRows: TreeRow[] = [];
  private treeIndex = new Map<string, number>();
  private treeDirty = true;
  private readonly tree: ListState = { cursor: undefined, index: 0, top: 0 };

  // main view
  private focus: Pane = 'tree';
  private view: ViewId = '6';
  private wide = false;
  private hscroll = 0;
  private evidenceAll = false;
  private aggDim = 0;
  private aggState: AggState = 'all';
  private aggMetric: AggMetric = 'flows';
  private aggLog = false;
  private alertDrill: AlertItem | undefined;
  private readonly timelineExpanded = new Set<string>();
  private loaded: Loaded = { key: '' };
  private loadingKey = '';
  private viewStale = false;
  private rows: ViewRow[] = [];
  private rowsDirty = true;
  private readonly mainLists = new Map<string, ListState>();
  private mainSort: { column: string | undefined; reverse: boolean } = { column: undefined, reverse: false };
  private mainFilter = '';

  // detail
  private detailMode: 'ip' | 'row' = 'ip';
  private detailInfo: { ip: string; fields: Record<string, string> } | undefined;
  private detailTimer: NodeJS.Timeout | undefined;
  private detailTop = 0;

  // prompts and overlays
  private prompt: Prompt | undefined;
  private menu: MenuKind | undefined;
  private help = false;
  private search = '';
  private message: { text: string; until: number } | undefined;

  // scheduling
  private dirty = true;
  private renderTimer: NodeJS.Timeout | undefined;
  private lastRender = 0;
  private pollTimer: NodeJS.Timeout | undefined;
  private profileTimer: NodeJS.Timeout | undefined;
  private readonly pendingProfiles = new Set<string>();
  private loadingAll = false;
  private quitting = false;
  private lastCanvas: Canvas | undefined;

  constructor(private readonly options: AppOptions) {
    this.glyphs = options.ascii ? ASCII_GLYPHS : UNICODE_GLYPHS;
    this.screen = blessed.screen({ smartCSR: true, fullUnicode: !options.ascii, autoPadding: false, warnings: false, dockBorders: false });
    this.box = blessed.box({ parent: this.screen, top: 0, left: 0, width: '100%', height: '100%', tags: true, wrap: false });
    // Box lines are drawn as UTF-8 characters, never through the terminal's ACS charset switch.
    (this.screen as unknown as { tput: { brokenACS: boolean } }).tput.brokenACS = true;
    this.screen.program.hideCursor();
    this.screen.on('resize', () => this.invalidate());
    this.screen.on('keypress', (ch: string | undefined, key: blessed.Widgets.Events.IKeyEventArg | undefined) => {
      this.onKey(ch, key);
    });
  }

  // ============================================================== start / stop

  async start(): Promise<void> {
    this.render();
    const o = this.options;
    if (o.coreArgs !== undefined) {
      await this.startCore();
    } else if (o.rdbPath !== undefined) {
      await this.openRdb(o.rdbPath);
    } else {
      this.nextSource();
      this.connect(o.endpoint ?? { host: '127.0.0.1', port: 6379, db: 0 });
    }
    this.pollTimer = setInterval(() => void this.poll(), POLL_MS);
  }

  private connect(endpoint: Endpoint): void {
    this.connection?.close();
    this.redisUp = false;
    this.everConnected = false;
    const connection = new RedisConnection(endpoint, {
      onState: (up, retries) => {
        if (connection !== this.connection) return;
        const wasUp = this.redisUp;
        this.redisUp = up;
        this.retries = retries;
        if (up && !wasUp) {
          this.everConnected = true;
          void this.reloadAll();
        }
        this.invalidate();
      },
      onMessage: (channel, payload) => {
        if (connection === this.connection) this.onMessage(channel, payload);
      },
    });
    this.connection = connection;
    this.reader = new DbReader(connection.cmd);
    void connection.start();
  }

  /** Starts a new data source; async steps of an older one see that they are outdated. */
  private nextSource(): number {
    this.sourceGen += 1;
    return this.sourceGen;
  }

  private async openRdb(rdbPath: string, gen = this.nextSource()): Promise<void> {
    try {
      const server = await RdbServer.start(rdbPath);
      if (gen !== this.sourceGen || this.quitting) {
        await server.stop();
        return;
      }
      const previous = this.rdb;
      this.rdb = server;
      this.connect({ host: '127.0.0.1', port: server.port, db: 0 });
      await previous?.stop();
    } catch (error) {
      if (gen === this.sourceGen) this.say(`cannot open ${rdbPath}: ${(error as Error).message}`, 10_000);
    }
  }

  private async startCore(): Promise<void> {
    const args = this.options.coreArgs;
    if (args === undefined) {
      this.say('no core arguments: start kalipso with --run -- <args> or -f <file>');
      return;
    }
    if (this.child?.isAlive === true) {
      this.say('the core is already running');
      return;
    }
    const gen = this.nextSource();
    this.child?.close();
    const child = new CoreChild(this.options.repoRoot, args, () => {
      if (child === this.child) this.onChildChange();
    });
    this.child = child;
    this.connection?.close();
    this.connection = undefined;
    this.redisUp = false;
    const oldRdb = this.rdb;
    this.rdb = undefined;
    await oldRdb?.stop();
    this.model.clear();
    this.model.counters = { processed: 0, total: 0, evidence: 0, alerts: 0, profiles: 0, moreFlows: false };
    this.model.analysis = analysisOf({});
    this.lastProcessed = undefined;
    this.flowsPerSecond = 0;
    this.expanded.clear();
    this.loaded = { key: '' };
    this.treeDirty = true;
    this.rowsDirty = true;
    await child.start();
    this.invalidate();
    // The core counts as running once the Redis server it starts answers (checked every 50 ms): its
    // analysis hash follows within milliseconds, and a run of a fraction of a second (the core
    // writes `analysis` only ~20 ms before the end of a 50-flow file) still shows its state and PID.
    await waitForRedis('127.0.0.1', child.port, START_GRACE_MS, undefined, () => !child.isAlive || gen !== this.sourceGen).catch(() => undefined);
    if (gen !== this.sourceGen || !child.isAlive) return;
    child.markRunning();
    this.dirty = true;
    this.render();
    this.connect({ host: '127.0.0.1', port: child.port, db: 0 });
  }

  /** The child exited: its Redis is gone, so browse the dump it saved. */
  private onChildChange(): void {
    const child = this.child;
    if (child === undefined) return;
    if (child.state === 'exited' || child.state === 'crashed') {
      const dump = path.join(child.outputDir, 'databases', 'dump.rdb');
      const gen = this.nextSource();
      this.connection?.close();
      this.connection = undefined;
      this.redisUp = false;
      if (!this.quitting && !this.replacingCore && existsSync(dump)) void this.openRdb(dump, gen);
    }
    this.dirty = true;
    this.render();
  }

  private async quit(stopCore: boolean): Promise<void> {
    if (this.quitting) return;
    this.quitting = true;
    if (this.pollTimer !== undefined) clearInterval(this.pollTimer);
    if (this.profileTimer !== undefined) clearTimeout(this.profileTimer);
    if (this.detailTimer !== undefined) clearTimeout(this.detailTimer);
    if (this.child?.isAlive === true) {
      if (stopCore) {
        this.render();
        await this.child.stop();
        this.child.close();
      } else {
        this.child.detach();
      }
    } else {
      this.child?.close();
    }
    this.connection?.close();
    await this.rdb?.stop();
    if (this.renderTimer !== undefined) clearTimeout(this.renderTimer);
    this.screen.program.showCursor();
    this.screen.destroy();
    process.exit(0);
  }

  /** SIGTERM / SIGHUP: quit and stop the core, leaving nothing running. */
  terminate(): void {
    void this.quit(true);
  }

  /** A bug: restore the terminal, stop what we started, print the error, exit 1. */
  async crash(error: unknown): Promise<void> {
    if (this.pollTimer !== undefined) clearInterval(this.pollTimer);
    this.quitting = true;
    this.screen.destroy();
    process.stderr.write(`kalipso: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    await this.child?.stop().catch(() => undefined);
    this.connection?.close();
    await this.rdb?.stop().catch(() => undefined);
    process.exit(1);
  }

  // ============================================================== data loading

  private async reloadAll(): Promise<void> {
    const reader = this.reader;
    if (reader === undefined || this.loadingAll) return;
    this.loadingAll = true;
    try {
      const polled = await reader.poll(0);
      if (reader !== this.reader) return;
      this.applyPoll(polled);
      const keys = await reader.profileKeys();
      const known = new Set(keys.map(([k]) => (k.startsWith('profile_') ? k.slice(8) : k)));
      for (const ip of [...this.model.profiles.keys()]) if (!known.has(ip)) this.model.profiles.delete(ip);
      for (let i = 0; i < keys.length; i += PROFILE_CHUNK) {
        await this.loadProfiles(keys.slice(i, i + PROFILE_CHUNK));
        this.treeDirty = true;
        this.invalidate();
      }
      this.model.invalidateOrder();
      this.treeDirty = true;
      this.rebuildTree();
      await this.ensureSelectionTws();
      this.viewStale = true;
      void this.loadView();
      this.scheduleDetail();
    } catch {
      // connection lost mid-way: the state flag shows it; the next reconnect reloads
    } finally {
      this.loadingAll = false;
      this.invalidate();
    }
  }

  private async loadProfiles(keys: ReadonlyArray<[string, number]>): Promise<void> {
    const reader = this.reader;
    if (reader === undefined) return;
    const profiles = await reader.profiles(keys, this.blockedSet());
    const needTws: string[] = [];
    for (const p of profiles) {
      const old = this.model.profiles.get(p.ip);
      if (!Number.isFinite(p.firstSeen) && old !== undefined) p.firstSeen = old.firstSeen;
      if (p.tws === undefined && old?.tws !== undefined) {
        p.tws = old.tws;
        needTws.push(p.ip);
      }
      this.model.upsert(p);
    }
    for (const ip of needTws) await this.loadTws(ip);
    this.treeDirty = true;
  }

  private blockedSet(): Set<string> {
    return this.model.blocked;
  }

  private async loadTws(ip: string): Promise<void> {
    const reader = this.reader;
    const profile = this.model.profiles.get(ip);
    if (reader === undefined || profile === undefined) return;
    profile.tws = await reader.profileTws(ip);
    this.treeDirty = true;
    this.invalidate();
  }

  /** TWs of the selected profile are needed to know its newest TW. */
  private async ensureSelectionTws(): Promise<void> {
    const sel = this.selection();
    if (sel === undefined) return;
    const p = this.model.profiles.get(sel.ip);
    if (p !== undefined && p.tws === undefined) await this.loadTws(sel.ip).catch(() => undefined);
  }

  private queueProfile(ip: string): void {
    this.pendingProfiles.add(ip);
    if (this.profileTimer !== undefined) return;
    this.profileTimer = setTimeout(() => {
      this.profileTimer = undefined;
      const ips = [...this.pendingProfiles];
      this.pendingProfiles.clear();
      const keys = ips.map((ip): [string, number] => [`profile_${ip}`, this.model.profiles.get(ip)?.firstSeen ?? NaN]);
      void (async () => {
        try {
          for (let i = 0; i < keys.length; i += PROFILE_CHUNK) await this.loadProfiles(keys.slice(i, i + PROFILE_CHUNK));
          for (const ip of ips) if (this.expanded.has(ip) || ip === this.selection()?.ip) await this.loadTws(ip);
          this.model.invalidateOrder();
          this.treeDirty = true;
          this.invalidate();
        } catch {
          // shown as stale; reloaded on reconnect
        }
      })();
    }, PROFILE_FLUSH_MS);
  }

  private onMessage(channel: Channel, payload: JsonObject): void {
    if (this.paused) {
      if (channel === 'new_profile') {
        this.newWhilePaused += 1;
        this.invalidate();
      }
      return;
    }
    const sel = this.selection();
    const touches = (ip: string, twNumber: number | undefined): void => {
      this.queueProfile(ip);
      if (sel !== undefined && sel.ip === ip && (twNumber === undefined || this.evidenceAll || sel.tw === `timewindow${twNumber}`)) {
        this.viewStale = true;
        void this.loadView();
      }
    };
    switch (channel) {
      case 'new_profile': {
        const text = str(payload.text);
        if (text !== '') this.queueProfile(text.startsWith('profile_') ? text.slice(8) : text);
        break;
      }
      case 'evidence_added':
      case 'new_alert': {
        const ip = profileIpOf(payload.profile ?? payload.profileid);
        if (ip !== '') touches(ip, twNumberOf(payload.timewindow ?? payload.twid));
        break;
      }
      case 'tw_closed': {
        const split = splitProfileTw(str(payload.text));
        if (split !== undefined) touches(split[0], Number(split[1].replace('timewindow', '')));
        break;
      }
      case 'tui:tick': {
        this.lastTickAt = Date.now();
        const changed = Array.isArray(payload.changed) ? payload.changed.map(str) : [];
        this.onChanged(changed);
        break;
      }
      case 'control_channel':
        if (str(payload.text) === 'stop_slips') {
          if (this.child === undefined) this.attachedStopping = true;
          this.invalidate();
        }
        break;
    }
  }

  private onChanged(keys: readonly string[]): void {
    const sel = this.selection();
    let selectedChanged = false;
    for (const key of keys) {
      const split = splitProfileTw(key);
      if (split === undefined) continue;
      this.queueProfile(split[0]);
      if (sel !== undefined && split[0] === sel.ip && (sel.tw === split[1] || this.evidenceAll || this.view === '9')) selectedChanged = true;
    }
    if (selectedChanged) {
      this.viewStale = true;
      void this.loadView();
    }
  }

  private async poll(): Promise<void> {
    if (this.child !== undefined) {
      if (this.child.readLog() && this.view === 'L') {
        this.rowsDirty = true;
        this.invalidate();
      }
      if (this.child.state === 'starting' && Date.now() - this.child.startedAt > START_GRACE_MS) this.child.markRunning();
    }
    if (this.message !== undefined && Date.now() > this.message.until) {
      this.message = undefined;
      this.invalidate();
    }
    const reader = this.reader;
    if (reader === undefined || !this.redisUp || this.paused) {
      this.invalidate();
      return;
    }
    try {
      const polled = await reader.poll(this.modifiedSince);
      if (reader !== this.reader) return; // the source changed meanwhile
      this.applyPoll(polled);
      if (Date.now() - this.lastTickAt > TICK_FRESH_MS && polled.modified.length > 0) this.onChanged(polled.modified.map(([k]) => k));
      for (const [, ts] of polled.modified) this.modifiedSince = Math.max(this.modifiedSince, ts);
      if (polled.counters.profiles > this.model.profiles.size && !this.loadingAll) {
        const keys = await reader.profileKeys();
        const missing = keys.filter(([k]) => !this.model.profiles.has(k.startsWith('profile_') ? k.slice(8) : k));
        for (let i = 0; i < missing.length; i += PROFILE_CHUNK) await this.loadProfiles(missing.slice(i, i + PROFILE_CHUNK));
        this.model.invalidateOrder();
        this.treeDirty = true;
      }
    } catch {
      // the connection state flag shows the problem
    }
    this.invalidate();
  }

  private applyPoll(polled: Awaited<ReturnType<DbReader['poll']>>): void {
    const now = Date.now();
    const processed = polled.counters.processed;
    if (this.lastProcessed !== undefined && now > this.lastProcessed.at) {
      const dt = (now - this.lastProcessed.at) / 1000;
      const rate = Math.max(0, processed - this.lastProcessed.value) / dt;
      this.flowsPerSecond += (1 - Math.exp(-dt / 5)) * (rate - this.flowsPerSecond);
    }
    this.lastProcessed = { at: now, value: processed };
    this.model.counters = polled.counters;
    this.model.analysis = polled.analysis;
    const blocked = new Set(polled.blocked);
    if ([...blocked].join() !== [...this.model.blocked].join()) {
      this.model.blocked = blocked;
      for (const p of this.model.profiles.values()) p.blocked = blocked.has(`profile_${p.ip}`) || blocked.has(p.ip);
      this.model.invalidateOrder();
      this.treeDirty = true;
    }
    const child = this.child;
    const analysisPid = polled.analysis.pid;
    if (child?.state === 'starting' && (analysisPid === child.pid || (analysisPid === 0 && polled.analysis.name !== ''))) {
      child.markRunning();
      this.dirty = true;
      this.render(); // shown at once: a short run may end within the next refresh interval
    }
  }

  // ============================================================== selection and view data

  private rebuildTree(): void {
    if (!this.treeDirty) return;
    this.treeDirty = false;
    this.treeRows = flattenTree(this.model, this.expanded);
    this.treeIndex = new Map(this.treeRows.map((r, i) => [treeRowId(r), i]));
    const found = this.tree.cursor !== undefined ? this.treeIndex.get(this.tree.cursor) : undefined;
    if (found !== undefined) {
      this.tree.top += found - this.tree.index; // keep the selected row where it was on screen
      this.tree.index = found;
    } else {
      this.tree.index = Math.min(this.tree.index, Math.max(0, this.treeRows.length - 1));
      const row = this.treeRows[this.tree.index];
      const before = this.tree.cursor;
      this.tree.cursor = row !== undefined ? treeRowId(row) : undefined;
      if (before !== this.tree.cursor) this.onTreeCursor();
    }
  }

  /** The IP and TW the main view shows: the tree cursor (an IP row means its newest TW). */
  private selection(): Selection | undefined {
    const row = this.treeRows[this.tree.index];
    if (row === undefined) return undefined;
    if (row.tw !== undefined) return { ip: row.ip, tw: row.tw.name };
    const tws = this.model.profiles.get(row.ip)?.tws;
    return { ip: row.ip, tw: tws !== undefined && tws.length > 0 ? tws[tws.length - 1].name : undefined };
  }

  private onTreeCursor(): void {
    this.alertDrill = undefined;
    void this.ensureSelectionTws().then(() => this.loadView());
    this.scheduleDetail();
  }

  private viewKey(): string {
    const sel = this.selection();
    const drill = this.alertDrill?.id ?? '';
    return `${this.view}|${sel?.ip ?? ''}|${sel?.tw ?? ''}|${this.evidenceAll}|${this.aggDim}|${drill}`;
  }

  private async loadView(): Promise<void> {
    const key = this.viewKey();
    if (key === this.loaded.key && !this.viewStale) return;
    if (key === this.loadingKey) return;
    this.loadingKey = key;
    this.viewStale = false;
    const loaded = await this.fetchView(key).catch((error: Error): Loaded => ({ key, error: error.message }));
    if (this.loadingKey === key) this.loadingKey = '';
    if (key !== this.viewKey()) {
      void this.loadView();
      return;
    }
    if (loaded.error !== undefined && this.loaded.key === key) return; // keep stale data
    this.loaded = loaded;
    this.rowsDirty = true;
    this.invalidate();
    if (this.viewStale) void this.loadView();
  }

  private async fetchView(key: string): Promise<Loaded> {
    const reader = this.reader;
    const sel = this.selection();
    if (this.view === 'L') return { key };
    if (reader === undefined || sel === undefined) return { key };
    const profile = this.model.profiles.get(sel.ip);
    const allTws = profile?.tws?.map((t) => t.name) ?? [];
    const tw = sel.tw;
    if (tw === undefined) return { key };
    const redis = this.connection?.cmd;
    switch (this.view) {
      case '1': {
        const [stats] = await reader.twStats(sel.ip, [tw]);
        const evidence = await reader.evidence(sel.ip, [tw]);
        const alerts = await reader.alerts(sel.ip, [tw]);
        const ports = await reader.agg(sel.ip, tw, 'dport:client');
        const ips = await reader.agg(sel.ip, tw, 'daddr:client');
        const aggCounts = ports !== undefined || ips !== undefined ? { dstIps: aggregate(ips ?? [], 'all', 'flows', false).length, dstPorts: aggregate(ports ?? [], 'all', 'flows').length } : undefined;
        const fallback = stats.exists ? undefined : (await reader.timeline(sel.ip, tw)).items;
        return { key, stats, evidence, alerts, aggCounts, timeline: fallback };
      }
      case '2': {
        const t = await reader.timeline(sel.ip, tw);
        return { key, timeline: t.items, timelineTotal: t.total };
      }
      case '3': {
        const flows = redis !== undefined ? await redis.lrange(`profile_${sel.ip}_${tw}:flows`, -5000, -1).catch(() => []) : [];
        if (flows.length > 0) return { key, flows };
        const t = await reader.timeline(sel.ip, tw);
        return { key, timeline: t.items, timelineTotal: t.total };
      }
      case '4':
      case '5': {
        const which = this.view === '4' ? 'OutTuples' : 'InTuples';
        const tuples: Record<string, string> = redis !== undefined ? await redis.hgetall(`profile_${sel.ip}_${tw}:${which}:symbols`).catch(() => ({})) : {};
        let entries: Array<[string, string]> = Object.entries(tuples);
        if (entries.length === 0 && redis !== undefined) {
          const old = await redis.hget(`profile_${sel.ip}_${tw}`, which).catch(() => null);
          const parsed = old !== null ? parseJson(old) : undefined;
          if (isObject(parsed)) entries = Object.entries(parsed).map(([k, v]): [string, string] => [k, JSON.stringify(v)]);
        }
        return { key, tuples: entries };
      }
      case '6': {
        const tws = this.evidenceAll ? allTws : [tw];
        return { key, evidence: await reader.evidence(sel.ip, tws) };
      }
      case '7': {
        const tws = this.evidenceAll ? allTws : [tw];
        const alerts = await reader.alerts(sel.ip, tws);
        const evidence = await reader.evidence(sel.ip, [...new Set(alerts.map((a) => a.tw))]);
        return { key, alerts, alertEvidence: new Map(evidence.map((e) => [e.id, e])) };
      }
      case '8': {
        const dim = AGG_DIMS[this.aggDim][0];
        const agg = await reader.agg(sel.ip, tw, dim);
        if (agg !== undefined) return { key, agg };
        const fallback = aggFromTimeline(await reader.aggFallbackTimeline(sel.ip, tw), dim);
        return { key, agg: fallback, aggFallback: true };
      }
      case '9': {
        const stats = await reader.twStats(sel.ip, allTws);
        const series: TwSeries[] = [];
        for (let i = 0; i < allTws.length; i += 1) {
          const f = stats[i].fields;
          let flows = num(f.flows);
          if (!stats[i].exists && redis !== undefined) flows = await redis.zcard(`profile_${sel.ip}_${allTws[i]}_timeline`).catch(() => 0);
          series.push({ tw: num(allTws[i].replace('timewindow', '')), flows, bytes: num(f.bytes) });
        }
        const ports = (await reader.agg(sel.ip, tw, 'dport:client')) ?? aggFromTimeline(await reader.aggFallbackTimeline(sel.ip, tw), 'dport:client');
        const ips = (await reader.agg(sel.ip, tw, 'daddr:client')) ?? aggFromTimeline(await reader.aggFallbackTimeline(sel.ip, tw), 'daddr:client');
        return { key, series, topPorts: aggregate(ports, 'all', 'flows'), topIps: aggregate(ips, 'all', 'flows', false) };
      }
    }
  }

  private buildRows(): ViewRow[] {
    const l = this.loaded;
    const ascii = this.options.ascii;
    if (l.error !== undefined) return [noteRow('err', `cannot read: ${sanitize(l.error)}`, 'alert')];
    if (this.view === 'L') {
      if (this.child === undefined) return [noteRow('nolog', 'no core child: start one with c s (needs --run or -f)', 'dim')];
      return logRows(this.child.logLines);
    }
    const sel = this.selection();
    if (sel === undefined) return [noteRow('empty', this.model.profiles.size === 0 ? 'no profiles yet' : 'no selection', 'dim')];
    if (sel.tw === undefined) return [noteRow('notw', 'no time windows for this IP', 'dim')];
    switch (this.view) {
      case '1': {
        const tw = this.model.profiles.get(sel.ip)?.tws?.find((t) => t.name === sel.tw);
        return summaryRows(l.stats, l.evidence ?? [], l.alerts?.length ?? 0, l.aggCounts, num(l.stats?.fields.accumulated_threat_level, tw?.atl ?? 0), this.model.alertThreshold, ascii, l.timeline);
      }
      case '2':
        return this.withNote(timelineRows(l.timeline ?? [], this.timelineExpanded, this.wide), l.timeline?.length === 0 ? 'no timeline entries' : undefined, l.timelineTotal, l.timeline?.length);
      case '3':
        if (l.flows !== undefined) return flowRows(l.flows, this.wide);
        return [noteRow('flows-note', 'no :flows key: showing the timeline', 'dim'), ...timelineRows(l.timeline ?? [], this.timelineExpanded, this.wide)];
      case '4':
      case '5':
        return l.tuples !== undefined && l.tuples.length > 0 ? tupleRows(l.tuples, this.options.letters) : [noteRow('nt', NOT_IN_DB, 'dim')];
      case '6':
        return (l.evidence ?? []).length > 0 ? evidenceRows(l.evidence ?? [], this.evidenceAll) : [noteRow('ne', 'no evidence', 'dim')];
      case '7': {
        if (this.alertDrill !== undefined) {
          const ev = this.alertDrill.evidenceIds.map((id) => l.alertEvidence?.get(id)).filter((e): e is EvidenceItem => e !== undefined);
          const missing = this.alertDrill.evidenceIds.length - ev.length;
          const rows = evidenceRows(ev, true);
          return missing > 0 ? [...rows, noteRow('missing', `${missing} evidence not found`, 'dim')] : rows;
        }
        const evidenceTime = (ids: readonly string[]): number => Math.max(NaN, ...ids.map((id) => l.alertEvidence?.get(id)?.time ?? NaN).filter(Number.isFinite));
        return (l.alerts ?? []).length > 0 ? alertRows(l.alerts ?? [], evidenceTime) : [noteRow('na', 'no alerts', 'dim')];
      }
      case '8': {
        const dim = AGG_DIMS[this.aggDim];
        const items = aggregate(l.agg ?? [], this.aggState, this.aggMetric);
        const mode = noteRow('mode', `${dim[1]} | ${this.aggState} | ${this.aggMetric}${this.aggLog ? ' | log' : ''}${l.aggFallback === true ? ' (from timeline)' : ''}`, 'header');
        return [mode, ...(items.length > 0 ? aggRows(items, this.aggMetric, this.aggLog, ascii) : [noteRow('nagg', NOT_IN_DB, 'dim')])];
      }
      case '9':
        return graphRows(l.series ?? [], l.topPorts ?? [], l.topIps ?? [], ascii);
    }
  }

  private withNote(rows: ViewRow[], empty: string | undefined, total: number | undefined, shown: number | undefined): ViewRow[] {
    if (empty !== undefined) return [noteRow('empty', empty, 'dim')];
    if (total !== undefined && shown !== undefined && total > shown) return [noteRow('cap', `newest ${shown} of ${total}`, 'dim'), ...rows];
    return rows;
  }

  /** Rows of the main view after filter and sort. */
  private mainRows(): ViewRow[] {
    if (this.rowsDirty) {
      this.rowsDirty = false;
      let rows = this.buildRows();
      if (this.mainFilter !== '') {
        const needle = this.mainFilter.toLowerCase();
        rows = rows.filter((r) => r.text.toLowerCase().includes(needle));
      }
      const column = this.mainSort.column;
      if (column !== undefined) {
        const dir = this.mainSort.reverse ? -1 : 1;
        rows = [...rows].sort((a, b) => {
          const x = a.sortKeys?.[column];
          const y = b.sortKeys?.[column];
          if (x === undefined || y === undefined) return 0;
          return (typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))) * dir * (typeof x === 'number' ? -1 : 1);
        });
      } else if (this.mainSort.reverse) rows = [...rows].reverse();
      this.rows = rows;
      this.syncMainCursor();
    }
    return this.rows;
  }

  private mainList(): ListState {
    const id = `${this.view}|${this.alertDrill?.id ?? ''}`;
    let state = this.mainLists.get(id);
    if (state === undefined) {
      state = { cursor: undefined, index: 0, top: 0 };
      this.mainLists.set(id, state);
    }
    return state;
  }

  private syncMainCursor(): void {
    const list = this.mainList();
    const found = list.cursor !== undefined ? this.rows.findIndex((r) => r.id === list.cursor) : -1;
    if (found >= 0) {
      list.top += found - list.index;
      list.index = found;
    } else {
      list.index = Math.min(list.index, Math.max(0, this.rows.length - 1));
      list.cursor = this.rows[list.index]?.id;
    }
  }

  private scheduleDetail(): void {
    if (this.detailTimer !== undefined) clearTimeout(this.detailTimer);
    this.detailTimer = setTimeout(() => {
      this.detailTimer = undefined;
      const ip = this.detailIp();
      if (ip === undefined || this.reader === undefined) return;
      this.reader
        .ipInfo(ip)
        .then((fields) => {
          this.detailInfo = { ip, fields };
          this.invalidate();
        })
        .catch(() => undefined);
    }, DETAIL_DEBOUNCE_MS);
  }

  private detailIp(): string | undefined {
    if (this.focus !== 'tree') {
      const list = this.mainList();
      const peer = this.rows[list.index]?.peer;
      if (peer !== undefined && peer !== '') return peer;
    }
    return this.selection()?.ip;
  }

  // ============================================================== rendering

  private invalidate(): void {
    this.dirty = true;
    if (this.renderTimer !== undefined || this.quitting) return;
    const wait = Math.max(0, this.lastRender + this.options.refreshMs - Date.now());
    this.renderTimer = setTimeout(() => {
      this.renderTimer = undefined;
      this.render();
    }, wait);
  }

  private render(): void {
    if (!this.dirty && this.lastCanvas !== undefined) return;
    this.dirty = false;
    this.lastRender = Date.now();
    const width = Number(this.screen.width);
    const height = Number(this.screen.height);
    const layout = computeLayout(width, height);
    let canvas: Canvas;
    if (layout === undefined) {
      canvas = new Canvas(width, height);
      canvas.put(0, 0, tooSmallText(width, height), 'alert');
    } else {
      canvas = drawFrame(layout, this.frameContent(layout), this.glyphs);
    }
    this.lastCanvas = canvas;
    this.box.setContent(canvas.toTagged(this.options.mono));
    this.screen.render();
  }

  /** The current screen as plain text lines (used for the docs capture). */
  screenText(): string[] {
    return this.lastCanvas?.lines() ?? [];
  }

  private frameContent(layout: Layout): FrameContent {
    this.rebuildTree();
    const content: FrameContent = {
      main: this.mainPane(this.wide ? layout.width - 2 : layout.main.w - 2, this.wide ? layout.height - 4 : layout.main.h - 2),
      status: this.statusSegments(layout.width),
      hints: this.hintSegments(layout.width),
    };
    if (!this.wide) {
      content.tree = this.treePane(layout.tree.w - 2, layout.tree.h - 2);
      content.detail = this.detailPane(layout.detail.w - 2, layout.detail.h - 2);
    }
    if (this.help) {
      content.overlay = {
        title: 'Keys (Esc closes)',
        lines: HELP_KEYS.map(([k, d]): Segment[] => [{ text: fit(k, 15), style: 'key' }, { text: d }]),
      };
    }
    return content;
  }

  private treePane(innerW: number, innerH: number): PaneContent {
    const g = this.glyphs;
    const list = this.tree;
    const rows = this.treeRows;
    clampList(list, rows.length, innerH);
    const lines: Segment[][] = [];
    for (let i = list.top; i < Math.min(rows.length, list.top + innerH); i += 1) {
      const row = rows[i];
      const profile = this.model.profiles.get(row.ip);
      if (profile === undefined) continue;
      const line = row.tw === undefined ? renderProfileRow(profile, this.expanded.has(row.ip), innerW, g) : renderTwRow(row, row.tw, this.model.alertThreshold, g, innerW);
      lines.push(this.highlight(line, this.focus === 'tree' ? this.search : ''));
    }
    const sortGlyph = this.model.reverse ? g.sortUp : g.sortDown;
    const count = this.model.filter !== undefined ? `${rows.filter((r) => r.tw === undefined).length}/${this.model.profiles.size}` : String(this.model.profiles.size);
    return {
      title: [{ text: `Hosts ${count} ${sortGlyph}${this.model.sort}` }],
      lines,
      cursor: rows.length > 0 ? [list.index - list.top, list.index - list.top + 1] : undefined,
      focused: this.focus === 'tree',
    };
  }

  private mainPane(innerW: number, innerH: number): PaneContent {
    const rows = this.mainRows();
    const list = this.mainList();
    const widthWithScroll = innerW + this.hscroll;
    // keep the cursor row fully visible with rows of several lines
    list.index = Math.max(0, Math.min(list.index, rows.length - 1));
    if (list.index < list.top) list.top = list.index;
    const heights = new Map<number, Segment[][]>();
    const linesOf = (i: number): Segment[][] => {
      let l = heights.get(i);
      if (l === undefined) {
        l = rows[i].lines(widthWithScroll);
        heights.set(i, l);
      }
      return l;
    };
    if (rows.length > 0) {
      let used = 0;
      for (let i = list.top; i <= list.index; i += 1) used += linesOf(i).length;
      while (used > innerH && list.top < list.index) {
        used -= linesOf(list.top).length;
        list.top += 1;
      }
    }
    list.top = Math.max(0, Math.min(list.top, Math.max(0, rows.length - 1)));
    // no empty space below the last row while rows above are scrolled off
    let below = 0;
    for (let i = list.top; i < rows.length && below < innerH; i += 1) below += linesOf(i).length;
    while (list.top > 0 && below + linesOf(list.top - 1).length <= innerH) {
      list.top -= 1;
      below += linesOf(list.top).length;
    }
    const lines: Segment[][] = [];
    let cursor: [number, number] | undefined;
    const search = this.focus === 'main' ? this.search : '';
    for (let i = list.top; i < rows.length && lines.length < innerH; i += 1) {
      const start = lines.length;
      for (const line of linesOf(i)) lines.push(this.highlight(this.scrolled(line), search));
      if (i === list.index) cursor = [start, lines.length];
    }
    return { title: [{ text: this.mainTitle(innerW - 1) }], lines, cursor, focused: this.focus === 'main' };
  }

  private scrolled(line: Segment[]): Segment[] {
    if (this.hscroll === 0) return line;
    let skip = this.hscroll;
    const out: Segment[] = [];
    for (const s of line) {
      const w = textWidth(s.text);
      if (skip >= w) {
        skip -= w;
        continue;
      }
      out.push({ ...s, text: skip > 0 ? Array.from(s.text).slice(skip).join('') : s.text });
      skip = 0;
    }
    return out;
  }

  /** Marks search matches (display only; the match text is already sanitized data). */
  private highlight(line: Segment[], needle: string): Segment[] {
    if (needle === '') return line;
    const lower = needle.toLowerCase();
    const out: Segment[] = [];
    for (const s of line) {
      const text = s.text;
      const at = text.toLowerCase().indexOf(lower);
      if (at < 0) {
        out.push(s);
        continue;
      }
      out.push({ text: text.slice(0, at), style: s.style }, { text: text.slice(at, at + needle.length), style: 'match' }, { text: text.slice(at + needle.length), style: s.style });
    }
    return out;
  }

  /** The main view's title in at most width cells: a long IP or log path is shortened in its middle. */
  private mainTitle(width: number): string {
    const name = `${this.view} ${VIEW_NAMES[this.view]}`;
    if (this.view === 'L') return this.child !== undefined ? fitTitle(name, `${sanitize(this.child.outputDir)}/tui_core.log`, '', width) : name;
    const sel = this.selection();
    if (sel === undefined) return name;
    let where = '';
    if ((this.view === '6' || this.view === '7') && this.evidenceAll) where = ' all TWs';
    else if (sel.tw !== undefined) {
      const tw = this.model.profiles.get(sel.ip)?.tws?.find((t) => t.name === sel.tw);
      where = ` ${tw !== undefined ? twLabel(tw.number, tw.start, this.model.analysis.width) : sel.tw}`;
    }
    const drill = this.view === '7' && this.alertDrill !== undefined ? ` alert ${this.alertDrill.evidenceIds.length} ev` : '';
    return fitTitle(name, sel.ip, `${where}${drill}`, width);
  }

  private detailPane(innerW: number, innerH: number): PaneContent {
    const focused = this.focus === 'detail';
    if (this.detailMode === 'row') {
      const row = this.rows[this.mainList().index];
      const text = row?.detail ?? [row?.text ?? ''];
      const lines = text.flatMap((t) => wrap(t, innerW)).map((t): Segment[] => [{ text: t }]);
      this.detailTop = Math.max(0, Math.min(this.detailTop, lines.length - innerH));
      return { title: [{ text: 'Row (i: IP info)' }], lines: lines.slice(this.detailTop), focused };
    }
    const ip = this.detailIp();
    if (ip === undefined) return { title: [{ text: 'IP' }], lines: [], focused };
    const info = this.detailInfo?.ip === ip ? this.detailInfo.fields : {};
    const profile: Profile | undefined = this.model.profiles.get(ip);
    const f = (v: string | undefined): string => (v === undefined || v === '' ? '-' : sanitize(v, 64));
    const fields = [
      `country ${f(info.geocountry)}`,
      `AS ${f(info.asn)}`,
      `rDNS ${f(info.reverse_dns)}`,
      `DNS ${f(info.DNSresolution)}`,
      `SNI ${f(info.SNI)}`,
      `TI ${f(info.threatintelligence)}`,
      `MAC ${f(profile?.mac ?? info.MAC)} ${f(info.MAC_vendor)}`,
      `host ${f(profile?.host ?? info.host_name)}`,
    ];
    const profileFields =
      profile !== undefined
        ? [`score ${profile.score.toFixed(2)}`, `flows ${profile.flows}`, `ev ${profile.evidence}`, `al ${profile.alerts}`, `since ${hhmm(profile.firstSeen)}`]
        : ['not a profile in this database'];
    const lines = [...packFields(fields, innerW), ...packFields(profileFields, innerW)].map((t): Segment[] => [{ text: t }]);
    this.detailTop = Math.max(0, Math.min(this.detailTop, lines.length - innerH));
    return { title: [{ text: `IP ${sanitize(ip, 64)}` }], lines: lines.slice(this.detailTop), focused };
  }

  private statusSegments(width: number): Segment[] {
    const g = this.glyphs;
    const c = this.model.counters;
    const core = this.coreStatus();
    const counts: Segment[] = [{ text: ` IPs ${c.profiles} ev ${c.evidence} ` }, { text: `al ${c.alerts}`, style: c.alerts > 0 ? 'statusAlert' : 'status' }];
    const flags: string[] = [];
    const starting = this.child?.state === 'starting';
    if (this.connection !== undefined && !this.redisUp && !starting && (this.everConnected || this.retries > 0)) flags.push(`${g.redisDown} retry ${this.retries}`);
    if (this.paused) flags.push('PAUSED');
    if (this.model.filter !== undefined || this.mainFilter !== '') flags.push('FILTER');
    if (this.newWhilePaused > 0) flags.push(`+${this.newWhilePaused} new`);
    const flows = c.total > 0 ? ` ${compact(c.processed)}/${compact(c.total)} ${Math.floor((100 * c.processed) / c.total)}%` : ` ${compact(c.processed)} flows`;
    const rate = ` ${compact(Math.round(this.flowsPerSecond))} f/s`;
    const clock = ` ${hhmmss(Date.now() / 1000)} `;
    const flagText = flags.length > 0 ? `  ${flags.join(' ')}` : '';
    const fixed = [` core ${core}`, flows, rate];
    const tailWidth = textWidth(counts.map((s) => s.text).join('')) + textWidth(flagText);
    let optional = [...fixed.slice(1), clock];
    const total = (): number => textWidth(fixed[0]) + optional.reduce((s, t) => s + textWidth(t), 0) + tailWidth;
    while (total() > width && optional.length > 0) optional = optional.filter((t) => t !== (optional.includes(clock) ? clock : optional[optional.length - 1]));
    const room = width - total() - 1;
    const inputName = sanitize(path.basename(this.model.analysis.name || this.options.rdbPath || ''), 80);
    const input = room >= 6 && inputName !== '' ? ` ${textWidth(inputName) > room - 1 ? fit(inputName, room - 1) : inputName}` : '';
    const before = optional.filter((t) => t !== clock);
    const segments: Segment[] = [{ text: fixed[0] }, { text: input }, ...before.map((t) => ({ text: t })), ...counts];
    if (flagText !== '') segments.push({ text: flagText, style: 'statusAlert' });
    if (optional.includes(clock)) {
      const used = textWidth(segments.map((s) => s.text).join(''));
      segments.push({ text: fit(clock, Math.max(0, width - used), 'right') });
    }
    return segments;
  }

  private coreStatus(): string {
    const g = this.glyphs;
    const child = this.child;
    if (child === undefined) {
      if (this.attachedStopping) return `${g.stopping} stopping`;
      return this.rdb !== undefined ? `${g.none} rdb` : `${g.none} none`;
    }
    switch (child.state) {
      case 'starting':
        return `${g.starting} starting`;
      case 'running':
        return `${g.run} run ${child.pid}`;
      case 'stopping':
        return `${g.stopping} stopping`;
      case 'exited':
        return child.exitCode === 0 ? `${g.exitOk} exit 0` : `${g.exitBad} exit ${child.exitCode ?? '?'}`;
      case 'crashed':
        return `${g.exitBad} ${child.signal ?? 'error'}`;
    }
  }

  private hintSegments(width: number): Segment[] {
    if (this.prompt !== undefined) {
      const label = { search: '/', goto: 'go to IP [TW<n>]: ', filter: 'filter rows: ', minScore: 'min score: ', database: 'database (port, host:port, file.rdb): ' }[this.prompt.kind];
      return [{ text: fit(` ${label}${sanitize(this.prompt.text)}_`, width), style: 'key' }];
    }
    if (this.menu !== undefined) {
      const text = {
        filter: ' filter: a alerts  e evidence  b blocked  h host  s score  F clear  Esc cancel',
        core: ' core: s start  t stop  r restart  l log  Esc cancel',
        quit: ' the core is running: s stop it and quit  d detach (leave it running)  c cancel',
      }[this.menu];
      return [{ text: fit(text, width), style: 'key' }];
    }
    if (this.message !== undefined) return [{ text: fit(` ${this.message.text}`, width), style: 'warn' }];
    return [{ text: fit(HINTS, width), style: 'dim' }];
  }

  private say(text: string, ms = 4000): void {
    this.message = { text: sanitize(text, 200), until: Date.now() + ms };
    this.invalidate();
  }

  // ============================================================== keys

  private onKey(ch: string | undefined, key: blessed.Widgets.Events.IKeyEventArg | undefined): void {
    const name = key?.full ?? '';
    if (name === 'return' || name === 'linefeed') return; // blessed also emits 'enter' for these
    if (this.quitting) return;
    if (this.prompt !== undefined) this.onPromptKey(ch, name);
    else if (this.menu !== undefined) this.onMenuKey(ch, name);
    else if (this.help) {
      if (name === 'escape' || name === 'backspace' || ch === '?' || ch === 'q') this.help = false;
      if (name === 'C-c') this.requestQuit();
    } else this.onCommandKey(ch, name);
    // a key is answered at once; only live updates are throttled
    this.dirty = true;
    if (!this.quitting) this.render();
  }

  private onPromptKey(ch: string | undefined, name: string): void {
    const prompt = this.prompt;
    if (prompt === undefined) return;
    if (name === 'escape' || name === 'C-c') {
      if (prompt.kind === 'search') this.search = '';
      this.prompt = undefined;
      return;
    }
    if (name === 'enter') {
      this.prompt = undefined;
      this.submitPrompt(prompt);
      return;
    }
    if (name === 'backspace') prompt.text = prompt.text.slice(0, -1);
    else if (ch !== undefined && ch.length === 1 && ch >= ' ' && ch !== '\x7f') prompt.text += ch;
    if (prompt.kind === 'search') {
      this.search = prompt.text;
      this.findMatch(1, true);
    }
  }

  private submitPrompt(prompt: Prompt): void {
    switch (prompt.kind) {
      case 'search':
        this.search = prompt.text;
        break;
      case 'goto':
        void this.goTo(prompt.text.trim());
        break;
      case 'filter':
        this.mainFilter = prompt.text;
        this.rowsDirty = true;
        break;
      case 'minScore':
        this.setTreeFilter('score', Number(prompt.text) || 0);
        break;
      case 'database':
        void this.switchDatabase(prompt.text.trim());
        break;
    }
  }

  private onMenuKey(ch: string | undefined, name: string): void {
    const menu = this.menu;
    this.menu = undefined;
    if (name === 'escape') return;
    if (menu === 'filter') {
      const kinds: Record<string, TreeFilter> = { a: 'alerts', e: 'evidence', b: 'blocked', h: 'host' };
      if (ch !== undefined && kinds[ch] !== undefined) this.setTreeFilter(kinds[ch], 0);
      else if (ch === 's') this.prompt = { kind: 'minScore', text: '' };
      else if (ch === 'F') this.setTreeFilter(undefined, 0);
    } else if (menu === 'core') {
      if (ch === 's') void this.startCore();
      else if (ch === 't') void this.child?.stop();
      else if (ch === 'r') void this.restartCore();
      else if (ch === 'l') this.setView('L');
    } else if (menu === 'quit') {
      if (ch === 's' || name === 'C-c') void this.quit(true);
      else if (ch === 'd') void this.quit(false);
    }
  }

  private requestQuit(): void {
    if (this.child?.isAlive === true) this.menu = 'quit';
    else void this.quit(true);
  }

  private async restartCore(): Promise<void> {
    this.replacingCore = true; // the stopped core's dump is not opened: a new core follows
    try {
      if (this.child?.isAlive === true) await this.child.stop();
    } finally {
      this.replacingCore = false;
    }
    await this.startCore();
  }

  private onCommandKey(ch: string | undefined, name: string): void {
    if (name === 'C-c' || ch === 'q') return this.requestQuit();
    if (ch === '?') {
      this.help = true;
      return;
    }
    if (ch !== undefined && (VIEW_KEYS as readonly string[]).includes(ch)) return this.setView(ch as ViewId);
    switch (name) {
      case 'tab':
        return this.cycleFocus(1);
      case 'S-tab':
        return this.cycleFocus(-1);
      case 'up':
        return this.move(-1);
      case 'down':
        return this.move(1);
      case 'pageup':
        return this.move(-this.pageSize());
      case 'pagedown':
        return this.move(this.pageSize());
      case 'C-u':
        return this.move(-Math.floor(this.pageSize() / 2));
      case 'C-d':
        return this.move(Math.floor(this.pageSize() / 2));
      case 'home':
        return this.move(-Infinity);
      case 'end':
        return this.move(Infinity);
      case 'right':
        return this.right();
      case 'left':
        return this.left();
      case 'enter':
        return this.enter();
      case 'escape':
      case 'backspace':
        return this.back();
      case 'C-n':
        return this.stepTw(1);
      case 'C-p':
        return this.stepTw(-1);
    }
    switch (ch) {
      case 'k':
        return this.move(-1);
      case 'j':
        return this.move(1);
      case 'g':
        return this.move(-Infinity);
      case 'G':
        return this.move(Infinity);
      case 'l':
        return this.right();
      case 'h':
        return this.left();
      case ']':
        return this.stepTw(1);
      case '[':
        return this.stepTw(-1);
      case '/':
        this.prompt = { kind: 'search', text: '' };
        this.search = '';
        return;
      case 'n':
        return this.findMatch(1, false);
      case 'N':
        return this.findMatch(-1, false);
      case 'f':
        if (this.focus === 'tree') this.menu = 'filter';
        else this.prompt = { kind: 'filter', text: this.mainFilter };
        return;
      case 'F':
        if (this.focus === 'tree') this.setTreeFilter(undefined, 0);
        else {
          this.mainFilter = '';
          this.rowsDirty = true;
        }
        return;
      case 's':
      case 'S':
        return this.cycleSort(ch === 'S');
      case 'v':
        this.wide = !this.wide;
        this.rowsDirty = true;
        if (this.wide && this.focus !== 'main') this.focus = 'main';
        return;
      case 'i':
        this.detailMode = this.detailMode === 'ip' ? 'row' : 'ip';
        this.detailTop = 0;
        return;
      case 'a':
        if (this.view === '6' || this.view === '7') {
          this.evidenceAll = !this.evidenceAll;
          this.alertDrill = undefined;
          void this.loadView();
        }
        return;
      case 'm':
        if (this.view === '8') {
          this.aggDim = (this.aggDim + 1) % AGG_DIMS.length;
          void this.loadView();
        }
        return;
      case 'e':
        if (this.view === '8') {
          this.aggState = AGG_STATES[(AGG_STATES.indexOf(this.aggState) + 1) % AGG_STATES.length];
          this.rowsDirty = true;
        }
        return;
      case 'o':
        if (this.view === '8') {
          this.aggMetric = AGG_METRICS[(AGG_METRICS.indexOf(this.aggMetric) + 1) % AGG_METRICS.length];
          this.rowsDirty = true;
        }
        return;
      case 'x':
        if (this.view === '8') {
          this.aggLog = !this.aggLog;
          this.rowsDirty = true;
        }
        return;
      case ':':
        this.prompt = { kind: 'goto', text: '' };
        return;
      case 'c':
        this.menu = 'core';
        return;
      case 'D':
        this.prompt = { kind: 'database', text: '' };
        return;
      case 'r':
        this.viewStale = true;
        void this.reloadAll();
        return;
      case 'p':
        this.paused = !this.paused;
        if (!this.paused) {
          this.newWhilePaused = 0;
          void this.reloadAll();
        }
        return;
    }
  }

  private pageSize(): number {
    const height = Number(this.screen.height);
    const layout = computeLayout(Number(this.screen.width), height);
    if (layout === undefined) return 10;
    return Math.max(1, (this.focus === 'tree' ? layout.tree.h : layout.main.h) - 3);
  }

  private cycleFocus(step: number): void {
    const panes: Pane[] = this.wide ? ['main'] : ['tree', 'main', 'detail'];
    const at = panes.indexOf(this.focus);
    this.focus = panes[(at + step + panes.length) % panes.length];
    this.scheduleDetail();
  }

  private move(delta: number): void {
    if (this.focus === 'tree') {
      this.rebuildTree();
      if (this.treeRows.length === 0) return;
      const index = clampIndex(this.tree.index + delta, this.treeRows.length);
      this.setTreeIndex(index);
    } else if (this.focus === 'main') {
      const rows = this.mainRows();
      const list = this.mainList();
      list.index = clampIndex(list.index + delta, rows.length);
      list.cursor = rows[list.index]?.id;
      this.detailTop = 0;
      this.scheduleDetail();
    } else {
      this.detailTop = Math.max(0, this.detailTop + (Number.isFinite(delta) ? delta : delta > 0 ? 1000 : -1000));
    }
  }

  private setTreeIndex(index: number): void {
    const before = this.tree.cursor;
    this.tree.index = index;
    const row = this.treeRows[index];
    this.tree.cursor = row !== undefined ? treeRowId(row) : undefined;
    if (before !== this.tree.cursor) this.onTreeCursor();
  }

  private currentTreeRow(): TreeRow | undefined {
    this.rebuildTree();
    return this.treeRows[this.tree.index];
  }

  private right(): void {
    if (this.focus === 'tree') {
      const row = this.currentTreeRow();
      if (row !== undefined && row.tw === undefined) void this.expand(row.ip, true);
    } else if (this.focus === 'main') {
      this.hscroll += 8;
    }
  }

  private left(): void {
    if (this.focus === 'tree') {
      const row = this.currentTreeRow();
      if (row === undefined) return;
      if (row.tw !== undefined) {
        const index = this.treeIndex.get(row.ip);
        if (index !== undefined) this.setTreeIndex(index);
      } else void this.expand(row.ip, false);
    } else if (this.focus === 'main') {
      this.hscroll = Math.max(0, this.hscroll - 8);
    }
  }

  private async expand(ip: string, open: boolean): Promise<void> {
    if (open) {
      this.expanded.add(ip);
      await this.loadTws(ip).catch(() => undefined);
    } else this.expanded.delete(ip);
    this.treeDirty = true;
    this.invalidate();
  }

  private enter(): void {
    if (this.focus === 'tree') {
      const row = this.currentTreeRow();
      if (row === undefined) return;
      if (row.tw === undefined) void this.expand(row.ip, !this.expanded.has(row.ip));
      else {
        this.focus = 'main';
        this.scheduleDetail();
      }
      return;
    }
    if (this.focus !== 'main') return;
    const rows = this.mainRows();
    const row = rows[this.mainList().index];
    if (row === undefined) return;
    if (this.view === '2' || this.view === '3') {
      if (this.timelineExpanded.has(row.id)) this.timelineExpanded.delete(row.id);
      else this.timelineExpanded.add(row.id);
      this.rowsDirty = true;
    } else if (this.view === '7' && this.alertDrill === undefined) {
      const alert = this.loaded.alerts?.find((a) => `a:${a.id}` === row.id);
      if (alert !== undefined) {
        this.alertDrill = alert;
        this.rowsDirty = true;
      }
    } else if (this.view === '6' || this.view === '7') {
      this.detailMode = 'row';
      this.detailTop = 0;
    }
  }

  private back(): void {
    if (this.search !== '') {
      this.search = '';
      return;
    }
    if (this.view === '7' && this.alertDrill !== undefined) {
      this.alertDrill = undefined;
      this.rowsDirty = true;
      return;
    }
    if (this.detailMode === 'row') {
      this.detailMode = 'ip';
      return;
    }
    if (this.wide) {
      this.wide = false;
      this.rowsDirty = true;
      return;
    }
    if (this.focus !== 'tree') this.focus = 'tree';
  }

  private setView(view: ViewId): void {
    if (this.view === view) return;
    this.view = view;
    this.alertDrill = undefined;
    this.hscroll = 0;
    this.mainSort = { column: undefined, reverse: false };
    this.rowsDirty = true;
    void this.loadView();
  }

  private stepTw(step: number): void {
    const sel = this.selection();
    if (sel === undefined) return;
    const tws = this.model.profiles.get(sel.ip)?.tws ?? [];
    const at = tws.findIndex((t) => t.name === sel.tw);
    const next = tws[at + step];
    if (next === undefined) return;
    if (!this.expanded.has(sel.ip)) {
      this.expanded.add(sel.ip);
      this.treeDirty = true;
    }
    this.rebuildTree();
    const index = this.treeIndex.get(treeRowId({ ip: sel.ip, tw: next.name }));
    if (index !== undefined) this.setTreeIndex(index);
  }

  private setTreeFilter(kind: TreeFilter | undefined, minScore: number): void {
    this.model.filter = kind === undefined ? undefined : { kind, minScore };
    this.model.invalidateOrder();
    this.treeDirty = true;
  }

  private cycleSort(reverse: boolean): void {
    if (this.focus === 'tree') {
      if (reverse) this.model.reverse = !this.model.reverse;
      else this.model.sort = TREE_SORTS[(TREE_SORTS.indexOf(this.model.sort) + 1) % TREE_SORTS.length];
      this.model.invalidateOrder();
      this.treeDirty = true;
      return;
    }
    if (reverse) this.mainSort.reverse = !this.mainSort.reverse;
    else {
      const columns = Object.keys(this.rows.find((r) => r.sortKeys !== undefined)?.sortKeys ?? {});
      const at = this.mainSort.column === undefined ? -1 : columns.indexOf(this.mainSort.column);
      this.mainSort.column = at + 1 < columns.length ? columns[at + 1] : undefined;
      this.say(`sort: ${this.mainSort.column ?? 'natural order'}`, 1500);
    }
    this.rowsDirty = true;
  }

  /** Moves the cursor of the focused pane to the next/previous row containing the search text. */
  private findMatch(step: number, includeCurrent: boolean): void {
    const needle = this.search.toLowerCase();
    if (needle === '') return;
    if (this.focus === 'tree') {
      this.rebuildTree();
      const rows = this.treeRows;
      const text = (r: TreeRow): string => (r.tw !== undefined ? `tw${r.tw.number}` : `${r.ip} ${this.model.profiles.get(r.ip)?.host ?? ''}`.toLowerCase());
      const index = findIndex(rows.length, this.tree.index, step, includeCurrent, (i) => text(rows[i]).includes(needle));
      if (index !== undefined) this.setTreeIndex(index);
    } else {
      const rows = this.mainRows();
      const list = this.mainList();
      const index = findIndex(rows.length, list.index, step, includeCurrent, (i) => rows[i].text.toLowerCase().includes(needle));
      if (index !== undefined) {
        list.index = index;
        list.cursor = rows[index].id;
        this.scheduleDetail();
      }
    }
  }

  private async goTo(text: string): Promise<void> {
    const [ip, twText] = text.split(/\s+/);
    if (ip === undefined || !this.model.profiles.has(ip)) {
      this.say(`no profile ${text}`);
      return;
    }
    if (this.model.filter !== undefined && !this.model.orderedIps().includes(ip)) this.setTreeFilter(undefined, 0);
    this.focus = 'tree';
    if (twText !== undefined) {
      this.expanded.add(ip);
      await this.loadTws(ip).catch(() => undefined);
    }
    this.treeDirty = true;
    this.rebuildTree();
    const tw = twText !== undefined ? `timewindow${twText.replace(/^tw/i, '')}` : undefined;
    const index = this.treeIndex.get(treeRowId({ ip, tw })) ?? this.treeIndex.get(ip);
    if (index !== undefined) this.setTreeIndex(index);
    this.invalidate();
  }

  private async switchDatabase(text: string): Promise<void> {
    if (text === '') return;
    this.model.clear();
    this.expanded.clear();
    this.loaded = { key: '' };
    this.treeDirty = true;
    this.rowsDirty = true;
    if (/\.rdb$/i.test(text) || existsSync(text)) {
      await this.openRdb(path.resolve(text));
      return;
    }
    const match = /^(?:([^:]+):)?(\d+)$/.exec(text);
    if (match === null) {
      this.say(`not a port, host:port or .rdb file: ${text}`);
      return;
    }
    this.nextSource();
    await this.rdb?.stop();
    this.rdb = undefined;
    this.connect({ host: match[1] ?? '127.0.0.1', port: Number(match[2]), db: 0 });
  }
}

function clampIndex(index: number, length: number): number {
  if (length === 0) return 0;
  if (index === Infinity) return length - 1;
  if (index === -Infinity) return 0;
  return Math.max(0, Math.min(length - 1, index));
}

function clampList(list: ListState, length: number, height: number): void {
  list.index = clampIndex(list.index, length);
  if (list.index < list.top) list.top = list.index;
  if (list.index >= list.top + height) list.top = list.index - height + 1;
  list.top = Math.max(0, Math.min(list.top, Math.max(0, length - height)));
}

function findIndex(length: number, from: number, step: number, includeCurrent: boolean, matches: (i: number) => boolean): number | undefined {
  if (length === 0) return undefined;
  for (let n = includeCurrent ? 0 : 1; n <= length; n += 1) {
    const i = (((from + step * n) % length) + length) % length;
    if (matches(i)) return i;
  }
  return undefined;
}

/** `{ip}` (ours), `profile_<ip>` or a bare IP. */
function profileIpOf(value: unknown): string {
  if (isObject(value)) return str(value.ip);
  const text = str(value);
  return text.startsWith('profile_') ? text.slice(8) : text;
}

function twNumberOf(value: unknown): number | undefined {
  const n = isObject(value) ? num(value.number, NaN) : num(/-?\d+$/.exec(str(value))?.[0], NaN);
  return Number.isFinite(n) ? n : undefined;
}
