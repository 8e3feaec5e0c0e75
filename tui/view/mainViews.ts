// Row builders of the main views (spec/tui.md §4.4): 1 Summary, 2 Timeline, 3 Flows, 4/5 tuples,
// 6 Evidence, 7 Alerts, 8 Ports & IPs, 9 Graphs, L core log. Each takes parsed data and returns
// ViewRows; every string that comes from the database goes through sanitize().

import type { AggItem, EvidenceItem, TimelineItem } from '../data/parse.js';
import { num, parseJson, isObject, str, THREAT_LEVELS } from '../data/parse.js';
import type { AlertItem, TwStats } from '../data/reader.js';
import { sanitize } from '../sanitize.js';
import { bar, compact, fit, hhmm, hhmmss, middleEllipsis, sparkline, textWidth } from '../text.js';
import type { Segment, Style } from './canvas.js';
import { lineRow, noteRow, wrap, type ViewRow } from './rows.js';

export type ViewId = '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | 'L';

export const VIEW_NAMES: Record<ViewId, string> = {
  '1': 'Summary',
  '2': 'Timeline',
  '3': 'Flows',
  '4': 'Out tuples',
  '5': 'In tuples',
  '6': 'Evidence',
  '7': 'Alerts',
  '8': 'Ports & IPs',
  '9': 'Graphs',
  L: 'Core log',
};

export const NOT_IN_DB = 'not in this database';

const LEVEL_SHORT: Record<string, string> = { critical: 'crit', high: 'high', medium: 'med', low: 'low', info: 'info' };

function levelStyle(level: string): Style {
  return level === 'critical' || level === 'high' ? 'alert' : level === 'medium' ? 'warn' : 'dim';
}

function stateShort(state: string): string {
  const s = state.toLowerCase();
  if (s.startsWith('est')) return 'Est';
  if (s.startsWith('not')) return 'NotE';
  return sanitize(state, 4);
}

// ------------------------------------------------------------------ 2 Timeline / 3 Flows

export function timelineRows(items: readonly TimelineItem[], expanded: ReadonlySet<string>, wide: boolean): ViewRow[] {
  const rows: ViewRow[] = [];
  items.forEach((item, index) => {
    const id = `t${index}:${item.time}`;
    const name = sanitize(item.portName || '????', 8);
    const peer = sanitize(item.peer, 64);
    const port = sanitize(item.dportProto, 16);
    const state = stateShort(item.state);
    const info = sanitize(item.info, 512);
    const warning = sanitize([item.warning, item.critical].filter((w) => w !== '').join(' '), 128);
    const dns = sanitize(item.dns === '????' ? '' : item.dns, 128);
    const text = `${hhmmss(item.time)} ${name} ${peer} ${port} ${state} ${info} ${dns} ${warning}`;
    const render = (width: number): Segment[] => {
      // time, name, direction, [peer ... port], state, bytes; wide: sent, recv, dur, DNS, warnings
      const fixed = 8 + 1 + 5 + 1 + 1 + 1 + 1 + 4 + 1 + 5;
      const wideColumns = 1 + 5 + 1 + 5 + 1 + 7 + 1 + 14;
      // the peer (left) and the dport/proto (right) share one field, so a short port leaves its room
      // to a long peer: 255.255.255.255 with 67/UDP fits where the peer alone gets 13 columns
      // (never less than at 80 columns; wide mode scrolls sideways for what does not fit)
      const shared = Math.max(13 + 1 + 8, Math.min(39 + 1 + 8, width - fixed - (wide ? wideColumns : 0)));
      const portText = textWidth(port) > 12 ? fit(port, 12) : port;
      const peerRoom = shared - 1 - textWidth(portText);
      const segments: Segment[] = [
        { text: `${hhmmss(item.time)} `, style: 'dim' },
        { text: `${fit(name, 5, 'left', false)} ` },
        { text: `${item.outgoing ? '>' : '<'} `, style: 'dim' },
        { text: `${fit(middleEllipsis(peer, peerRoom), peerRoom)} ` },
        { text: `${portText} ` },
        { text: `${fit(state, 4)} `, style: state === 'Est' ? 'good' : 'dim' },
        { text: fit(compact(item.total), 5, 'right') },
      ];
      if (wide) {
        segments.push(
          { text: ` ${fit(compact(item.sent), 5, 'right')} ${fit(compact(item.recv), 5, 'right')} ${fit(item.duration.toFixed(2), 7, 'right')} ` },
          { text: fit(dns, 14) },
          { text: ` ${warning}`, style: 'warn' },
        );
      }
      if (info !== '' && !expanded.has(id)) segments.push({ text: ' +', style: 'key' });
      return segments;
    };
    rows.push({
      id,
      text,
      peer: item.peer,
      lines: (width) => {
        const first = render(width);
        if (!expanded.has(id) || info === '') return [first];
        return [first, ...wrap(info, Math.max(10, width - 3)).map((l): Segment[] => [{ text: `   ${l}`, style: 'dim' }])];
      },
      detail: [text, ...Object.entries(item.raw).map(([k, v]) => `${k}: ${sanitize(typeof v === 'string' ? v : JSON.stringify(v))}`)],
      sortKeys: { time: item.time, peer: item.peer, port: item.dportProto, bytes: item.total },
    });
  });
  return rows;
}

