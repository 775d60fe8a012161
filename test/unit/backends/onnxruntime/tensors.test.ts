import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { fromOrtTensor, toOrtTensor } from '../../../../src/backends/onnxruntime/tensors.js';
import { classifyLoadError, classifyRunError } from '../../../../src/backends/onnxruntime/ort-errors.js';
import { InvalidArgumentError, UnsupportedError } from '../../../../src/errors/index.js';
import { decodeBytesElements, encodeBytesElements } from '../../../../src/infer/bytes-codec.js';
import type { Tensor } from '../../../../src/infer/tensor.js';

const bytes = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

describe('toOrtTensor', () => {
  it('views aligned numeric data in place', () => {
    const f = new Float32Array([1, 2, 3, 4]);
    const t = toOrtTensor({ name: 'x', datatype: 'FP32', shape: [2, 2], data: bytes(f) }, 'model m');
    expect(t.type).toBe('float32');
    expect(t.dims).toEqual([2, 2]);
    expect((t.data as Float32Array).buffer).toBe(f.buffer);
  });

  it('copies misaligned data once', () => {
    const buf = new Uint8Array(1 + 8 * 2);
    new DataView(buf.buffer).setBigInt64(1, -5n, true);
    new DataView(buf.buffer).setBigInt64(9, 2n ** 40n, true);
    const t = toOrtTensor({ name: 'i', datatype: 'INT64', shape: [2], data: buf.subarray(1) }, 'model m');
    expect(t.type).toBe('int64');
    expect(Array.from(t.data as BigInt64Array)).toEqual([-5n, 2n ** 40n]);
    expect((t.data as BigInt64Array).buffer).not.toBe(buf.buffer);
  });

  it('maps FP16, BOOL, UINT64 and BYTES to the onnxruntime-node representations', () => {
    const h = toOrtTensor({ name: 'h', datatype: 'FP16', shape: [1], data: bytes(new Uint16Array([0x3c00])) }, 'm');
    expect([h.type, h.data.constructor]).toEqual(['float16', Uint16Array]);
    const b = toOrtTensor({ name: 'b', datatype: 'BOOL', shape: [2], data: new Uint8Array([0, 1]) }, 'm');
    expect([b.type, Array.from(b.data as Uint8Array)]).toEqual(['bool', [0, 1]]);
    const u = toOrtTensor({ name: 'u', datatype: 'UINT64', shape: [1], data: bytes(new BigUint64Array([7n])) }, 'm');
    expect([u.type, u.data.constructor]).toEqual(['uint64', BigUint64Array]);
    const s = toOrtTensor({ name: 's', datatype: 'BYTES', shape: [2], data: encodeBytesElements(['a', 'bé']) }, 'm');
    expect([s.type, s.data]).toEqual(['string', ['a', 'bé']]);
  });

  it('rejects BF16 and byte counts that do not match the shape', () => {
    const bf16: Tensor = { name: 'z', datatype: 'BF16', shape: [1], data: new Uint8Array(2) };
    expect(() => toOrtTensor(bf16, "model 'm'")).toThrow(UnsupportedError);
    const short: Tensor = { name: 'x', datatype: 'FP32', shape: [2], data: new Uint8Array(7) };
    expect(() => toOrtTensor(short, "model 'm'")).toThrow(/model 'm': input 'x' .* needs 8 bytes, got 7/);
    const neg: Tensor = { name: 'x', datatype: 'FP32', shape: [-1], data: new Uint8Array(0) };
    expect(() => toOrtTensor(neg, 'm')).toThrow(InvalidArgumentError);
  });
});

describe('fromOrtTensor', () => {
  it('views numeric output bytes and encodes strings with the length prefix', () => {
    const f = new Float32Array([0.5, 1.5]);
    const out = fromOrtTensor('y', new ort.Tensor('float32', f, [1, 2]), 'm');
    expect(out).toMatchObject({ name: 'y', datatype: 'FP32', shape: [1, 2] });
    expect(out.data.buffer).toBe(f.buffer);
    const s = fromOrtTensor('s', new ort.Tensor('string', ['x', 'yz'], [2]), 'm');
    expect(s.datatype).toBe('BYTES');
    expect(decodeBytesElements(s.data, 's').map((e) => Buffer.from(e).toString())).toEqual(['x', 'yz']);
    const b = fromOrtTensor('b', new ort.Tensor('bool', new Uint8Array([1, 0]), [2]), 'm');
    expect([b.datatype, Array.from(b.data)]).toEqual(['BOOL', [1, 0]]);
  });
});

describe('ORT error classification', () => {
  it('treats input validation and node failures as INVALID_ARG, allocation as INTERNAL', () => {
    expect(classifyRunError(new Error('Invalid rank for input: x Got: 3 Expected: 4'), "model 'm'")).toEqual({
      code: 'INVALID_ARG',
      message: "model 'm': Invalid rank for input: x Got: 3 Expected: 4",
    });
    expect(classifyRunError(new Error('Non-zero status code returned while running Add node.'), 'm').code).toBe('INVALID_ARG');
    expect(classifyRunError(new Error('Failed to allocate memory for requested buffer'), 'm').code).toBe('INTERNAL');
  });

  it('maps load failures to INVALID_ARG, unknown ORT types to UNSUPPORTED', () => {
    expect(classifyLoadError(new Error('Protobuf parsing failed.'), "load 'f'").code).toBe('INVALID_ARG');
    expect(classifyLoadError(new Error('Unsupported data type: 16'), "load 'f'").code).toBe('UNSUPPORTED');
  });
});
