import { describe, expect, it } from 'vitest';
import type { InferenceResponse } from '../../../../src/infer/tensor.js';
import type { Datatype } from '../../../../src/infer/datatype.js';
import { makeModelSpec } from '../../../../src/infer/model-spec.js';
import { decodeInferRequest } from '../../../../src/protocol/http/infer-request.js';
import { encodeInferResponse } from '../../../../src/protocol/http/infer-response.js';
import { OutputFormat } from '../../../../src/protocol/http/output-format.js';
import { decodeRawRequest } from '../../../../src/protocol/http/raw-request.js';
import { errorOf } from './helpers.js';

const target = { modelName: 'm', modelVersion: undefined, maxInputSize: 1 << 20 };

function decodeJson(body: unknown, maxInputSize = target.maxInputSize) {
  const b = Buffer.from(JSON.stringify(body));
  return decodeInferRequest(b, b.length, { ...target, maxInputSize });
}

describe('decodeInferRequest', () => {
  it('builds the InferenceRequest with id, parameters and outputs', () => {
    const { request, outputs } = decodeJson({
      id: 'r1',
      parameters: { sequence_id: 'abc', sequence_end: true, timeout: 100, custom: 1.5, binary_data_output: true },
      inputs: [{ name: 'a', datatype: 'INT32', shape: [2], data: [1, 2] }],
      outputs: [{ name: 'x', parameters: { binary_data: false } }, { name: 'y', parameters: { classification: 3, binary_data: true } }],
    });
    expect(request).toMatchObject({
      id: 'r1',
      modelName: 'm',
      parameters: { sequence_id: 'abc', sequence_end: true, timeout: 100, custom: 1.5 },
      outputs: [{ name: 'x' }, { name: 'y', classification: 3 }],
    });
    expect(request.inputs[0]).toMatchObject({ name: 'a', datatype: 'INT32', shape: [2] });
    expect(outputs.isBinary('x')).toBe(false);
    expect(outputs.isBinary('y')).toBe(true);
    expect(outputs.isBinary('unnamed')).toBe(true);
  });

  it('slices binary inputs out of the body without copying', () => {
    const header = Buffer.from(
      JSON.stringify({
        inputs: [
          { name: 'a', datatype: 'UINT8', shape: [2], parameters: { binary_data_size: 2 } },
          { name: 'b', datatype: 'UINT8', shape: [1], data: [9] },
          { name: 'c', datatype: 'UINT8', shape: [3], parameters: { binary_data_size: 3 } },
        ],
      }),
    );
    const body = Buffer.concat([header, Buffer.from([1, 2, 3, 4, 5])]);
    const { request } = decodeInferRequest(body, header.length, target);
    expect([...request.inputs[0]!.data]).toEqual([1, 2]);
    expect([...request.inputs[1]!.data]).toEqual([9]);
    expect([...request.inputs[2]!.data]).toEqual([3, 4, 5]);
    expect(request.inputs[2]!.data.buffer).toBe(body.buffer);
  });

  it('treats a shape with a zero (or no) dimension as empty, without reading data', () => {
    const { request } = decodeJson({
      inputs: [
        { name: 'a', datatype: 'FP32', shape: [0, 3], data: 'ignored' },
        { name: 'b', datatype: 'FP32', shape: [], data: [1] },
      ],
    });
    expect(request.inputs.map((t) => t.data.byteLength)).toEqual([0, 0]);
  });

  it.each([
    [{ id: 5, inputs: [] }, "Unable to parse 'id': attempt to access JSON non-string as string"],
    [{ parameters: [], inputs: [] }, 'failed to get request params.: attempt to get members for non-object'],
    [{ parameters: { priority: -1 }, inputs: [] }, "Unable to parse 'priority': attempt to access JSON non-unsigned-integer as unsigned-integer"],
    [{ parameters: { sequence_start: 1 }, inputs: [] }, "Unable to parse 'sequence_start': attempt to access JSON non-boolean as boolean"],
    [{ parameters: { x: { y: 1 } }, inputs: [] }, "parameter 'x' has invalid type. It should be either 'int', 'bool', or 'string'."],
    [{ inputs: {} }, "Unable to parse 'inputs': attempt to access JSON non-array as array"],
    [[1], "Unable to parse 'inputs': attempt to access non-existing object member 'inputs'"],
    [{ inputs: [{ data: [1] }] }, "Unable to parse 'name': attempt to access non-existing object member 'name'"],
    [{ inputs: [{ name: 'a', data: [1] }] }, "Unable to parse 'datatype': attempt to access non-existing object member 'datatype'"],
    [{ inputs: [{ name: 'a', datatype: 'FP32', shape: [1.5], data: [1] }] }, "Unable to parse 'shape': attempt to access JSON non-unsigned-integer as unsigned-integer"],
    [{ inputs: [{ name: 'a', datatype: 'FP32', shape: [1], data: 1 }] }, "Unable to parse 'data': attempt to access JSON non-array as array"],
    [{ inputs: [{ name: 'a', datatype: 'FP32', shape: [1] }] }, "Input must set only one of the following fields: 'data', 'binary_data_size' in 'parameters', 'shared_memory_region' in 'parameters'. But no field is set"],
    [
      { id: 'q', inputs: [{ name: 'a', datatype: 'FP32', shape: [1], data: [1] }, { name: 'a', datatype: 'FP32', shape: [1], data: [1] }] },
      "[request id: q] input 'a' already exists in request",
    ],
    [
      { inputs: [], outputs: [{ name: 'o' }, { name: 'o' }] },
      "[request id: <id_unknown>] output 'o' already exists in request",
    ],
    [{ inputs: [], outputs: {} }, "Unable to parse 'outputs': attempt to access JSON non-array as array"],
    [{ inputs: [], outputs: [{ name: 'o', parameters: { binary_data: 1 } }] }, "Unable to parse 'binary_data': attempt to access JSON non-boolean as boolean"],
    [{ inputs: [], outputs: [{ name: 'o', parameters: { classification: -2 } }] }, "Unable to set 'classification': attempt to access JSON non-unsigned-integer as unsigned-integer"],
    [
      { inputs: [], outputs: [{ name: 'o', parameters: { shared_memory_region: 'r', classification: 1 } }] },
      "Output can't set both 'shared_memory_region' and 'classification'",
    ],
    [
      { inputs: [], outputs: [{ name: 'o', parameters: { shared_memory_region: 'r', binary_data: true } }] },
      "Output can't set both 'shared_memory_region' and 'binary_data'",
    ],
    [
      { inputs: [{ name: 'a', datatype: 'FP32', shape: [2 ** 63], data: [1] }] },
      "invalid shape for input 'a': shape [-9223372036854775808] contains one or more invalid dimensions",
    ],
    [
      { inputs: [{ name: 'a', datatype: 'FP32', shape: [2 ** 4, 2 ** 60 + 2 ** 10], data: [1] }] },
      "invalid shape for input 'a': shape [16,1152921504606848000] causes total element count to exceed maximum size of 9223372036854775807",
    ],
    [
      { inputs: [{ name: 'a', datatype: 'FP32', shape: [2 ** 2, 2 ** 60 + 2 ** 10], data: [1] }] },
      "byte size overflow for input 'a': element count (4611686018427392000) * data type size (4) exceeds maximum allowed size (9223372036854775807)",
    ],
  ])('%j → 400 %s', (body, message) => {
    expect(errorOf(() => decodeJson(body))).toEqual({ message, code: 'INVALID_ARG' });
  });

  it('caps the decoded size of a JSON tensor with Triton wording', () => {
    expect(errorOf(() => decodeJson({ inputs: [{ name: 'a', datatype: 'FP64', shape: [1000], data: [1] }] }, 4000)).message).toBe(
      "JSON input 'a' has a byte_size (8000 bytes) that exceeds the maximum allowed value of 4000 bytes. Use --http-max-input-size to increase the limit.",
    );
  });

  it('answers shared memory with 404 as Triton does while no region exists', () => {
    expect(
      errorOf(() => decodeJson({ inputs: [], outputs: [{ name: 'o', parameters: { shared_memory_region: 'r9', shared_memory_byte_size: 8 } }] })),
    ).toEqual({ message: "Unable to find shared memory region: 'r9'", code: 'NOT_FOUND' });
  });
});

