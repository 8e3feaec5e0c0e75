// One analysis run: Redis up, input opened, records pushed through the engine, progress printed,
// outputs written, and a clean shutdown on end of input or on SIGINT / SIGTERM (a second signal
// forces the exit; a stuck shutdown is forced after 2 s).

import path from 'node:path';
import { Redis } from 'ioredis';
import type { CliOptions } from './cli.js';
import { OUR_VERSION, SLIPS_COMPAT_VERSION } from './cli.js';
import type { SlipsConfig } from './config.js';
import type { Printer } from './console.js';
import { Engine, engineSettingsOf } from './engine.js';
import { formatWidth, humanTime } from './format/time.js';
import { SharedKnowledge } from './knowledge.js';
import { writeMetadata, appendEndDate } from './outputDir.js';
import { AnalysisOutputs } from './outputListener.js';
import { RedisWriter } from './redisWriter.js';
import { connectExternal, recordServer, removeServer, startPrivateRedis, type RedisServerHandle } from './redisServer.js';
import { DETECTORS } from '../detections/index.js';
import { formatProblem, type ErrorSink } from '../inputs/errors.js';
import type { FlowReader } from '../inputs/reader.js';
import { openInput } from '../inputs/open.js';
import { openLiveCapture } from '../inputs/pcap/live.js';
import { openStdinInput, type StdinFormat } from '../inputs/stdin.js';
import { openZeekFollowInput } from '../inputs/zeek/follow.js';

export interface AnalysisRequest {
  cli: CliOptions;
  config: SlipsConfig;
  configPath: string;
  inputPath: string;
  outputDir: string;
  printer: Printer;
  projectRoot: string;
  /** Port of the private server to start; undefined with an external Redis. */
  redisPort: number | undefined;
  command: string;
  /** Read this format from stdin instead of inputPath (`-f zeek|suricata|argus`). */
  stdinFormat?: StdinFormat | undefined;
  /** inputPath is a Zeek directory being written: follow it until stopped (`-g`). */
  growing?: boolean;
  /** Capture live from this interface (`-i`) instead of reading inputPath. */
  liveInterface?: string | undefined;
}

/** How often records are written to Redis (ms). */
const FLUSH_INTERVAL_MS = 500;
/** How often the progress line is printed (ms). */
const STATS_INTERVAL_MS = 5000;
/** Longest stretch of processing without letting the event loop run (signals, Redis replies). */
const EVENT_LOOP_TURN_MS = 50;
/** A shutdown that takes longer than this is forced. */
const SHUTDOWN_DEADLINE_MS = 2000;

/** ioredis reports connection problems as events: say the first one once, in our words. */
function reportConnectionErrors(redis: Redis, printer: Printer): void {
  let reported = false;
  redis.on('error', (error: Error) => {
    if (reported) return;
    reported = true;
    printer.error('main', `Redis connection problem: ${error.message}`);
  });
}

