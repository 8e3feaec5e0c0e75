// Screen geometry (spec/tui.md §4.2): Hosts tree on the left, main view and Detail stacked on the
// right, status and hints rows at the bottom. Pure: a terminal size gives pane rectangles that
// never overlap and always fit; below 80x24 there is no layout, only the too-small notice.
// Also the glyph sets (Unicode and --ascii).

export const MIN_WIDTH = 80;
export const MIN_HEIGHT = 24;

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Layout {
  width: number;
  height: number;
  tree: Rect;
  main: Rect;
  detail: Rect;
  status: number;
  hints: number;
}

export function tooSmallText(width: number, height: number): string {
  return `terminal too small (need ${MIN_WIDTH}x${MIN_HEIGHT}, have ${width}x${height})`;
}

/** Pane rectangles (borders included) for a terminal of width x height; undefined when too small. */
export function computeLayout(width: number, height: number): Layout | undefined {
  if (width < MIN_WIDTH || height < MIN_HEIGHT) return undefined;
  const panesHeight = height - 2;
  const treeWidth = width >= 120 ? 34 : 28;
  const mainHeight = height >= 40 ? Math.round(panesHeight * 0.6) : panesHeight - 6;
  const right = width - treeWidth;
  return {
    width,
    height,
    tree: { x: 0, y: 0, w: treeWidth, h: panesHeight },
    main: { x: treeWidth, y: 0, w: right, h: mainHeight },
    detail: { x: treeWidth, y: mainHeight, w: right, h: panesHeight - mainHeight },
    status: height - 2,
    hints: height - 1,
  };
}

export interface Glyphs {
  h: string;
  v: string;
  tl: string;
  tr: string;
  bl: string;
  br: string;
  expanded: string;
  collapsed: string;
  branch: string;
  lastBranch: string;
  alert: string;
  evidence: string;
  blocked: string;
  sortDown: string;
  sortUp: string;
  run: string;
  starting: string;
  stopping: string;
  exitOk: string;
  exitBad: string;
  none: string;
  redisDown: string;
  ellipsis: string;
}

export const UNICODE_GLYPHS: Glyphs = {
  h: '─', v: '│', tl: '┌', tr: '┐', bl: '└', br: '┘',
  expanded: '▾', collapsed: '▸', branch: '├─', lastBranch: '└─',
  alert: '!', evidence: '•', blocked: '⊘', sortDown: '▾', sortUp: '▴',
  run: '●', starting: '◌', stopping: '◍', exitOk: '✔', exitBad: '✖', none: '○', redisDown: 'redis✖',
  ellipsis: '…',
};

export const ASCII_GLYPHS: Glyphs = {
  h: '-', v: '|', tl: '+', tr: '+', bl: '+', br: '+',
  expanded: 'v', collapsed: '>', branch: '|-', lastBranch: '`-',
  alert: '!', evidence: '*', blocked: 'x', sortDown: 'v:', sortUp: '^:',
  run: '*', starting: 'o', stopping: '~', exitOk: '+', exitBad: 'x', none: '-', redisDown: 'redis-X',
  ellipsis: '~',
};
