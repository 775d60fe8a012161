import { readFileSync } from 'node:fs';
import os from 'node:os';
import { GrpcClient } from '../client/grpc-client.js';
import { HttpClient } from '../client/http-client.js';
import { checkBatchSize, resolveInputDims } from './input-shapes.js';
import { parseInputDataFile } from './input-data-file.js';
import { LoadManager } from './load/load-manager.js';
import { clockSince } from './load/request-timing.js';
import type { SequenceSetup, TransportSetup } from './load/worker-protocol.js';
import { modelInfoFrom, type ModelInfo } from './model-info.js';
import type { PerfOptions } from './perf-options.js';
import type { LevelReport, PerfReport } from './perf-report.js';
import type { InputPlan } from './prepared-tensor.js';
import { measureLevel, type ProfileHooks, type LevelResult } from './profiler.js';
import { expandRange } from './ranges.js';
import { diffSnapshots } from './server-stats.js';
import { normalizeUrl } from './server-url.js';
import { setupSharedMemory, type SharedMemorySession } from './shared-memory.js';
import { clientStatsSource } from './stats-source.js';
import { syntheticInputs } from './synthetic-data.js';
import { verifyPerfOptions } from './verify-options.js';
import { stabilizingLatency } from './window.js';

/** Progress callbacks of a perf run (the CLI draws its progress bar and text report from them). */
export interface PerfHooks extends ProfileHooks {
  /** Before the run starts measuring: the resolved model and settings. */
  onStart?(info: { model: ModelInfo; url: string; workerThreads: number }): void;
  /** A load level begins (label e.g. "Request concurrency: 4"). */
  onLevelStart?(label: string, maxTrials: number): void;
  /** A load level was measured; `statsUnavailable` says why it has no server split. */
  onLevel?(level: LevelReport, statsUnavailable?: string): void;
}

type ControlClient = HttpClient | GrpcClient;

async function loadModelInfo(client: ControlClient, o: PerfOptions, url: string): Promise<ModelInfo> {
  let metadata;
  try {
    metadata = await client.modelMetadata(o.modelName, o.modelVersion);
  } catch (err) {
    // fetch reports "fetch failed" and keeps the reason (ECONNREFUSED ...) in its cause.
    const cause = (err as Error).cause as Error | undefined;
    const reason = err instanceof TypeError && cause?.message !== undefined ? `${err.message} (${cause.message})` : (err as Error).message;
    throw new Error(`failed to get model metadata of '${o.modelName}' from ${url}: ${reason}`, { cause: err });
  }
  // Servers without the model configuration extension still serve metadata.
  const config = await client.modelConfig(o.modelName, o.modelVersion).catch(() => undefined);
  return modelInfoFrom(metadata, config, o.modelVersion);
}

function inputPlan(model: ModelInfo, o: PerfOptions): InputPlan {
  const fromFile = o.inputData !== 'zero' && o.inputData !== 'random';
  const dims = resolveInputDims(model, o.shapes, !fromFile);
  if (!fromFile) {
    return syntheticInputs(model, {
      mode: o.inputData as 'zero' | 'random',
      batchSize: o.batchSize,
      dims,
      stringLength: o.stringLength,
      stringData: o.stringData,
    });
  }
  let text: string;
  try {
    text = readFileSync(o.inputData, 'utf8');
  } catch (err) {
    throw new Error(`--input-data: cannot read '${o.inputData}': ${(err as Error).message}`, { cause: err });
  }
  return parseInputDataFile(text, o.inputData, model, { batchSize: o.batchSize, dims });
}

function levelReport(r: LevelResult, load: { concurrency?: number; requestRate?: number }): LevelReport {
  const m = r.merged;
  const latencyUs: Record<string, number> = { avg: m.latency.avgUs, std: m.latency.stdUs, min: m.latency.minUs, max: m.latency.maxUs };
  for (const [p, v] of Object.entries(m.latency.percentiles)) latencyUs[`p${p}`] = v;
  const out: LevelReport = {
    ...load,
    stable: r.stable,
    windowCount: r.windows.length,
    requestCount: m.requestCount,
    durationS: (m.endNs - m.startNs) / 1e9,
    throughput: m.throughput,
    latencyUs,
    clientSendUs: m.avgSendUs,
    clientRecvUs: m.avgRecvUs,
    responseWaitUs: m.avgWaitUs,
    clientCpuPercent: m.clientCpuPercent,
  };
  if (r.server !== undefined) out.server = r.server;
  return out;
}

/**
 * Runs `infera perf`: reads the model's metadata and config, prepares the input data, starts
 * the load worker threads and measures each load level (concurrency or request rate) until
 * stable, with the server-side split from the statistics extension when the server has it.
 *
 * @throws Error for invalid option combinations (perf_analyzer's messages), a model the server
 *   cannot describe, input data that does not fit the model, a server without the shared-memory
 *   extension when `--shared-memory system` is asked for, and failing inference requests
 */