/** `<p>_<tw>:flows` entries (flow JSON). */
export function flowRows(flows: readonly string[], wide: boolean): ViewRow[] {
  return flows.map((json, index) => {
    const value = parseJson(json);
    const f = isObject(value) ? value : {};
    const ts = num(f.ts ?? f.starttime, NaN);
    const src = `${sanitize(str(f.saddr), 45)}:${str(f.sport)}`;
    const dst = `${sanitize(str(f.daddr), 45)}:${str(f.dport)}`;
    const proto = sanitize(str(f.proto), 5);
    const state = sanitize(str(f.state), 6);
    const pkts = num(f.pkts);
    const bytes = num(f.bytes ?? f.allbytes);
    const text = isObject(value) ? `${hhmmss(ts)} ${src} > ${dst} ${proto} ${state} ${pkts} ${bytes}` : 'unparsable';
    return lineRow(
      `f${index}`,
      text,
      (width) => {
        const addr = Math.max(10, Math.floor((width - 8 - 1 - 3 - 6 - 6 - 5 - 6) / 2));
        const segments: Segment[] = [
          { text: `${hhmmss(ts)} `, style: 'dim' },
          { text: `${fit(src, addr)} > ${fit(dst, addr)} ` },
          { text: `${fit(proto, 4)} ${fit(state, 5)} ${fit(compact(pkts), 5, 'right')} ${fit(compact(bytes), 5, 'right')}` },
        ];
        if (wide) segments.push({ text: ` ${sanitize(str(f.origstate), 12)} ${compact(num(f.spkts))} ${compact(num(f.sbytes))} ${sanitize(str(f.label), 20)}` });
        return segments;
      },
      { peer: str(f.daddr), detail: Object.entries(f).map(([k, v]) => `${k}: ${sanitize(typeof v === 'string' ? v : JSON.stringify(v))}`), sortKeys: { time: ts, bytes, pkts } },
    );
  });
}

// ------------------------------------------------------------------ 4/5 tuples

export function tupleRows(tuples: ReadonlyArray<[string, string]>, letters: number): ViewRow[] {
  return tuples.map(([tuple, value], index) => {
    const parsed = parseJson(value);
    const symbols = Array.isArray(parsed) ? str(parsed[0]) : typeof parsed === 'string' ? parsed : value;
    const t = sanitize(tuple, 80);
    const l = sanitize(symbols, letters);
    const peer = tuple.split('-')[0] ?? '';
    return lineRow(`u${index}`, `${t} ${l}`, (width) => [{ text: fit(t, Math.min(32, Math.floor(width / 2))) }, { text: ` ${l}`, style: 'dim' }], {
      peer,
      detail: [t, ...wrap(l, 48)],
      sortKeys: { tuple, letters: symbols.length },
    });
  });
}

// ------------------------------------------------------------------ 6 Evidence

