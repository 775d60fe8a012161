/**
 * The TensorRT backend's TypeScript side: without TensorRT in the native build every load
 * fails with UNSUPPORTED "TensorRT is not available in this build"; with a stand-in engine the
 * instance maps tensors, timing and errors, and closes only after executions finish.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { TensorRtBackend, TENSORRT_NOT_AVAILABLE } from '../../../src/backends/tensorrt/tensorrt-backend.js';
import { InvalidArgumentError, UnsupportedError } from '../../../src/errors/index.js';
import { loadNativeAddon, type NativeAddon, type NativeTensorRtContext, type NativeTensorRtEngine } from '../../../src/native/binding.js';
import { executeRequest } from '../../../src/backends/execute-request.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'infera-trt-'));
const plan = path.join(dir, 'model.plan');
writeFileSync(plan, Buffer.from('not a real plan'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const options = {
  name: 'm_0',
  modelName: 'm',
  version: 1,
  modelFile: plan,
  kind: 'KIND_GPU' as const,
  gpu: 0,
  intraOpThreads: 1,
  interOpThreads: 0,
};

describe('TensorRT backend', () => {
  const addon = loadNativeAddon();

  test.runIf(!addon.buildInfo().tensorrt)('is UNSUPPORTED when TensorRT is not compiled in', async () => {
    const backend = new TensorRtBackend();
    await expect(backend.readModelMetadata(plan)).rejects.toThrow(new UnsupportedError(TENSORRT_NOT_AVAILABLE));
    await expect(backend.createInstance(options)).rejects.toThrow(UnsupportedError);
    // The native entry point says the same.
    await expect(addon.TensorRtEngine.load(new Uint8Array(4), 0)).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      message: TENSORRT_NOT_AVAILABLE,
    });
  });

  test('says why when the native addon itself is missing', async () => {
    const backend = new TensorRtBackend(() => {
      throw new Error('no addon');
    });
    await expect(backend.readModelMetadata(plan)).rejects.toThrow(/^TensorRT is not available in this build \(the native addon did not load: /);
  });

  test('a stand-in engine: metadata, execution and orderly close', async () => {
    let disposed = 0;
    let release: (() => void) | undefined;
    const context: NativeTensorRtContext = {
      execute: (inputs, outputNames) => {
        if (inputs[0]!.name !== 'x') {
          return Promise.reject(Object.assign(new Error("TensorRT execution: unexpected input 'q'"), { code: 'INVALID_ARG' }));
        }
        return new Promise((resolve) => {
          release = () =>
            resolve({
              outputs: outputNames.map((name) => ({ name, datatype: 'FP32', shape: inputs[0]!.shape, data: inputs[0]!.data })),
              timing: { inputNs: 1, inferNs: 2, outputNs: 3 },
            });
        });
      },
      dispose: () => {
        disposed++;
      },
    };
    const engine: NativeTensorRtEngine = {
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }],
      outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 4] }],
      createContext: () => context,
      dispose: () => {
        disposed++;
      },
    };
    const fake = {
      ...loadNativeAddon(),
      buildInfo: () => ({ ...addon.buildInfo(), tensorrt: true }),
      TensorRtEngine: { load: () => Promise.resolve(engine) },
    } as NativeAddon;
    const backend = new TensorRtBackend(() => fake);
    expect(await backend.readModelMetadata(plan)).toEqual({
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }],
      outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 4] }],
    });
    expect(disposed).toBe(1);

    const instance = await backend.createInstance(options);
    const data = new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer);
    const running = executeRequest(instance, [{ name: 'x', datatype: 'FP32', shape: [1, 4], data }], ['y']);
    const closing = instance.close();
    await expect(executeRequest(instance, [], ['y'])).rejects.toThrow(/is closing/);
    release!();
    const result = await running;
    expect(result.outputs).toEqual([{ name: 'y', datatype: 'FP32', shape: [1, 4], data }]);
    expect(result.timing).toEqual({ inputNs: 1, inferNs: 2, outputNs: 3 });
    await closing;
    expect(disposed).toBe(3);

    const other = await backend.createInstance(options);
    await expect(executeRequest(other, [{ name: 'q', datatype: 'FP32', shape: [1], data }], ['y'])).rejects.toThrow(InvalidArgumentError);
    await other.close();
  });
});
