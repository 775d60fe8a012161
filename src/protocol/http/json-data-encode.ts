import { InternalError, InvalidArgumentError } from '../../errors/index.js';
import { DATATYPE_BYTE_SIZE } from '../../infer/datatype.js';
import type { Tensor } from '../../infer/tensor.js';

/**
 * Tensor bytes → the JSON text of a `data` array (reference §1.3; Triton `WriteDataToJson` in
 * server `http_server.cc`). Typed-array views read the elements, so the host must be
 * little-endian (x64 and arm64 are).
 */

/**
 * The JSON text of a tensor's `data` array, formatted as Triton (RapidJSON) writes it:
 * integers exactly (INT64/UINT64 included), floats in shortest round-trip form with a ".0"
 * on integral values, `NaN`/`Infinity`/`-Infinity` for non-finite values, BOOL as true/false,
 * BYTES as strings (UTF-8 decoded). The text is built by native joins, not per element.
 *
 * @throws InvalidArgumentError (400) "sending FP16 data via JSON is not supported. Please use
 *   the binary data format for output" (also BF16), exactly Triton's `WriteDataToJson` text.
 * @throws InternalError (500) "Failed to write 'data' field: output tensor shape does not match
 *   size of output for '<name>'" when `data` does not hold shape-many elements
 *   ("output tensor shape does not match size of output for '<name>'" for BYTES).
 */
export function tensorDataToJson(tensor: Tensor): string {
  const { datatype, data, name } = tensor;
  if (datatype === 'FP16' || datatype === 'BF16') {
    throw new InvalidArgumentError(
      `sending ${datatype} data via JSON is not supported. Please use the binary data format for output`,
    );
  }
  let count = 1;
  for (const d of tensor.shape) count *= d;
  if (datatype === 'BYTES') return bytesToJson(name, data, count);
  if (data.byteLength !== count * DATATYPE_BYTE_SIZE[datatype]) {
    throw new InternalError(
      `Failed to write 'data' field: output tensor shape does not match size of output for '${name}'`,
    );
  }
  switch (datatype) {
    case 'BOOL': {
      let s = '[';
      for (let i = 0; i < data.length; i++) s += (i === 0 ? '' : ',') + (data[i] === 0 ? 'false' : 'true');
      return s + ']';
    }
    case 'UINT8':
      return '[' + data.join(',') + ']';
    case 'UINT16':
      return '[' + alignedView(data, Uint16Array).join(',') + ']';
    case 'UINT32':
      return '[' + alignedView(data, Uint32Array).join(',') + ']';
    case 'UINT64':
      return '[' + alignedView(data, BigUint64Array).join(',') + ']';
    case 'INT8':
      return '[' + alignedView(data, Int8Array).join(',') + ']';
    case 'INT16':
      return '[' + alignedView(data, Int16Array).join(',') + ']';
    case 'INT32':
      return '[' + alignedView(data, Int32Array).join(',') + ']';
    case 'INT64':
      return '[' + alignedView(data, BigInt64Array).join(',') + ']';
    case 'FP32':
      return '[' + rapidJsonDoubles(alignedView(data, Float32Array).join(',')) + ']';
    case 'FP64':
      return '[' + rapidJsonDoubles(alignedView(data, Float64Array).join(',')) + ']';
  }
}

/**
 * Rewrites a comma-joined list of JS number strings into RapidJSON's `Writer::Double` form:
 * integral values gain ".0" ("2" → "2.0") and exponents drop the '+' ("1e+21" → "1e21").
 * JS and RapidJSON agree on everything else (shortest digits, the 1e-7 switch to exponents,
 * NaN/Infinity spelling under kWriteNanAndInfFlag).
 */
export function rapidJsonDoubles(joined: string): string {
  let s = joined.replace(INTEGRAL_TOKEN, '$1$2.0');
  if (s.includes('e+')) s = s.replace(PLUS_EXPONENT, 'e');
  return s;
}

const INTEGRAL_TOKEN = /(^|,)(-?\d+)(?=,|$)/g;
const PLUS_EXPONENT = /e\+/g;

function bytesToJson(name: string, data: Uint8Array, count: number): string {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const strings: string[] = new Array<string>(count);
  let offset = 0;
  for (let e = 0; e < count; e++) {
    if (offset + 4 > data.byteLength) throw bytesShapeError(name);
    const len = view.getUint32(offset, true);
    offset += 4;
    if (offset + len > data.byteLength) throw bytesShapeError(name);
    strings[e] = buf.toString('utf8', offset, offset + len);
    offset += len;
  }
  return JSON.stringify(strings);
}

function bytesShapeError(name: string): InternalError {
  return new InternalError(`output tensor shape does not match size of output for '${name}'`);
}

interface TypedArrayCtor<T> {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): T;
  readonly BYTES_PER_ELEMENT: number;
}

/** A typed view over `data`, copying first only when its offset is not element-aligned. */
export function alignedView<T>(data: Uint8Array, Ctor: TypedArrayCtor<T>): T {
  const size = Ctor.BYTES_PER_ELEMENT;
  if (data.byteOffset % size === 0) return new Ctor(data.buffer, data.byteOffset, data.byteLength / size);
  const copy = data.slice();
  return new Ctor(copy.buffer, 0, copy.byteLength / size);
}
