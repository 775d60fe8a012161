import { decodeBytesElements, encodeBytesElements } from '../infer/bytes-codec.js';
import { DATATYPE_BYTE_SIZE, elementCount, type Datatype } from '../infer/datatype.js';
import type { InputData, NumericArray, OutputData } from './types.js';

/**
 * Conversions between caller-side tensor contents (`InputData` / `OutputData`) and the two wire
 * forms: the binary tensor data extension (little-endian, row-major, BOOL one byte, BYTES
 * length-prefixed; reference §1.4) and JSON `data` arrays (reference §1.3).
 *
 * Typed-array views reinterpret bytes in host order; every platform Node runs on in practice is
 * little-endian, which is what the wire uses.
 */

type NumericDatatype = Exclude<Datatype, 'BYTES'>;

interface ArrayKind {
  /** Constructor of the datatype's own typed array. */
  ctor: { new (buffer: ArrayBufferLike, byteOffset: number, length: number): NumericArray; new (length: number): NumericArray };
  bigint: boolean;
}

const KINDS: Readonly<Record<NumericDatatype, ArrayKind>> = {
  BOOL: { ctor: Uint8Array, bigint: false },
  UINT8: { ctor: Uint8Array, bigint: false },
  INT8: { ctor: Int8Array, bigint: false },
  UINT16: { ctor: Uint16Array, bigint: false },
  INT16: { ctor: Int16Array, bigint: false },
  UINT32: { ctor: Uint32Array, bigint: false },
  INT32: { ctor: Int32Array, bigint: false },
  UINT64: { ctor: BigUint64Array, bigint: true },
  INT64: { ctor: BigInt64Array, bigint: true },
  FP16: { ctor: Uint16Array, bigint: false },
  BF16: { ctor: Uint16Array, bigint: false },
  FP32: { ctor: Float32Array, bigint: false },
  FP64: { ctor: Float64Array, bigint: false },
};

function isTypedArray(data: InputData): data is NumericArray {
  return ArrayBuffer.isView(data);
}

function checkCount(what: string, shape: readonly number[], count: number): void {
  const expected = elementCount(shape);
  if (count !== expected) {
    throw new TypeError(`${what}: shape [${shape.join(',')}] needs ${expected} elements, data has ${count}`);
  }
}

/** The datatype's typed array holding `data`: the same object when it already is one. */
function toNumericArray(what: string, datatype: NumericDatatype, data: InputData): NumericArray {
  const kind = KINDS[datatype];
  if (isTypedArray(data) && data.constructor === kind.ctor) return data;
  if (datatype === 'FP16' || datatype === 'BF16') {
    // Converting numbers to half precision silently would hide a real choice (rounding, BF16 vs
    // FP16); the caller passes the bit patterns.
    throw new TypeError(`${what}: ${datatype} data must be a Uint16Array of raw 16-bit values`);
  }
  const out = new kind.ctor(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (typeof v === 'string' || v instanceof Uint8Array) {
      throw new TypeError(`${what}: ${datatype} data must be numbers, got a string or byte array`);
    }
    if (kind.bigint) {
      (out as BigInt64Array)[i] = typeof v === 'bigint' ? v : BigInt(typeof v === 'boolean' ? Number(v) : v);
    } else {
      (out as Float64Array)[i] = Number(v);
    }
  }
  return out;
}

/** The elements of a BYTES input, checked to be strings or byte arrays. */
function bytesElements(what: string, data: InputData): ReadonlyArray<string | Uint8Array> {
  if (isTypedArray(data) || !data.every((e) => typeof e === 'string' || e instanceof Uint8Array)) {
    throw new TypeError(`${what}: BYTES data must be an array of strings or Uint8Arrays`);
  }
  return data as ReadonlyArray<string | Uint8Array>;
}

