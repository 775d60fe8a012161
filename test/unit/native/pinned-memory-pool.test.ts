/**
 * The pinned memory pool through the addon: aligned allocations, usage counters, the heap
 * fallback when full, buffers returned by the garbage collector, and batch gathering into it.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, test } from 'vitest';
import { PinnedMemoryPool } from '../../../src/memory/index.js';
import { gatherBatch } from '../../../src/backends/batch-gather.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Collects until the finalizers (which run on a later turn) returned the memory. */
async function collectUntil(done: () => boolean): Promise<boolean> {
  for (let i = 0; i < 200 && !done(); i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  return done();
}

describe('PinnedMemoryPool', () => {
  test('allocates aligned buffers from the pool and counts them', () => {
    const pool = PinnedMemoryPool.create(1 << 20);
    const a = pool.allocate(100);
    const b = pool.allocate(1000);
    expect(a.byteLength).toBe(100);
    expect(b.byteLength).toBe(1000);
    a.fill(1);
    b.fill(2);
    expect(a.every((x) => x === 1) && b.every((x) => x === 2)).toBe(true);
    const s = pool.stats();
    expect(s.totalBytes).toBe(1 << 20);
    expect(s.usedBytes).toBe(128 + 1024);
    expect(s.pooledAllocations).toBe(2);
    expect(pool.usage()).toEqual({ totalBytes: 1 << 20, usedBytes: 1152 });
  });

  test('falls back to the heap when full, and a disabled pool always does', () => {
    const pool = PinnedMemoryPool.create(4096);
    const full = pool.allocate(4096);
    const extra = pool.allocate(10);
    expect(extra.byteLength).toBe(10);
    expect(pool.stats()).toMatchObject({ usedBytes: 4096, fallbackAllocations: 1, fallbackBytes: 10 });
    expect(full.byteLength).toBe(4096);
    const off = PinnedMemoryPool.create(0);
    expect(off.allocate(16).byteLength).toBe(16);
    expect(off.stats()).toMatchObject({ totalBytes: 0, fallbackAllocations: 1 });
  });

  test('buffers go back to the pool when collected', async () => {
    const pool = PinnedMemoryPool.create(1 << 20);
    (() => {
      for (let i = 0; i < 64; i++) pool.allocate(8192).fill(i);
    })();
    expect(await collectUntil(() => pool.usage().usedBytes === 0)).toBe(true);
    // The space is reused: a pool-sized allocation fits again.
    pool.allocate(1 << 20);
    expect(pool.stats().fallbackAllocations).toBe(0);
  });

  test('gatherBatch can take its batch buffers from the pool', () => {
    const pool = PinnedMemoryPool.create(1 << 20);
    const member = (v: number) => ({
      batchSize: 1,
      inputs: [{ name: 'x', datatype: 'FP32' as const, shape: [1, 4], data: new Uint8Array(new Float32Array(4).fill(v).buffer) }],
    });
    const [batch] = gatherBatch([member(1), member(2)], pool.batchAllocator());
    expect(batch!.shape).toEqual([2, 4]);
    expect(Array.from(new Float32Array(batch!.data.buffer, batch!.data.byteOffset, 8))).toEqual([1, 1, 1, 1, 2, 2, 2, 2]);
    expect(pool.usage().usedBytes).toBe(64);
  });
});
