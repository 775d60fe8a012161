import { describe, expect, it } from 'vitest';
import { freeBuffer } from '../../../src/memory/free-buffer.js';
import { tryLoadNativeAddon } from '../../../src/native/binding.js';

describe('freeBuffer', () => {
  it.skipIf(tryLoadNativeAddon() === undefined)('frees a whole buffer larger than the pool slab at once', () => {
    const body = Buffer.allocUnsafeSlow(110_592);
    const view = body.subarray(146);
    freeBuffer(body);
    expect(body.byteLength).toBe(0);
    expect(view.byteLength).toBe(0);
  });

  it('leaves pooled, partial, small and shared buffers alone', () => {
    const pooled = Buffer.from('abc');
    const big = Buffer.allocUnsafeSlow(200_000);
    const part = big.subarray(0, 100_000);
    const small = Buffer.allocUnsafeSlow(1024);
    const shared = new Uint8Array(new SharedArrayBuffer(200_000));
    for (const b of [pooled, part, small, shared]) freeBuffer(b);
    expect([pooled.byteLength, part.byteLength, big.byteLength, small.byteLength, shared.byteLength]).toEqual([3, 100_000, 200_000, 1024, 200_000]);
  });
});
