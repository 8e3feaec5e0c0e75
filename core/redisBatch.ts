// A batch of Redis write commands sent as a few EVALSHA calls of one small Lua script that runs
// them in order. Thousands of per-key writes (one HSET per time window, one ZADD per timeline...)
// then cost a handful of client commands instead of one command object, promise and reply each.
// Each call carries its commands as one JSON argument (serialized natively here, decoded by Redis'
// built-in cjson), so the client does no per-argument work. Every argument is sent as a string:
// Lua would print a float number with 17 digits.
// Commands keep their order, so an announcement published after its data is seen after it.

import type { Redis } from 'ioredis';

/** Runs ARGV[1], a JSON list of commands (each a list of strings: name then arguments). */
const RUN_COMMANDS_SCRIPT = `
local commands = cjson.decode(ARGV[1])
for i = 1, #commands do
  redis.call(unpack(commands[i]))
end
return #commands
`;

/** Arguments of one command inside the script (Lua's unpack limit is about 8000). */
const MAX_COMMAND_ARGS = 4000;
/** Arguments per EVALSHA call: bounds how long one call blocks the server. */
const MAX_CALL_ARGS = 40_000;

type Arg = string | number;

interface BatchRunner {
  runCommands(json: string): Promise<number>;
}

/** Registers the script on a client (idempotent); ioredis loads it with EVALSHA/EVAL on first use. */
export function enableBatches(redis: Redis): void {
  if (!('runCommands' in redis)) redis.defineCommand('runCommands', { numberOfKeys: 0, lua: RUN_COMMANDS_SCRIPT });
}

export class CommandBatch {
  private commands: string[][] = [];

  /** One command with its arguments. */
  add(command: string, ...args: Arg[]): void {
    const line = [command];
    for (const arg of args) line.push(String(arg));
    this.commands.push(line);
  }

  /**
   * A variadic command over one key (HSET, ZADD, SADD, ZREM...) with items of `width` arguments
   * each (2 for field/value, 1 for members): split into several commands when long.
   */
  addItems(command: string, key: string, items: readonly Arg[], width: number): void {
    const perCommand = Math.floor((MAX_COMMAND_ARGS - 1) / width) * width;
    for (let start = 0; start < items.length; start += perCommand) {
      const end = Math.min(items.length, start + perCommand);
      const line = [command, key];
      for (let i = start; i < end; i++) line.push(String(items[i]));
      this.commands.push(line);
    }
  }

  /** Send everything as EVALSHA calls in one pipeline; resolves with the number of calls. */
  async send(redis: Redis): Promise<number> {
    const pipeline = redis.pipeline() as ReturnType<Redis['pipeline']> & BatchRunner;
    const commands = this.commands;
    let calls = 0;
    let start = 0;
    while (start < commands.length) {
      // Cut at a command boundary once the call is big enough.
      let end = start;
      let args = 0;
      while (end < commands.length && args < MAX_CALL_ARGS) args += (commands[end++] as string[]).length;
      pipeline.runCommands(JSON.stringify(commands.slice(start, end)));
      calls += 1;
      start = end;
    }
    this.commands = [];
    const results = await pipeline.exec();
    const failed = results?.find(([error]) => error !== null);
    if (failed?.[0]) throw failed[0];
    return calls;
  }
}
