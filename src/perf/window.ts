import { recordCount } from './load/load-manager.js';
import { RECORD_FIELDS } from './load/worker-protocol.js';
import { summarizeLatencies, type LatencySummary } from './percentiles.js';

/**
 * One measurement window: the requests that *completed* within [start, end] (perf_analyzer's
 * rule: a request counts in the window its response arrives in), their throughput and latency,
 * and what the load generator itself spent.
 */
export interface WindowResult {
  /** Window bounds, ns after the run's epoch. */
  startNs: number;
  endNs: number;
  /** Successful requests completed in the window. */
  requestCount: number;
  /** Failed requests completed in the window. */
  errorCount: number;
  /** Inferences per second: requests × batch size ÷ window seconds. */
  throughput: number;
  /** Client latency: request start → response complete. */
  latency: LatencySummary;
  /** Average time to write the request, µs ("send" of perf_analyzer's HTTP time). */
  avgSendUs: number;
  /** Average time from the first response byte to the last, µs ("recv"). */
  avgRecvUs: number;
  /** Average time between the request written and the response starting, µs ("response wait"). */
  avgWaitUs: number;
  /** CPU the perf process used, in % of one core (all its threads), over the window. */
  clientCpuPercent: number;
}

/**
 * Splits records into those that completed by `endNs` (the window's, when ≥ `startNs`) and
 * those that completed later, which belong to the next window.
 */
export function partitionRecords(records: Float64Array, startNs: number, endNs: number): { inWindow: Float64Array; later: Float64Array } {
  const n = recordCount(records);
  const inWindow: number[] = [];
  const later: number[] = [];
  for (let i = 0; i < n; i++) {
    const base = i * RECORD_FIELDS;
    const end = records[base + 3]!;
    const target = end > endNs ? later : end >= startNs ? inWindow : undefined;
    if (target === undefined) continue;
    for (let f = 0; f < RECORD_FIELDS; f++) target.push(records[base + f]!);
  }
  return { inWindow: Float64Array.from(inWindow), later: Float64Array.from(later) };
}

/**
 * Summarizes a window.
 * @param cpuUs CPU µs the process used during the window (user + system)
 * @throws RangeError when no request completed in the window (see summarizeLatencies)
 */
export function summarizeWindow(
  records: Float64Array,
  startNs: number,
  endNs: number,
  batchSize: number,
  errorCount: number,
  cpuUs: number,
  extraPercentile?: number,
): WindowResult {
  const n = recordCount(records);
  const latencies = new Float64Array(n);
  let send = 0;
  let recv = 0;
  let wait = 0;
  for (let i = 0; i < n; i++) {
    const b = i * RECORD_FIELDS;
    const [start, sent, first, end] = [records[b]!, records[b + 1]!, records[b + 2]!, records[b + 3]!];
    latencies[i] = (end - start) / 1000;
    send += sent - start;
    wait += first - sent;
    recv += end - first;
  }
  const seconds = (endNs - startNs) / 1e9;
  return {
    startNs,
    endNs,
    requestCount: n,
    errorCount,
    throughput: (n * batchSize) / seconds,
    latency: summarizeLatencies(latencies, extraPercentile),
    avgSendUs: n > 0 ? send / n / 1000 : 0,
    avgRecvUs: n > 0 ? recv / n / 1000 : 0,
    avgWaitUs: n > 0 ? wait / n / 1000 : 0,
    clientCpuPercent: seconds > 0 ? (cpuUs / 1e6 / seconds) * 100 : 0,
  };
}

/** The stabilizing latency of a window: the `--percentile` value, or the average (perf_analyzer). */
export function stabilizingLatency(w: WindowResult, percentile?: number): number {
  return percentile === undefined ? w.latency.avgUs : w.latency.percentiles[percentile]!;
}
