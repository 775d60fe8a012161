import { statSync } from 'node:fs';

/**
 * When an ONNX Runtime instance runs its model on the main thread instead of its worker.
 *
 * The hop to a worker thread and back costs about 50 µs of latency and, on a loaded core, more
 * CPU than a trivial model's whole run (performance-baseline §2.3: ORT runs the `simple`
 * add/sub model in 8.6 µs, a worker round trip takes 52 µs). For such models the hop *is* the
 * cost, and the main thread is better off running the model itself. For anything heavier the
 * worker stays, so that inference never blocks the event loop for long (baseline G6).
 *
 * The decision is measured, not configured, and relative to the machine it runs on: the
 * instance reports, for each execution in the worker, the `session.run` time and the time the
 * two hops took. Once a full window of worker runs has the 90th percentile of its run times
 * below the median hop time (and below `promoteBelowNs`), the instance is promoted to
 * run inline. If inputs later grow heavier and a full window of inline runs has its 90th
 * percentile above `demoteAboveNs`, it goes back to the worker and is not promoted again for
 * `cooldownRuns` executions.
 */
export interface InlinePolicyOptions {
  /** Executions per decision window. */
  window: number;
  /** Never promote a model whose p90 run time (ns) in the worker is at or above this. */
  promoteBelowNs: number;
  /**
   * Demote when the window's p90 run time (ns) inline is above this: the longest the main
   * thread may be blocked by one run, typically.
   */
  demoteAboveNs: number;
  /** Worker executions after a demotion before promotion is considered again. */
  cooldownRuns: number;
}

export const DEFAULT_INLINE_POLICY: Readonly<InlinePolicyOptions> = {
  window: 32,
  promoteBelowNs: 500_000,
  demoteAboveNs: 1_000_000,
  cooldownRuns: 4096,
};

export type InlineDecision = 'promote' | 'demote' | undefined;

export class InlinePolicy {
  private readonly samples: Float64Array;
  private readonly hops: Float64Array;
  private count = 0;
  private cooldown = 0;

  constructor(private readonly options: Readonly<InlinePolicyOptions> = DEFAULT_INLINE_POLICY) {
    this.samples = new Float64Array(options.window);
    this.hops = new Float64Array(options.window);
  }

  /**
   * Records one execution: its run time (ns) where it ran, and for a run in the worker
   * (`hopNs` given) the time both thread hops took; a run on the main thread passes no
   * `hopNs`. Returns 'promote' or 'demote' when a window just completed and the instance
   * should switch; the caller switches and the next window starts empty.
   */
  record(inferNs: number, hopNs?: number): InlineDecision {
    const inline = hopNs === undefined;
    if (!inline && this.cooldown > 0) {
      this.cooldown--;
      return undefined;
    }
    this.hops[this.count] = hopNs ?? 0;
    this.samples[this.count++] = inferNs;
    if (this.count < this.samples.length) return undefined;
    this.count = 0;
    const p90 = percentile(this.samples, 0.9);
    if (!inline && p90 < Math.min(percentile(this.hops, 0.5), this.options.promoteBelowNs)) return 'promote';
    if (inline && p90 > this.options.demoteAboveNs) {
      this.cooldown = this.options.cooldownRuns;
      return 'demote';
    }
    return undefined;
  }

  /** Forgets the current window (after a switch, whose first runs include warm-up). */
  reset(): void {
    this.count = 0;
  }
}

function percentile(samples: Float64Array, p: number): number {
  const sorted = Float64Array.from(samples).sort();
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/**
 * Model files above this size are never loaded a second time on the main thread: a model that
 * runs in under 100 µs is small, and a second copy of a large one is not worth the hop saved.
 */
export const INLINE_MAX_MODEL_BYTES = 16 * 1024 * 1024;

/** Whether an instance of this model file may ever run inline (see inline-policy.ts). */
export function inlineEligible(modelFile: string, kind: 'KIND_CPU' | 'KIND_GPU'): boolean {
  if (kind !== 'KIND_CPU') return false;
  try {
    return statSync(modelFile).size <= INLINE_MAX_MODEL_BYTES;
  } catch {
    return false;
  }
}
