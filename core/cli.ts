// Command line: Slips' flags and meanings (core.md §1), parsed with meow. Flags whose feature is not
// built yet, and unknown flags, are refused with a clear message and exit code 2, never accepted
// silently.

import meow from 'meow';

export const SLIPS_COMPAT_VERSION = '1.1.21';
export const OUR_VERSION = '0.1.0';

export interface CliOptions {
  filepath?: string;
  /** Live capture from this network interface (-i). */
  interface?: string;
  /** BPF filter of the live capture (-F; overrides config pcapfilter). */
  pcapfilter?: string;
  growing?: string;
  output?: string;
  config?: string;
  verbose?: number;
  debug?: number;
  testing: boolean;
  port?: number;
  multiinstance: boolean;
  save: boolean;
  db?: string;
  killall: boolean;
  version: boolean;
  help: boolean;
}

export class CliError extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}

export const HELP = `
Usage: ./slips.sh [options]

Behavioral network intrusion detection, compatible with Slips ${SLIPS_COMPAT_VERSION}.

Options
  -f, --filepath <path>     input: Zeek log file or directory, Argus binetflow, Suricata eve.json,
                            nfdump file, pcap/pcapng; zeek|suricata|argus reads that format from stdin
  -i, --interface <iface>   capture live traffic from a network interface (uses tcpdump; needs root)
  -F, --pcapfilter <bpf>    BPF filter of the live capture (overrides config parameters.pcapfilter)
  -g, --growing <dir>       follow a directory of Zeek logs that Zeek keeps writing (ends only on Ctrl-C)
  -o, --output <dir>        output directory (default output/<input>_<date>/); its content is replaced
  -c, --config <file>       configuration file (default config/slips.yaml)
  -v, --verbose <0-3>       verbosity of the console output (config parameters.verbose)
  -e, --debug <0-3>         debug level (config parameters.debug); level 1 messages go to errors.log
  -t, --testing             keep slips_output.txt in the output dir and write a human-readable timeline.txt
  -P, --port <port>         port of the private Redis server (default 6379)
  -m, --multiinstance       use the first free Redis port in 32768-32850
  -s, --save                persist the Redis database while running (dump.rdb is always saved at the end)
  -d, --db <dump.rdb>       load a saved database into a Redis server for browsing, print its port and exit
  -k, --killall             stop the Redis servers this program started (recorded in running_slips_info.txt)
  -V, --version             print the version
  -h, --help                print this help
`;

/** Slips flags that exist but whose feature this version does not have yet. */
const NOT_BUILT: ReadonlyArray<[string[], string]> = [
  [['-ap', '--access-point'], 'access-point mode'],
  [['-cc', '--clearcache'], 'the cache database'],
  [['-p', '--blocking'], 'blocking'],
  [['--clearblocking'], 'blocking'],
  [['-D', '--daemon'], 'daemon mode'],
  [['-S', '--stopdaemon'], 'daemon mode'],
  [['-w', '--webinterface'], 'the web interface'],
  [['-im', '--input-module'], 'input modules'],
  [['-u'], 'self-update'],
  [['--no-recurse'], 'self-update'],
];

function checkLevel(value: number | undefined): void {
  if (value !== undefined && (!Number.isInteger(value) || value < 0 || value > 3)) {
    throw new CliError('Debug and verbose values range from 0 to 3.', 2);
  }
}

