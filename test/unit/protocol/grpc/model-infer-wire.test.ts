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
  type ModelInferRequest,
  type ModelInferResponse,
} from '../../../../src/generated/grpc_service_pb.js';
import { decodeModelInferRequestWire, encodeModelInferResponseWire } from '../../../../src/protocol/grpc/model-infer-wire.js';
import { INFERENCE_SERVICE } from '../../../../src/protocol/grpc/service-definition.js';

/** A small deterministic PRNG, so that a failing case can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

const NAMES = ['', 'x', 'y', 'INPUT0', 'INPUT1', 'OUTPUT__1', 'a'.repeat(63), 'a'.repeat(64), 'a'.repeat(200), 'model/with.dots-1'];
const DATATYPES = ['', 'INT32', 'FP32', 'BYTES', 'UINT64'];
const DIMS = [0n, 1n, 16n, 127n, 128n, 300n, 16384n, 2n ** 35n, 2n ** 49n - 1n];

function pick<T>(r: () => number, items: readonly T[]): T {
  return items[Math.floor(r() * items.length)]!;
}

function randomBytes(r: () => number): Buffer {
  const n = pick(r, [0, 1, 4, 64, 200, 5000]);
  return Buffer.from(Array.from({ length: n }, () => Math.floor(r() * 256)));
}

function randomRequest(r: () => number): ModelInferRequest {
  const inputs = Array.from({ length: Math.floor(r() * 4) }, () =>
    create(ModelInferRequest_InferInputTensorSchema, {
      name: pick(r, NAMES),
      datatype: pick(r, DATATYPES),
      shape: Array.from({ length: Math.floor(r() * 4) }, () => pick(r, DIMS)),
    }),
  );
  const outputs = Array.from({ length: Math.floor(r() * 3) }, () =>
    create(ModelInferRequest_InferRequestedOutputTensorSchema, { name: pick(r, NAMES) }),
  );
  return create(ModelInferRequestSchema, {
    modelName: pick(r, NAMES),
    modelVersion: pick(r, ['', '1', '42']),
    id: pick(r, ['', 'req-1', 'x'.repeat(300)]),
    inputs,
    outputs,
    rawInputContents: Array.from({ length: Math.floor(r() * 4) }, () => randomBytes(r)),
  });
}

function randomResponse(r: () => number): ModelInferResponse {
  return create(ModelInferResponseSchema, {
    modelName: pick(r, NAMES),
    modelVersion: pick(r, ['', '1', '42']),
    id: pick(r, ['', 'req-1', 'x'.repeat(300)]),
    outputs: Array.from({ length: Math.floor(r() * 4) }, () =>
      create(ModelInferResponse_InferOutputTensorSchema, {
        name: pick(r, NAMES),
        datatype: pick(r, DATATYPES),
        shape: Array.from({ length: Math.floor(r() * 4) }, () => pick(r, [...DIMS, 2n ** 53n - 1n])),
      }),
    ),
    rawOutputContents: Array.from({ length: Math.floor(r() * 4) }, () => randomBytes(r)),
  });
}

/** The wire form of a request, as grpc-js hands it to the deserializer (a Buffer of its own). */
function wire(msg: ModelInferRequest): Buffer {
  return Buffer.from(toBinary(ModelInferRequestSchema, msg));
}

