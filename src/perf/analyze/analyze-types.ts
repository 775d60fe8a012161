import type { PerfOptions } from '../perf-options.js';
import type { SweepConfig, SweepPoint, SweepSpace } from './sweep.js';

/** Options of `infera analyze`. */
export interface AnalyzeOptions {
  modelName: string;
  /** The repository holding the model (it is copied, never modified). */
  modelRepository: string;
  /** Where config.pbtxt, report.html and results.json go. */
  outputDir: string;
  /** `--latency-budget-ms`: the p99 the recommendation must stay under. */
  latencyBudgetMs: number;
  space: SweepSpace;
  /** Concurrencies measured for every configuration. */
  concurrencies: number[];
  /** perf settings: protocol, batch size, shapes, input data, windows. */
  perf: Partial<PerfOptions>;
  /** taskset CPU list for the server processes (e.g. "0"); unpinned when absent. */
  serverCpus?: string;
  /** Reload the recommended config and measure it again at the chosen concurrency. */
  verify: boolean;
  /** `--allow-smaller-batch`: also try max_batch_size values below the model's configured one. */
  allowSmallerBatch?: boolean;
}

/** What `infera analyze` measured and wrote; also the content of results.json. */
export interface AnalyzeResult {
  model: string;
  protocol: 'http' | 'grpc';
  batchSize: number;
  concurrencies: number[];
  measurementIntervalMs: number;
  latencyBudgetMs: number;
  serverCpus?: string;
  points: SweepPoint[];
  failures: { config: SweepConfig; error: string }[];
  best?: SweepPoint;
  /**
   * The best few points measured once more on a fresh server (when the sweep had more than
   * one candidate): the pick and its prediction use the mean of both measurements.
   */
  confirmations?: { config: SweepConfig; concurrency: number; sweep: number; again: number; againP99Us: number }[];
  /** The throughput (infer/s) the recommended config is expected to reach. */
  predictedThroughput?: number;
  recommendedConfigText?: string;
  /** Files written. */
  files: { config?: string; html: string; json: string };
  /** The recommended config reloaded and measured again (`--verify`). */
  verification?: { throughput: number; predicted: number; ratio: number };
}

/** Progress callbacks of `runAnalyze` (the CLI prints them). */
export interface AnalyzeHooks {
  onConfig?(config: SweepConfig, index: number, total: number): void;
  onPoint?(point: SweepPoint): void;
  onFailure?(config: SweepConfig, error: string): void;
  onConfirm?(config: SweepConfig, concurrency: number, throughput: number): void;
}