export function evidenceRows(items: readonly EvidenceItem[], showTw: boolean): ViewRow[] {
  return items.map((ev) => {
    const type = sanitize(ev.type, 40);
    const description = sanitize(ev.description, 512);
    const level = LEVEL_SHORT[ev.level.toLowerCase()] ?? sanitize(ev.level, 4);
    const text = `${type} ${description} ${ev.level} ${ev.attacker} ${ev.victim}`;
    return {
      id: `e:${ev.id}`,
      text,
      peer: ev.victim !== '' ? ev.victim : ev.attacker,
      lines: (width: number) => {
        const head: Segment[] = [
          { text: `${hhmmss(ev.time)} `, style: 'dim' },
          ...(showTw && Number.isFinite(ev.twNumber) ? [{ text: `TW${ev.twNumber} `, style: 'dim' as Style }] : []),
          { text: `${fit(level, 4)} `, style: levelStyle(ev.level.toLowerCase()) },
          { text: `${ev.confidence.toFixed(2)} `, style: 'dim' },
        ];
        const used = head.reduce((w, s) => w + textWidth(s.text), 0);
        head.push({ text: fit(type, Math.max(0, width - used)), style: 'header' });
        return [head, ...wrap(description, Math.max(10, width - 1)).map((l): Segment[] => [{ text: ` ${l}` }])];
      },
      detail: [
        `${type} ${ev.level} confidence ${ev.confidence}`,
        `attacker ${sanitize(ev.attacker)} victim ${sanitize(ev.victim)}`,
        `uids ${sanitize(ev.uids.join(' '))}`,
        `id ${sanitize(ev.id)}`,
        description,
      ],
      sortKeys: { time: ev.time || 0, level: THREAT_LEVELS.indexOf(ev.level.toLowerCase() as (typeof THREAT_LEVELS)[number]), type: ev.type, confidence: ev.confidence },
    };
  });
}

// ------------------------------------------------------------------ 7 Alerts

export function alertRows(alerts: readonly AlertItem[], evidenceTime: (ids: readonly string[]) => number): ViewRow[] {
  return alerts.map((a) => {
    const time = Number.isFinite(a.time) ? a.time : evidenceTime(a.evidenceIds);
    const tw = `TW${a.tw.replace('timewindow', '')}`;
    const text = `${hhmmss(time)} ${tw} ${a.evidenceIds.length} ${sanitize(a.id)}`;
    return lineRow(
      `a:${a.id}`,
      text,
      () => [
        { text: `${hhmmss(time)} `, style: 'dim' },
        { text: `${fit(tw, 5)} `, style: 'alert' },
        { text: `${fit(String(a.evidenceIds.length), 4, 'right')} evidence ` },
        { text: Number.isFinite(a.atl) ? `ATL ${a.atl.toFixed(2)}` : '', style: 'dim' },
      ],
      { detail: [`alert ${sanitize(a.id)}`, `${tw}, ${a.evidenceIds.length} evidence`, ...a.evidenceIds.map((id) => sanitize(id))], sortKeys: { time: time || 0, evidence: a.evidenceIds.length } },
    );
  });
}

// ------------------------------------------------------------------ 1 Summary