export function parseCli(argv: readonly string[]): CliOptions {
  for (const arg of argv) {
    const flag = arg.includes('=') ? arg.slice(0, arg.indexOf('=')) : arg;
    const notBuilt = NOT_BUILT.find(([names]) => names.includes(flag));
    if (notBuilt !== undefined) {
      throw new CliError(`${flag}: ${notBuilt[1]} is not available in this version yet.`, 2);
    }
  }
  let unknown: string | undefined;
  const cli = meow(HELP, {
    importMeta: import.meta,
    argv: [...argv],
    autoHelp: false,
    autoVersion: false,
    allowUnknownFlags: true,
    flags: {
      filepath: { type: 'string', shortFlag: 'f' },
      interface: { type: 'string', shortFlag: 'i' },
      pcapfilter: { type: 'string', shortFlag: 'F' },
      growing: { type: 'string', shortFlag: 'g' },
      output: { type: 'string', shortFlag: 'o' },
      config: { type: 'string', shortFlag: 'c' },
      verbose: { type: 'number', shortFlag: 'v' },
      debug: { type: 'number', shortFlag: 'e' },
      testing: { type: 'boolean', shortFlag: 't', default: false },
      port: { type: 'number', shortFlag: 'P' },
      multiinstance: { type: 'boolean', shortFlag: 'm', default: false },
      save: { type: 'boolean', shortFlag: 's', default: false },
      db: { type: 'string', shortFlag: 'd' },
      killall: { type: 'boolean', shortFlag: 'k', default: false },
      version: { type: 'boolean', shortFlag: 'V', default: false },
      help: { type: 'boolean', shortFlag: 'h', default: false },
    },
  });
  const known = new Set([
    'filepath', 'interface', 'pcapfilter', 'growing', 'output', 'config', 'verbose', 'debug', 'testing', 'port', 'multiinstance', 'save', 'db', 'killall',
    'version', 'help', 'f', 'i', 'F', 'g', 'o', 'c', 'v', 'e', 't', 'P', 'm', 's', 'd', 'k', 'V', 'h',
  ]);
  for (const key of Object.keys(cli.unnormalizedFlags)) {
    if (!known.has(key)) unknown = key.length === 1 ? `-${key}` : `--${key}`;
  }
  if (unknown !== undefined) throw new CliError(`Unknown flag ${unknown}. Run with -h for the list of flags.`, 2);
  if (cli.input.length > 0) throw new CliError(`Unexpected argument '${cli.input[0]}'. Run with -h for the list of flags.`, 2);

  const flags = cli.flags;
  checkLevel(flags.verbose);
  checkLevel(flags.debug);
  if (flags.port !== undefined && (!Number.isInteger(flags.port) || flags.port < 1 || flags.port > 65535)) {
    throw new CliError('-P needs a port number between 1 and 65535.', 2);
  }
  const inputs = [flags.filepath, flags.interface, flags.db].filter((v) => v !== undefined).length;
  if (inputs > 1) {
    throw new CliError('Only one of the flags -i, -ap, -s, -d, or -f is allowed. Stopping Slips.', 2);
  }
  if (flags.growing !== undefined && (flags.filepath !== undefined || flags.db !== undefined || flags.interface !== undefined)) {
    throw new CliError('-g <dir> is the input: it cannot be combined with -f, -i or -d.', 2);
  }
  if (flags.pcapfilter !== undefined && flags.interface === undefined) {
    throw new CliError('-F filters a live capture: it needs -i <interface>.', 2);
  }
  if (flags.port !== undefined && flags.multiinstance) {
    throw new CliError('-P and -m cannot be used together: -m picks the port.', 2);
  }
  const options: CliOptions = {
    testing: flags.testing,
    multiinstance: flags.multiinstance,
    save: flags.save,
    killall: flags.killall,
    version: flags.version,
    help: flags.help,
  };
  if (flags.filepath !== undefined) options.filepath = flags.filepath;
  if (flags.interface !== undefined) options.interface = flags.interface;
  if (flags.pcapfilter !== undefined) options.pcapfilter = flags.pcapfilter;
  if (flags.growing !== undefined) options.growing = flags.growing;
  if (flags.output !== undefined) options.output = flags.output;
  if (flags.config !== undefined) options.config = flags.config;
  if (flags.verbose !== undefined) options.verbose = flags.verbose;
  if (flags.debug !== undefined) options.debug = flags.debug;
  if (flags.port !== undefined) options.port = flags.port;
  if (flags.db !== undefined) options.db = flags.db;
  return options;
}
