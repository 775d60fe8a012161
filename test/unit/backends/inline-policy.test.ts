import { describe, expect, it } from 'vitest';
import { InlinePolicy } from '../../../src/backends/onnxruntime/inline-policy.js';

const options = { window: 4, promoteBelowNs: 500_000, demoteAboveNs: 1_000_000, cooldownRuns: 3 };

/** Feeds `n` worker runs of `inferNs` with hops of `hopNs`; returns the decisions. */
function worker(policy: InlinePolicy, n: number, inferNs: number, hopNs: number): unknown[] {
  return Array.from({ length: n }, () => policy.record(inferNs, hopNs));
}

describe('InlinePolicy', () => {
  it('promotes after a full window of worker runs faster than the hop', () => {
    const policy = new InlinePolicy(options);
    expect(worker(policy, 4, 30_000, 200_000)).toEqual([undefined, undefined, undefined, 'promote']);
  });

  it('keeps runs slower than the hop, or slower than the promotion limit, in the worker', () => {
    expect(worker(new InlinePolicy(options), 8, 300_000, 200_000)).not.toContain('promote');
    expect(worker(new InlinePolicy(options), 8, 600_000, 5_000_000)).not.toContain('promote');
  });

  it('judges a window by its 90th percentile, so one fast run does not promote', () => {
    const policy = new InlinePolicy(options);
    expect([policy.record(10_000, 200_000), ...worker(policy, 3, 400_000, 200_000)]).not.toContain('promote');
  });

  it('demotes a full window of slow inline runs, then waits out the cooldown before promoting again', () => {
    const policy = new InlinePolicy(options);
    expect(Array.from({ length: 4 }, () => policy.record(900_000))).not.toContain('demote');
    expect(Array.from({ length: 4 }, () => policy.record(2_000_000))).toEqual([undefined, undefined, undefined, 'demote']);
    // 3 cooldown runs are ignored, then a full window is needed.
    expect(worker(policy, 3 + 3, 30_000, 200_000)).not.toContain('promote');
    expect(policy.record(30_000, 200_000)).toBe('promote');
  });

  it('starts a fresh window after reset', () => {
    const policy = new InlinePolicy(options);
    worker(policy, 3, 30_000, 200_000);
    policy.reset();
    expect(worker(policy, 4, 30_000, 200_000)).toEqual([undefined, undefined, undefined, 'promote']);
  });
});
