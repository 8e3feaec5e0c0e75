// The keymap as shown by `?` (spec/tui.md §4.5), including what the old Kalipso keys became. The
// dispatch itself is in app.ts; this table is the one place the help text lives. It fits the
// 20 inner rows of the overlay at 80x24.

export const HELP_KEYS: ReadonlyArray<[string, string]> = [
  ['Up Down k j', 'move; PgUp PgDn page; C-u C-d half page; g G Home End ends'],
  ['Right l Left h', 'tree: expand / collapse (TW: to its IP); tables: scroll'],
  ['Enter', 'tree: expand IP, open TW; rows: drill down (info, alert)'],
  ['Esc Backspace', 'back: close drill-down, overlay, menu; clear search'],
  ['Tab S-Tab', 'next / previous pane (Hosts, main view, Detail)'],
  ['1-9 L', 'views: 1 Summary 2 Timeline 3 Flows 4 Out tuples 5 In tuples'],
  ['', '6 Evidence 7 Alerts 8 Ports & IPs 9 Graphs L core log'],
  ['] [ C-n C-p', 'next / previous time window of the IP'],
  ['/ n N', 'search in the pane, next / previous match'],
  ['f F', 'filter (tree: alerts evidence blocked host score) / clear'],
  ['s S', 'cycle sort column / reverse order'],
  ['v', 'compact / wide columns (main view takes the full width)'],
  ['i', 'Detail pane: IP info / full text of the row'],
  ['a', 'Evidence and Alerts: this TW / all TWs of the IP'],
  ['m e o x', 'Ports & IPs: dimension / state / metric / log scale'],
  [':', 'go to IP [TW<n>]'],
  ['c', 'core menu: s start, t stop, r restart, l log'],
  ['D r p', 'switch database (port, host:port, .rdb); reload; pause'],
  ['? q C-c', 'this help; quit (running core: stop / detach / cancel)'],
  ['old Kalipso', 'o->r  h->?  e d r p t->8  i y->4 5  z->6 a'],
];