function bytesOf(a: NumericArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * Encodes one input for the binary section.
 * @throws TypeError when the data does not fit the datatype or the element count the shape.
 */
export function encodeBinary(what: string, datatype: Datatype, shape: readonly number[], data: InputData): Uint8Array {
  if (datatype === 'BYTES') {
    const elements = bytesElements(what, data);
    checkCount(what, shape, elements.length);
    return encodeBytesElements(elements);
  }
  const arr = toNumericArray(what, datatype, data);
  checkCount(what, shape, arr.length);
  return bytesOf(arr);
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/**
 * Encodes one input as a flat JSON `data` array.
 * @throws TypeError for FP16/BF16 (not allowed in JSON, reference §1.3), 64-bit integers
 *   beyond 2^53, byte strings that are not UTF-8, and count or type mismatches.
 */
export function encodeJson(
  what: string,
  datatype: Datatype,
  shape: readonly number[],
  data: InputData,
): Array<number | boolean | string> {
  if (datatype === 'FP16' || datatype === 'BF16') {
    throw new TypeError(`${what}: ${datatype} cannot be sent as JSON; use binary: true`);
  }
  if (datatype === 'BYTES') {
    const elements = bytesElements(what, data);
    checkCount(what, shape, elements.length);
    return elements.map((e) => {
      if (typeof e === 'string') return e;
      try {
        return utf8Strict.decode(e);
      } catch {
        throw new TypeError(`${what}: a BYTES element is not UTF-8 and cannot be sent as JSON; use binary: true`);
      }
    });
  }
  const arr = toNumericArray(what, datatype, data);
  checkCount(what, shape, arr.length);
  if (datatype === 'BOOL') return Array.from(arr as Uint8Array, (v) => v !== 0);
  if (KINDS[datatype].bigint) {
    return Array.from(arr as BigInt64Array, (v) => {
      const n = Number(v);
      // JSON.stringify cannot write a bigint, and a rounded number would be a silent corruption.
      if (!Number.isSafeInteger(n)) throw new TypeError(`${what}: ${v} is too large for JSON; use binary: true`);
      return n;
    });
  }
  return Array.from(arr as Float64Array);
}

/**
 * Decodes one output from its bytes in the binary section. Numeric data is a view into
 * `bytes` when aligned for its element size, otherwise a copy.
 * @throws TypeError when the byte size does not match the shape.
 */
export function decodeBinary(
  what: string,
  datatype: Datatype,
  shape: readonly number[],
  bytes: Uint8Array,
  bytesAs: 'string' | 'buffer',
): OutputData {
  if (datatype === 'BYTES') {
    let elements: Uint8Array[];
    try {
      elements = decodeBytesElements(bytes, what, elementCount(shape));
    } catch (e) {
      throw new TypeError((e as Error).message);
    }
    return bytesAs === 'string'
      ? elements.map((e) => Buffer.from(e.buffer, e.byteOffset, e.byteLength).toString('utf8'))
      : elements.map((e) => Buffer.from(e.buffer, e.byteOffset, e.byteLength));
  }
  const size = DATATYPE_BYTE_SIZE[datatype];
  const count = elementCount(shape);
  if (bytes.byteLength !== count * size) {
    throw new TypeError(`${what}: shape [${shape.join(',')}] needs ${count * size} bytes, got ${bytes.byteLength}`);
  }
  // The body's JSON header has arbitrary length, so tensors after it are often misaligned.
  const aligned = bytes.byteOffset % size === 0 ? bytes : bytes.slice();
  return new KINDS[datatype].ctor(aligned.buffer, aligned.byteOffset, count);
}

function flatten(data: unknown, out: unknown[]): unknown[] {
  if (Array.isArray(data)) for (const d of data) flatten(d, out);
  else out.push(data);
  return out;
}

/**
 * Decodes one output's JSON `data` (nested or flat, row-major). 64-bit integers arrive as JSON
 * numbers, so values beyond 2^53 are already rounded by JSON.parse; ask for binary outputs
 * (the default) when they matter.
 * @throws TypeError when the element count does not match the shape.
 */
export function decodeJson(
  what: string,
  datatype: Datatype,
  shape: readonly number[],
  data: unknown,
  bytesAs: 'string' | 'buffer',
): OutputData {
  const flat = flatten(data ?? [], []);
  checkCount(what, shape, flat.length);
  if (datatype === 'BYTES') {
    const strings = flat.map(String);
    return bytesAs === 'string' ? strings : strings.map((s) => Buffer.from(s, 'utf8'));
  }
  const kind = KINDS[datatype];
  const out = new kind.ctor(flat.length);
  for (let i = 0; i < flat.length; i++) {
    const v = flat[i];
    if (kind.bigint) (out as BigInt64Array)[i] = BigInt(v as number);
    else (out as Float64Array)[i] = typeof v === 'boolean' ? Number(v) : (v as number);
  }
  return out;
}
