import { describe, expect, it } from 'vitest';
import { encodeBytesElements } from '../../../../src/infer/bytes-codec.js';
import type { Datatype } from '../../../../src/infer/datatype.js';
import { jsonBytesByteSize, jsonDataToBytes } from '../../../../src/protocol/http/json-data-decode.js';
import {
  alignedView,
  appendTensorDataJson,
  ELEMENTS_PER_PART,
  rapidJsonDoubles,
  tensorDataToJson,
} from '../../../../src/protocol/http/json-data-encode.js';

function toBytes(datatype: Datatype, data: unknown[], count: number, size: number): number[] {
  return [...jsonDataToBytes('x', datatype, data, count, size)];
}

describe('jsonDataToBytes', () => {
  it('writes little-endian elements and wraps like the C++ casts', () => {
    expect(toBytes('UINT8', [256 + 7], 1, 1)).toEqual([7]);
    expect(toBytes('INT8', [-129], 1, 1)).toEqual([127]);
    expect(toBytes('INT64', [-2], 1, 8)).toEqual([254, 255, 255, 255, 255, 255, 255, 255]);
    expect(toBytes('INT64', [-(2 ** 63)], 1, 8)).toEqual([0, 0, 0, 0, 0, 0, 0, 128]);
    expect(toBytes('UINT64', [2 ** 63], 1, 8)).toEqual([0, 0, 0, 0, 0, 0, 0, 128]);
    expect(toBytes('BOOL', [[true], [false]], 2, 2)).toEqual([1, 0]);
  });

  it('returns a buffer it owns exclusively', () => {
    const b = jsonDataToBytes('x', 'FP32', [1, 2], 2, 8);
    expect(b.byteOffset).toBe(0);
    expect(b.buffer.byteLength).toBe(8);
  });

  it('flattens irregular nesting in document order, as Triton does', () => {
    expect(toBytes('UINT8', [1, [2, [3]], [[4]]], 4, 4)).toEqual([1, 2, 3, 4]);
  });

  it.each([
    ['BOOL', [1], 'non-boolean as boolean'],
    ['INT32', [1.5], 'non-signed-integer as signed-integer'],
    ['INT64', [2 ** 63], 'non-signed-integer as signed-integer'],
    ['UINT16', [-1], 'non-unsigned-integer as unsigned-integer'],
    ['UINT64', [2 ** 64], 'non-unsigned-integer as unsigned-integer'],
    ['FP32', ['1'], 'non-number as double'],
    ['FP64', [null], 'non-number as double'],
    ['BYTES', [1], 'non-string as string'],
  ] as const)('refuses a wrong %s element, naming the input', (datatype, data, expected) => {
    expect(() => jsonDataToBytes('in0', datatype, [...data], 1, 8)).toThrow(
      `Unable to parse 'data': attempt to access JSON ${expected}`,
    );
  });

  it('refuses FP16 and BF16', () => {
    expect(() => jsonDataToBytes('h', 'FP16', [1], 1, 2)).toThrow(
      'receiving FP16 data via JSON is not supported. Please use the binary data format for input h',
    );
    expect(() => jsonDataToBytes('h', 'BF16', [1], 1, 2)).toThrow('receiving BF16 data via JSON');
  });

  it('checks the count with Triton messages', () => {
    expect(() => jsonDataToBytes('x', 'INT32', [1, 2, 3], 2, 8)).toThrow(
      "Unable to parse 'data': Shape does not match true shape of 'data' field",
    );
    expect(() => jsonDataToBytes('x', 'INT32', [1], 2, 8)).toThrow("Failed to parse 'data' field: shape does not match true shape");
  });

  it('allows 99 levels of nesting and refuses 100', () => {
    const nest = (depth: number): unknown[] => {
      let v: unknown = 1;
      for (let i = 0; i < depth; i++) v = [v];
      return v as unknown[];
    };
    expect(toBytes('UINT8', nest(99), 1, 1)).toEqual([1]);
    expect(() => jsonDataToBytes('x', 'UINT8', nest(100), 1, 1)).toThrow(
      "Unable to parse 'data': JSON nesting depth exceeds maximum allowed limit (100)",
    );
  });
});

describe('jsonBytesByteSize', () => {
  it('counts a 4-byte prefix plus UTF-8 bytes per element', () => {
    expect(jsonBytesByteSize('s', ['ab', ['é']])).toBe(4 + 2 + 4 + 2);
  });

  it('refuses non-strings and deep nesting with Triton messages', () => {
    expect(() => jsonBytesByteSize('s', [1])).toThrow(
      "Unable to parse JSON bytes array: attempt to access JSON non-string as string",
    );
    let deep: unknown = 'a';
    for (let i = 0; i < 100; i++) deep = [deep];
    expect(() => jsonBytesByteSize('s', deep as unknown[])).toThrow('JSON nesting depth exceeds maximum allowed limit (100)');
  });
});

