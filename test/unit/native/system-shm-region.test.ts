/**
 * System shared-memory regions through the addon: no-copy views, Triton's bounds messages, and
 * the lifetime rule (close detaches every view, the mapping goes once nothing holds it).
 */
import { describe, expect, test } from 'vitest';
import { callNative, loadNativeAddon } from '../../../src/native/binding.js';
import { shmKeys } from '../../fixtures/shm-keys.js';

const addon = loadNativeAddon();
const key = shmKeys('unit');

describe('SystemSharedMemoryRegion', () => {
  test('client and server mappings see the same bytes, without copies', () => {
    const k = key('share');
    const client = addon.SystemSharedMemoryRegion.create(k, 8192);
    const server = addon.SystemSharedMemoryRegion.open('srv', k, 100, 1000);
    expect([server.name, server.key, server.offset, server.byteSize, server.closed]).toEqual(['srv', k, 100, 1000, false]);
    new Uint8Array(client.buffer())[150] = 42;
    const view = server.slice(50, 10);
    expect(view[0]).toBe(42);
    view[1] = 7;
    expect(new Uint8Array(client.buffer())[151]).toBe(7);
    // The same ArrayBuffer is returned while it lives.
    expect(server.buffer()).toBe(server.buffer());
    expect(view.buffer).toBe(server.buffer());
    server.close();
    client.close();
  });

  test('slices outside the region fail with Triton\'s messages', () => {
    const k = key('bounds');
    const client = addon.SystemSharedMemoryRegion.create(k, 4096);
    const r = addon.SystemSharedMemoryRegion.open('reg', k, 0, 4096);
    const err = (offset: number, size: number): string => {
      try {
        callNative(() => r.slice(offset, size));
        return 'ok';
      } catch (e) {
        return `${(e as { code: string }).code} ${(e as Error).message}`;
      }
    };
    expect(err(0, 4096)).toBe('ok');
    expect(err(4095, 1)).toBe('ok');
    expect(err(4096, 0)).toBe("INVALID_ARG Invalid offset for shared memory region: 'reg'");
    expect(err(4000, 97)).toBe("INVALID_ARG Invalid offset + byte size for shared memory region: 'reg'");
    expect(err(2 ** 64, 1)).toBe("INVALID_ARG Invalid offset for shared memory region: 'reg'");
    // The largest double below 2^64 plus an offset passes SIZE_MAX: the overflow message.
    expect(err(4000, 18446744073709549568)).toBe(
      "INVALID_ARG Integer overflow detected: byte_size (18446744073709549568) + offset (4000) exceeds maximum value (18446744073709551615) for region 'reg'",
    );
    r.close();
    client.close();
  });

  test('a fuzzed set of offsets and sizes either fails cleanly or gives an in-bounds view', () => {
    const k = key('fuzz');
    const client = addon.SystemSharedMemoryRegion.create(k, 16384);
    const r = addon.SystemSharedMemoryRegion.open('f', k, 4096, 5000);
    let s = 99;
    const rand = (n: number): number => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return s % n;
    };
    const specials = [0, 1, 4999, 5000, 5001, 2 ** 32, 2 ** 53, 2 ** 64, 1e300];
    let accepted = 0;
    for (let i = 0; i < 5000; i++) {
      const offset = rand(4) === 0 ? specials[rand(specials.length)]! : rand(6000);
      const size = rand(3) === 0 ? specials[rand(specials.length)]! : rand(6000);
      try {
        const v = callNative(() => r.slice(offset, size));
        accepted++;
        expect(offset + size).toBeLessThanOrEqual(5000);
        expect(v.byteLength).toBe(size);
        if (size > 0) v[size - 1] = v[0]!;
      } catch (e) {
        expect((e as { code: string }).code).toBe('INVALID_ARG');
      }
    }
    expect(accepted).toBeGreaterThan(0);
    r.close();
    client.close();
  });

  test('close detaches every view, so JS never reads an unmapped page', () => {
    const k = key('close');
    const client = addon.SystemSharedMemoryRegion.create(k, 4096);
    const r = addon.SystemSharedMemoryRegion.open('c', k, 0, 4096);
    const view = r.slice(0, 64);
    r.close();
    expect(r.closed).toBe(true);
    expect(view.byteLength).toBe(0);
    expect(view[0]).toBeUndefined();
    expect(() => callNative(() => r.slice(0, 1))).toThrow("shared memory region 'c' is closed");
    r.close(); // idempotent
    client.close();
  });

  test('the object can be unlinked while mapped; registering it again then fails', () => {
    const k = key('unlink');
    const client = addon.SystemSharedMemoryRegion.create(k, 4096);
    const r = addon.SystemSharedMemoryRegion.open('u', k, 0, 4096);
    addon.SystemSharedMemoryRegion.unlink(k);
    r.slice(0, 4)[0] = 3;
    expect(new Uint8Array(client.buffer())[0]).toBe(3);
    expect(() => callNative(() => addon.SystemSharedMemoryRegion.open('u2', k, 0, 16))).toThrow(
      `Unable to open shared memory region: '${k}'`,
    );
    r.close();
    client.close();
  });

  test('region memory is not moved to a worker thread', async () => {
    const { MessageChannel } = await import('node:worker_threads');
    const k = key('transfer');
    const client = addon.SystemSharedMemoryRegion.create(k, 4096);
    const buffer = client.buffer();
    const { port1, port2 } = new MessageChannel();
    const received = new Promise<ArrayBuffer>((resolve) => port2.once('message', resolve));
    port1.postMessage(buffer, [buffer]);
    const copy = await received;
    // Cloned, not transferred: the region's buffer is still attached here.
    expect(buffer.byteLength).toBe(4096);
    expect(copy.byteLength).toBe(4096);
    port1.close();
    client.close();
  });
});
