// Draws one frame into a Canvas: the three bordered panes (title in the top border, focused pane
// highlighted), their visible lines, the status and hints rows, and an optional centred overlay
// (help), never leaving a sliver of the panes' borders beside it. Pure: the App hands in what to show; nothing here reads Redis.

import { textWidth } from '../text.js';
import { Canvas, type Segment, type Style } from './canvas.js';
import type { Glyphs, Layout, Rect } from './layout.js';

export interface PaneContent {
  title: Segment[];
  lines: Segment[][];
  /** Lines [from, to) drawn with the cursor style. */
  cursor?: [number, number];
  focused: boolean;
}

export interface Overlay {
  title: string;
  lines: Segment[][];
}

export interface FrameContent {
  tree?: PaneContent;
  main: PaneContent;
  detail?: PaneContent;
  status: Segment[];
  hints: Segment[];
  overlay?: Overlay;
}

export function drawBox(canvas: Canvas, rect: Rect, title: readonly Segment[], focused: boolean, g: Glyphs): void {
  const style: Style = focused ? 'borderFocus' : 'border';
  const right = rect.x + rect.w - 1;
  const bottom = rect.y + rect.h - 1;
  canvas.put(rect.x, rect.y, g.tl + g.h.repeat(Math.max(0, rect.w - 2)) + g.tr, style);
  canvas.put(rect.x, bottom, g.bl + g.h.repeat(Math.max(0, rect.w - 2)) + g.br, style);
  for (let y = rect.y + 1; y < bottom; y += 1) {
    canvas.put(rect.x, y, g.v, style);
    canvas.put(right, y, g.v, style);
  }
  const titleStyle: Style = focused ? 'titleFocus' : 'title';
  canvas.putSegments(rect.x + 1, rect.y, title.map((s) => ({ text: s.text, style: s.style ?? titleStyle })), right);
}

export function drawPane(canvas: Canvas, rect: Rect, pane: PaneContent, g: Glyphs): void {
  drawBox(canvas, rect, pane.title, pane.focused, g);
  const innerX = rect.x + 1;
  const innerW = rect.w - 2;
  const innerH = rect.h - 2;
  pane.lines.slice(0, innerH).forEach((line, i) => {
    canvas.putSegments(innerX, rect.y + 1 + i, line, innerX + innerW);
  });
  if (pane.cursor !== undefined) {
    for (let i = pane.cursor[0]; i < Math.min(pane.cursor[1], innerH); i += 1) {
      canvas.mark(innerX, rect.y + 1 + i, innerW, pane.focused ? 'cursor' : 'cursorDim');
    }
  }
}

export function drawFrame(layout: Layout, content: FrameContent, g: Glyphs): Canvas {
  const canvas = new Canvas(layout.width, layout.height);
  if (content.tree !== undefined) drawPane(canvas, layout.tree, content.tree, g);
  if (content.detail !== undefined) {
    drawPane(canvas, layout.main, content.main, g);
    drawPane(canvas, layout.detail, content.detail, g);
  } else {
    // wide mode: the main view takes every pane row
    drawPane(canvas, { x: 0, y: 0, w: layout.width, h: layout.height - 2 }, content.main, g);
  }
  canvas.fill(0, layout.status, layout.width, 1, 'status');
  canvas.putSegments(0, layout.status, content.status.map((s) => ({ text: s.text, style: s.style ?? 'status' })));
  canvas.putSegments(0, layout.hints, content.hints);
  if (content.overlay !== undefined) drawOverlay(canvas, layout, content.overlay, g);
  return canvas;
}

function drawOverlay(canvas: Canvas, layout: Layout, overlay: Overlay, g: Glyphs): void {
  const widest = Math.max(textWidth(overlay.title) + 2, ...overlay.lines.map((l) => textWidth(l.map((s) => s.text).join(''))));
  // an overlay that would leave a strip of the panes' borders beside it takes the full width
  const w = widest + 4 > layout.width - 4 ? layout.width : widest + 4;
  const h = Math.min(layout.height - 2, overlay.lines.length + 2);
  const rect = { x: Math.floor((layout.width - w) / 2), y: Math.max(0, Math.floor((layout.height - 2 - h) / 2)), w, h };
  canvas.fill(rect.x, rect.y, rect.w, rect.h);
  drawPane(canvas, rect, { title: [{ text: overlay.title }], lines: overlay.lines.map((l) => [{ text: ' ' }, ...l]), focused: true }, g);
}