describe('encodeInferResponse', () => {
  const response: InferenceResponse = {
    id: 'x',
    modelName: 'm',
    modelVersion: '3',
    parameters: { p: 1 },
    outputs: [
      { name: 'a', datatype: 'UINT8', shape: [2], data: new Uint8Array([1, 2]) },
      { name: 'b', datatype: 'FP16', shape: [1], data: new Uint8Array([0, 0x3c]) },
      { name: 'c', datatype: 'FP32', shape: [0], data: new Uint8Array(0) },
    ],
  };

  it('writes the JSON header with Triton key order and lists binary parts', () => {
    const format = new OutputFormat(false);
    format.set('b', true);
    format.set('c', true);
    const encoded = encodeInferResponse(response, format);
    expect(encoded.json.join('')).toBe(
      '{"id":"x","model_name":"m","model_version":"3","parameters":{"p":1},"outputs":[' +
        '{"name":"a","datatype":"UINT8","shape":[2],"data":[1,2]},' +
        '{"name":"b","datatype":"FP16","shape":[1],"parameters":{"binary_data_size":2}},' +
        '{"name":"c","datatype":"FP32","shape":[0],"parameters":{"binary_data_size":0}}]}',
    );
    expect(encoded.binary).toEqual([response.outputs[1]!.data]);
    expect(encoded.byteLength).toBe(encoded.jsonByteLength + 2);
    expect(encoded.jsonByteLength).toBe(Buffer.byteLength(encoded.json.join('')));
  });

  it('falls back to the request id and omits empty parameters', () => {
    const encoded = encodeInferResponse(
      { modelName: 'm', modelVersion: '1', parameters: {}, outputs: [] },
      new OutputFormat(false),
      'rid',
    );
    expect(encoded.json.join('')).toBe('{"id":"rid","model_name":"m","model_version":"1","outputs":[]}');
  });

  it('refuses FP16 as JSON', () => {
    expect(() => encodeInferResponse(response, new OutputFormat(false))).toThrow(
      'sending FP16 data via JSON is not supported. Please use the binary data format for output',
    );
  });
});

