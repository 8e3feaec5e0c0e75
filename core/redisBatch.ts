// A batch of Redis write commands sent as a few EVALSHA calls of one small Lua script that runs
// them in order. Thousands of per-key writes (one HSET per time window, one ZADD per timeline...)
// then cost a handful of client commands instead of one command object, promise and reply each.
// Commands keep their order, so an announcement published after its data is seen after it.

import type { Redis } from 'ioredis';

/** Runs ARGV as a list of (command name, argument count, arguments...) groups. */
const RUN_COMMANDS_SCRIPT = `
local i = 1
local n = #ARGV
while i <= n do
  local count = tonumber(ARGV[i + 1])
  redis.call(ARGV[i], unpack(ARGV, i + 2, i + 1 + count))
  i = i + 2 + count
end
return n
`;

/** Arguments of one command inside the script (Lua's unpack limit is about 8000). */
const MAX_COMMAND_ARGS = 4000;
/** Arguments per EVALSHA call: bounds how long one call blocks the server. */
const MAX_CALL_ARGS = 40_000;

type Arg = string | number;

interface BatchRunner {
  runCommands(...args: Arg[]): Promise<number>;
}

/** Registers the script on a client (idempotent); ioredis loads it with EVALSHA/EVAL on first use. */
export function enableBatches(redis: Redis): void {
  if (!('runCommands' in redis)) redis.defineCommand('runCommands', { numberOfKeys: 0, lua: RUN_COMMANDS_SCRIPT });
}

export class CommandBatch {
  private args: Arg[] = [];
  /** Commands added (before they are grouped into calls). */
  commands = 0;

  /** One command with its arguments. */
  add(command: string, ...args: Arg[]): void {
    this.args.push(command, args.length);
    for (const arg of args) this.args.push(arg);
    this.commands += 1;
  }

  /**
   * A variadic command over one key (HSET, ZADD, SADD, ZREM...) with items of `width` arguments
   * each (2 for field/value, 1 for members): split into several commands when long.
   */
  addItems(command: string, key: string, items: readonly Arg[], width: number): void {
    const perCommand = Math.floor((MAX_COMMAND_ARGS - 1) / width) * width;
    for (let start = 0; start < items.length; start += perCommand) {
      const end = Math.min(items.length, start + perCommand);
      this.args.push(command, end - start + 1, key);
      for (let i = start; i < end; i++) this.args.push(items[i] as Arg);
      this.commands += 1;
    }
  }

  get isEmpty(): boolean {
    return this.args.length === 0;
  }

  /** Send everything as EVALSHA calls in one pipeline; resolves with the number of calls. */
  async send(redis: Redis): Promise<number> {
    const pipeline = redis.pipeline() as ReturnType<Redis['pipeline']> & BatchRunner;
    const args = this.args;
    let calls = 0;
    let start = 0;
    while (start < args.length) {
      // Cut at a command boundary once the call is big enough.
      let end = start;
      while (end < args.length && end - start < MAX_CALL_ARGS) end += 2 + Number(args[end + 1]);
      pipeline.runCommands(...args.slice(start, end));
      calls += 1;
      start = end;
    }
    this.args = [];
    this.commands = 0;
    const results = await pipeline.exec();
    const failed = results?.find(([error]) => error !== null);
    if (failed?.[0]) throw failed[0];
    return calls;
  }
}
