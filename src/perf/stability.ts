/**
 * perf_analyzer's stability rule (`InferenceProfiler::DetermineStability`): a load level is
 * measured once the last `windowCount` (3) windows agree — for both throughput and the
 * stabilizing latency (the average, or the `--percentile` latency), max ÷ min must be at most
 * 1 + stability-percentage / 100. A window with no completed request (throughput 0) is never
 * stable.
 */

/** What one measurement window contributes to the stability decision. */
export interface WindowPoint {
  /** Inferences per second in the window. */
  throughput: number;
  /** The stabilizing latency of the window, µs (average or the `--percentile` value). */
  latencyUs: number;
}

/** perf_analyzer's `stability_window`: how many consecutive windows must agree. */
export const STABILITY_WINDOW = 3;

/**
 * Whether the last `windowCount` windows are stable.
 * @param stabilityPercentage `--stability-percentage`, e.g. 10 for ±10 %
 * @param checkLatency false checks throughput only (perf_analyzer does so to warn that latency
 *   alone is not settling)
 */
export function isStable(
  windows: readonly WindowPoint[],
  stabilityPercentage: number,
  windowCount = STABILITY_WINDOW,
  checkLatency = true,
): boolean {
  if (windows.length < windowCount) return false;
  const recent = windows.slice(windows.length - windowCount);
  if (recent.some((w) => !(w.throughput > 0))) return false;
  const limit = 1 + stabilityPercentage / 100;
  const within = (values: number[]): boolean => {
    const max = Math.max(...values);
    const min = Math.min(...values);
    // A zero latency (clock resolution on a trivial model) agrees only with other zeros.
    if (min <= 0) return max <= 0;
    return max / min <= limit;
  };
  if (!within(recent.map((w) => w.throughput))) return false;
  return !checkLatency || within(recent.map((w) => w.latencyUs));
}
