/**
 * SharedMemoryManager (src/memory): Triton's registry rules and messages, in-flight safety
 * (an unregistered region stays mapped while a request holds it), and the request-side
 * helper both frontends use. CUDA regions are exercised through a stand-in addon, since this
 * machine may have no GPU.
 */
import { describe, expect, test } from 'vitest';
import {
  AlreadyExistsError,
  InternalError,
  InvalidArgumentError,
  NotFoundError,
  UnsupportedError,
} from '../../../src/errors/index.js';
import { RequestSharedMemory, SharedMemoryManager } from '../../../src/memory/index.js';
import { loadNativeAddon, type NativeAddon, type NativeCudaSharedMemoryRegion } from '../../../src/native/binding.js';
import { shmKeys } from '../../fixtures/shm-keys.js';

const addon = loadNativeAddon();
const shmKey = shmKeys('mgr');

function object(tag: string, byteSize = 4096): { key: string; bytes: Uint8Array } {
  const key = shmKey(tag);
  const r = addon.SystemSharedMemoryRegion.create(key, byteSize);
  return { key, bytes: new Uint8Array(r.buffer()) };
}

describe('SharedMemoryManager, system regions', () => {
  test('register, status sorted by name, unregister one and all', () => {
    const m = new SharedMemoryManager({ allowClientShm: true });
    const { key } = object('basic');
    m.registerSystem('b', key, 0, 64);
    m.registerSystem('a', key, 64, 128);
    expect(m.systemStatus()).toEqual([
      { name: 'a', key, offset: 64, byte_size: 128 },
      { name: 'b', key, offset: 0, byte_size: 64 },
    ]);
    expect(m.systemStatus('b')).toEqual([{ name: 'b', key, offset: 0, byte_size: 64 }]);
    expect(m.cudaStatus()).toEqual([]);
    m.unregisterSystem('a');
    expect(m.systemStatus().map((r) => r.name)).toEqual(['b']);
    m.unregisterSystem('not-there');
    m.unregisterSystem();
    expect(m.size).toBe(0);
  });

  test("Triton's errors", () => {
    const m = new SharedMemoryManager({ allowClientShm: true });
    const { key } = object('errors');
    m.registerSystem('r', key, 0, 16);
    expect(() => m.registerSystem('r', key, 0, 16)).toThrow(new AlreadyExistsError("shared memory region 'r' already in manager"));
    expect(() => m.registerSystem('s', '//', 0, 16)).toThrow(new InvalidArgumentError("cannot register shared memory region 's' - invalid shm key '//'"));
    expect(() => m.registerSystem('s', 'triton_python_backend_shm_region_1', 0, 16)).toThrow(InvalidArgumentError);
    expect(() => m.systemStatus('x')).toThrow(new NotFoundError("Unable to find system shared memory region: 'x'"));
    expect(() => m.cudaStatus('r')).toThrow(
      new NotFoundError("The region named 'r' is registered as system shared memory, not CUDA shared memory"),
    );
    expect(() => m.acquire('x', 0, 1)).toThrow(new NotFoundError("Unable to find shared memory region: 'x'"));
    expect(() => m.acquire('r', 16, 0)).toThrow(new InvalidArgumentError("Invalid offset for shared memory region: 'r'"));
    expect(() => m.acquire('r', 8, 9)).toThrow(new InvalidArgumentError("Invalid offset + byte size for shared memory region: 'r'"));
    m.close();
  });

  test('register and unregister need --allow-client-shm; status does not', () => {
    const m = new SharedMemoryManager();
    const disabled = new UnsupportedError(
      "Client shared memory is disabled. Start the server with '--allow-client-shm=true' to enable.",
    );
    expect(() => m.registerSystem('r', '/k', 0, 1)).toThrow(disabled);
    expect(() => m.unregisterSystem()).toThrow(disabled);
    expect(() => m.registerCuda('c', new Uint8Array(64), 0, 1)).toThrow(disabled);
    expect(m.systemStatus()).toEqual([]);
  });

  test('a lease keeps an unregistered region mapped until it is released', () => {
    const m = new SharedMemoryManager({ allowClientShm: true });
    const { key, bytes } = object('lease');
    bytes[10] = 5;
    m.registerSystem('r', key, 0, 4096);
    const lease = m.acquire('r', 8, 8);
    const view = lease.read();
    m.unregisterSystem('r');
    // Gone from the registry, so the name is free again...
    expect(m.systemStatus()).toEqual([]);
    m.registerSystem('r', key, 0, 16);
    // ...but the in-flight view still reads and writes the mapping.
    expect(view[2]).toBe(5);
    lease.write(Uint8Array.of(9, 9), 'OUT');
    expect(bytes[8]).toBe(9);
    lease.release();
    expect(view.byteLength).toBe(0);
    lease.release(); // idempotent
    m.close();
  });

  test('writes are checked against the output range', () => {
    const m = new SharedMemoryManager({ allowClientShm: true });
    const { key } = object('write');
    m.registerSystem('r', key, 0, 64);
    const lease = m.acquire('r', 0, 8);
    expect(() => lease.write(new Uint8Array(9), 'OUTPUT0')).toThrow(
      new InternalError(
        "shared memory size specified with the request for output 'OUTPUT0' (8 bytes) should be at least 9 bytes to hold the results",
      ),
    );
    lease.release();
    m.close();
  });
});

