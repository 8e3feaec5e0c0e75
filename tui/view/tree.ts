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
}

export function treeRowId(row: { ip: string; tw: TwInfo | string | undefined }): string {
  const tw = typeof row.tw === 'string' ? row.tw : row.tw?.name;
  return tw === undefined ? row.ip : `${row.ip} ${tw}`;
}

export function flattenTree(model: Model, expanded: ReadonlySet<string>): TreeRow[] {
  const rows: TreeRow[] = [];
  for (const ip of model.orderedIps()) {
    rows.push({ ip, tw: undefined, last: false });
    if (!expanded.has(ip)) continue;
    const tws = model.profiles.get(ip)?.tws ?? [];
    tws.forEach((tw, i) => rows.push({ ip, tw, last: i === tws.length - 1 }));
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

export function renderTwRow(row: TreeRow, tw: TwInfo, threshold: number, g: Glyphs, width: number): Segment[] {
  const branch = row.last ? g.lastBranch : g.branch;
  const name = `TW${tw.number}`;
  const time = hhmm(tw.start);
  const segments: Segment[] = [{ text: `  ${branch}`, style: 'dim' }, { text: fit(name, 4) }, { text: ` ${time} ` }];
  if (tw.purged) {
    segments.push({ text: 'purged', style: 'dim' });
    return segments;
  }
  if (tw.alerts > 0) segments.push({ text: fit(g.alert, 4), style: 'alert' });
  else if (tw.evidence > 0) segments.push({ text: fit(`${tw.evidence}e`, 4), style: 'warn' });
  else segments.push({ text: '    ' });
  const atl = `${formatLevel(tw.atl)}/${formatLevel(threshold)}`;
  const used = 2 + textWidth(branch) + 4 + 1 + textWidth(time) + 1 + 4;
  segments.push({ text: fit(atl, Math.max(0, width - used), 'right'), style: tw.atl >= threshold ? 'alert' : 'dim' });
  return segments;
}