export function summaryRows(stats: TwStats | undefined, evidence: readonly EvidenceItem[], alerts: number, aggCounts: { dstIps: number; dstPorts: number } | undefined, atl: number, threshold: number, ascii: boolean, fallback: readonly TimelineItem[] | undefined): ViewRow[] {
  const rows: ViewRow[] = [];
  const f = stats?.fields ?? {};
  if (stats?.exists === true) {
    rows.push(noteRow('s1', `flows ${num(f.flows)}  out ${num(f.out_flows)}  in ${num(f.in_flows)}  est ${num(f.established_flows)}`));
    rows.push(noteRow('s2', `pkts ${compact(num(f.pkts))}  bytes ${compact(num(f.bytes))}  sent ${compact(num(f.sbytes))}  recv ${compact(num(f.dbytes))}`));
    rows.push(noteRow('s3', `first ${hhmmss(num(f.first_ts, NaN))}  last ${hhmmss(num(f.last_ts, NaN))}  ${f.closed === '1' ? 'closed' : 'open'}`));
  } else if (fallback !== undefined) {
    const bytes = fallback.reduce((s, t) => s + t.total, 0);
    rows.push(noteRow('s1', `flows ${fallback.length} (from the timeline)  bytes ${compact(bytes)}`));
    if (fallback.length > 0) rows.push(noteRow('s3', `first ${hhmmss(fallback[0].time)}  last ${hhmmss(fallback[fallback.length - 1].time)}`));
  }
  if (aggCounts !== undefined) rows.push(noteRow('s4', `distinct dst IPs ${aggCounts.dstIps}  dst ports ${aggCounts.dstPorts}`));
  const perLevel = THREAT_LEVELS.map((l) => `${LEVEL_SHORT[l]} ${evidence.filter((e) => e.level.toLowerCase() === l).length}`).join(' ');
  rows.push(noteRow('s5', `evidence ${evidence.length}: ${perLevel}`, evidence.length > 0 ? 'warn' : 'plain'));
  rows.push(noteRow('s6', `alerts ${alerts}`, alerts > 0 ? 'alert' : 'plain'));
  rows.push(
    lineRow('s7', `ATL ${atl}`, (width) => {
      const label = `ATL ${atl.toFixed(2)}/${threshold.toFixed(0)} `;
      return [{ text: label }, { text: bar(atl, threshold, Math.max(0, width - label.length), ascii), style: atl >= threshold ? 'alert' : 'warn' }];
    }),
  );
  const records = Object.entries(f)
    .filter(([k]) => k.startsWith('records_'))
    .map(([k, v]) => `${sanitize(k.slice(8), 12)} ${num(v)}`);
  if (records.length > 0) rows.push(noteRow('s8', `records: ${records.join('  ')}`));
  return rows;
}

// ------------------------------------------------------------------ 8 Ports & IPs

export const AGG_DIMS: ReadonlyArray<[string, string]> = [
  ['dport:client', 'dst ports'],
  ['sport:client', 'src ports'],
  ['daddr:client', 'dst IPs'],
  ['dport:server', 'server ports'],
  ['saddr:server', 'src IPs (server)'],
  ['daddr_dport:client', 'IP x port'],
];
export const AGG_STATES = ['all', 'est', 'notest'] as const;
export const AGG_METRICS = ['flows', 'pkts', 'bytes'] as const;
export type AggState = (typeof AGG_STATES)[number];
export type AggMetric = (typeof AGG_METRICS)[number];

/**
 * Merges est/notest members unless one state is chosen; sorted by the metric, largest first. One row
 * per `proto/key`, or per key alone (`perProto` false: protocols summed too, proto left empty).
 */
export function aggregate(items: readonly AggItem[], state: AggState, metric: AggMetric, perProto = true): AggItem[] {
  const merged = new Map<string, AggItem>();
  for (const item of items) {
    if (state === 'est' && !item.established) continue;
    if (state === 'notest' && item.established) continue;
    const key = perProto ? `${item.proto}/${item.key}` : item.key;
    const old = merged.get(key);
    if (old === undefined) merged.set(key, { ...item, proto: perProto ? item.proto : '' });
    else {
      old.flows += item.flows;
      old.pkts += item.pkts;
      old.bytes += item.bytes;
    }
  }
  return [...merged.values()].sort((a, b) => b[metric] - a[metric] || (a.key < b.key ? -1 : 1));
}

/** Aggregates computed from timeline entries when the `:agg` keys are missing (Slips database). */
export function aggFromTimeline(items: readonly TimelineItem[], dim: string): AggItem[] {
  const out: AggItem[] = [];
  for (const t of items) {
    if (!t.outgoing && dim.endsWith(':client')) continue;
    const [port, proto] = t.dportProto.split('/');
    const key = dim.startsWith('dport') ? port : dim.startsWith('daddr_dport') ? `${t.peer}/${port}` : dim.startsWith('daddr') || dim.startsWith('saddr') ? t.peer : '';
    if (key === '' || key === undefined) continue;
    out.push({ proto: (proto ?? '').toLowerCase(), key, established: t.state.toLowerCase().startsWith('est'), flows: 1, pkts: 0, bytes: t.total });
  }
  return out;
}

