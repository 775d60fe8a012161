/**
 * `--concurrency-range` and `--request-rate-range` values, `start[:end[:step]]` as
 * perf_analyzer reads them: `end` defaults to `start` (one level), `step` to 1, and `end` 0
 * means "keep increasing until `--latency-threshold` is exceeded".
 */

export interface LoadRange {
  start: number;
  /** 0 = open-ended (needs a latency threshold). */
  end: number;
  step: number;
}

/**
 * Parses `start[:end[:step]]`.
 * @param integer true for concurrency (whole numbers ≥ 1), false for request rates (> 0)
 * @throws Error naming the flag and what was expected, e.g.
 *   "--concurrency-range: 'a' is not a whole number (expected start[:end[:step]])"
 */
export function parseRange(text: string, flag: string, integer: boolean): LoadRange {
  const parts = text.split(':');
  if (parts.length > 3 || parts.some((p) => p.trim() === '')) {
    throw new Error(`${flag}: '${text}' is not of the form start[:end[:step]]`);
  }
  const values = parts.map((p) => {
    const v = Number(p);
    if (!Number.isFinite(v) || (integer && !Number.isInteger(v))) {
      throw new Error(`${flag}: '${p}' is not a ${integer ? 'whole number' : 'number'} (expected start[:end[:step]])`);
    }
    return v;
  });
  const [start, end = start, step = 1] = values as [number, number?, number?];
  if (!(start > 0)) throw new Error(`${flag}: start must be greater than 0, got ${start}`);
  if (end !== 0 && end < start) throw new Error(`${flag}: end ${end} is below start ${start}`);
  if (!(step > 0)) throw new Error(`${flag}: step must be greater than 0, got ${step}`);
  return { start, end, step };
}

/**
 * The load levels of a closed range, in order (start, start+step, ... ≤ end). Rates are
 * rounded to 1e-9 so that 0.1 steps do not drift past `end`.
 * @throws Error for an open-ended range (end 0), which the caller walks level by level instead
 */
export function expandRange(range: LoadRange): number[] {
  if (range.end === 0) throw new Error('an open-ended range (end 0) has no fixed list of levels');
  const out: number[] = [];
  for (let i = 0; ; i++) {
    const v = Math.round((range.start + i * range.step) * 1e9) / 1e9;
    if (v > range.end + 1e-9) break;
    out.push(v);
  }
  return out;
}
