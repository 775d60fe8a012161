import { describe, expect, it } from 'vitest';
import type { ModelMetadata } from '../../../../src/server-types.js';
import { decodeGenerateRequest } from '../../../../src/protocol/http/generate-request.js';
import { bytesTensor, errorOf } from './helpers.js';

/** A batching model (metadata shapes start with -1) with a text, an integer and a fixed-size input. */
const metadata: ModelMetadata = {
  name: 'llm',
  versions: ['1'],
  platform: 'javascript',
  inputs: [
    { name: 'text_input', datatype: 'BYTES', shape: [-1, 1] },
    { name: 'max_tokens', datatype: 'INT32', shape: [-1, 1] },
    { name: 'weights', datatype: 'FP32', shape: [-1, 3] },
    { name: 'ids', datatype: 'INT64', shape: [-1, -1] },
    { name: 'half', datatype: 'FP16', shape: [-1] },
  ],
  outputs: [],
};

function decode(body: unknown, maxInputSize = 1 << 20, meta = metadata) {
  return decodeGenerateRequest(body, meta, { modelName: 'llm', modelVersion: 2, maxInputSize });
}

describe('decodeGenerateRequest', () => {
  it('maps keys named like inputs to tensors and the rest to parameters', () => {
    const request = decode({
      id: '42',
      text_input: 'hello world',
      max_tokens: 7,
      temperature: 0.5,
      stream: false,
      parameters: { top_k: 3, mode: 'greedy', weights: [0.5, 1, 2] },
    });
    expect(request.id).toBe('42');
    expect(request.modelName).toBe('llm');
    expect(request.modelVersion).toBe(2);
    // Triton passes `id` on as a parameter too: every key that is not an input is one.
    expect(request.parameters).toEqual({ id: '42', temperature: 0.5, stream: false, top_k: 3, mode: 'greedy' });
    expect(request.inputs.map((t) => [t.name, t.datatype, t.shape])).toEqual([
      ['text_input', 'BYTES', [1, 1]],
      ['max_tokens', 'INT32', [1, 1]],
      ['weights', 'FP32', [1, 3]],
    ]);
    expect(Buffer.from(request.inputs[0]!.data)).toEqual(bytesTensor('hello world'));
    expect([...new Int32Array(request.inputs[1]!.data.slice().buffer)]).toEqual([7]);
    expect([...new Float32Array(request.inputs[2]!.data.slice().buffer)]).toEqual([0.5, 1, 2]);
  });

  it('gives the innermost variable dimension the elements and the others 1', () => {
    const request = decode({ ids: [1, 2, 3, 4], text_input: ['a', 'b'] });
    expect(request.inputs.map((t) => t.shape)).toEqual([
      [1, 4],
      [2, 1],
    ]);
    expect(request.parameters).toBeUndefined();
  });

  it('refuses element counts the fixed dimensions cannot hold', () => {
    expect(errorOf(() => decode({ weights: [1, 2] }))).toEqual({
      code: 'INVALID_ARG',
      message: "The schema can not convert input 'weights' to tensor with proper shape",
    });
    const fixed: ModelMetadata = { ...metadata, inputs: [{ name: 'x', datatype: 'INT32', shape: [2] }] };
    expect(errorOf(() => decode({ x: [1, 2, 3, 4] }, 1 << 20, fixed)).message).toBe(
      "The schema can not convert input 'x' to tensor with proper shape",
    );
    expect(decode({ x: [1, 2] }, 1 << 20, fixed).inputs[0]!.shape).toEqual([2]);
  });

  it('leaves an empty array to validation as an input with no dimensions and no data', () => {
    expect(decode({ ids: [] }).inputs).toEqual([{ name: 'ids', datatype: 'INT64', shape: [], data: new Uint8Array(0) }]);
  });

  it('refuses values of the wrong JSON type for the input datatype', () => {
    expect(errorOf(() => decode({ max_tokens: 'seven' }))).toEqual({
      code: 'INVALID_ARG',
      message: "Unable to parse 'data': attempt to access JSON non-signed-integer as signed-integer",
    });
    expect(errorOf(() => decode({ text_input: 5 })).message).toBe(
      "Unable to parse JSON bytes array: attempt to access JSON non-string as string",
    );
    expect(errorOf(() => decode({ half: [1] })).message).toBe(
      'receiving FP16 data via JSON is not supported. Please use the binary data format for input half',
    );
  });

  it('refuses parameters that are not scalars, and a body that is not an object', () => {
    expect(errorOf(() => decode({ text_input: 'x', options: { a: 1 } }))).toEqual({
      code: 'INVALID_ARG',
      message: "parameter 'options' has invalid type. It should be either 'int', 'bool', or 'string'.",
    });
    expect(errorOf(() => decode({ opt: null })).message).toBe(
      "parameter 'opt' has invalid type. It should be either 'int', 'bool', or 'string'.",
    );
    expect(errorOf(() => decode([1, 2])).message).toBe('attempt to get members for non-object');
    expect(errorOf(() => decode({ id: 42 })).message).toBe("Unable to parse 'id': attempt to access JSON non-string as string");
  });

  it('needs `parameters` to be an object and prefixes the errors inside it', () => {
    expect(errorOf(() => decode({ parameters: 'x' })).message).toBe(
      "Expected JSON object for keyword: 'parameters': attempt to access JSON non-object as object",
    );
    expect(errorOf(() => decode({ parameters: { nested: [1] } }))).toEqual({
      code: 'INVALID_ARG',
      message: "Converting keyword: 'parameters': parameter 'nested' has invalid type. It should be either 'int', 'bool', or 'string'.",
    });
    const withInput: ModelMetadata = { ...metadata, inputs: [{ name: 'parameters', datatype: 'BYTES', shape: [1] }] };
    expect(errorOf(() => decode({ parameters: {} }, 1 << 20, withInput)).message).toBe(
      "Keyword 'parameters' for nested schema also given as input tensor name",
    );
  });

  it('caps the tensor bytes of one object at the max input size, counting anew inside parameters', () => {
    // 'hello' is 4 + 5 = 9 bytes, the weights 12: 21 bytes in all.
    expect(errorOf(() => decode({ text_input: 'hello', weights: [1, 2, 3] }, 20))).toEqual({
      code: 'INVALID_ARG',
      message:
        "request size of 9 bytes with input 'weights' of size 12 bytes exceeds the maximum allowed input size of 20. " +
        'Use --http-max-input-size to increase the limit.',
    });
    expect(decode({ text_input: 'hello', parameters: { weights: [1, 2, 3] } }, 20).inputs).toHaveLength(2);
  });

  it('keeps a parameter named __proto__ as a parameter', () => {
    const request = decode(JSON.parse('{"__proto__": "x"}'));
    expect(Object.keys(request.parameters!)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(request.parameters)).toBe(Object.prototype);
  });
});
