import { decodeBytesElements, encodeBytesElements } from '../../infer/bytes-codec.js';
import type { Datatype } from '../../infer/datatype.js';
import type { Tensor } from '../../infer/tensor.js';
import type { ModelTensor, OutputTensorInit, TypedArray } from './model-api.js';

/**
 * Conversions between the server's tensors (little-endian bytes, BYTES length-prefixed;
 * src/infer/tensor.ts) and what a JavaScript model sees (typed arrays, Buffers). Runs in the
 * model's worker thread. Views are used wherever the bytes allow it; a copy is made only
 * when a view would be misaligned for its typed array.
 */

type NumericCtor = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): TypedArray;
  readonly BYTES_PER_ELEMENT: number;
  readonly name: string;
};

/** The typed array of each fixed-size datatype (BOOL as 0/1 bytes; FP16/BF16 as raw 16-bit patterns). */
const ARRAY_TYPES: Readonly<Record<Exclude<Datatype, 'BYTES'>, NumericCtor>> = {
  BOOL: Uint8Array,
  UINT8: Uint8Array,
  UINT16: Uint16Array,
  UINT32: Uint32Array,
  UINT64: BigUint64Array,
  INT8: Int8Array,
  INT16: Int16Array,
  INT32: Int32Array,
  INT64: BigInt64Array,
  FP16: Uint16Array,
  FP32: Float32Array,
  FP64: Float64Array,
  BF16: Uint16Array,
};

/** The name of the typed array a datatype uses ("Float32Array"), or "an array of Buffers" for BYTES. */
export function expectedDataKind(datatype: Datatype): string {
  return datatype === 'BYTES' ? 'an array of Buffers, Uint8Arrays or strings' : ARRAY_TYPES[datatype].name;
}

/**
 * The model's view of a server tensor.
 * @throws InvalidArgumentError for a BYTES tensor whose length prefixes are broken (`what`
 *   names it).
 */
export function toModelTensor(t: Tensor, what: string): ModelTensor {
  if (t.datatype === 'BYTES') {
    const data = decodeBytesElements(t.data, what).map((e) => Buffer.from(e.buffer, e.byteOffset, e.byteLength));
    return { name: t.name, datatype: t.datatype, shape: t.shape, data };
  }
  const Ctor = ARRAY_TYPES[t.datatype];
  const size = Ctor.BYTES_PER_ELEMENT;
  let bytes = t.data;
  // A typed array cannot start at an offset that is not a multiple of its element size.
  if (bytes.byteOffset % size !== 0) bytes = bytes.slice();
  return { name: t.name, datatype: t.datatype, shape: t.shape, data: new Ctor(bytes.buffer, bytes.byteOffset, bytes.byteLength / size) };
}

/**
 * The server's form of a tensor a model produced: `data` converted to little-endian bytes of
 * `datatype` (typed arrays are viewed, not copied; plain arrays are converted).
 * @returns the bytes, or a message saying what was wrong (the caller prefixes the tensor).
 */
export function dataToBytes(data: OutputTensorInit['data'], datatype: Datatype): Uint8Array | string {
  if (datatype === 'BYTES') {
    if (!Array.isArray(data)) return `BYTES data must be ${expectedDataKind('BYTES')}, got ${describe(data)}`;
    for (const e of data as unknown[]) {
      if (typeof e !== 'string' && !(e instanceof Uint8Array)) {
        return `BYTES data must be ${expectedDataKind('BYTES')}, got an element of type ${describe(e)}`;
      }
    }
    return encodeBytesElements(data as (string | Uint8Array)[]);
  }
  const Ctor = ARRAY_TYPES[datatype];
  if (ArrayBuffer.isView(data)) {
    if (!(data instanceof Ctor)) return `${datatype} data must be ${article(Ctor.name)} ${Ctor.name}, got ${describe(data)}`;
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  if (!Array.isArray(data)) return `${datatype} data must be ${article(Ctor.name)} ${Ctor.name} or an array, got ${describe(data)}`;
  try {
    const converted = fromPlainArray(data as unknown[], datatype);
    return new Uint8Array(converted.buffer, converted.byteOffset, converted.byteLength);
  } catch (err) {
    return `${datatype} data: cannot convert array elements (${(err as Error).message})`;
  }
}

function fromPlainArray(values: unknown[], datatype: Exclude<Datatype, 'BYTES'>): TypedArray {
  switch (datatype) {
    case 'INT64':
      return BigInt64Array.from(values, (v) => BigInt(v as number | bigint));
    case 'UINT64':
      return BigUint64Array.from(values, (v) => BigInt(v as number | bigint));
    case 'BOOL':
      return Uint8Array.from(values, (v) => (v ? 1 : 0));
    default: {
      const Ctor = ARRAY_TYPES[datatype] as unknown as { from(v: unknown[], map: (x: unknown) => number): TypedArray };
      return Ctor.from(values, (v) => {
        if (typeof v !== 'number' && typeof v !== 'boolean') throw new TypeError(`${describe(v)} is not a number`);
        return Number(v);
      });
    }
  }
}

function article(word: string): string {
  return /^[AEIOU]/.test(word) ? 'an' : 'a';
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (ArrayBuffer.isView(v)) return v.constructor.name;
  if (Array.isArray(v)) return 'an array';
  return typeof v;
}
