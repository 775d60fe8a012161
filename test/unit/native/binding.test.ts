/**
 * The addon's surface against its declaration in src/native (the contract the style anchors
 * ask for): the exported keys, the status-code table shared with C++, the ABI version, and
 * how native errors become TritonErrors.
 */
import { describe, expect, test } from 'vitest';
import { InvalidArgumentError, NotFoundError, UnsupportedError } from '../../../src/errors/index.js';
import {
  fromNativeError,
  loadNativeAddon,
  nativeAddonLoadError,
  NATIVE_ABI_VERSION,
  NATIVE_EXPORT_KEYS,
  NATIVE_STATUS_CODES,
  callNative,
} from '../../../src/native/binding.js';
import { describeLoadFailure } from '../../../src/native/load-error.js';

describe('native addon contract', () => {
  const addon = loadNativeAddon();

  test('loads, with exactly the declared exports', () => {
    expect(nativeAddonLoadError()).toBeUndefined();
    expect(Object.keys(addon).sort()).toEqual([...NATIVE_EXPORT_KEYS].sort());
  });

  test('shares the status codes and ABI version with TypeScript', () => {
    expect(addon.statusCodes).toEqual([...NATIVE_STATUS_CODES]);
    expect(addon.abiVersion).toBe(NATIVE_ABI_VERSION);
  });

  test('reports its build and the devices it can use', () => {
    const info = addon.buildInfo();
    expect(info).toEqual({
      gpu: expect.any(Boolean),
      tensorrt: expect.any(Boolean),
      cudaRuntimeVersion: expect.any(Number),
      tensorrtVersion: expect.any(Number),
      napiVersion: 8,
    });
    const q = addon.deviceQuery();
    expect(q.deviceCount).toBeGreaterThanOrEqual(0);
    // No device always comes with a reason, so GPU errors can say why.
    if (q.deviceCount === 0) expect(q.reason).not.toBe('');
    else expect(q.reason).toBe('');
  });

  test('native errors become TritonErrors with the call-site stack', () => {
    let caught: unknown;
    try {
      callNative(() => addon.SystemSharedMemoryRegion.open('r', `/infera_absent_${process.pid}`, 0, 8));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(Error);
    expect((caught as { code: string }).code).toBe('INTERNAL');
    expect((caught as Error).message).toBe(`Unable to open shared memory region: '/infera_absent_${process.pid}'`);
    expect((caught as Error).stack).toContain('binding.test.ts');

    expect(() => callNative(() => addon.SystemSharedMemoryRegion.unlink(`/infera_absent_${process.pid}`))).toThrow(NotFoundError);
    expect(() => callNative(() => new addon.CudaMemoryPool(0, 1024))).toThrow(
      addon.deviceQuery().deviceCount === 0 ? UnsupportedError : Error,
    );
  });

  test('argument mistakes stay TypeErrors', () => {
    // @ts-expect-error deliberately wrong argument type
    expect(() => callNative(() => addon.SystemSharedMemoryRegion.create(42, 16))).toThrow(TypeError);
    expect(() => callNative(() => addon.SystemSharedMemoryRegion.create('/x', -1))).toThrow(TypeError);
    // @ts-expect-error the constructor is not for JS
    expect(() => new addon.SystemSharedMemoryRegion()).toThrow(TypeError);
  });

  test('fromNativeError maps every code and passes other errors through', () => {
    const e = Object.assign(new Error('bad'), { code: 'INVALID_ARG' });
    const converted = fromNativeError(e, new Error().stack);
    expect(converted).toBeInstanceOf(InvalidArgumentError);
    expect(converted.message).toBe('bad');
    const plain = new RangeError('range');
    expect(fromNativeError(plain)).toBe(plain);
    expect(fromNativeError('text').message).toBe('text');
  });
});

describe('load failure messages', () => {
  test('name the cause and the fix', () => {
    const none = describeLoadFailure(undefined, new Error('No native build was found for platform=linux arch=x64'));
    expect(none).toContain('No native build was found');
    expect(none).toContain('npm run build:native');
    const glibc = describeLoadFailure('/p/infera.node', new Error("/lib/libc.so.6: version `GLIBC_2.38' not found"));
    expect(glibc).toContain('(/p/infera.node)');
    expect(glibc).toContain('newer glibc');
    const trt = describeLoadFailure('/p/infera.node', new Error('libnvinfer.so.10: cannot open shared object file: No such file or directory'));
    expect(trt).toContain('TensorRT libraries are not on this machine');
    expect(trt).toContain('INFERA_TENSORRT=OFF');
    const addons = describeLoadFailure('/p/infera.node', Object.assign(new Error('Cannot load native addon because loading addons is disabled'), { code: 'ERR_DLOPEN_DISABLED' }));
    expect(addons).toContain('--no-addons');
    expect(describeLoadFailure(undefined, new Error('weird'))).toContain('unexpected load failure');
    expect(none).toMatch(/shared memory.*TensorRT are unavailable/);
  });
});
