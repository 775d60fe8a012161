import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { describe, expect, test } from 'vitest';
import {
  InferParameterSchema,
  InferTensorContentsSchema,
  ModelInferRequest_InferInputTensorSchema,
  ModelInferRequest_InferRequestedOutputTensorSchema,
  ModelInferRequestSchema,
  ModelInferResponse_InferOutputTensorSchema,
  ModelInferResponseSchema,
  type InferParameter,
  type ModelInferRequest,
} from '../../../../src/generated/grpc_service_pb.js';
import { InvalidArgumentError, NotFoundError } from '../../../../src/errors/index.js';
import { decodeModelInferRequest } from '../../../../src/protocol/grpc/infer-request.js';
import {
  encodeModelInferResponse,
  streamErrorResponse,
  streamResponse,
} from '../../../../src/protocol/grpc/infer-response.js';
import { INFERENCE_SERVICE } from '../../../../src/protocol/grpc/service-definition.js';

type Choice = InferParameter['parameterChoice'];
const param = (parameterChoice: Choice) => create(InferParameterSchema, { parameterChoice });
const i64 = (v: number | bigint): Choice => ({ case: 'int64Param', value: BigInt(v) });
const str = (value: string): Choice => ({ case: 'stringParam', value });
const bool = (value: boolean): Choice => ({ case: 'boolParam', value });

function input(name: string, datatype: string, shape: number[], extra: Record<string, unknown> = {}) {
  return create(ModelInferRequest_InferInputTensorSchema, { name, datatype, shape: shape.map(BigInt), ...extra });
}

function request(init: Partial<Omit<ModelInferRequest, '$typeName'>>): ModelInferRequest {
  return create(ModelInferRequestSchema, { modelName: 'm', ...init });
}

/** What the server sees: the message serialized, then read back by the service's deserializer. */
function received(msg: ModelInferRequest): { msg: ModelInferRequest; wire: Buffer } {
  const wire = INFERENCE_SERVICE.modelInfer.requestSerialize(msg);
  return { msg: INFERENCE_SERVICE.modelInfer.requestDeserialize(wire), wire };
}

