// Small numeric helpers for the benchmark tables.

export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** The repetition whose throughput is the median one (so a row's numbers come from one run). */
export function medianRun(runs, key = 'rps') {
  const sorted = [...runs].sort((a, b) => a[key] - b[key]);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

export function ratio(a, b) {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : NaN;
}

/** Percentile of sorted values (same index rule as infera perf / perf_analyzer). */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.floor((p / 100) * (sorted.length - 1) + 0.5)];
}

/**
 * Runs one cell; a failure is logged and returned as { error } so the rest of the suite still
 * runs (the table shows the cell as failed).
 */
export async function attempt(log, fn) {
  try {
    return await fn();
  } catch (err) {
    const error = String(err.message ?? err).split('\n').filter((l) => l.trim() !== '').slice(0, 2).join(' ');
    log(`  failed: ${error}`);
    return { error, rps: NaN };
  }
}
