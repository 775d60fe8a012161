/**
 * Output shapes predicted before a run from ONNX symbolic dims (output-shapes.ts), which decide
 * whether ORT can write an output straight into shared memory.
 */
import type ort from 'onnxruntime-node';
import { describe, expect, test } from 'vitest';
import { OutputShapes } from '../../../../src/backends/onnxruntime/output-shapes.js';
import type { Tensor } from '../../../../src/infer/tensor.js';

const meta = (name: string, shape: (number | string)[]): ort.InferenceSession.ValueMetadata => ({ name, isTensor: true, type: 'float32', shape });
const input = (name: string, shape: number[]): Tensor => ({ name, datatype: 'FP32', shape, data: new Uint8Array(0) });

describe('OutputShapes', () => {
  const shapes = new OutputShapes(
    [meta('x', ['N', 3, 'h']), meta('y', ['N']), meta('scalar', [])],
    [
      meta('same', ['N', 3, 'h']),
      meta('fixed', [2, 5]),
      meta('reordered', ['h', 'N']),
      meta('unbound', ['N', 'unk__0']),
      meta('unnamed', ['N', '']),
      meta('undeclared', []),
      { name: 'seq', isTensor: false },
    ],
  );

  test('binds symbols to the inputs\' sizes', () => {
    const inputs = [input('x', [4, 3, 7]), input('y', [4])];
    expect(shapes.predict('same', inputs)).toEqual([4, 3, 7]);
    expect(shapes.predict('fixed', inputs)).toEqual([2, 5]);
    expect(shapes.predict('reordered', inputs)).toEqual([7, 4]);
  });

  test('cannot tell for unbound, unnamed or conflicting symbols, wrong ranks, undeclared shapes', () => {
    const inputs = [input('x', [4, 3, 7]), input('y', [4])];
    for (const name of ['unbound', 'unnamed', 'undeclared', 'seq', 'missing']) expect(shapes.predict(name, inputs)).toBeUndefined();
    expect(shapes.predict('same', [input('x', [4, 3, 7]), input('y', [5])])).toBeUndefined();
    expect(shapes.predict('same', [input('x', [4, 7])])).toBeUndefined();
    // An input with an undeclared (empty) shape binds nothing and spoils nothing.
    expect(shapes.predict('same', [input('x', [1, 3, 2]), input('scalar', [9, 9])])).toEqual([1, 3, 2]);
  });
});
