import { afterAll, describe, expect, test } from 'vitest';
import { NotFoundError } from '../../../src/errors/index.js';
import { SharedMemoryManager, type SharedMemoryService } from '../../../src/memory/index.js';
import { loadNativeAddon } from '../../../src/native/binding.js';
import { LazySharedMemory } from '../../../src/protocol/lazy-shared-memory.js';

const addon = loadNativeAddon();
const key = `/infera_lazy_${process.pid}`;

afterAll(() => {
  try {
    addon.SystemSharedMemoryRegion.unlink(key);
  } catch {
    // gone
  }
});

describe('LazySharedMemory', () => {
  test('a request that names no region never asks the server for its regions', () => {
    let asked = 0;
    const shm = new LazySharedMemory({
      sharedMemory(): SharedMemoryService {
        asked++;
        throw new Error('not expected');
      },
    });
    expect(shm.hasOutput('y')).toBe(false);
    shm.writeOutputs([{ name: 'y', datatype: 'UINT8', shape: [1], data: Uint8Array.of(1) }]);
    shm.release();
    expect(asked).toBe(0);
  });

  test('behaves as RequestSharedMemory once a region is named', () => {
    const bytes = new Uint8Array(addon.SystemSharedMemoryRegion.create(key, 64).buffer());
    bytes.set([1, 2, 3, 4], 0);
    const manager = new SharedMemoryManager({ allowClientShm: true });
    manager.registerSystem('r', key, 0, 64);
    const shm = new LazySharedMemory({ sharedMemory: () => manager });
    const input = shm.input({ region: 'r', offset: 0, byteSize: 4 });
    expect(Array.from(input)).toEqual([1, 2, 3, 4]);
    shm.output('OUT', { region: 'r', offset: 32, byteSize: 4 });
    expect(shm.hasOutput('OUT')).toBe(true);
    expect(shm.hasOutput('OTHER')).toBe(false);
    shm.writeOutputs([{ name: 'OUT', datatype: 'UINT8', shape: [4], data: Uint8Array.of(8, 7, 6, 5) }]);
    expect(Array.from(bytes.subarray(32, 36))).toEqual([8, 7, 6, 5]);
    manager.unregisterSystem('r');
    shm.release();
    expect(input.byteLength).toBe(0);
    manager.close();
  });

  test('without a shared-memory service every region is unknown', () => {
    const shm = new LazySharedMemory({ sharedMemory: () => undefined });
    expect(() => shm.input({ region: 'r', offset: 0, byteSize: 1 })).toThrow(new NotFoundError("Unable to find shared memory region: 'r'"));
  });
});
