import { describe, expect, it } from 'vitest';
import { percentileOfSorted, summarizeLatencies } from '../../../src/perf/percentiles.js';

describe('percentiles (perf_analyzer index rule)', () => {
  it('picks the sample at round(p/100 * (n-1)) without interpolating', () => {
    const sorted = [10, 20, 30, 40];
    // index = p/100 * 3 + 0.5, truncated: p50 → 2 (30), p90 → 3 (40), p0 → 0, p100 → 3.
    expect(percentileOfSorted(sorted, 50)).toBe(30);
    expect(percentileOfSorted(sorted, 90)).toBe(40);
    expect(percentileOfSorted(sorted, 0)).toBe(10);
    expect(percentileOfSorted(sorted, 100)).toBe(40);
    expect(percentileOfSorted(sorted, 16)).toBe(10);
    expect(percentileOfSorted(sorted, 17)).toBe(20);
  });

  it('rejects empty input and percentiles outside [0, 100]', () => {
    expect(() => percentileOfSorted([], 50)).toThrow(RangeError);
    expect(() => percentileOfSorted([1], 101)).toThrow(/within \[0, 100\]/);
  });

  it('summarizes unsorted samples: mean, population std, min/max, 50/90/95/99 and an extra percentile', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1
    const s = summarizeLatencies(values, 85);
    expect(s.count).toBe(100);
    expect(s.avgUs).toBeCloseTo(50.5);
    expect(s.stdUs).toBeCloseTo(Math.sqrt((100 * 100 - 1) / 12));
    expect(s.minUs).toBe(1);
    expect(s.maxUs).toBe(100);
    expect(Object.keys(s.percentiles).map(Number)).toEqual([50, 85, 90, 95, 99]);
    expect(s.percentiles[50]).toBe(51); // index round(49.5) = 50 → value 51
    expect(s.percentiles[99]).toBe(99); // index round(98.01) = 98
    expect(values[0]).toBe(100); // input untouched
  });

  it('refuses an empty window with perf_analyzer message', () => {
    expect(() => summarizeLatencies([])).toThrow('No valid requests recorded within time interval');
  });
});
