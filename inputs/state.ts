// Interpreted connection state: Slips' get_final_state_from_flags(state, pkts), which folds
// Zeek conn_state, Argus state strings and Suricata flow states into Established / Not Established.

export type InterpretedState =
  | 'Established'
  | 'Not Established'
  | 'ICMP Echo'
  | 'ICMP Reply'
  | 'ICMP Host Unreachable'
  | 'ICMP Port Unreachable';

const ZEEK_ESTABLISHED = new Set(['S1', 'SF', 'S2', 'S3', 'RSTO', 'RSTP', 'OTH']);
const ZEEK_NOT_ESTABLISHED = new Set(['S0', 'REJ', 'RSTOS0', 'RSTRH', 'SH', 'SHR']);
const ARGUS_ICMP_PREFIX: Readonly<Record<string, InterpretedState>> = {
  ECO: 'ICMP Echo',
  ECR: 'ICMP Reply',
  URH: 'ICMP Host Unreachable',
  URP: 'ICMP Port Unreachable',
};

export function interpretState(state: string, pkts: number): InterpretedState {
  const lower = state.toLowerCase();
  if (lower.includes('new') || lower.includes('established')) return 'Established';
  if (lower.includes('closed')) return 'Not Established';
  if (ZEEK_ESTABLISHED.has(state)) return 'Established';
  if (ZEEK_NOT_ESTABLISHED.has(state)) return 'Not Established';
  const underscore = state.indexOf('_');
  if (underscore >= 0) {
    // Argus "<source flags>_<destination flags>"
    const pre = state.slice(0, underscore);
    const suf = state.slice(underscore + 1);
    if ((pre.includes('S') && pre.includes('A') && suf.includes('S') && suf.includes('A')) ||
        (pre.includes('PA') && suf.includes('PA'))) {
      return 'Established';
    }
    // Own keys only: a state like `constructor_x` must not find Object.prototype.constructor.
    return Object.hasOwn(ARGUS_ICMP_PREFIX, pre) ? ARGUS_ICMP_PREFIX[pre]! : 'Not Established';
  }
  switch (state) {
    case 'ECO': case 'UNK': case 'CON': case 'EST':
      return 'Established';
    case 'RST': case 'FIN':
      return pkts <= 3 ? 'Not Established' : 'Established';
    default:
      return 'Not Established';
  }
}
