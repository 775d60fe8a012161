import type { ServerSplit } from './server-stats.js';

/** One load level of a perf run, as every reporter (text, CSV, JSON) and `infera analyze` reads it. */
export interface LevelReport {
  /** The concurrency (closed loop), or undefined in request-rate mode. */
  concurrency?: number;
  /** Requests per second asked for (open loop), or undefined in concurrency mode. */
  requestRate?: number;
  /** The last three windows met `--stability-percentage`. */
  stable: boolean;
  /** Windows measured for this level. */
  windowCount: number;
  /** Requests completed in the merged (last three) windows. */
  requestCount: number;
  /** Length of the merged windows, seconds. */
  durationS: number;
  /** Inferences per second (requests × batch size ÷ duration). */
  throughput: number;
  /** Client latencies, µs: avg, std, min, max and `p<N>` for 50, 90, 95, 99 and `--percentile`. */
  latencyUs: Record<string, number>;
  /** Average request write time, µs. */
  clientSendUs: number;
  /** Average response read time (first byte → complete), µs. */
  clientRecvUs: number;
  /** Average wait between request written and response started, µs. */
  responseWaitUs: number;
  /** CPU of the perf process (all threads), % of one core. */
  clientCpuPercent: number;
  /** Server-side split from the statistics extension; absent when the server has none. */
  server?: ServerSplit;
}

/** The result of `infera perf`: settings, one entry per load level, and totals. */
export interface PerfReport {
  model: string;
  version?: string;
  protocol: 'http' | 'grpc';
  url: string;
  streaming: boolean;
  sharedMemory: 'none' | 'system';
  batchSize: number;
  mode: 'concurrency' | 'request_rate';
  requestDistribution?: 'constant' | 'poisson';
  measurementIntervalMs: number;
  stabilityPercentage: number;
  percentile?: number;
  /** Load worker threads used. */
  workerThreads: number;
  /** Cores this process may run on (os.availableParallelism()). */
  clientCores: number;
  /** Undefined when the server reported statistics; else why not (shown as "n/a"). */
  serverStatisticsUnavailable?: string;
  levels: LevelReport[];
  totals: {
    /** Requests the client completed successfully over the whole run (warm-up windows included). */
    clientRequests: number;
    clientErrors: number;
    /** Successful requests the server counted over the same span (statistics delta), when available. */
    serverRequests?: number;
  };
}
