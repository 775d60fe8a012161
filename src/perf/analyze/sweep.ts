import type { LevelReport } from '../perf-report.js';

/**
 * The search space of `infera analyze` and the choice of a winner (model-analyzer's brute-force
 * search, reduced to the three knobs that matter on a CPU server): instance count, max batch
 * size and the dynamic batcher's max queue delay.
 */

/** One model configuration to measure. */
export interface SweepConfig {
  /** `instance_group [{ kind: KIND_CPU, count }]`. */
  instanceCount: number;
  /** `max_batch_size`; 0 keeps a non-batching model non-batching. */
  maxBatchSize: number;
  /** `dynamic_batching { max_queue_delay_microseconds }`, µs; undefined = no dynamic batcher. */
  maxQueueDelayUs?: number;
}

/** The values tried for each knob (`--instance-counts`, `--max-batch-sizes`, `--max-queue-delays-us`). */
export interface SweepSpace {
  instanceCounts: number[];
  maxBatchSizes: number[];
  maxQueueDelaysUs: number[];
}

/**
 * Every configuration of the space. Batch sizes ≤ 1 run without the dynamic batcher (there is
 * nothing to batch), so they are measured once, not once per delay. A model that cannot batch
 * (`modelMaxBatchSize` 0) only varies its instance count.
 *
 * A size below the model's configured `max_batch_size` is raised to it unless
 * `allowSmallerBatch` (`--allow-smaller-batch`): a smaller limit makes the server refuse the
 * batches clients already send, so it is never measured, hence never recommended.
 * @param modelMaxBatchSize the model's configured `max_batch_size` (1 when auto-complete decides)
 */
export function sweepConfigs(space: SweepSpace, modelMaxBatchSize: number, options: { allowSmallerBatch?: boolean } = {}): SweepConfig[] {
  const floor = options.allowSmallerBatch === true ? 0 : modelMaxBatchSize;
  const out: SweepConfig[] = [];
  for (const instanceCount of space.instanceCounts) {
    if (modelMaxBatchSize === 0) {
      out.push({ instanceCount, maxBatchSize: 0 });
      continue;
    }
    for (const size of space.maxBatchSizes) {
      const maxBatchSize = Math.max(size, floor);
      if (maxBatchSize <= 1) {
        out.push({ instanceCount, maxBatchSize: Math.max(1, maxBatchSize) });
        continue;
      }
      for (const maxQueueDelayUs of space.maxQueueDelaysUs) out.push({ instanceCount, maxBatchSize, maxQueueDelayUs });
    }
  }
  return out.filter((c, i) => out.findIndex((d) => describeConfig(d) === describeConfig(c)) === i);
}

/** A short label, e.g. "2 instances, max batch 8, delay 100 µs". */
export function describeConfig(c: SweepConfig): string {
  const parts = [`${c.instanceCount} instance${c.instanceCount === 1 ? '' : 's'}`];
  if (c.maxBatchSize > 1) parts.push(`max batch ${c.maxBatchSize}`, c.maxQueueDelayUs === undefined ? 'no batcher' : `delay ${c.maxQueueDelayUs} µs`);
  else parts.push('no batching');
  return parts.join(', ');
}

/** A compact label for chart legends, e.g. "2 inst, batch 8, 100 µs". */
export function shortConfigLabel(c: SweepConfig): string {
  const batching = c.maxBatchSize > 1 ? `batch ${c.maxBatchSize}, ${c.maxQueueDelayUs === undefined ? 'no batcher' : `${c.maxQueueDelayUs} µs`}` : 'no batching';
  return `${c.instanceCount} inst, ${batching}`;
}

/** One measured point: a configuration at one concurrency. */
export interface SweepPoint {
  config: SweepConfig;
  level: LevelReport;
}

/**
 * The point with the highest throughput whose p99 latency is within the budget; ties go to the
 * lower p99. Undefined when no point fits.
 * @param budgetMs `--latency-budget-ms`
 */
export function bestPoint(points: readonly SweepPoint[], budgetMs: number): SweepPoint | undefined {
  return topPoints(points, budgetMs, 1)[0];
}

/**
 * Up to `n` points within the budget, best first (as `bestPoint` ranks them), at most one per
 * configuration (its best concurrency).
 */
export function topPoints(points: readonly SweepPoint[], budgetMs: number, n: number): SweepPoint[] {
  const ranked = points
    .filter((p) => p.level.latencyUs.p99! <= budgetMs * 1000)
    .sort((a, b) => b.level.throughput - a.level.throughput || a.level.latencyUs.p99! - b.level.latencyUs.p99!);
  const out: SweepPoint[] = [];
  for (const p of ranked) {
    if (out.length === n) break;
    if (!out.some((q) => q.config === p.config)) out.push(p);
  }
  return out;
}

/** Parses a comma-separated list of whole numbers ≥ `min`. @throws Error naming the flag */
export function parseIntList(text: string, flag: string, min: number): number[] {
  const values = text.split(',').map((s) => Number(s.trim()));
  if (values.length === 0 || values.some((v) => !Number.isInteger(v) || v < min)) {
    throw new Error(`${flag}: expected comma-separated whole numbers ≥ ${min}, got '${text}'`);
  }
  return values;
}
