import { create } from '@bufbuild/protobuf';
import { describe, expect, test } from 'vitest';
import { InferTensorContentsSchema, type InferTensorContents } from '../../../../src/generated/grpc_service_pb.js';
import { InvalidArgumentError } from '../../../../src/errors/index.js';
import type { Datatype } from '../../../../src/infer/datatype.js';
import { bytesToContents, contentsToBytes } from '../../../../src/protocol/grpc/tensor-contents.js';

const contents = (init: Partial<Omit<InferTensorContents, '$typeName'>>) => create(InferTensorContentsSchema, init);
const hex = (u8: Uint8Array) => Buffer.from(u8).toString('hex');
const le = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');

describe('typed contents → little-endian bytes', () => {
  const cases: { datatype: Datatype; init: Parameters<typeof contents>[0]; expected: string }[] = [
    { datatype: 'BOOL', init: { boolContents: [true, false, true] }, expected: '010001' },
    { datatype: 'INT8', init: { intContents: [-128, -1, 127, 300] }, expected: '80ff7f2c' }, // 300 keeps its low byte
    { datatype: 'INT16', init: { intContents: [-2, 513] }, expected: le(Int16Array.of(-2, 513)) },
    { datatype: 'INT32', init: { intContents: [-1, 2147483647] }, expected: le(Int32Array.of(-1, 2147483647)) },
    {
      datatype: 'INT64',
      init: { int64Contents: [-(2n ** 63n), 5n] },
      expected: le(BigInt64Array.of(-(2n ** 63n), 5n)),
    },
    { datatype: 'UINT8', init: { uintContents: [0, 255, 256] }, expected: '00ff00' },
    { datatype: 'UINT16', init: { uintContents: [65535, 1] }, expected: le(Uint16Array.of(65535, 1)) },
    { datatype: 'UINT32', init: { uintContents: [4294967295] }, expected: 'ffffffff' },
    { datatype: 'UINT64', init: { uint64Contents: [2n ** 64n - 1n] }, expected: 'ffffffffffffffff' },
    { datatype: 'FP32', init: { fp32Contents: [1.5, -0] }, expected: le(Float32Array.of(1.5, -0)) },
    { datatype: 'FP64', init: { fp64Contents: [Math.PI] }, expected: le(Float64Array.of(Math.PI)) },
    {
      datatype: 'BYTES',
      init: { bytesContents: [Buffer.from('ab'), new Uint8Array(0)] },
      expected: '020000006162' + '00000000',
    },
  ];
  for (const c of cases) {
    test(c.datatype, () => {
      expect(hex(contentsToBytes(contents(c.init), c.datatype, 'x', 'm'))).toBe(c.expected);
    });
  }

  test('contents without elements are an empty tensor', () => {
    expect(contentsToBytes(contents({}), 'FP32', 'x', 'm').byteLength).toBe(0);
  });

  test('a field of the wrong type is refused with Triton message', () => {
    const run = (datatype: Datatype, init: Parameters<typeof contents>[0]) => () =>
      contentsToBytes(contents(init), datatype, 'x', 'm');
    expect(run('FP32', { intContents: [1] })).toThrow(
      new InvalidArgumentError(
        "unexpected explicit tensor data for input tensor 'x' for model 'm' of type 'INT32', expected datatype 'FP32'",
      ),
    );
    // FP16 and BF16 have no field: anything typed is a mismatch.
    expect(run('FP16', { fp32Contents: [1] })).toThrow(/of type 'FP32', expected datatype 'FP16'/);
    expect(run('UINT64', { uintContents: [1] })).toThrow(/of type 'UINT32', expected datatype 'UINT64'/);
  });

  test('a second non-empty field is refused', () => {
    expect(() => contentsToBytes(contents({ intContents: [1], fp32Contents: [1] }), 'INT32', 'x', 'm')).toThrow(
      "unexpected explicit tensor data for input tensor 'x' for model 'm', binary data was already supplied.",
    );
  });
});

describe('bytes → typed contents (client side)', () => {
  const roundTrip: { datatype: Datatype; data: ArrayBufferView }[] = [
    { datatype: 'BOOL', data: Uint8Array.of(1, 0, 1) },
    { datatype: 'INT8', data: Int8Array.of(-5, 7) },
    { datatype: 'INT16', data: Int16Array.of(-300, 300) },
    { datatype: 'INT32', data: Int32Array.of(-7, 1 << 30) },
    { datatype: 'INT64', data: BigInt64Array.of(-(2n ** 62n)) },
    { datatype: 'UINT8', data: Uint8Array.of(200) },
    { datatype: 'UINT16', data: Uint16Array.of(65000) },
    { datatype: 'UINT32', data: Uint32Array.of(4000000000) },
    { datatype: 'UINT64', data: BigUint64Array.of(2n ** 63n) },
    { datatype: 'FP32', data: Float32Array.of(0.25, -3) },
    { datatype: 'FP64', data: Float64Array.of(1e300) },
  ];
  for (const c of roundTrip) {
    test(`${c.datatype} survives bytes → contents → bytes`, () => {
      // An odd offset: the conversion must not depend on alignment.
      const padded = new Uint8Array(c.data.byteLength + 1);
      padded.set(new Uint8Array(c.data.buffer, c.data.byteOffset, c.data.byteLength), 1);
      const view = padded.subarray(1);
      const typed = bytesToContents(c.datatype, view, 'x');
      expect(hex(contentsToBytes(typed, c.datatype, 'x', 'm'))).toBe(hex(view));
    });
  }

  test('BYTES elements become one entry each', () => {
    const raw = Buffer.from('0100000061' + '020000006263', 'hex');
    const typed = bytesToContents('BYTES', raw, 'x');
    expect(typed.bytesContents.map((b) => Buffer.from(b).toString())).toEqual(['a', 'bc']);
  });

  test('FP16/BF16 and ragged data are refused', () => {
    expect(() => bytesToContents('FP16', new Uint8Array(2), 'x')).toThrow(TypeError);
    expect(() => bytesToContents('BF16', new Uint8Array(2), 'x')).toThrow(/raw/);
    expect(() => bytesToContents('FP32', new Uint8Array(6), 'x')).toThrow(/not a whole number/);
  });
});