describe('ModelInferRequest → InferenceRequest', () => {
  test('raw_input_contents become tensors that view the received bytes (no copy)', () => {
    const a = Buffer.from(Int32Array.from({ length: 16 }, (_, i) => i).buffer);
    const b = Buffer.alloc(64, 1);
    const { msg, wire } = received(
      request({
        modelVersion: '1',
        id: 'r1',
        inputs: [input('INPUT0', 'INT32', [1, 16]), input('INPUT1', 'INT32', [1, 16])],
        rawInputContents: [a, b],
      }),
    );
    const { request: req } = decodeModelInferRequest(msg);
    expect(req).toMatchObject({ modelName: 'm', modelVersion: 1, id: 'r1' });
    expect(req.inputs.map((t) => [t.name, t.datatype, t.shape])).toEqual([
      ['INPUT0', 'INT32', [1, 16]],
      ['INPUT1', 'INT32', [1, 16]],
    ]);
    for (const [k, expected] of [a, b].entries()) {
      const data = req.inputs[k]!.data;
      expect(Buffer.from(data).equals(expected)).toBe(true);
      // Same memory as the message the deserializer was given, as a plain Uint8Array.
      expect(Object.getPrototypeOf(data)).toBe(Uint8Array.prototype);
      expect(data.buffer).toBe(wire.buffer);
      expect(data.byteOffset).toBeGreaterThanOrEqual(wire.byteOffset);
      expect(data.byteOffset + data.byteLength).toBeLessThanOrEqual(wire.byteOffset + wire.byteLength);
    }
    expect(req.outputs).toBeUndefined();
    expect(req.parameters).toBeUndefined();
  });

  test('typed contents are converted; an empty version string leaves the version to the server', () => {
    const { request: req } = decodeModelInferRequest(
      request({
        inputs: [input('x', 'FP32', [2], { contents: create(InferTensorContentsSchema, { fp32Contents: [1, 2] }) })],
      }),
    );
    expect(req.modelVersion).toBeUndefined();
    expect(Array.from(new Float32Array(req.inputs[0]!.data.slice().buffer))).toEqual([1, 2]);
  });

  test('missing data, contents together with raw contents, unknown datatypes', () => {
    expect(() => decodeModelInferRequest(request({ inputs: [input('x', 'FP32', [1])] }))).toThrow(
      new InvalidArgumentError("unable to find data for input tensor 'x' for model 'm' in request."),
    );
    const typed = create(InferTensorContentsSchema, { fp32Contents: [1] });
    expect(() =>
      decodeModelInferRequest(
        request({
          inputs: [input('x', 'FP32', [1], { contents: typed }), input('y', 'FP32', [1])],
          rawInputContents: [new Uint8Array(4)],
        }),
      ),
    ).toThrow("contents field must not be specified when using raw_input_contents for 'x' for model 'm'");
    expect(() =>
      decodeModelInferRequest(request({ inputs: [input('x', 'FP99', [1])], rawInputContents: [new Uint8Array(4)] })),
    ).toThrow('invalid datatype for input x');
  });

  test('request parameters: Triton keys typed, custom keys passed on, triton_ keys reserved', () => {
    const { request: req, enableEmptyFinalResponse } = decodeModelInferRequest(
      request({
        parameters: {
          sequence_id: param(i64(42)),
          sequence_start: param(bool(true)),
          priority: param({ case: 'uint64Param', value: 2n }),
          timeout: param(i64(1000)),
          custom_s: param(str('x')),
          custom_d: param({ case: 'doubleParam', value: 0.5 }),
          triton_enable_empty_final_response: param(bool(true)),
        },
      }),
    );
    expect(req.parameters).toEqual({
      sequence_id: 42,
      sequence_start: true,
      priority: 2,
      timeout: 1000,
      custom_s: 'x',
      custom_d: 0.5,
    });
    expect(enableEmptyFinalResponse).toBe(true);

    const bad = (parameters: Record<string, Choice>) => () =>
      decodeModelInferRequest(
        request({ parameters: Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k, param(v)])) }),
      );
    expect(bad({ sequence_id: bool(true) })).toThrow(
      "invalid value type for 'sequence_id' parameter, expected int64_param or string_param.",
    );
    expect(bad({ sequence_end: i64(1) })).toThrow(
      "invalid value type for 'sequence_end' parameter, expected bool_param.",
    );
    expect(bad({ priority: i64(-1) })).toThrow("invalid value for 'priority', expected value >= 0.");
    expect(bad({ timeout: str('1') })).toThrow("invalid value type for 'timeout' parameter, expected int64_param.");
    expect(bad({ triton_x: bool(true) })).toThrow(
      "parameter keys starting with 'triton_' are reserved for Triton usage. Only the following keys starting with " +
        "'triton_' are allowed: triton_enable_empty_final_response",
    );
    expect(bad({ custom: { case: 'uint64Param', value: 1n } })).toThrow(
      "invalid value type for 'custom' parameter, expected int64_param, bool_param, or string_param.",
    );
    expect(bad({ custom: i64(2n ** 60n) })).toThrow(/outside the supported range/);
  });

  test('a negative timeout and raw_input_contents beyond the inputs are refused, as HTTP refuses them', () => {
    expect(() => decodeModelInferRequest(request({ parameters: { timeout: param(i64(-5)) } }))).toThrow(
      "invalid value for 'timeout', expected value >= 0.",
    );
    expect(decodeModelInferRequest(request({ parameters: { timeout: param(i64(5)) } })).request.parameters).toEqual({
      timeout: 5,
    });
    expect(() =>
      decodeModelInferRequest(
        request({ inputs: [input('x', 'INT32', [1])], rawInputContents: [new Uint8Array(4), new Uint8Array(8)] }),
      ),
    ).toThrow("unexpected additional input data for model 'm'");
  });

  test('model version strings are read as Triton reads them', () => {
    expect(decodeModelInferRequest(request({ modelVersion: '3abc' })).request.modelVersion).toBe(3);
    expect(() => decodeModelInferRequest(request({ modelVersion: 'abc' }))).toThrow(
      "failed to get model version from specified version string 'abc' (details: stol), version should be an integral value > 0",
    );
    expect(() => decodeModelInferRequest(request({ modelVersion: '-1' }))).toThrow(
      "invalid model version specified '-1' , version should be an integral value > 0",
    );
  });

  test('requested outputs: classification counts, duplicates, shared memory', () => {
    const out = (name: string, parameters: Record<string, Choice> = {}) =>
      create(ModelInferRequest_InferRequestedOutputTensorSchema, {
        name,
        parameters: Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k, param(v)])),
      });
    const { request: req } = decodeModelInferRequest(
      request({ outputs: [out('a', { classification: i64(2) }), out('b')] }),
    );
    expect(req.outputs).toEqual([{ name: 'a', classification: 2 }, { name: 'b' }]);

    expect(() => decodeModelInferRequest(request({ outputs: [out('a', { classification: i64(0) })] }))).toThrow(
      "invalid value for 'classification' parameter, expected >= 0",
    );
    expect(() => decodeModelInferRequest(request({ outputs: [out('a', { classification: str('2') })] }))).toThrow(
      "invalid value type for 'classification' parameter, expected int64_param",
    );
    expect(() => decodeModelInferRequest(request({ id: 'q', outputs: [out('a'), out('a')] }))).toThrow(
      "[request id: q] output 'a' already exists in request",
    );
    const shm = { shared_memory_region: str('r0'), shared_memory_byte_size: i64(64) };
    expect(() => decodeModelInferRequest(request({ outputs: [out('a', { ...shm, classification: i64(1) })] }))).toThrow(
      "output can't set both 'shared_memory_region' and 'classification'",
    );
    expect(() => decodeModelInferRequest(request({ outputs: [out('a', shm)] }))).toThrow(
      new NotFoundError("Unable to find shared memory region: 'r0'"),
    );
    expect(() =>
      decodeModelInferRequest(request({ outputs: [out('a', { shared_memory_region: str('r0') })] })),
    ).toThrow("'shared_memory_byte_size' must be specified along with 'shared_memory_region' parameter for tensor 'a'");
    expect(() => decodeModelInferRequest(request({ outputs: [out('a', { shared_memory_offset: i64(0) })] }))).toThrow(
      "'shared_memory_offset' can not be specified without 'shared_memory_region' parameter for tensor 'a'",
    );
    // Negative values reached the addon, which answered INTERNAL "Expected a non-negative integer".
    for (const [key, extra] of [
      ['shared_memory_offset', { shared_memory_offset: i64(-1) }],
      ['shared_memory_byte_size', { shared_memory_byte_size: i64(-2147483648) }],
    ] as const) {
      expect(() => decodeModelInferRequest(request({ outputs: [out('a', { ...shm, ...extra })] }))).toThrow(
        new InvalidArgumentError(`invalid value for '${key}' parameter for tensor 'a', expected >= 0.`),
      );
    }
  });

  test('an input in shared memory: region parameters checked, then the region is unknown', () => {
    const shm = (extra: Record<string, unknown> = {}) =>
      input('x', 'FP32', [1], {
        parameters: { shared_memory_region: param(str('r')), shared_memory_byte_size: param(i64(4)) },
        ...extra,
      });
    expect(() => decodeModelInferRequest(request({ inputs: [shm()] }))).toThrow(
      "Unable to find shared memory region: 'r'",
    );
    expect(() =>
      decodeModelInferRequest(request({ inputs: [shm({ contents: create(InferTensorContentsSchema) })] })),
    ).toThrow("unexpected 'content' provided when using shared memory for input tensor 'x' for model 'm'");
  });
});

