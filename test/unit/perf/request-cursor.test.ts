import { describe, expect, it } from 'vitest';
import { roundRobinCursor, sequenceCursor, sequenceIds } from '../../../src/perf/load/request-cursor.js';
import type { InputPlan } from '../../../src/perf/prepared-tensor.js';

const plan = (lengths: number[]): InputPlan => ({ streams: lengths.map((n) => Array.from({ length: n }, () => [])) });

describe('request cursors', () => {
  it('cycles through every step of every stream for non-sequence models', () => {
    const c = roundRobinCursor(plan([2, 1]));
    expect(Array.from({ length: 4 }, () => c.next())).toEqual([
      { stream: 0, step: 0 },
      { stream: 0, step: 1 },
      { stream: 1, step: 0 },
      { stream: 0, step: 0 },
    ]);
  });

  it('marks the first and last request of each sequence and gives each a new id', () => {
    const setup = { length: 3, variation: 0, idStart: 1, sequencesPerWorker: 1 };
    const c = sequenceCursor(plan([1]), setup, sequenceIds(setup, 0, 1), 1);
    const params = Array.from({ length: 6 }, () => c.next().parameters);
    expect(params).toEqual([
      { sequence_id: 1, sequence_start: true },
      { sequence_id: 1 },
      { sequence_id: 1, sequence_end: true },
      { sequence_id: 2, sequence_start: true },
      { sequence_id: 2 },
      { sequence_id: 2, sequence_end: true },
    ]);
  });

  it('plays a data stream per sequence (its own length when --sequence-length is not given)', () => {
    const setup = { length: 0, variation: 20, idStart: 1, sequencesPerWorker: 1 };
    const c = sequenceCursor(plan([2, 3]), setup, sequenceIds(setup, 0, 1), 0);
    const got = Array.from({ length: 5 }, () => c.next());
    expect(got.map((r) => [r.stream, r.step])).toEqual([
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
      [1, 2],
    ]);
    expect(got[4]!.parameters).toEqual({ sequence_id: 2, sequence_end: true });
  });

  it('keeps lengths within the variation and ids distinct across workers', () => {
    const setup = { length: 10, variation: 20, idStart: 100, sequencesPerWorker: 1 };
    const c = sequenceCursor(plan([1]), setup, sequenceIds(setup, 1, 3), 5);
    const lengths: number[] = [];
    const ids: number[] = [];
    let n = 0;
    for (let i = 0; i < 500; i++) {
      const p = c.next().parameters!;
      n++;
      if (p.sequence_end) {
        lengths.push(n);
        ids.push(p.sequence_id as number);
        n = 0;
      }
    }
    expect(Math.min(...lengths)).toBeGreaterThanOrEqual(8);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(12);
    expect(ids.slice(0, 3)).toEqual([101, 104, 107]);
  });
});