export async function runPerf(o: PerfOptions, hooks: PerfHooks = {}): Promise<PerfReport> {
  verifyPerfOptions(o);
  const url = normalizeUrl(o.url, o.protocol);
  const client: ControlClient =
    o.protocol === 'http' ? new HttpClient({ url, headers: o.headers }) : new GrpcClient({ url, headers: o.headers });
  let shm: SharedMemorySession | undefined;
  let manager: LoadManager | undefined;
  try {
    const model = await loadModelInfo(client, o, url);
    checkBatchSize(model, o.batchSize);
    if (model.decoupled && !o.streaming) {
      throw new Error('Decoupled models must be run with `--async` and `--streaming` and either `-i grpc` or `--service-kind=triton_c_api`');
    }
    const plan = inputPlan(model, o);

    const rateMode = o.requestRateRange !== undefined;
    const range = o.requestRateRange ?? o.concurrencyRange ?? { start: 1, end: 1, step: 1 };
    const levels = range.end === 0 ? undefined : expandRange(range);
    const cores = os.availableParallelism();
    const threads = o.maxThreads ?? cores;
    const workerCount = rateMode ? threads : Math.max(1, Math.min(threads, Math.max(...(levels ?? [threads]))));

    let sharedMemory;
    if (o.sharedMemory === 'system') {
      shm = await setupSharedMemory(client, url, model, plan, o, rateMode ? workerCount * 64 : Math.max(...(levels ?? [threads * 16])));
      sharedMemory = shm.layout;
    }
    const transport: TransportSetup =
      o.protocol === 'http'
        ? {
            kind: 'http',
            url,
            model: model.name,
            version: o.modelVersion,
            headers: o.headers,
            inputFormat: o.inputTensorFormat,
            outputFormat: o.outputTensorFormat,
            sharedMemory,
          }
        : { kind: 'grpc', url, model: model.name, version: o.modelVersion, streaming: o.streaming, sharedMemory };
    const fromFile = o.inputData !== 'zero' && o.inputData !== 'random';
    const sequence: SequenceSetup | undefined = model.sequence
      ? {
          length: o.sequenceLength ?? (fromFile ? 0 : 20),
          variation: o.sequenceLengthVariation,
          idStart: o.sequenceIdStart,
          sequencesPerWorker: Math.ceil(o.numOfSequences / workerCount),
        }
      : undefined;

    const epoch = process.hrtime.bigint();
    const now = clockSince(epoch);
    const stats = clientStatsSource(client, model.name, o.modelVersion);
    const totalBefore = await stats.snapshot();
    manager = await LoadManager.start({ transport, plan, sequence, epochNs: epoch.toString() }, workerCount);
    hooks.onStart?.({ model, url, workerThreads: workerCount });

    const settings = {
      batchSize: o.batchSize,
      measurementIntervalMs: o.measurementIntervalMs,
      stabilityPercentage: o.stabilityPercentage,
      maxTrials: o.maxTrials,
      percentile: o.percentile,
    };
    const reports: LevelReport[] = [];
    for (let i = 0; levels === undefined || i < levels.length; i++) {
      const level = levels?.[i] ?? range.start + i * range.step;
      const load = rateMode ? { requestRate: level } : { concurrency: level };
      if (rateMode) manager.setRate(level, o.requestDistribution, i + 1);
      else manager.setConcurrency(level);
      hooks.onLevelStart?.(rateMode ? `Request Rate: ${level} inference requests per seconds` : `Request concurrency: ${level}`, o.maxTrials);
      const result = await measureLevel(manager, stats, settings, now, hooks);
      const report = levelReport(result, load);
      reports.push(report);
      hooks.onLevel?.(report, stats.unavailable);
      const latencyMs = stabilizingLatency(result.merged, o.percentile) / 1000;
      if (o.latencyThresholdMs > 0 && latencyMs >= o.latencyThresholdMs) break;
    }

    await manager.stop();
    const totalAfter = await stats.snapshot();
    const report: PerfReport = {
      model: model.name,
      version: o.modelVersion,
      protocol: o.protocol,
      url,
      streaming: o.streaming,
      sharedMemory: o.sharedMemory,
      batchSize: o.batchSize,
      mode: rateMode ? 'request_rate' : 'concurrency',
      measurementIntervalMs: o.measurementIntervalMs,
      stabilityPercentage: o.stabilityPercentage,
      workerThreads: workerCount,
      clientCores: cores,
      levels: reports,
      totals: { clientRequests: manager.completedTotal, clientErrors: manager.failedTotal },
    };
    manager = undefined;
    if (rateMode) report.requestDistribution = o.requestDistribution;
    if (o.percentile !== undefined) report.percentile = o.percentile;
    if (totalBefore !== undefined && totalAfter !== undefined) {
      report.totals.serverRequests = diffSnapshots(totalBefore, totalAfter).successCount;
    } else {
      report.serverStatisticsUnavailable = stats.unavailable ?? 'the server did not report statistics';
    }
    return report;
  } finally {
    if (manager !== undefined) await manager.stop().catch(() => undefined);
    if (shm !== undefined) await shm.release();
    if (client instanceof GrpcClient) client.close();
  }
}