export async function runAnalysis(request: AnalysisRequest): Promise<number> {
  const { cli, config, printer, outputDir } = request;
  const startedAt = Date.now();
  let server: RedisServerHandle | undefined;
  let reader: FlowReader | undefined;

  // --- Signals: handled from the start, so an interrupted start-up still stops what it started
  let stopping = false;
  let forced = false;
  const force = (why: string): void => {
    if (forced) return;
    forced = true;
    process.stderr.write(`${why}\n`);
    if (server !== undefined) {
      try {
        // Its row in running_slips_info.txt stays; -k drops rows whose server is gone.
        process.kill(server.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    process.exit(130);
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      force('Second signal received, forcing the exit.');
      return;
    }
    stopping = true;
    printer.print('main', signal === 'SIGTERM' ? 'SIGTERM received, shutting down slips.' : 'Stopping Slips');
    reader?.stop();
    setTimeout(() => force('Shutdown took longer than 2 s, forcing the exit.'), SHUTDOWN_DEADLINE_MS).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const releaseSignals = (): void => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };

  // --- Input first: a wrong input must not start anything
  let badRecords = 0;
  const sink: ErrorSink = {
    badInput(problem) {
      badRecords += 1;
      printer.error('input', formatProblem(problem));
    },
    warn(message) {
      printer.print('input', message);
    },
  };
  try {
    reader = request.liveInterface !== undefined
      ? await openLiveCapture(request.liveInterface, sink, {
        filter: cli.pcapfilter ?? config.parameters.pcapfilter, zeekLogDir: path.join(outputDir, 'zeek_files'),
        verifyChecksums: config.parameters.verify_checksums,
      })
      : request.stdinFormat !== undefined
      ? openStdinInput(request.stdinFormat, sink)
      : request.growing === true
        ? await openZeekFollowInput(request.inputPath, sink)
        : await openInput(request.inputPath, sink, { zeekLogDir: path.join(outputDir, 'zeek_files'), verifyChecksums: config.parameters.verify_checksums });
  } catch (error) {
    printer.error('main', (error as Error).message);
    releaseSignals();
    await printer.close();
    return 1;
  }
  const input: FlowReader = reader;

  // --- Redis
  let redis: Redis;
  try {
    if (request.redisPort === undefined) {
      redis = new Redis({ ...connectExternal(config.redis.external), lazyConnect: true, maxRetriesPerRequest: 2 });
      reportConnectionErrors(redis, printer);
      await redis.connect();
      if (config.redis.flush_external) await redis.flushdb();
      printer.print('main', `Using external redis server ${config.redis.external}`);
    } else {
      server = await startPrivateRedis({ port: request.redisPort, outputDir, save: cli.save });
      await recordServer({
        input: request.inputPath, port: server.port, serverPid: server.pid,
        zeekDir: request.growing === true ? request.inputPath : '', outputDir, slipsPid: process.pid, isDaemon: false, saveDb: cli.save,
      });
      redis = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true, maxRetriesPerRequest: 2 });
      reportConnectionErrors(redis, printer);
      await redis.connect();
      if (config.parameters.deletePrevdb) await redis.flushdb();
      printer.print('main', `Using redis server on port: ${server.port}`, 1, 0);
    }
  } catch (error) {
    printer.error('main', (error as Error).message);
    await server?.stop({});
    if (server !== undefined) await removeServer(server.port, server.pid);
    releaseSignals();
    await printer.close();
    return 1;
  }

  // --- Engine, outputs
  const stopRedis = async (): Promise<void> => {
    if (server === undefined) {
      redis.disconnect();
      return;
    }
    try {
      await redis.quit();
    } catch {
      redis.disconnect();
    }
    await server.stop({ saveTo: path.join(outputDir, 'databases', 'dump.rdb') });
    await removeServer(server.port, server.pid);
    printer.print('main', `Killed Redis server on port ${server.port}.`);
  };


  writeMetadata(outputDir, {
    configPath: request.configPath,
    command: request.command,
    input: request.inputPath,
    startDate: new Date(startedAt),
  });
  const width = config.parameters.time_window_width;
  const knowledge = new SharedKnowledge(path.join(request.projectRoot, 'config'));
  const outputs = new AnalysisOutputs({
    outputDir,
    printer,
    timeline: cli.testing,
    redisTimelineCap: config.redis.timeline_max_flows_per_tw,
    humanTimestamps: config.modules.timeline_human_timestamp,
    knowledge,
    analysisDirection: config.parameters.analysis_direction,
    clientIps: config.parameters.client_ips,
  });
  const engine = new Engine({
    ...engineSettingsOf(config),
    interfaceName: 'default',
    detectors: DETECTORS,
    knowledge,
    listener: outputs,
    onConn: (flow, state, tw) => outputs.conn(flow, state, tw),
    onWindowClosed: (tw) => {
      outputs.windowClosed(tw);
      writer.windowClosed(tw);
    },
  });
  const writer = new RedisWriter(redis, engine.profiler, { timelineCap: config.redis.timeline_max_flows_per_tw, width });
  outputs.addListener(writer);

  await writer.writeAnalysis({
    name: request.inputPath,
    input_type: input.inputType,
    output_dir: outputDir,
    slips_version: SLIPS_COMPAT_VERSION,
    version: OUR_VERSION,
    analysis_start: new Date(startedAt).toISOString(),
    evidence_detection_threshold: config.detection.evidence_detection_threshold,
    time_window_width: width,
    pid: process.pid,
    redis_port: server?.port ?? config.redis.external,
    ...(input.totalLines !== undefined ? { total_flows: input.totalLines } : {}),
  });
  await redis.set('will_slips_have_more_flows', 1);
  // Counters exist from the start (kept when an external database was not flushed).
  await redis.set('number_of_evidence', 0, 'NX');
  await redis.set('number_of_alerts', 0, 'NX');
  printer.print('evidence_handler', `Using threshold: ${engine.evidence.alertThreshold}`, 2, 0);
  printer.print('main', `Storing Slips logs in ${outputDir}`);

  // --- Main loop
  const widthText = formatWidth(width);
  let lastStats = Date.now();
  let lastFlush = Date.now();
  let flowsAtLastStats = 0;
  const statsLine = (): string => {
    const total = input.totalLines;
    const processed = input.linesRead;
    let percent = '';
    if (total !== undefined && total > 0) {
      const value = (processed / total) * 100;
      percent = ` Analyzed Flows: ${value < 1 ? value.toFixed(1) : Math.floor(value)}%.`;
    }
    const elapsedMin = (Date.now() - lastStats) / 60000;
    const perMinute = elapsedMin > 0 ? Math.round((engine.recordsProcessed - flowsAtLastStats) / elapsedMin) : 0;
    return `[${humanTime(Date.now() / 1000)}] Total analyzed IPs: ${engine.profiler.profileCount}.${percent} ` +
      `Evidence: ${engine.evidence.evidenceCount}. Number of IPs seen in the last (${widthText}): ` +
      `${engine.profiler.profilesActiveSince(engine.networkTime - width)}. ` +
      `Analyzed ${perMinute} flows/min.`;
  };

  let exitCode = 0;
  // A lost Redis does not stop the analysis: the output files are still complete.
  let redisLost = false;
  const flushOrDiscard = async (): Promise<void> => {
    if (redisLost) {
      writer.discardPending();
      return;
    }
    try {
      await writer.flush({ processedFlows: engine.recordsProcessed, networkTime: engine.networkTime });
    } catch (error) {
      redisLost = true;
      exitCode = 1;
      writer.discardPending();
      printer.error('main', `Lost the Redis server (${(error as Error).message}); the analysis goes on and writes the output files only.`);
    }
  };
  try {
    let lastTurn = Date.now();
    for await (const batch of input.batches()) {
      engine.processBatch(batch);
      if (Date.now() - lastTurn > EVENT_LOOP_TURN_MS) {
        // Reads come from large buffered chunks: give signals and Redis replies a turn.
        await new Promise((resolve) => setImmediate(resolve));
        lastTurn = Date.now();
      }
      const now = Date.now();
      if (now - lastFlush >= FLUSH_INTERVAL_MS) {
        lastFlush = now;
        await flushOrDiscard();
      }
      if (now - lastStats >= STATS_INTERVAL_MS) {
        printer.statsLine(statsLine());
        lastStats = now;
        flowsAtLastStats = engine.recordsProcessed;
      }
      if (stopping) break;
    }
  } catch (error) {
    printer.error('main', `Analysis stopped: ${(error as Error).message}`);
    exitCode = 1;
  }

  // --- Shutdown
  try {
    engine.finish();
    printer.print('input', `Stopping. Total lines read: ${input.linesRead}`, 2, 0);
    if (badRecords > 0) printer.print('input', `${badRecords} bad input lines were skipped (see ${config.output.stderr}).`);
    await flushOrDiscard();
    if (redisLost) throw new Error('the Redis server was lost during the run');
    await writer.drain();
    await writer.writeAnalysis({ analysis_end: new Date().toISOString(), file_start: engine.profiler.origin ?? 0 });
    await redis.set('will_slips_have_more_flows', 0);
    await redis.publish('control_channel', JSON.stringify({ text: 'stop_slips', version: SLIPS_COMPAT_VERSION }));
  } catch (error) {
    printer.error('main', `Could not write the last results to Redis: ${(error as Error).message}`);
    exitCode = 1;
  }
  await outputs.close();
  printer.statsLine(statsLine(), true);
  printer.print('main', `Total analyzed IPs: ${engine.profiler.profileCount}.`, 1, 0);
  appendEndDate(outputDir, new Date());
  await stopRedis().catch((error: Error) => {
    printer.error('main', `Could not stop the Redis server: ${error.message}`);
  });
  printer.print('main', `Analysis of ${request.inputPath} finished in ${((Date.now() - startedAt) / 60000).toFixed(2)} minutes`);
  releaseSignals();
  await printer.close();
  return exitCode;
}
