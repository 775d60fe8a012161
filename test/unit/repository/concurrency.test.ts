/** The limiter and per-model locks the repository manager schedules loads with. */
import { describe, expect, test } from 'vitest';
import { KeyedLock } from '../../../src/repository/keyed-lock.js';
import { Limiter } from '../../../src/repository/limiter.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('Limiter', () => {
  test('runs at most `limit` tasks at once, the rest in arrival order', async () => {
    const limiter = new Limiter(2);
    const gates = [deferred(), deferred(), deferred()];
    const started: number[] = [];
    const runs = gates.map((g, i) => limiter.run(async () => {
      started.push(i);
      await g.promise;
      return i;
    }));
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    gates[1]!.resolve();
    await runs[1];
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2]);
    gates[0]!.resolve();
    gates[2]!.resolve();
    expect(await Promise.all(runs)).toEqual([0, 1, 2]);
  });

  test('a failing task frees its slot', async () => {
    const limiter = new Limiter(1);
    await expect(limiter.run(() => Promise.reject(new Error('x')))).rejects.toThrow('x');
    expect(await limiter.run(async () => 'next')).toBe('next');
  });
});

describe('KeyedLock', () => {
  test('serialises holders of the same name, not of different names', async () => {
    const lock = new KeyedLock();
    const releaseA = await lock.acquire(['a']);
    const order: string[] = [];
    const second = lock.acquire(['a', 'b']).then((release) => {
      order.push('a+b');
      release();
    });
    const other = lock.acquire(['c']).then((release) => {
      order.push('c');
      release();
    });
    await other;
    expect(order).toEqual(['c']);
    expect(lock.isHeld('a')).toBe(true);
    releaseA();
    await second;
    expect(order).toEqual(['c', 'a+b']);
    expect(lock.isHeld('a')).toBe(false);
  });

  test('overlapping sets taken in opposite orders do not deadlock', async () => {
    const lock = new KeyedLock();
    const runs = [['x', 'y'], ['y', 'x'], ['y'], ['x']].map((names) => lock.acquire(names).then((release) => release()));
    await Promise.all(runs);
  });
});
