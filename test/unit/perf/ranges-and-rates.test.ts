import { describe, expect, it } from 'vitest';
import { expandRange, parseRange } from '../../../src/perf/ranges.js';
import { intervalGenerator, scheduleOffsets } from '../../../src/perf/rate-schedule.js';

describe('load ranges', () => {
  it('parses start[:end[:step]] with perf_analyzer defaults', () => {
    expect(parseRange('4', '--concurrency-range', true)).toEqual({ start: 4, end: 4, step: 1 });
    expect(parseRange('1:16', '--concurrency-range', true)).toEqual({ start: 1, end: 16, step: 1 });
    expect(expandRange(parseRange('1:16:5', '--concurrency-range', true))).toEqual([1, 6, 11, 16]);
    expect(expandRange(parseRange('0.5:1.5:0.1', '--request-rate-range', false))).toHaveLength(11);
    expect(parseRange('2:0', '--concurrency-range', true).end).toBe(0);
  });

  it('names the flag and what was wrong', () => {
    expect(() => parseRange('a', '--concurrency-range', true)).toThrow("--concurrency-range: 'a' is not a whole number");
    expect(() => parseRange('1.5', '--concurrency-range', true)).toThrow(/whole number/);
    expect(() => parseRange('0', '--request-rate-range', false)).toThrow('--request-rate-range: start must be greater than 0');
    expect(() => parseRange('8:4', '--concurrency-range', true)).toThrow('end 4 is below start 8');
    expect(() => parseRange('1:2:3:4', '--concurrency-range', true)).toThrow(/start\[:end\[:step\]\]/);
    expect(() => expandRange({ start: 1, end: 0, step: 1 })).toThrow(/open-ended/);
  });
});

describe('request-rate schedules', () => {
  it('constant: evenly spaced at 1/rate', () => {
    expect(scheduleOffsets(1000, 'constant', 4)).toEqual([0, 1e6, 2e6, 3e6]);
  });

  it('poisson: exponential gaps with mean 1/rate, reproducible per seed', () => {
    const gaps = intervalGenerator(500, 'poisson', 7);
    const n = 20000;
    const values = Array.from({ length: n }, gaps);
    const mean = values.reduce((a, b) => a + b, 0) / n;
    expect(mean / 2e6).toBeGreaterThan(0.95);
    expect(mean / 2e6).toBeLessThan(1.05);
    // Exponential: the standard deviation equals the mean; P(gap < mean) = 1 - 1/e.
    const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
    expect(std / mean).toBeGreaterThan(0.93);
    expect(std / mean).toBeLessThan(1.07);
    expect(values.filter((v) => v < mean).length / n).toBeCloseTo(1 - 1 / Math.E, 1);
    expect(values.every((v) => v > 0 && Number.isFinite(v))).toBe(true);
    expect(scheduleOffsets(500, 'poisson', 5, 7)).toEqual(scheduleOffsets(500, 'poisson', 5, 7));
    expect(scheduleOffsets(500, 'poisson', 5, 7)).not.toEqual(scheduleOffsets(500, 'poisson', 5, 8));
  });

  it('rejects a rate that is not positive', () => {
    expect(() => intervalGenerator(0, 'constant')).toThrow(RangeError);
  });
});
