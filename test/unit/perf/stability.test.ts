import { describe, expect, it } from 'vitest';
import { isStable } from '../../../src/perf/stability.js';

const w = (throughput: number, latencyUs: number) => ({ throughput, latencyUs });

describe('stability detection (last 3 windows, max/min ≤ 1 + pct/100)', () => {
  it('needs three windows', () => {
    expect(isStable([w(100, 10), w(100, 10)], 10)).toBe(false);
    expect(isStable([w(100, 10), w(100, 10), w(100, 10)], 10)).toBe(true);
  });

  it('checks throughput and latency spreads against the percentage', () => {
    expect(isStable([w(100, 10), w(110, 10), w(105, 10)], 10)).toBe(true); // 110/100 = 1.10
    expect(isStable([w(100, 10), w(111, 10), w(105, 10)], 10)).toBe(false);
    expect(isStable([w(100, 10), w(100, 11.5), w(100, 10)], 10)).toBe(false);
    expect(isStable([w(100, 10), w(100, 11.5), w(100, 10)], 20)).toBe(true);
  });

  it('looks only at the most recent windows', () => {
    expect(isStable([w(10, 99), w(100, 10), w(101, 10), w(102, 10)], 10)).toBe(true);
    expect(isStable([w(100, 10), w(101, 10), w(102, 10), w(10, 99)], 10)).toBe(false);
  });

  it('never accepts a window without completions, and can ignore latency', () => {
    expect(isStable([w(0, 0), w(0, 0), w(0, 0)], 10)).toBe(false);
    expect(isStable([w(100, 10), w(100, 50), w(100, 10)], 10, 3, false)).toBe(true);
  });
});
