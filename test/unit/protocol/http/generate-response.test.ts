import { describe, expect, it } from 'vitest';
import type { InferenceResponse, Tensor } from '../../../../src/infer/tensor.js';
import { encodeGenerateResponse } from '../../../../src/protocol/http/generate-response.js';
import { bytesTensor } from './helpers.js';

function tensor(name: string, datatype: Tensor['datatype'], shape: number[], data: ArrayBufferView): Tensor {
  return { name, datatype, shape, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

describe('encodeGenerateResponse', () => {
  it('writes a flat object in key order: single elements as scalars, others as flat arrays', () => {
    const response: InferenceResponse = {
      id: '42',
      modelName: 'llm',
      modelVersion: '3',
      parameters: { triton_final_response: true, temperature: 0.5, steps: 2, done: false, note: 'ok' },
      outputs: [
        tensor('text_output', 'BYTES', [1, 1], bytesTensor('hi there')),
        tensor('tokens', 'BYTES', [1, 2], bytesTensor('hi', 'there')),
        tensor('logits', 'FP32', [2, 2], Float32Array.of(1, 0.5, -2, 3)),
        tensor('count', 'INT64', [1], BigInt64Array.of(7n)),
        tensor('Empty', 'INT32', [0], new Int32Array(0)),
        tensor('flag', 'BOOL', [1], Uint8Array.of(1)),
      ],
    };
    expect(encodeGenerateResponse(response)).toBe(
      '{"Empty":[],"count":7,"done":false,"flag":true,"id":"42","logits":[1.0,0.5,-2.0,3.0],"model_name":"llm",' +
        '"model_version":"3","note":"ok","steps":2,"temperature":0.5,"text_output":"hi there","tokens":["hi","there"]}',
    );
  });

  it('leaves out an empty id; a name taken by the response metadata or a parameter keeps that value', () => {
    const response: InferenceResponse = {
      id: '',
      modelName: 'm',
      modelVersion: '1',
      parameters: { x: 'param' },
      outputs: [tensor('model_name', 'INT32', [1], Int32Array.of(5)), tensor('x', 'INT32', [1], Int32Array.of(6))],
    };
    expect(encodeGenerateResponse(response)).toBe('{"model_name":"m","model_version":"1","x":"param"}');
  });

  it('refuses FP16 outputs as /infer does', () => {
    const response: InferenceResponse = { modelName: 'm', modelVersion: '1', outputs: [tensor('h', 'FP16', [1], Uint16Array.of(0))] };
    expect(() => encodeGenerateResponse(response)).toThrow(
      'sending FP16 data via JSON is not supported. Please use the binary data format for output',
    );
  });
});
