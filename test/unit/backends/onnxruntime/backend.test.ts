import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ModelInstance } from '../../../../src/backends/backend.js';
import { OnnxRuntimeBackend } from '../../../../src/backends/onnxruntime/index.js';
import { cudaExecutionProviderAvailable } from '../../../../src/backends/onnxruntime/session.js';
import { workerScriptUrl } from '../../../../src/backends/onnxruntime/worker-script.js';
import { InvalidArgumentError, UnavailableError, UnsupportedError } from '../../../../src/errors/index.js';
import { decodeBytesElements, encodeBytesElements } from '../../../../src/infer/bytes-codec.js';
import { identityModel, ONNX_TYPE, sequenceInputModel } from './onnx-model-builder.js';
import { bytesOf, CLS_MODEL, DET_MODEL, fp32Tensor, instanceOptions, pseudoRandomFloats, REC_MODEL } from './helpers.js';
import { executeRequest } from '../../../../src/backends/execute-request.js';

const backend = new OnnxRuntimeBackend();
const CLS_OUT = 'softmax_0.tmp_0';
const CLS_SHAPE = [2, 3, 48, 192];
const clsInput = pseudoRandomFloats(2 * 3 * 48 * 192);

let dir: string;
let identityFile: string;
const opened: ModelInstance[] = [];
async function open(...args: Parameters<typeof instanceOptions>): Promise<ModelInstance> {
  const inst = await backend.createInstance(instanceOptions(...args));
  opened.push(inst);
  return inst;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'infera-ort-'));
  identityFile = join(dir, 'identity.onnx');
  writeFileSync(
    identityFile,
    identityModel([
      { name: 's', type: ONNX_TYPE.STRING, dims: ['n'] },
      { name: 'b', type: ONNX_TYPE.BOOL, dims: [3] },
      { name: 'h', type: ONNX_TYPE.FLOAT16, dims: [2] },
      { name: 'i', type: ONNX_TYPE.INT64, dims: ['n'] },
    ]),
  );
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((i) => i.close()));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('worker script', () => {
  it('runs the compiled worker from lib/ when the backend runs from src/ (vitest)', () => {
    const url = workerScriptUrl();
    expect(url.pathname).toBe(join(process.cwd(), 'lib/backends/onnxruntime/onnxruntime-worker.js'));
  });
});

describe('readModelMetadata', () => {
  it('reads the OCR models with -1 for dynamic dims', async () => {
    const [cls, det, rec] = await Promise.all([CLS_MODEL, DET_MODEL, REC_MODEL].map((f) => backend.readModelMetadata(f)));
    expect(cls).toEqual({
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3, -1, -1] }],
      outputs: [{ name: CLS_OUT, datatype: 'FP32', shape: [-1, 2] }],
    });
    expect(det!.outputs).toEqual([{ name: 'sigmoid_0.tmp_0', datatype: 'FP32', shape: [-1, 1, -1, -1] }]);
    expect(rec).toEqual({
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3, 48, -1] }],
      outputs: [{ name: 'softmax_11.tmp_0', datatype: 'FP32', shape: [-1, -1, 6625] }],
    });
  });

  it('maps ORT types to wire datatypes', async () => {
    const meta = await backend.readModelMetadata(identityFile);
    expect(meta.inputs.map((t) => [t.datatype, t.shape])).toEqual([
      ['BYTES', [-1]],
      ['BOOL', [3]],
      ['FP16', [2]],
      ['INT64', [-1]],
    ]);
  });

  it('rejects a file that is not a model, naming it', async () => {
    const err = await backend.readModelMetadata(join(process.cwd(), 'package.json')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as Error).message).toMatch(/package\.json.*Protobuf parsing failed/);
  });

  it('rejects non-tensor inputs and types without a wire datatype', async () => {
    const seq = join(dir, 'seq.onnx');
    writeFileSync(seq, sequenceInputModel());
    await expect(backend.readModelMetadata(seq)).rejects.toThrow(InvalidArgumentError);
    await expect(backend.readModelMetadata(seq)).rejects.toThrow(/input 'seq' is not a tensor/);
    const bf16 = join(dir, 'bf16.onnx');
    writeFileSync(bf16, identityModel([{ name: 'z', type: ONNX_TYPE.BFLOAT16, dims: [2] }]));
    await expect(backend.readModelMetadata(bf16)).rejects.toThrow(UnsupportedError);
  });
});

