import { describe, expect, test } from 'vitest';
import { encodeBytesElements, decodeBytesElements } from '../../../src/infer/bytes-codec.js';
import type { Tensor } from '../../../src/infer/tensor.js';
import { gatherBatch, scatterBatch } from '../../../src/backends/batch-gather.js';

const f32 = (name: string, shape: number[], values: number[]): Tensor => ({
  name,
  datatype: 'FP32',
  shape,
  data: new Uint8Array(Float32Array.from(values).buffer),
});
const values = (t: Tensor) => Array.from(new Float32Array(t.data.slice().buffer));

describe('gatherBatch / scatterBatch', () => {
  test('concatenates along the batch dimension into one owned buffer and splits back as views', () => {
    const a = { batchSize: 1, inputs: [f32('x', [1, 2], [1, 2])] };
    const b = { batchSize: 2, inputs: [f32('x', [2, 2], [3, 4, 5, 6])] };
    const [x] = gatherBatch([a, b]);
    expect(x!.shape).toEqual([3, 2]);
    expect(values(x!)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(x!.data.byteOffset).toBe(0);
    expect(x!.data.buffer.byteLength).toBe(24);
    // A plain Uint8Array: a consumer's slice() must copy, as it does for any tensor.
    expect(Buffer.isBuffer(x!.data)).toBe(false);

    const [ra, rb] = scatterBatch([x!], [1, 2]);
    expect(ra![0]!.shape).toEqual([1, 2]);
    expect(values(ra![0]!)).toEqual([1, 2]);
    expect(rb![0]!.shape).toEqual([2, 2]);
    expect(values(rb![0]!)).toEqual([3, 4, 5, 6]);
    expect(rb![0]!.data.buffer).toBe(x!.data.buffer);
  });

  test('a single member passes through without a copy', () => {
    const input = f32('x', [1, 2], [1, 2]);
    expect(gatherBatch([{ batchSize: 1, inputs: [input] }])[0]).toBe(input);
  });

  test('BYTES elements of different lengths split at element boundaries', () => {
    const t = (s: string[]): Tensor => ({ name: 's', datatype: 'BYTES', shape: [s.length, 1], data: encodeBytesElements(s) });
    const [g] = gatherBatch([
      { batchSize: 1, inputs: [t(['a'])] },
      { batchSize: 2, inputs: [t(['bbb', ''])] },
    ]);
    const [p, q] = scatterBatch([g!], [1, 2]);
    const text = (x: Tensor) => decodeBytesElements(x.data, 'x').map((e) => Buffer.from(e).toString());
    expect(text(p![0]!)).toEqual(['a']);
    expect(text(q![0]!)).toEqual(['bbb', '']);
  });

  test('an output without the batch dimension cannot be split', () => {
    expect(() => scatterBatch([f32('y', [2], [1, 2])], [1, 2])).toThrow(/batch dimension 2, expected 3/);
  });
});
