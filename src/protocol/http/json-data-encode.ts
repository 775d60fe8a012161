import { InternalError, InvalidArgumentError } from '../../errors/index.js';
import { DATATYPE_BYTE_SIZE } from '../../infer/datatype.js';
import type { Tensor } from '../../infer/tensor.js';

/**
 * Tensor bytes → the JSON text of a `data` array (reference §1.3; Triton `WriteDataToJson` in
 * server `http_server.cc`). Typed-array views read the elements, so the host must be
 * little-endian (x64 and arm64 are).
 */

/**
 * Elements encoded per text part. Bounds every intermediate string (joins, the regex pass of
 * `rapidJsonDoubles`) to a few MB whatever the tensor size: V8 aborts the whole process, not
 * just the request, when a regex replace over one huge string needs too many parts.
 */
export const ELEMENTS_PER_PART = 1 << 16;

/**
 * The JSON text of a tensor's `data` array as one string; see `appendTensorDataJson`. For
 * small tensors (tests, single values): large ones go through the parts.
 */
export function tensorDataToJson(tensor: Tensor): string {
  const parts: string[] = [];
  appendTensorDataJson(tensor, parts);
  return parts.join('');
}

/**
 * Appends the JSON text of a tensor's `data` array to `parts`, in pieces of at most
 * `ELEMENTS_PER_PART` elements (their concatenation is the array's text), formatted as Triton
 * (RapidJSON) writes it: integers exactly (INT64/UINT64 included), floats in shortest
 * round-trip form with a ".0" on integral values, `NaN`/`Infinity`/`-Infinity` for non-finite
 * values, BOOL as true/false, BYTES as strings (UTF-8 decoded). Each piece is built by native
 * joins, not per element.
 *
 * @throws InvalidArgumentError (400) "sending FP16 data via JSON is not supported. Please use
 *   the binary data format for output" (also BF16), exactly Triton's `WriteDataToJson` text.
 * @throws InternalError (500) "Failed to write 'data' field: output tensor shape does not match
 *   size of output for '<name>'" when `data` does not hold shape-many elements
 *   ("output tensor shape does not match size of output for '<name>'" for BYTES).
 */
export function appendTensorDataJson(tensor: Tensor, parts: string[]): void {
  const { datatype, data, name } = tensor;
  if (datatype === 'FP16' || datatype === 'BF16') {
    throw new InvalidArgumentError(
      `sending ${datatype} data via JSON is not supported. Please use the binary data format for output`,
    );
  }
  let count = 1;
  for (const d of tensor.shape) count *= d;
  if (datatype === 'BYTES') return appendBytesJson(name, data, count, parts);
  if (data.byteLength !== count * DATATYPE_BYTE_SIZE[datatype]) {
    throw new InternalError(
      `Failed to write 'data' field: output tensor shape does not match size of output for '${name}'`,
    );
  }
  switch (datatype) {
    case 'BOOL':
      return appendSlices(data, parts, boolsText);
    case 'UINT8':
      return appendSlices(data, parts, joined);
    case 'UINT16':
      return appendSlices(alignedView(data, Uint16Array), parts, joined);
    case 'UINT32':
      return appendSlices(alignedView(data, Uint32Array), parts, joined);
    case 'UINT64':
      return appendSlices(alignedView(data, BigUint64Array), parts, joined);
    case 'INT8':
      return appendSlices(alignedView(data, Int8Array), parts, joined);
    case 'INT16':
      return appendSlices(alignedView(data, Int16Array), parts, joined);
    case 'INT32':
      return appendSlices(alignedView(data, Int32Array), parts, joined);
    case 'INT64':
      return appendSlices(alignedView(data, BigInt64Array), parts, joined);
    case 'FP32':
      return appendSlices(alignedView(data, Float32Array), parts, doublesText);
    case 'FP64':
      return appendSlices(alignedView(data, Float64Array), parts, doublesText);
  }
}

type View =
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Float32Array
  | Float64Array;

/** '[', the text of each slice comma-separated, ']': one part per slice. */
function appendSlices(view: View, parts: string[], text: (slice: View) => string): void {
  const n = view.length;
  if (n <= ELEMENTS_PER_PART) {
    parts.push('[' + text(view) + ']');
    return;
  }
  for (let i = 0; i < n; i += ELEMENTS_PER_PART) {
    const end = Math.min(n, i + ELEMENTS_PER_PART);
    parts.push((i === 0 ? '[' : ',') + text(view.subarray(i, end)) + (end === n ? ']' : ''));
  }
}

const joined = (slice: View): string => slice.join(',');
const doublesText = (slice: View): string => rapidJsonDoubles(slice.join(','));

function boolsText(slice: View): string {
  let s = '';
  for (let i = 0; i < slice.length; i++) s += (i === 0 ? '' : ',') + (slice[i] === 0 ? 'false' : 'true');
  return s;
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

function appendBytesJson(name: string, data: Uint8Array, count: number, parts: string[]): void {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let offset = 0;
  if (count === 0) parts.push('[]');
  for (let first = 0; first < count; first += ELEMENTS_PER_PART) {
    const strings: string[] = new Array<string>(Math.min(ELEMENTS_PER_PART, count - first));
    for (let e = 0; e < strings.length; e++) {
      if (offset + 4 > data.byteLength) throw bytesShapeError(name);
      const len = view.getUint32(offset, true);
      offset += 4;
      if (offset + len > data.byteLength) throw bytesShapeError(name);
      strings[e] = buf.toString('utf8', offset, offset + len);
      offset += len;
    }
    const text = JSON.stringify(strings);
    // Inner slices drop their brackets: the parts concatenate to one array.
    const last = first + ELEMENTS_PER_PART >= count;
    parts.push((first === 0 ? '[' : ',') + text.slice(1, last ? text.length : -1));
  }
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