describe('ModelInferRequest wire decoder', () => {
  test('reads what protobuf-es reads, for requests of every supported shape', () => {
    const r = rng(1);
    for (let k = 0; k < 200; k++) {
      const bytes = wire(randomRequest(r));
      const expected = fromBinary(ModelInferRequestSchema, bytes, { readUnknownFields: false });
      expect(decodeModelInferRequestWire(bytes)).toStrictEqual(expected);
    }
  });

  test('recurring strings are handed out again only when their bytes match', () => {
    // More distinct names than the intern table holds, twice over, in a repeating order.
    for (let round = 0; round < 2; round++) {
      for (let k = 0; k < 3000; k++) {
        const name = `m${(k * 7919) % 2500}`;
        const bytes = wire(create(ModelInferRequestSchema, { modelName: name, inputs: [create(ModelInferRequest_InferInputTensorSchema, { name: `i${k % 3}` })] }));
        const msg = decodeModelInferRequestWire(bytes)!;
        expect(msg.modelName).toBe(name);
        expect(msg.inputs[0]!.name).toBe(`i${k % 3}`);
      }
    }
  });

  test('raw contents view the received buffer, as protobuf-es hands them out', () => {
    const bytes = wire(create(ModelInferRequestSchema, { modelName: 'm', rawInputContents: [Buffer.alloc(8, 7)] }));
    const raw = decodeModelInferRequestWire(bytes)!.rawInputContents[0]!;
    expect(raw.buffer).toBe(bytes.buffer);
    expect(Buffer.isBuffer(raw)).toBe(true);
  });

  test('reads an unpacked shape and repeated singular fields (the last one wins)', () => {
    // field 5 (input): name "a", shape 3 then 4 unpacked (field 3, varint); model_name twice.
    const input = [0x0a, 0x01, 0x61, 0x18, 0x03, 0x18, 0x04];
    const bytes = Buffer.from([0x0a, 0x01, 0x61, 0x0a, 0x01, 0x62, 0x2a, input.length, ...input]);
    const expected = fromBinary(ModelInferRequestSchema, bytes, { readUnknownFields: false });
    expect(expected.modelName).toBe('b');
    expect(decodeModelInferRequestWire(bytes)).toStrictEqual(expected);
  });

  test('gives up on what it does not handle, and the service falls back to protobuf-es', () => {
    const cases: ModelInferRequest[] = [
      create(ModelInferRequestSchema, {
        modelName: 'm',
        parameters: { sequence_id: create(InferParameterSchema, { parameterChoice: { case: 'int64Param', value: 3n } }) },
      }),
      create(ModelInferRequestSchema, {
        inputs: [create(ModelInferRequest_InferInputTensorSchema, { name: 'x', contents: create(InferTensorContentsSchema, { intContents: [1] }) })],
      }),
      create(ModelInferRequestSchema, {
        inputs: [
          create(ModelInferRequest_InferInputTensorSchema, {
            name: 'x',
            parameters: { binary_data_size: create(InferParameterSchema, { parameterChoice: { case: 'int64Param', value: 4n } }) },
          }),
        ],
      }),
      create(ModelInferRequestSchema, {
        outputs: [
          create(ModelInferRequest_InferRequestedOutputTensorSchema, {
            name: 'y',
            parameters: { classification: create(InferParameterSchema, { parameterChoice: { case: 'int64Param', value: 2n } }) },
          }),
        ],
      }),
      create(ModelInferRequestSchema, { modelName: 'modèle' }),
      create(ModelInferRequestSchema, { inputs: [create(ModelInferRequest_InferInputTensorSchema, { shape: [-1n] })] }),
      create(ModelInferRequestSchema, { inputs: [create(ModelInferRequest_InferInputTensorSchema, { shape: [2n ** 49n] })] }),
    ];
    for (const msg of cases) {
      const bytes = wire(msg);
      expect(decodeModelInferRequestWire(bytes)).toBeUndefined();
      expect(INFERENCE_SERVICE.modelInfer.requestDeserialize(bytes)).toStrictEqual(
        fromBinary(ModelInferRequestSchema, bytes, { readUnknownFields: false }),
      );
    }
  });

  test('gives up on unknown fields and malformed bytes; protobuf-es reports them as before', () => {
    const unknownField = Buffer.from([0x0a, 0x01, 0x61, 0x50, 0x01]); // field 10, varint
    expect(decodeModelInferRequestWire(unknownField)).toBeUndefined();
    expect(INFERENCE_SERVICE.modelInfer.requestDeserialize(unknownField).modelName).toBe('a');

    const truncated = Buffer.from([0x0a, 0x05, 0x61]);
    expect(decodeModelInferRequestWire(truncated)).toBeUndefined();
    expect(() => INFERENCE_SERVICE.modelInfer.requestDeserialize(truncated)).toThrow();
  });
});

describe('ModelInferResponse wire encoder', () => {
  test('writes the bytes protobuf-es writes, for responses of every supported shape', () => {
    const r = rng(2);
    for (let k = 0; k < 200; k++) {
      const msg = randomResponse(r);
      const bytes = encodeModelInferResponseWire(msg);
      expect(bytes).toBeDefined();
      expect(Buffer.compare(bytes!, Buffer.from(toBinary(ModelInferResponseSchema, msg)))).toBe(0);
    }
  });

  test('gives up on what it does not handle, and the service falls back to protobuf-es', () => {
    const bool = create(InferParameterSchema, { parameterChoice: { case: 'boolParam', value: true } });
    const cases: ModelInferResponse[] = [
      create(ModelInferResponseSchema, { modelName: 'm', parameters: { triton_final_response: bool } }),
      create(ModelInferResponseSchema, {
        outputs: [create(ModelInferResponse_InferOutputTensorSchema, { name: 'y', parameters: { p: bool } })],
      }),
      create(ModelInferResponseSchema, {
        outputs: [create(ModelInferResponse_InferOutputTensorSchema, { name: 'y', contents: create(InferTensorContentsSchema, { intContents: [1] }) })],
      }),
      create(ModelInferResponseSchema, { outputs: [create(ModelInferResponse_InferOutputTensorSchema, { shape: [-1n] })] }),
      create(ModelInferResponseSchema, { outputs: [create(ModelInferResponse_InferOutputTensorSchema, { shape: [2n ** 53n] })] }),
      create(ModelInferResponseSchema, { id: 'ñ' }),
      create(ModelInferResponseSchema, { outputs: [create(ModelInferResponse_InferOutputTensorSchema, { name: '输出' })] }),
    ];
    for (const msg of cases) {
      expect(encodeModelInferResponseWire(msg)).toBeUndefined();
      const bytes = INFERENCE_SERVICE.modelInfer.responseSerialize(msg);
      expect(Buffer.compare(bytes, Buffer.from(toBinary(ModelInferResponseSchema, msg)))).toBe(0);
    }
  });
});