describe('InferenceResponse → ModelInferResponse', () => {
  const response = {
    modelName: 'm',
    modelVersion: '2',
    parameters: { a: true, b: 'x', c: 3, d: 0.25 },
    outputs: [
      { name: 'y', datatype: 'FP32' as const, shape: [1, 2], data: new Uint8Array(Float32Array.of(1, 2).buffer) },
      { name: 's', datatype: 'BYTES' as const, shape: [1], data: Buffer.from('020000006869', 'hex') },
    ],
  };

  test('outputs go in raw_output_contents only, by reference, with the request id', () => {
    const res = encodeModelInferResponse(response, 'req-7');
    expect(res).toMatchObject({ modelName: 'm', modelVersion: '2', id: 'req-7' });
    expect(res.outputs.map((o) => [o.name, o.datatype, o.shape.map(Number), o.contents])).toEqual([
      ['y', 'FP32', [1, 2], undefined],
      ['s', 'BYTES', [1], undefined],
    ]);
    expect(res.rawOutputContents[0]).toBe(response.outputs[0]!.data);
    expect(res.rawOutputContents[1]).toBe(response.outputs[1]!.data);
    expect(Object.fromEntries(Object.entries(res.parameters).map(([k, v]) => [k, v.parameterChoice]))).toEqual({
      a: { case: 'boolParam', value: true },
      b: { case: 'stringParam', value: 'x' },
      c: { case: 'int64Param', value: 3n },
      d: { case: 'doubleParam', value: 0.25 },
    });
    // And it survives the wire.
    const back = fromBinary(ModelInferResponseSchema, toBinary(ModelInferResponseSchema, res));
    expect(Buffer.from(back.rawOutputContents[1]!).toString('hex')).toBe('020000006869');
  });

  test('the message is exactly the one create() builds from the same fields', () => {
    const res = encodeModelInferResponse(response, 'req-7');
    const expected = create(ModelInferResponseSchema, {
      modelName: 'm',
      modelVersion: '2',
      id: 'req-7',
      parameters: res.parameters,
      outputs: response.outputs.map((t) =>
        create(ModelInferResponse_InferOutputTensorSchema, { name: t.name, datatype: t.datatype, shape: t.shape.map(BigInt) }),
      ),
      rawOutputContents: response.outputs.map((t) => t.data),
    });
    expect(res).toStrictEqual(expected);
  });

  test('stream messages carry triton_final_response; errors carry the request id', () => {
    const ok = streamResponse(response, '');
    expect(ok.errorMessage).toBe('');
    expect(ok.inferResponse!.parameters['triton_final_response']!.parameterChoice).toEqual({
      case: 'boolParam',
      value: true,
    });
    const failed = streamErrorResponse('bad', { id: 'r9', modelName: 'm', modelVersion: '' });
    expect(failed.errorMessage).toBe('bad');
    expect(failed.inferResponse).toMatchObject({ id: 'r9', modelName: 'm', outputs: [], rawOutputContents: [] });
  });
});
