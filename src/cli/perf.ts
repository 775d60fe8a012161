import { Command, InvalidArgumentError as CommanderInvalidArgument, Option } from 'commander';
import { parseShapeFlags } from '../perf/input-shapes.js';
import { defaultPerfOptions, type PerfOptions } from '../perf/perf-options.js';
import type { PerfReport } from '../perf/perf-report.js';
import { createProgress } from '../perf/progress.js';
import { parseRange } from '../perf/ranges.js';
import { writeCsvReport, writeJsonReport } from '../perf/report-files.js';
import { formatLevel, formatSettings, formatSummary } from '../perf/report-text.js';
import { runPerf } from '../perf/run-perf.js';
import { collect, parseNonNegativeInt } from './flags.js';

/**
 * `infera perf`: a load generator and reporter with perf_analyzer's flags and output (see
 * perf_analyzer's docs/cli.md), usable against infera or any KServe v2 server.
 */

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new CommanderInvalidArgument(`expected a whole number ≥ 1, got '${value}'`);
  return n;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new CommanderInvalidArgument(`expected a number > 0, got '${value}'`);
  return n;
}

function header(value: string, previous: Record<string, string> | undefined): Record<string, string> {
  const colon = value.indexOf(':');
  if (colon <= 0) throw new CommanderInvalidArgument(`expected Header:Value, got '${value}'`);
  return { ...previous, [value.slice(0, colon).trim().toLowerCase()]: value.slice(colon + 1).trim() };
}

interface RawPerfFlags {
  modelName: string;
  modelVersion?: string;
  url?: string;
  protocol: 'http' | 'grpc';
  batchSize: number;
  concurrencyRange?: string;
  requestRateRange?: string;
  requestDistribution: 'constant' | 'poisson';
  shape?: string[];
  inputData: string;
  stringLength: number;
  stringData?: string;
  sharedMemory: 'none' | 'system';
  outputSharedMemorySize: number;
  inputTensorFormat: 'binary' | 'json';
  outputTensorFormat: 'binary' | 'json';
  measurementInterval: number;
  stabilityPercentage: number;
  maxTrials: number;
  percentile: number;
  latencyThreshold: number;
  sequenceLength?: number;
  sequenceLengthVariation: number;
  sequenceIdRange: string;
  numOfSequences: number;
  streaming: boolean;
  maxThreads?: number;
  header?: Record<string, string>;
  f?: string;
  verboseCsv: boolean;
  json?: string;
  verbose: boolean;
}

/** Turns parsed flags into PerfOptions. @throws Error for malformed ranges and shapes */
export function perfOptionsFromFlags(raw: RawPerfFlags): PerfOptions {
  const o = defaultPerfOptions(raw.modelName);
  const idStart = Number(raw.sequenceIdRange.split(':')[0]);
  if (!Number.isInteger(idStart) || idStart < 0) throw new Error(`--sequence-id-range: '${raw.sequenceIdRange}' is not of the form start[:end]`);
  return {
    ...o,
    modelVersion: raw.modelVersion,
    url: raw.url,
    protocol: raw.protocol,
    batchSize: raw.batchSize,
    concurrencyRange: raw.concurrencyRange === undefined ? undefined : parseRange(raw.concurrencyRange, '--concurrency-range', true),
    requestRateRange: raw.requestRateRange === undefined ? undefined : parseRange(raw.requestRateRange, '--request-rate-range', false),
    requestDistribution: raw.requestDistribution,
    shapes: parseShapeFlags(raw.shape ?? []),
    inputData: raw.inputData,
    stringLength: raw.stringLength,
    stringData: raw.stringData,
    sharedMemory: raw.sharedMemory,
    outputSharedMemorySize: raw.outputSharedMemorySize,
    inputTensorFormat: raw.inputTensorFormat,
    outputTensorFormat: raw.outputTensorFormat,
    measurementIntervalMs: raw.measurementInterval,
    stabilityPercentage: raw.stabilityPercentage,
    maxTrials: raw.maxTrials,
    percentile: raw.percentile === -1 ? undefined : raw.percentile,
    latencyThresholdMs: raw.latencyThreshold,
    sequenceLength: raw.sequenceLength,
    sequenceLengthVariation: raw.sequenceLengthVariation,
    // perf_analyzer: "WARNING: using an invalid start sequence id", then 1.
    sequenceIdStart: idStart === 0 ? 1 : idStart,
    numOfSequences: raw.numOfSequences,
    streaming: raw.streaming,
    maxThreads: raw.maxThreads,
    headers: raw.header ?? {},
  };
}