describe('RequestSharedMemory', () => {
  test('resolves inputs, writes outputs and releases every lease', () => {
    const m = new SharedMemoryManager({ allowClientShm: true });
    const { key, bytes } = object('request');
    bytes.set([1, 2, 3, 4], 0);
    m.registerSystem('r', key, 0, 64);
    const shm = new RequestSharedMemory(m);
    const input = shm.input({ region: 'r', offset: 0, byteSize: 4 });
    expect(Array.from(input)).toEqual([1, 2, 3, 4]);
    shm.output('OUT', { region: 'r', offset: 32, byteSize: 4 });
    expect(shm.hasOutput('OUT')).toBe(true);
    expect(shm.hasOutput('OTHER')).toBe(false);
    shm.writeOutputs([
      { name: 'OUT', datatype: 'UINT8', shape: [4], data: Uint8Array.of(8, 7, 6, 5) },
      { name: 'OTHER', datatype: 'UINT8', shape: [1], data: Uint8Array.of(1) },
    ]);
    expect(Array.from(bytes.subarray(32, 36))).toEqual([8, 7, 6, 5]);
    m.unregisterSystem('r');
    expect(input.byteLength).toBe(4);
    shm.release();
    expect(input.byteLength).toBe(0);
  });

  test('without a shared-memory service every region is unknown', () => {
    const shm = new RequestSharedMemory(undefined);
    expect(() => shm.input({ region: 'r', offset: 0, byteSize: 1 })).toThrow(new NotFoundError("Unable to find shared memory region: 'r'"));
  });
});

describe('SharedMemoryManager, CUDA regions (stand-in addon)', () => {
  /** Device memory simulated by a host array; bounds as the native checkRange would. */
  function fakeAddon(): NativeAddon {
    const open = (name: string, _handle: Uint8Array, deviceId: number, byteSize: number): NativeCudaSharedMemoryRegion => {
      const device = new Uint8Array(byteSize);
      let closed = false;
      const check = (offset: number, size: number): void => {
        if (offset >= byteSize) throw Object.assign(new Error(`Invalid offset for shared memory region: '${name}'`), { code: 'INVALID_ARG' });
        if (offset + size > byteSize) {
          throw Object.assign(new Error(`Invalid offset + byte size for shared memory region: '${name}'`), { code: 'INVALID_ARG' });
        }
      };
      return {
        name,
        deviceId,
        byteSize,
        get closed() {
          return closed;
        },
        checkRange: check,
        copyToHost: (offset, dst) => {
          check(offset, dst.byteLength);
          dst.set(device.subarray(offset, offset + dst.byteLength));
        },
        copyFromHost: (offset, src) => {
          check(offset, src.byteLength);
          device.set(src, offset);
        },
        close: () => {
          closed = true;
        },
      };
    };
    return { ...addon, CudaSharedMemoryRegion: { open } } as NativeAddon;
  }

  test('status, shared names, copies in and out, deferred close', () => {
    const m = new SharedMemoryManager({ allowClientShm: true, addon: fakeAddon });
    m.registerCuda('g', new Uint8Array(64), 1, 256);
    expect(m.cudaStatus()).toEqual([{ name: 'g', device_id: 1, byte_size: 256 }]);
    expect(() => m.systemStatus('g')).toThrow("The region named 'g' is registered as CUDA shared memory, not system shared memory");
    expect(() => m.registerSystem('g', '/k', 0, 1)).toThrow(AlreadyExistsError);
    const out = m.acquire('g', 16, 4);
    expect(out.kind).toBe('cuda');
    out.write(Uint8Array.of(1, 2, 3, 4), 'OUT');
    const input = m.acquire('g', 16, 4);
    expect(Array.from(input.read())).toEqual([1, 2, 3, 4]);
    expect(() => m.acquire('g', 250, 10)).toThrow(InvalidArgumentError);
    // Unregistering the system kind leaves CUDA regions alone (Triton).
    m.unregisterSystem();
    expect(m.size).toBe(1);
    m.unregisterCuda();
    expect(m.cudaStatus()).toEqual([]);
    out.release();
    input.release();
  });
});