describe('execute', () => {
  let expected: Float32Array;
  beforeAll(async () => {
    const session = await ort.InferenceSession.create(CLS_MODEL, { intraOpNumThreads: 1, executionProviders: ['cpu'] });
    const out = await session.run({ x: new ort.Tensor('float32', clsInput.slice(), CLS_SHAPE) });
    expected = out[CLS_OUT]!.data as Float32Array;
    await session.release();
  });

  it('matches in-process onnxruntime-node bit for bit, and transfers the input', async () => {
    const inst = await open('cls', CLS_MODEL);
    const input = fp32Tensor('x', CLS_SHAPE, clsInput);
    const { outputs: [out], timing } = await executeRequest(inst, [input], [CLS_OUT]);
    expect(out).toMatchObject({ name: CLS_OUT, datatype: 'FP32', shape: [2, 2] });
    expect(out!.data).toEqual(bytesOf(expected));
    expect(input.data.byteLength).toBe(0);
    // The compute split is measured: the run itself dominates, each part is non-negative.
    expect(timing.inferNs).toBeGreaterThan(0);
    expect(timing.inputNs).toBeGreaterThanOrEqual(0);
    expect(timing.outputNs).toBeGreaterThanOrEqual(0);
  });

  it('accepts misaligned subviews of larger buffers (moved whole, or copied)', async () => {
    const inst = await open('cls', CLS_MODEL);
    const bytes = bytesOf(clsInput);
    for (const [before, after] of [[3, 5], [1001, 500_000]] as const) {
      const body = new Uint8Array(before + bytes.byteLength + after);
      body.set(bytes, before);
      const data = body.subarray(before, before + bytes.byteLength);
      const { outputs: [out] } = await executeRequest(inst, [{ name: 'x', datatype: 'FP32', shape: CLS_SHAPE, data }], [CLS_OUT]);
      expect(out!.data).toEqual(bytesOf(expected));
    }
  });

  it('round-trips BYTES, BOOL, FP16 and INT64 from the Buffer pool without detaching it', async () => {
    const inst = await open('identity', identityFile);
    const pooled = Buffer.from('\x00\x01\x01');
    const ints = Buffer.from(bytesOf(new BigInt64Array([-1n, 2n ** 40n])));
    const inputs = [
      { name: 's_in', datatype: 'BYTES' as const, shape: [2], data: encodeBytesElements(['héllo', '']) },
      { name: 'b_in', datatype: 'BOOL' as const, shape: [3], data: pooled },
      { name: 'h_in', datatype: 'FP16' as const, shape: [2], data: bytesOf(new Uint16Array([0x3c00, 0xc000])) },
      { name: 'i_in', datatype: 'INT64' as const, shape: [2], data: ints },
    ];
    const { outputs: [s, b, h, i] } = await executeRequest(inst, inputs, ['s_out', 'b_out', 'h_out', 'i_out']);
    expect(decodeBytesElements(s!.data, 's').map((e) => Buffer.from(e).toString())).toEqual(['héllo', '']);
    expect([b!.datatype, Array.from(b!.data)]).toEqual(['BOOL', [0, 1, 1]]);
    expect([h!.datatype, Array.from(new Uint16Array(h!.data.slice().buffer))]).toEqual(['FP16', [0x3c00, 0xc000]]);
    expect([i!.datatype, Array.from(new BigInt64Array(i!.data.slice().buffer))]).toEqual(['INT64', [-1n, 2n ** 40n]]);
    expect(pooled.byteLength).toBe(3);
    expect(pooled.buffer.byteLength).toBe(Buffer.poolSize);
    expect(Buffer.from('abc').toString()).toBe('abc');
  });
});

describe('errors', () => {
  it('rejects a wrong rank or shape with InvalidArgumentError naming the model', async () => {
    const inst = await open('cls', CLS_MODEL);
    const rank = executeRequest(inst, [fp32Tensor('x', [3, 48, 192], pseudoRandomFloats(3 * 48 * 192))], [CLS_OUT]);
    await expect(rank).rejects.toThrow(InvalidArgumentError);
    await expect(executeRequest(inst, [fp32Tensor('x', [1, 4, 48, 192], pseudoRandomFloats(4 * 48 * 192))], [CLS_OUT])).rejects.toThrow(
      /^model 'cls': Got invalid dimensions for input: x/,
    );
    const bf16 = { name: 'x', datatype: 'BF16' as const, shape: [1], data: new Uint8Array(2) };
    await expect(executeRequest(inst, [bf16], [CLS_OUT])).rejects.toThrow(UnsupportedError);
    // The instance survives bad requests.
    const { outputs: [out] } = await executeRequest(inst, [fp32Tensor('x', CLS_SHAPE, clsInput)], [CLS_OUT]);
    expect(out!.shape).toEqual([2, 2]);
  });

  it('reports a node that fails on the given dims as InvalidArgumentError', async () => {
    const inst = await open('det', DET_MODEL);
    const odd = executeRequest(inst, [fp32Tensor('x', [1, 3, 50, 50], pseudoRandomFloats(3 * 50 * 50))], ['sigmoid_0.tmp_0']);
    await expect(odd).rejects.toThrow(/^model 'det': Non-zero status code returned while running/);
  });

  it.skipIf(cudaExecutionProviderAvailable())('refuses KIND_GPU without the CUDA execution provider', async () => {
    const err = await open('cls', CLS_MODEL, { kind: 'KIND_GPU', gpu: 0, name: 'cls_gpu_0' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsupportedError);
    expect((err as Error).message).toMatch(/model 'cls' instance 'cls_gpu_0'.*CUDA execution provider is not available/);
  });

  it('rejects a bad model file with InvalidArgumentError naming it', async () => {
    const bad = join(dir, 'bad.onnx');
    writeFileSync(bad, 'not a model');
    await expect(open('bad', bad)).rejects.toThrow(InvalidArgumentError);
    await expect(open('bad', bad)).rejects.toThrow(bad);
    await expect(open('missing', join(dir, 'missing.onnx'))).rejects.toThrow(/missing\.onnx/);
  });

  it('rejects execute after close with UnavailableError', async () => {
    const inst = await open('cls', CLS_MODEL);
    await inst.close();
    await expect(executeRequest(inst, [fp32Tensor('x', CLS_SHAPE, clsInput)], [CLS_OUT])).rejects.toThrow(UnavailableError);
    await inst.close();
  });
});