/** Runs perf with console output: settings, a progress bar per level, the level blocks, the summary. */
export async function perfMain(o: PerfOptions, out: { csv?: string; verboseCsv?: boolean; json?: string; verbose?: boolean }): Promise<PerfReport> {
  const progress = createProgress();
  const print = (text: string): void => void process.stdout.write(`${text}\n`);
  // Ctrl-C stops the load and still releases what perf registered (shared-memory regions).
  const interrupt = new AbortController();
  const onSigint = (): void => interrupt.abort();
  process.once('SIGINT', onSigint);
  let settingsShown = false;
  let threads = 0;
  const report = await runPerf(o, {
    signal: interrupt.signal,
    onStart({ workerThreads }) {
      threads = workerThreads;
      print(
        formatSettings({
          batchSize: o.batchSize,
          measurementIntervalMs: o.measurementIntervalMs,
          percentile: o.percentile,
          mode: o.requestRateRange !== undefined ? 'request_rate' : 'concurrency',
          requestDistribution: o.requestDistribution,
          workerThreads,
          protocol: o.protocol,
          streaming: o.streaming,
          sharedMemory: o.sharedMemory,
        }),
      );
      print('');
      settingsShown = true;
    },
    onLevelStart(label, maxTrials) {
      if (out.verbose) print(label);
      progress.start(label, maxTrials);
    },
    onProgress: (trial, fraction) => progress.update(trial, fraction),
    onWindow(trial, w) {
      if (!out.verbose) return;
      progress.stop();
      const latency =
        o.percentile === undefined
          ? `Avg latency: ${Math.round(w.latency.avgUs)} usec (std ${Math.round(w.latency.stdUs)} usec).`
          : `p${o.percentile} latency: ${Math.round(w.latency.percentiles[o.percentile] ?? 0)} usec`;
      print(`  Pass [${trial}] throughput: ${w.throughput.toFixed(2)} infer/sec. ${latency}`);
    },
    onLevel(level, statsUnavailable) {
      progress.stop();
      print(formatLevel(level, { protocol: o.protocol, workerThreads: threads, percentile: o.percentile, serverStatisticsUnavailable: statsUnavailable }));
      print('');
    },
  }).finally(() => {
    progress.stop();
    process.off('SIGINT', onSigint);
  });
  if (!settingsShown) print(formatSettings(report));
  print(formatSummary(report));
  if (report.serverStatisticsUnavailable !== undefined) print(`Server-side split: n/a (${report.serverStatisticsUnavailable})`);
  if (out.csv !== undefined) writeCsvReport(out.csv, report, out.verboseCsv);
  if (out.json !== undefined) writeJsonReport(out.json, report);
  return report;
}

/** Adds `perf` to the `infera` program. */
export function addPerfCommand(program: Command): Command {
  return program
    .command('perf')
    .description('measure a model served by infera or any KServe v2 server (perf_analyzer flags and report)')
    .requiredOption('-m, --model-name <name>', 'model to measure')
    .option('-x, --model-version <version>', 'model version (default: the server chooses)')
    .option('-u, --url <url>', 'server address (default localhost:8000 for HTTP, localhost:8001 for gRPC)')
    .addOption(new Option('-i, --protocol <protocol>', 'http or grpc').choices(['http', 'grpc']).default('http'))
    .option('-b, --batch-size <n>', 'batch size of each request', positiveInt, 1)
    .option('--concurrency-range <start:end:step>', 'closed-loop load levels (default 1)')
    .option('--request-rate-range <start:end:step>', 'open-loop load levels in requests/s')
    .addOption(new Option('--request-distribution <dist>', 'gaps between requests in request-rate mode').choices(['constant', 'poisson']).default('constant'))
    .option('--shape <name:d1,d2,...>', 'shape of a variable-size input, without the batch dimension (repeatable)', collect)
    .option('--input-data <zero|random|file>', 'input values: zeros, random, or a perf_analyzer JSON data file', 'random')
    .option('--string-length <n>', 'length of random BYTES elements', positiveInt, 128)
    .option('--string-data <text>', 'value of every BYTES element')
    .addOption(new Option('--shared-memory <kind>', 'pass tensors through shared memory').choices(['none', 'system']).default('none'))
    .option('--output-shared-memory-size <bytes>', 'bytes per output for variable-size outputs (times the batch size)', positiveInt, 102400)
    .addOption(new Option('--input-tensor-format <format>', 'HTTP input encoding').choices(['binary', 'json']).default('binary'))
    .addOption(new Option('--output-tensor-format <format>', 'HTTP output encoding').choices(['binary', 'json']).default('binary'))
    .option('-p, --measurement-interval <ms>', 'length of a measurement window', positiveInt, 5000)
    .option('-s, --stability-percentage <n>', 'allowed spread of the last 3 windows, %', positiveNumber, 10)
    .option('-r, --max-trials <n>', 'windows before giving up on stability', positiveInt, 10)
    .option('--percentile <n>', 'stabilize on and report this latency percentile (-1: average)', Number, -1)
    .option('-l, --latency-threshold <ms>', 'stop the sweep once latency exceeds this (0: no limit)', parseNonNegativeInt, 0)
    .option('--sequence-length <n>', 'requests per sequence for sequence models (default 20)', positiveInt)
    .option('--sequence-length-variation <percent>', 'random variation of the sequence length', Number, 20)
    .option('--sequence-id-range <start[:end]>', 'sequence ids to use', '1')
    .option('--num-of-sequences <n>', 'concurrent sequences in request-rate mode', positiveInt, 4)
    .option('--streaming', 'use the gRPC bidirectional stream (ModelStreamInfer)', false)
    .option('--max-threads <n>', 'load worker threads (default: the cores available)', positiveInt)
    .option('-H, --header <name:value>', 'HTTP header sent with every request (repeatable)', header)
    .option('-f <file>', 'write the results as CSV (perf_analyzer columns)')
    .option('--verbose-csv', 'add average latency, request/response, response wait and client CPU to the CSV', false)
    .option('--json <file>', 'write the full results as JSON')
    .option('-v, --verbose', 'print every measurement window', false)
    .action(async (raw: RawPerfFlags) => {
      try {
        await perfMain(perfOptionsFromFlags(raw), { csv: raw.f, verboseCsv: raw.verboseCsv, json: raw.json, verbose: raw.verbose });
      } catch (err) {
        // A runtime failure, not a usage error: the message alone, without the flag help.
        process.stderr.write(`error: ${(err as Error).message}\n`);
        process.exit(1);
      }
    });
}
