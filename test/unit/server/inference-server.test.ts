/**
 * Embedded use: the engine in-process, no ports. Uses the real backend on a fixture
 * repository built at test time.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { InferenceServer, NotFoundError } from '../../../src/index.js';
import { addSubModel, identityModel, writeModel } from '../../fixtures/onnx-models.js';
import { tempDir } from '../../e2e/helpers/temp-repo.js';

const tmp = tempDir();
let server: InferenceServer;

beforeAll(async () => {
  writeModel(tmp.dir, 'simple', addSubModel(), { versions: [1, 2] });
  // An image-sized input (3×96×96 FP32, 110,592 bytes): large enough to be moved to a worker.
  writeModel(tmp.dir, 'image', identityModel('FP32', ['batch', IMAGE_ELEMENTS]));
  // The same for the transfer test alone, which starts from a fresh instance.
  writeModel(tmp.dir, 'image_moved', identityModel('FP32', ['batch', IMAGE_ELEMENTS]));
  server = await InferenceServer.create({ modelRepositories: [tmp.dir] });
});

afterAll(async () => {
  await server.close();
  tmp.cleanup();
});

const IMAGE_ELEMENTS = 27_648;
const int32 = (values: number[]) => new Uint8Array(Int32Array.from(values).buffer);

describe('InferenceServer (embedded)', () => {
  test('readiness and metadata', () => {
    expect(server.isLive()).toBe(true);
    expect(server.isReady()).toBe(true);
    expect(server.isModelReady('simple')).toBe(true);
    expect(server.isModelReady('simple', 1)).toBe(false); // latest{1} serves only version 2
    expect(server.modelMetadata('simple')).toMatchObject({
      name: 'simple',
      versions: ['2'],
      platform: 'onnxruntime_onnx',
      inputs: [
        { name: 'INPUT0', datatype: 'INT32', shape: [-1, 16] },
        { name: 'INPUT1', datatype: 'INT32', shape: [-1, 16] },
      ],
    });
    expect(server.failures()).toEqual([]);
  });

  test('infer returns little-endian bytes of the outputs', async () => {
    const a = Array.from({ length: 32 }, (_, i) => i);
    const res = await server.infer({
      id: 'e1',
      modelName: 'simple',
      inputs: [
        { name: 'INPUT0', datatype: 'INT32', shape: [2, 16], data: int32(a) },
        { name: 'INPUT1', datatype: 'INT32', shape: [2, 16], data: int32(a.map(() => 2)) },
      ],
      outputs: [{ name: 'OUTPUT1' }],
    });
    expect(res).toMatchObject({ id: 'e1', modelName: 'simple', modelVersion: '2' });
    expect(res.outputs).toHaveLength(1);
    const out = res.outputs[0]!;
    expect(out).toMatchObject({ name: 'OUTPUT1', datatype: 'INT32', shape: [2, 16] });
    expect(Array.from(new Int32Array(out.data.slice().buffer))).toEqual(a.map((x) => x - 2));
  });

  test("infer never detaches or changes the caller's arrays", async () => {
    const pixels = Float32Array.from({ length: IMAGE_ELEMENTS }, (_, i) => i / 7);
    const expected = pixels.slice();
    const request = {
      modelName: 'image',
      inputs: [{ name: 'INPUT0', datatype: 'FP32' as const, shape: [1, IMAGE_ELEMENTS], data: new Uint8Array(pixels.buffer) }],
    };
    for (let i = 0; i < 100; i++) {
      const res = await server.infer(request);
      expect(res.outputs[0]!.data.byteLength).toBe(IMAGE_ELEMENTS * 4);
    }
    expect(pixels.length).toBe(IMAGE_ELEMENTS);
    expect(request.inputs[0]!.data.byteLength).toBe(IMAGE_ELEMENTS * 4);
    expect(pixels).toEqual(expected);
  });

  test('infer with transfer: true moves the input buffers (zero-copy, detaching them)', async () => {
    const pixels = new Float32Array(IMAGE_ELEMENTS).fill(1.5);
    const res = await server.infer(
      { modelName: 'image_moved', inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [1, IMAGE_ELEMENTS], data: new Uint8Array(pixels.buffer) }] },
      undefined,
      { transfer: true },
    );
    expect(new Float32Array(res.outputs[0]!.data.slice().buffer)[IMAGE_ELEMENTS - 1]).toBe(1.5);
    expect(pixels.length).toBe(0);
  });

  test('errors are typed', async () => {
    await expect(server.infer({ modelName: 'nope', inputs: [] })).rejects.toBeInstanceOf(NotFoundError);
    await expect(server.infer({ modelName: 'simple', modelVersion: 1, inputs: [] })).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      server.infer({ modelName: 'simple', inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: int32(new Array(16).fill(0)) }] }),
    ).rejects.toThrow(/expected 2 inputs but got 1 inputs for model 'simple'/);
  });

  test('close refuses new requests', async () => {
    const other = await InferenceServer.create({ modelRepositories: [tmp.dir] });
    await other.close();
    expect(other.isLive()).toBe(false);
    await expect(other.infer({ modelName: 'simple', inputs: [] })).rejects.toThrow(/stopping/);
  });
});
