/**
 * Latency summaries as perf_analyzer computes them (`InferenceProfiler::SummarizeLatency`):
 * the mean, the population standard deviation, and percentiles picked from the sorted samples
 * at index `round(p / 100 * (n - 1))` — no interpolation, so every reported value is a
 * latency that was actually observed.
 */

/** The percentiles every report carries; `--percentile` adds one more. */
export const REPORTED_PERCENTILES: readonly number[] = [50, 90, 95, 99];

/** Mean, spread and percentiles of one set of latencies, all in microseconds. */
export interface LatencySummary {
  /** Number of samples. */
  count: number;
  /** Mean latency, µs. */
  avgUs: number;
  /** Population standard deviation, µs. */
  stdUs: number;
  minUs: number;
  maxUs: number;
  /** Percentile → latency in µs; always 50, 90, 95 and 99, plus any extra percentile asked for. */
  percentiles: Record<number, number>;
}

/**
 * The p-th percentile of samples already sorted in ascending order (perf_analyzer's index rule).
 * @param p a percentile in [0, 100]
 * @throws RangeError when `sorted` is empty or `p` is outside [0, 100]
 */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) throw new RangeError('percentile of no samples');
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within [0, 100], got ${p}`);
  const index = Math.floor((p / 100) * (sorted.length - 1) + 0.5);
  return sorted[index]!;
}

/**
 * Summarizes latencies given in microseconds (any order; the input is not modified).
 * @param extraPercentile `--percentile`: reported next to 50/90/95/99 when given
 * @throws RangeError when there are no samples — perf_analyzer's "No valid requests recorded
 *   within time interval" case, which the caller turns into a message about the window length
 */
export function summarizeLatencies(latenciesUs: ArrayLike<number>, extraPercentile?: number): LatencySummary {
  const n = latenciesUs.length;
  if (n === 0) throw new RangeError('No valid requests recorded within time interval. Please use a larger time window.');
  const sorted = Float64Array.from(latenciesUs).sort();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i]!;
  const avg = sum / n;
  let sq = 0;
  for (let i = 0; i < n; i++) sq += (sorted[i]! - avg) ** 2;
  const percentiles: Record<number, number> = {};
  const wanted = new Set(REPORTED_PERCENTILES);
  if (extraPercentile !== undefined) wanted.add(extraPercentile);
  for (const p of [...wanted].sort((a, b) => a - b)) percentiles[p] = percentileOfSorted(sorted, p);
  return { count: n, avgUs: avg, stdUs: Math.sqrt(sq / n), minUs: sorted[0]!, maxUs: sorted[n - 1]!, percentiles };
}