export function aggRows(items: readonly AggItem[], metric: AggMetric, logScale: boolean, ascii: boolean): ViewRow[] {
  const max = items.reduce((m, i) => Math.max(m, i[metric]), 0);
  const scale = (v: number): number => (logScale ? Math.log10(1 + v) : v);
  return items.map((item) => {
    const label = `${sanitize(item.proto, 6)}/${sanitize(item.key, 60)}`;
    return lineRow(
      `g:${item.proto}/${item.key}`,
      `${label} ${item.flows} ${item.pkts} ${item.bytes}`,
      (width) => {
        const numbers = ` ${fit(compact(item.flows), 6, 'right')} ${fit(compact(item.pkts), 6, 'right')} ${fit(compact(item.bytes), 6, 'right')} `;
        const labelWidth = Math.min(24, Math.max(12, width - numbers.length - 8));
        const barWidth = Math.max(0, width - labelWidth - numbers.length);
        return [
          { text: fit(label, labelWidth) },
          { text: numbers },
          { text: bar(scale(item[metric]), scale(max), barWidth, ascii), style: 'good' },
        ];
      },
      { peer: item.key.split('/')[0], sortKeys: { flows: item.flows, pkts: item.pkts, bytes: item.bytes, key: item.key } },
    );
  });
}

// ------------------------------------------------------------------ 9 Graphs

export interface TwSeries {
  tw: number;
  flows: number;
  bytes: number;
}

export function graphRows(series: readonly TwSeries[], topPorts: readonly AggItem[], topIps: readonly AggItem[], ascii: boolean): ViewRow[] {
  const rows: ViewRow[] = [];
  const spark = (label: string, values: number[]): ViewRow => {
    const max = Math.max(0, ...values);
    const at = series[values.indexOf(max)];
    return lineRow(`spark-${label}`, label, (width) => {
      const tail = ` max ${compact(max)}${at !== undefined ? ` TW${at.tw}` : ''}`;
      const cells = values.slice(-Math.max(1, width - 10 - tail.length));
      return [{ text: fit(label, 10) }, { text: sparkline(cells, ascii), style: 'good' }, { text: tail, style: 'dim' }];
    });
  };
  rows.push(spark('flows/TW', series.map((s) => s.flows)));
  rows.push(spark('bytes/TW', series.map((s) => s.bytes)));
  const barRows = (title: string, items: readonly AggItem[], label: (a: AggItem) => string): void => {
    rows.push(noteRow(`h-${title}`, title, 'header'));
    const max = items.reduce((m, i) => Math.max(m, i.flows), 0);
    for (const item of items.slice(0, 5)) {
      const name = label(item);
      rows.push(
        lineRow(`b-${title}-${name}`, name, (width) => {
          const count = compact(item.flows);
          return [{ text: ` ${fit(name, 16)} ` }, { text: bar(item.flows, max, Math.max(0, width - 18 - count.length - 1), ascii), style: 'good' }, { text: ` ${count}` }];
        }, { peer: item.key }),
      );
    }
    if (items.length === 0) rows.push(noteRow(`n-${title}`, ` ${NOT_IN_DB}`, 'dim'));
  };
  barRows('top dst ports (flows)', topPorts, (a) => `${sanitize(a.key, 12)}/${sanitize(a.proto, 4)}`);
  barRows('top dst IPs (flows)', topIps, (a) => sanitize(a.key, 45));
  return rows;
}

// ------------------------------------------------------------------ L core log

export function logRows(lines: readonly string[]): ViewRow[] {
  return lines.map((line, index) => {
    const text = sanitize(line.replace(/\t/g, ' '), 1024);
    return { id: `l${index}`, text, lines: (width: number) => wrap(text, width).map((l): Segment[] => [{ text: l }]) };
  });
}

/** `<head> <middle><tail>` in at most width cells; only middle (an IP, a path) is shortened, in its middle. */
export function fitTitle(head: string, middle: string, tail: string, width: number): string {
  const room = width - textWidth(head) - 1 - textWidth(tail);
  const title = `${head} ${room >= textWidth(middle) ? middle : middleEllipsis(middle, Math.max(3, room))}${tail}`;
  return textWidth(title) <= width ? title : fit(title, Math.max(0, width));
}

export function twLabel(number: number, start: number, width: number): string {
  return `TW${number} ${hhmm(start)}-${hhmm(start + width)}`;
}
