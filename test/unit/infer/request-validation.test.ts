import { describe, expect, test } from 'vitest';
import { makeModelSpec } from '../../../src/infer/model-spec.js';
import { validateRequest } from '../../../src/infer/request-validation.js';
import type { InferenceRequest, Tensor } from '../../../src/infer/tensor.js';

const spec = makeModelSpec(
  'm',
  1,
  4,
  [
    { name: 'a', datatype: 'FP32', dims: [2], optional: false },
    { name: 'b', datatype: 'FP32', dims: [-1], optional: true },
    { name: 'c', datatype: 'FP32', dims: [2, -1], reshape: [-1, 2], optional: false },
  ],
  [
    { name: 'x', datatype: 'FP32', dims: [2] },
    { name: 'y', datatype: 'FP32', dims: [2] },
  ],
);

function tensor(name: string, shape: number[]): Tensor {
  return { name, datatype: 'FP32', shape, data: new Uint8Array(4 * shape.reduce((n, d) => n * d, 1)) };
}

function request(inputs: Tensor[], extra: Partial<InferenceRequest> = {}): InferenceRequest {
  return { modelName: 'm', inputs, ...extra };
}

describe('validateRequest', () => {
  test('inputs come in config order; unreshaped ones are the request tensors themselves', () => {
    const c = tensor('c', [1, 2, 3]);
    const a = tensor('a', [1, 2]);
    const v = validateRequest(request([c, a]), spec);
    expect(v.batchSize).toBe(1);
    expect(v.inputs[0]).toBe(a);
    expect(v.inputs[1]).not.toBe(c);
    expect(v.inputs[1]).toEqual({ ...c, shape: [1, 3, 2] });
    expect(c.shape).toEqual([1, 2, 3]);
    expect(v.outputNames).toEqual(['x', 'y']);
  });

  test('name errors come in Triton order: duplicate, count, unknown, missing', () => {
    const a = tensor('a', [1, 2]);
    const c = tensor('c', [1, 2, 3]);
    expect(() => validateRequest(request([a, tensor('zz', [1]), a], { id: 'r' }), spec)).toThrow(
      "[request id: r] input 'a' already exists in request",
    );
    expect(() => validateRequest(request([a, c, tensor('b', [1, 1]), tensor('zz', [1])]), spec)).toThrow(
      "[request id: <id_unknown>] expected number of inputs between 2 and 3 but got 4 inputs for model 'm'. " +
        "Got input(s) ['a','c','b','zz'], but missing required input(s) []. Please provide all required input(s).",
    );
    expect(() => validateRequest(request([a, tensor('zz', [1])]), spec)).toThrow("unexpected inference input 'zz' for model 'm'");
    expect(() => validateRequest(request([a, tensor('b', [1, 1])]), spec)).toThrow(
      "[request id: <id_unknown>] expected 3 inputs but got 2 inputs for model 'm'. Got input(s) ['a','b'], " +
        "but missing required input(s) ['c']. Please provide all required input(s).",
    );
  });

  test('shape and size errors name the input', () => {
    const c = tensor('c', [1, 2, 3]);
    expect(() => validateRequest(request([tensor('a', [1, 3]), c]), spec)).toThrow(
      "unexpected shape for input 'a' for model 'm'. Expected [-1,2], got [1,3].",
    );
    const short = { ...tensor('a', [1, 2]), data: new Uint8Array(4) };
    expect(() => validateRequest(request([short, c]), spec)).toThrow(
      "input byte size mismatch for input 'a' for model 'm'. Expected 8, got 4",
    );
  });
});
