import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecuteResult } from '../../../../src/backends/backend.js';
import { FLAT_INLINE_MAX } from '../../../../src/backends/onnxruntime/flat-buffer.js';
import { OrtModelInstance } from '../../../../src/backends/onnxruntime/instance.js';
import type { Datatype } from '../../../../src/infer/datatype.js';
import type { Tensor } from '../../../../src/infer/tensor.js';
import { instanceOptions } from './helpers.js';
import { identityModel, ONNX_TYPE } from './onnx-model-builder.js';

// A group mixing runs that go in the flat form with runs that cannot (a large input) and runs
// that fail: each call must get its own answer, as it did with the object form alone.

let dir: string;
let inst: OrtModelInstance;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'infera-ort-flat-'));
  const file = join(dir, 'id.onnx');
  writeFileSync(
    file,
    identityModel([
      { name: 'u', type: ONNX_TYPE.UINT8, dims: ['n'] },
      { name: 'd', type: ONNX_TYPE.DOUBLE, dims: ['m', 2] },
    ]),
  );
  inst = await OrtModelInstance.start(instanceOptions('id', file));
});
afterAll(async () => {
  await inst.close();
  rmSync(dir, { recursive: true, force: true });
});

function u8(n: number, seed: number, datatype: Datatype = 'UINT8'): Tensor {
  const data = new Uint8Array(n).map((_, i) => (seed + i) & 0xff);
  return { name: 'u_in', datatype, shape: [n], data };
}

function fp64(rows: number, seed: number): Tensor {
  const values = new Float64Array(rows * 2).map((_, i) => seed + i / 4);
  return { name: 'd_in', datatype: 'FP64', shape: [rows, 2], data: new Uint8Array(values.buffer) };
}

const settle = (p: Promise<ExecuteResult>): Promise<ExecuteResult | Error> => p.catch((err: Error) => err);

describe('flat runs through a real worker', () => {
  it('answers each call of a mixed group with its own outputs or error, in order', async () => {
    const sent = [
      [u8(5, 1), fp64(1, 1)],
      [u8(FLAT_INLINE_MAX + 3, 2), fp64(3, 2)],
      [u8(4, 3, 'INT8'), fp64(1, 3)],
      [u8(0, 4), fp64(0, 4)],
      [u8(FLAT_INLINE_MAX + 1, 5, 'INT8'), fp64(1, 5)],
      [u8(7, 6), fp64(2, 6)],
    ];
    const want = sent.map((inputs) => inputs.map((t) => ({ datatype: t.datatype, shape: t.shape, data: [...t.data] })));
    // One tick: the calls go to the worker as one group.
    const calls = sent.map((inputs) => settle(inst.execute(inputs, ['d_out', 'u_out'])));
    const results = await Promise.all(calls);
    for (const k of [0, 1, 3, 5]) {
      const r = results[k] as ExecuteResult;
      expect(r.outputs.map((t) => t.name)).toEqual(['d_out', 'u_out']);
      expect(r.outputs.map((t) => ({ datatype: t.datatype, shape: t.shape, data: [...t.data] }))).toEqual([want[k]![1], want[k]![0]]);
      expect(r.timing.inferNs).toBeGreaterThan(0);
    }
    // The same ORT error whether the run went flat (small) or as an object (large).
    const flatError = results[2] as Error & { code: string };
    const objectError = results[4] as Error & { code: string };
    expect(flatError).toBeInstanceOf(Error);
    expect(flatError.code).toBe('INVALID_ARG');
    expect(objectError.code).toBe('INVALID_ARG');
    expect(flatError.message).toBe(objectError.message);
    expect(flatError.message).toMatch(/^model 'id'/);
  });

  it('keeps answering after a group, with the names it sent before', async () => {
    for (let round = 0; round < 3; round++) {
      const results = await Promise.all([1, 2, 3].map((n) => inst.execute([u8(n, round), fp64(n, round)], ['u_out'])));
      results.forEach((r, i) => expect([...r.outputs[0]!.data]).toEqual([...u8(i + 1, round).data]));
    }
  });
});
