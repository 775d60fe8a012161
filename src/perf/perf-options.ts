import type { LoadRange } from './ranges.js';
import type { RequestDistribution } from './rate-schedule.js';

/** Everything `infera perf` takes (perf_analyzer's flags; see src/cli/perf.ts). */
export interface PerfOptions {
  /** `-m` */
  modelName: string;
  /** `-x`; the server's version policy chooses when absent. */
  modelVersion?: string;
  /** `-i` */
  protocol: 'http' | 'grpc';
  /** `-u`: host:port or a URL; default localhost:8000 (HTTP) / localhost:8001 (gRPC). */
  url?: string;
  /** `-b`, default 1. */
  batchSize: number;
  /** `--concurrency-range`; the default mode (1:1:1) when no request rate is given. */
  concurrencyRange?: LoadRange;
  /** `--request-rate-range` (requests/s): open-loop load instead of concurrency. */
  requestRateRange?: LoadRange;
  /** `--request-distribution`, default constant. */
  requestDistribution: RequestDistribution;
  /** `--shape NAME:d1,d2` values, parsed: input → dims without batch. */
  shapes: Map<string, number[]>;
  /** `--input-data`: zero, random (default) or a JSON file path. */
  inputData: string;
  /** `--string-length`, default 128. */
  stringLength: number;
  /** `--string-data` */
  stringData?: string;
  /** `--shared-memory`, default none. */
  sharedMemory: 'none' | 'system';
  /** `--output-shared-memory-size`, bytes per output per batch element when not computable; default 102400. */
  outputSharedMemorySize: number;
  /** `--input-tensor-format` / `--output-tensor-format` (HTTP only), default binary. */
  inputTensorFormat: 'binary' | 'json';
  outputTensorFormat: 'binary' | 'json';
  /** `--measurement-interval` ms, default 5000. */
  measurementIntervalMs: number;
  /** `--stability-percentage`, default 10. */
  stabilityPercentage: number;
  /** `--max-trials`, default 10. */
  maxTrials: number;
  /** `--percentile`: stabilize on and report this percentile; average when absent. */
  percentile?: number;
  /** `--latency-threshold` ms: stop the sweep once the stabilizing latency exceeds it; 0 = none. */
  latencyThresholdMs: number;
  /** `--sequence-length`, default 20 (0 with a data file: each stream's own length). */
  sequenceLength?: number;
  /** `--sequence-length-variation` %, default 20. */
  sequenceLengthVariation: number;
  /** `--sequence-id-range` start, default 1. */
  sequenceIdStart: number;
  /** `--num-of-sequences` (request-rate mode), default 4. */
  numOfSequences: number;
  /** `--streaming` (gRPC only). */
  streaming: boolean;
  /** `--max-threads`: load worker threads; default os.availableParallelism(). */
  maxThreads?: number;
  /** `-H name:value` headers (HTTP). */
  headers: Record<string, string>;
}

/** perf_analyzer's defaults, for callers that build options in code (analyze, bench). */
export function defaultPerfOptions(modelName: string): PerfOptions {
  return {
    modelName,
    protocol: 'http',
    batchSize: 1,
    requestDistribution: 'constant',
    shapes: new Map(),
    inputData: 'random',
    stringLength: 128,
    sharedMemory: 'none',
    outputSharedMemorySize: 102400,
    inputTensorFormat: 'binary',
    outputTensorFormat: 'binary',
    measurementIntervalMs: 5000,
    stabilityPercentage: 10,
    maxTrials: 10,
    latencyThresholdMs: 0,
    sequenceLengthVariation: 20,
    sequenceIdStart: 1,
    numOfSequences: 4,
    streaming: false,
    headers: {},
  };
}
