import { encodeBytesElements } from '../infer/bytes-codec.js';
import { DATATYPE_BYTE_SIZE, type Datatype } from '../infer/datatype.js';

/**
 * Conversion of JSON values (numbers, booleans, strings) into the wire bytes of one tensor
 * (little-endian; BYTES length-prefixed), for `--input-data <json file>`.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float → IEEE 754 half-precision bits, round to nearest even; overflow gives ±Inf. */
export function toHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = (mant | 0x800000) >>> (1 - e);
    return sign | ((m + 0x1000) >>> 13);
  }
  const half = sign | (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  return rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1) ? half + 1 : half;
}

/** float → bfloat16 bits (the upper half of the float32, rounded to nearest even). */
export function toBf16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  if ((x & 0x7f800000) === 0x7f800000) return x >>> 16;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

function toNumber(v: unknown, what: string, datatype: Datatype): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  throw new Error(`${what}: ${datatype} data must be numbers, got ${JSON.stringify(v)}`);
}

/**
 * Encodes flat values for `datatype`.
 * @param what names the tensor for messages, e.g. "input data file 'd.json', entry 0, input 'x'"
 * @throws Error when a value does not fit the datatype (a string for a numeric tensor, a
 *   fraction for an integer tensor, a non-string for BYTES)
 */
export function valuesToWire(datatype: Datatype, values: readonly unknown[], what: string): Uint8Array {
  if (datatype === 'BYTES') {
    return encodeBytesElements(
      values.map((v) => {
        if (typeof v === 'string') return v;
        if (typeof v === 'number' || typeof v === 'boolean') return String(v);
        throw new Error(`${what}: BYTES data must be strings, got ${JSON.stringify(v)}`);
      }),
    );
  }
  const size = DATATYPE_BYTE_SIZE[datatype];
  const out = new Uint8Array(values.length * size);
  const view = new DataView(out.buffer);
  values.forEach((raw, i) => {
    const v = toNumber(raw, what, datatype);
    const integer = !['FP16', 'BF16', 'FP32', 'FP64'].includes(datatype);
    if (integer && !Number.isInteger(v)) throw new Error(`${what}: ${datatype} data must be whole numbers, got ${v}`);
    switch (datatype) {
      case 'BOOL':
        out[i] = v !== 0 ? 1 : 0;
        break;
      case 'UINT8':
        view.setUint8(i, v);
        break;
      case 'INT8':
        view.setInt8(i, v);
        break;
      case 'UINT16':
        view.setUint16(i * 2, v, true);
        break;
      case 'INT16':
        view.setInt16(i * 2, v, true);
        break;
      case 'UINT32':
        view.setUint32(i * 4, v, true);
        break;
      case 'INT32':
        view.setInt32(i * 4, v, true);
        break;
      case 'UINT64':
        view.setBigUint64(i * 8, BigInt(v), true);
        break;
      case 'INT64':
        view.setBigInt64(i * 8, BigInt(v), true);
        break;
      case 'FP16':
        view.setUint16(i * 2, toHalfBits(v), true);
        break;
      case 'BF16':
        view.setUint16(i * 2, toBf16Bits(v), true);
        break;
      case 'FP32':
        view.setFloat32(i * 4, v, true);
        break;
      case 'FP64':
        view.setFloat64(i * 8, v, true);
        break;
    }
  });
  return out;
}

/** Number of elements in wire bytes: byte length ÷ element size, or the BYTES element count. */
export function wireElementCount(datatype: Datatype, raw: Uint8Array, what: string): number {
  if (datatype !== 'BYTES') {
    const size = DATATYPE_BYTE_SIZE[datatype];
    if (raw.byteLength % size !== 0) {
      throw new Error(`${what}: ${raw.byteLength} bytes is not a whole number of ${datatype} elements (${size} bytes each)`);
    }
    return raw.byteLength / size;
  }
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  let offset = 0;
  let count = 0;
  while (offset < raw.byteLength) {
    if (offset + 4 > raw.byteLength) throw new Error(`${what}: BYTES data ends inside a 4-byte length prefix`);
    offset += 4 + view.getUint32(offset, true);
    if (offset > raw.byteLength) throw new Error(`${what}: a BYTES element runs past the end of the data`);
    count++;
  }
  return count;
}
