/**
 * Reaching a region from another thread (`SystemSharedMemoryRegion.attach` by the region's
 * process-wide `id`), and `detachBuffer`: a worker thread views the main thread's mapping
 * without a copy, bounds are Triton's, a closed region cannot be attached, and a view already
 * attached keeps the mapping after the region is closed and its object unlinked (an
 * unregister while a run is in flight never unmaps under the worker).
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, test } from 'vitest';
import { InvalidArgumentError, UnavailableError } from '../../../src/errors/index.js';
import { callNative, loadNativeAddon, PACKAGE_ROOT } from '../../../src/native/binding.js';
import { shmKeys } from '../../fixtures/shm-keys.js';

const addon = loadNativeAddon();
const key = shmKeys('attach');

/**
 * A worker thread with its own instance of the addon; `ask` sends it a step and resolves with
 * its answer. Steps: attach (keeps the view), read, write, detach, try (attach and report).
 */
function attachingWorker(): { ask: (msg: Record<string, unknown>) => Promise<unknown>; stop: () => Promise<number> } {
  const worker = new Worker(
    `
    const { parentPort, workerData } = require('node:worker_threads');
    const addon = require(require('node-gyp-build').path(workerData.root));
    let view;
    parentPort.on('message', (m) => {
      try {
        if (m.step === 'attach') view = addon.SystemSharedMemoryRegion.attach(m.id, m.offset, m.byteSize);
        if (m.step === 'write') view[m.at] = m.value;
        if (m.step === 'detach') addon.detachBuffer(view);
        parentPort.postMessage({ length: view.byteLength, bytes: view.byteLength > 0 ? Array.from(view.subarray(0, 4)) : [] });
      } catch (err) {
        parentPort.postMessage({ code: err.code, message: err.message });
      }
    });`,
    { eval: true, workerData: { root: PACKAGE_ROOT } },
  );
  const ask = (msg: Record<string, unknown>): Promise<unknown> =>
    new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.postMessage(msg);
    });
  return { ask, stop: () => worker.terminate() };
}

describe('attach', () => {
  test('views the same bytes as the region, from this thread, within bounds', () => {
    const k = key('same');
    const client = addon.SystemSharedMemoryRegion.create(k, 8192);
    const region = addon.SystemSharedMemoryRegion.open('same', k, 1000, 4096);
    new Uint8Array(client.buffer())[1010] = 42;
    const view = addon.SystemSharedMemoryRegion.attach(region.id, 8, 16);
    expect([view.byteLength, view.byteOffset, view[2]]).toEqual([16, 0, 42]);
    view[3] = 7;
    expect(new Uint8Array(client.buffer())[1011]).toBe(7);
    // Its own buffer, not the region's.
    expect(view.buffer).not.toBe(region.buffer());
    expect(addon.SystemSharedMemoryRegion.attach(region.id, 4096 - 1, 0).byteLength).toBe(0);
    expect(() => callNative(() => addon.SystemSharedMemoryRegion.attach(region.id, 4096, 1))).toThrow(
      new InvalidArgumentError("Invalid offset for shared memory region: 'same'"),
    );
    expect(() => callNative(() => addon.SystemSharedMemoryRegion.attach(region.id, 4000, 97))).toThrow(
      new InvalidArgumentError("Invalid offset + byte size for shared memory region: 'same'"),
    );
    // Ids are per region and never reused.
    const other = addon.SystemSharedMemoryRegion.open('other', k, 0, 16);
    expect(other.id).not.toBe(region.id);
    region.close();
    other.close();
    expect(() => callNative(() => addon.SystemSharedMemoryRegion.attach(region.id, 0, 1))).toThrow(UnavailableError);
    expect(() => callNative(() => addon.SystemSharedMemoryRegion.attach(123456789, 0, 1))).toThrow(
      new UnavailableError('shared memory region #123456789 is no longer registered'),
    );
    client.close();
  });

  test('a worker thread reads and writes the mapping, and keeps it after close and unlink', async () => {
    const k = key('worker');
    const client = addon.SystemSharedMemoryRegion.create(k, 65536);
    const bytes = new Uint8Array(client.buffer());
    bytes.set([1, 2, 3, 4], 4096);
    const region = addon.SystemSharedMemoryRegion.open('w', k, 4096, 8192);
    const w = attachingWorker();
    try {
      expect(await w.ask({ step: 'attach', id: region.id, offset: 0, byteSize: 4096 })).toEqual({ length: 4096, bytes: [1, 2, 3, 4] });
      expect(await w.ask({ step: 'attach', id: region.id, offset: 8000, byteSize: 193 })).toMatchObject({
        code: 'INVALID_ARG',
        message: "Invalid offset + byte size for shared memory region: 'w'",
      });
      // The request let go and the region was unregistered (closed) and unlinked while the
      // worker still runs on it: its view stays mapped.
      region.close();
      addon.SystemSharedMemoryRegion.unlink(k);
      expect(await w.ask({ step: 'write', at: 1, value: 9 })).toEqual({ length: 4096, bytes: [1, 9, 3, 4] });
      expect(bytes[4097]).toBe(9);
      expect(await w.ask({ step: 'attach', id: region.id, offset: 0, byteSize: 1 })).toMatchObject({ code: 'UNAVAILABLE' });
      expect(await w.ask({ step: 'detach' })).toEqual({ length: 0, bytes: [] });
    } finally {
      await w.stop();
    }
    client.close();
  });
});

describe('detachBuffer', () => {
  test('empties every view of the buffer; idempotent', () => {
    const data = new Uint8Array(1 << 20);
    const alias = new Float32Array(data.buffer, 4, 8);
    addon.detachBuffer(data);
    expect([data.byteLength, alias.length, data.buffer.byteLength]).toEqual([0, 0, 0]);
    addon.detachBuffer(alias);
    expect(() => addon.detachBuffer({} as Uint8Array)).toThrow(TypeError);
  });
});