describe('tensorDataToJson', () => {
  const t = (datatype: Datatype, shape: number[], data: Uint8Array) => ({ name: 'o', datatype, shape, data });

  it('writes floats as RapidJSON does', () => {
    const f = new Float32Array([1, -2, 0.1, NaN, Infinity, -Infinity, 1e-7, 123456]);
    expect(tensorDataToJson(t('FP32', [8], new Uint8Array(f.buffer)))).toBe(
      '[1.0,-2.0,0.10000000149011612,NaN,Infinity,-Infinity,1.0000000116860974e-7,123456.0]',
    );
    const d = new Float64Array([1e21, 1.5e300, 0.000001]);
    expect(tensorDataToJson(t('FP64', [3], new Uint8Array(d.buffer)))).toBe('[1e21,1.5e300,0.000001]');
  });

  it('writes 64-bit integers exactly', () => {
    const v = new BigInt64Array([-9223372036854775808n, 9007199254740993n]);
    expect(tensorDataToJson(t('INT64', [2], new Uint8Array(v.buffer)))).toBe('[-9223372036854775808,9007199254740993]');
    const u = new BigUint64Array([18446744073709551615n]);
    expect(tensorDataToJson(t('UINT64', [1], new Uint8Array(u.buffer)))).toBe('[18446744073709551615]');
  });

  it('writes BOOL, small integers and BYTES', () => {
    expect(tensorDataToJson(t('BOOL', [3], new Uint8Array([0, 1, 2])))).toBe('[false,true,true]');
    expect(tensorDataToJson(t('INT8', [2], new Uint8Array([255, 1])))).toBe('[-1,1]');
    const bytes = Buffer.from([1, 0, 0, 0, 0x22, 2, 0, 0, 0, 0xc3, 0xa9]);
    expect(tensorDataToJson(t('BYTES', [2], bytes))).toBe('["\\"","é"]');
  });

  it('reads unaligned views', () => {
    const backing = new Uint8Array(9);
    new DataView(backing.buffer).setInt32(1, -5, true);
    new DataView(backing.buffer).setInt32(5, 6, true);
    expect(tensorDataToJson(t('INT32', [2], backing.subarray(1)))).toBe('[-5,6]');
  });

  it('splits large tensors into bounded parts that concatenate to one valid array', () => {
    const n = 2 * ELEMENTS_PER_PART + 3;
    const f = Float32Array.from({ length: n }, (_, i) => (i % 5 === 0 ? i + 0.5 : i));
    const parts: string[] = [];
    appendTensorDataJson(t('FP32', [n], new Uint8Array(f.buffer)), parts);
    expect(parts).toHaveLength(3);
    const text = parts.join('');
    expect(JSON.parse(text)).toEqual(Array.from(f));
    // Integral values keep RapidJSON's ".0" on both sides of every part boundary.
    expect(text.slice(0, 12)).toBe('[0.5,1.0,2.0');
    expect(parts[1]!.startsWith(`,${ELEMENTS_PER_PART}.0,`)).toBe(true);
    expect(parts[2]!.endsWith(`,${n - 1}.0]`)).toBe(true);

    const strings = Array.from({ length: ELEMENTS_PER_PART + 1 }, (_, i) => `s${i}`);
    const byteParts: string[] = [];
    appendTensorDataJson(t('BYTES', [strings.length], encodeBytesElements(strings)), byteParts);
    expect(byteParts).toHaveLength(2);
    expect(JSON.parse(byteParts.join(''))).toEqual(strings);

    const bools: string[] = [];
    appendTensorDataJson(t('BOOL', [ELEMENTS_PER_PART + 1], new Uint8Array(ELEMENTS_PER_PART + 1).fill(1)), bools);
    expect(JSON.parse(bools.join(''))).toEqual(new Array(ELEMENTS_PER_PART + 1).fill(true));
  });

  it('writes empty tensors as []', () => {
    expect(tensorDataToJson(t('FP32', [0], new Uint8Array(0)))).toBe('[]');
    expect(tensorDataToJson(t('BYTES', [0], new Uint8Array(0)))).toBe('[]');
  });

  it('refuses FP16/BF16 and shape mismatches with Triton messages', () => {
    expect(() => tensorDataToJson(t('FP16', [1], new Uint8Array(2)))).toThrow(
      'sending FP16 data via JSON is not supported. Please use the binary data format for output',
    );
    expect(() => tensorDataToJson(t('INT32', [2], new Uint8Array(4)))).toThrow(
      "Failed to write 'data' field: output tensor shape does not match size of output for 'o'",
    );
    expect(() => tensorDataToJson(t('BYTES', [2], new Uint8Array([1, 0, 0, 0, 65])))).toThrow(
      "output tensor shape does not match size of output for 'o'",
    );
  });
});

describe('helpers', () => {
  it('rapidJsonDoubles only touches integral tokens and exponent signs', () => {
    expect(rapidJsonDoubles('1,-2,0.5,NaN,1e+21,-3e-7,Infinity')).toBe('1.0,-2.0,0.5,NaN,1e21,-3e-7,Infinity');
  });

  it('alignedView copies only when misaligned', () => {
    const b = new Uint8Array(8);
    expect(alignedView(b, Float32Array).buffer).toBe(b.buffer);
    expect(alignedView(b.subarray(1, 5), Float32Array).buffer).not.toBe(b.buffer);
  });
});