describe('decodeRawRequest', () => {
  const spec = (maxBatchSize: number, name: string, datatype: Datatype, dims: number[]) =>
    makeModelSpec('m', 1, maxBatchSize, [{ name, datatype, dims, optional: false }], []);
  const body = Buffer.alloc(24);

  it('prepends the batch dimension only when the model batches (max_batch_size from the spec)', () => {
    const batching = decodeRawRequest(body, spec(8, 'x', 'FP32', [6]), { modelName: 'm', modelVersion: 2 });
    expect(batching.request).toMatchObject({ modelVersion: 2, inputs: [{ name: 'x', shape: [1, 6] }] });
    expect(batching.outputs.isBinary('anything')).toBe(true);
    const variable = decodeRawRequest(body, spec(0, 'x', 'FP32', [-1, 2]), { modelName: 'm', modelVersion: undefined });
    expect(variable.request.inputs[0]!.shape).toEqual([3, 2]);
    expect(variable.request.inputs[0]!.data.buffer).toBe(body.buffer);
  });

  it('deduces the variable dimension after the batch dimension of a batching model', () => {
    const r = decodeRawRequest(body, spec(4, 'x', 'INT32', [-1]), { modelName: 'm', modelVersion: undefined });
    expect(r.request.inputs[0]!.shape).toEqual([1, 6]);
  });

  it('refuses BYTES inputs whose shape is not [1]', () => {
    expect(() => decodeRawRequest(body, spec(0, 's', 'BYTES', [-1]), { modelName: 'm', modelVersion: undefined })).toThrow(
      "[request id: <id_unknown>] For BYTE datatype raw input 's', the model must have input shape [1]",
    );
  });
});
