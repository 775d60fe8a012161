/**
 * Open-loop request schedules for `--request-rate-range` (perf_analyzer's request-rate mode):
 * requests are sent at planned times whatever the latency, `constant` at a fixed interval of
 * 1/rate and `poisson` with exponentially distributed gaps of mean 1/rate
 * (`--request-distribution`). Seeded, so a schedule is reproducible.
 */

export type RequestDistribution = 'constant' | 'poisson';

/** A uniform pseudo-random source in [0, 1) (mulberry32): small, fast and seedable. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A generator of gaps between consecutive sends, in nanoseconds.
 * @param rate requests per second (> 0)
 * @throws RangeError for a rate that is not a positive finite number
 */
export function intervalGenerator(rate: number, distribution: RequestDistribution, seed = 1): () => number {
  if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError(`request rate must be a positive number, got ${rate}`);
  const meanNs = 1e9 / rate;
  if (distribution === 'constant') return () => meanNs;
  const random = seededRandom(seed);
  // 1 - u lies in (0, 1], so the logarithm is finite.
  return () => -Math.log(1 - random()) * meanNs;
}

/**
 * The first `count` send times of a schedule, ns after its start (the first send is at 0 for
 * `constant`, after one random gap for `poisson`).
 */
export function scheduleOffsets(rate: number, distribution: RequestDistribution, count: number, seed = 1): number[] {
  const next = intervalGenerator(rate, distribution, seed);
  const out: number[] = [];
  let t = distribution === 'constant' ? 0 : next();
  for (let i = 0; i < count; i++) {
    out.push(t);
    t += next();
  }
  return out;
}
