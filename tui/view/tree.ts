// The Hosts tree: profiles (marker, expander, IP, score, host name) with their time windows as
// children (`TW<n> HH:MM`, alert or evidence count, accumulated threat level / threshold, `purged`).
// flattenTree lists the rows in order; only the visible slice is ever rendered (renderTreeRow).

import type { Model, Profile, TwInfo } from '../data/model.js';
import { sanitize } from '../sanitize.js';
import { fit, hhmm, middleEllipsis, textWidth } from '../text.js';
import type { Segment } from './canvas.js';
import type { Glyphs } from './layout.js';

export interface TreeRow {
  ip: string;
  tw: TwInfo | undefined;
  last: boolean;
  /** Width of the widest `TW<n>` among the IP's windows (at least 4), so its TW rows line up. */
  twNameWidth: number;
}

export function treeRowId(row: { ip: string; tw: TwInfo | string | undefined }): string {
  const tw = typeof row.tw === 'string' ? row.tw : row.tw?.name;
  return tw === undefined ? row.ip : `${row.ip} ${tw}`;
}

export function flattenTree(model: Model, expanded: ReadonlySet<string>): TreeRow[] {
  const rows: TreeRow[] = [];
  for (const ip of model.orderedIps()) {
    rows.push({ ip, tw: undefined, last: false, twNameWidth: 0 });
    if (!expanded.has(ip)) continue;
    const tws = model.profiles.get(ip)?.tws ?? [];
    const twNameWidth = tws.reduce((w, tw) => Math.max(w, `TW${tw.number}`.length), 4);
    tws.forEach((tw, i) => rows.push({ ip, tw, last: i === tws.length - 1, twNameWidth }));
  }
  return rows;
}

function formatLevel(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

export function renderProfileRow(p: Profile, expanded: boolean, width: number, g: Glyphs): Segment[] {
  const marker: Segment =
    p.blocked ? { text: g.blocked, style: 'alert' } : p.alerts > 0 ? { text: g.alert, style: 'alert' } : p.evidence > 0 ? { text: g.evidence, style: 'warn' } : { text: ' ' };
  const score = p.score.toFixed(2);
  const host = sanitize(p.host, 40);
  // marker, space, expander, IP, space, score, [space host]
  const ipRoom = Math.max(7, width - 3 - 1 - score.length - 1);
  const ip = middleEllipsis(p.ip, ipRoom);
  const ipCol = Math.min(ipRoom, Math.max(15, textWidth(ip)));
  const segments: Segment[] = [marker, { text: ' ' }, { text: expanded ? g.expanded : g.collapsed, style: 'dim' }, { text: fit(ip, ipCol) }, { text: ' ' }, { text: score, style: p.score > 0 ? 'warn' : 'plain' }];
  const used = 3 + ipCol + 1 + score.length;
  if (host !== '' && width - used > 2) segments.push({ text: ` ${fit(host, width - used - 1)}`, style: 'dim' });
  return segments;
}

/**
 * `  ├─TW<n> HH:MM <mark> <ATL>/<threshold>`: the TW number is never cut (the column is as wide as
 * the IP's widest). When the IP's TW numbers are too long for the start time, a 4-cell mark and a
 * 4-cell ATL, its rows drop the time (the main view's title has it). The ATL is right-aligned after
 * at least one space, without `/<threshold>` when the row is too narrow for both.
 */
export function renderTwRow(row: TreeRow, tw: TwInfo, threshold: number, g: Glyphs, width: number): Segment[] {
  const branch = row.last ? g.lastBranch : g.branch;
  const name = `TW${tw.number}`;
  const nameWidth = Math.max(row.twNameWidth, name.length);
  const prefix = 2 + textWidth(branch);
  const withTime = prefix + nameWidth + 6 + 1 + 4 + 1 + 4 <= width;
  const segments: Segment[] = [{ text: `  ${branch}`, style: 'dim' }, { text: fit(name, nameWidth) }, { text: withTime ? ` ${hhmm(tw.start)} ` : ' ' }];
  if (tw.purged) {
    segments.push({ text: 'purged', style: 'dim' });
    return fitSegments(segments, width);
  }
  const mark = tw.alerts > 0 ? g.alert : tw.evidence > 0 ? `${tw.evidence}e` : '';
  segments.push({ text: fit(mark, Math.max(3, textWidth(mark))), style: tw.alerts > 0 ? 'alert' : 'warn' });
  const room = width - segments.reduce((w, s) => w + textWidth(s.text), 0) - 1;
  const full = `${formatLevel(tw.atl)}/${formatLevel(threshold)}`;
  const atl = textWidth(full) <= room ? full : formatLevel(tw.atl);
  if (room > 0) segments.push({ text: ` ${fit(atl, room, 'right')}`, style: tw.atl >= threshold ? 'alert' : 'dim' });
  return fitSegments(segments, width);
}

/** Segments clipped to width cells in total. */
function fitSegments(segments: readonly Segment[], width: number): Segment[] {
  const out: Segment[] = [];
  let left = width;
  for (const s of segments) {
    if (left <= 0) break;
    const w = textWidth(s.text);
    out.push(w <= left ? s : { ...s, text: fit(s.text, left) });
    left -= Math.min(w, left);
  }
  return out;
}
