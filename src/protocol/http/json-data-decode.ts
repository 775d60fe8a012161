import { InvalidArgumentError } from '../../errors/index.js';
import type { Datatype } from '../../infer/datatype.js';
import { malformedRequest, withDetail } from './json-fields.js';

/**
 * JSON `data` arrays → raw little-endian tensor bytes (reference §1.3; Triton
 * `ReadDataFromJson` and `JsonBytesArrayByteSize` in server `http_server.cc`). Elements are
 * stored through typed arrays, so the host must be little-endian (x64 and arm64 are).
 *
 * This runs for every JSON input, so it avoids per-call closures: one state record and one
 * switch per element, where each case's store site only ever sees one typed-array type.
 */

/** Triton's `HTTP_MAX_JSON_NESTING_DEPTH` (server `common.h`). */
export const MAX_JSON_NESTING_DEPTH = 100;

const DEPTH_MESSAGE = `JSON nesting depth exceeds maximum allowed limit (${MAX_JSON_NESTING_DEPTH})`;
const TOO_MANY = "Unable to parse 'data': Shape does not match true shape of 'data' field";
const TOO_FEW = "Failed to parse 'data' field: shape does not match true shape";
const TWO_POW_32 = 4294967296;
const TWO_POW_63 = 9223372036854775808;
const TWO_POW_64 = 18446744073709551616;

/**
 * Byte size of a BYTES tensor given as JSON strings: 4 + UTF-8 length per element.
 * @throws InvalidArgumentError (400) "JSON nesting depth exceeds maximum allowed limit (100)"
 *   when a node sits 100 arrays deep; "Unable to parse JSON bytes array: attempt to access JSON
 *   non-string as string" for a non-string element. Messages are Triton's exact text; the
 *   input's name goes to the error's `detail` (json-fields.ts).
 */
export function jsonBytesByteSize(name: string, data: unknown[]): number {
  return bytesSize(name, data, 0);
}

function bytesSize(name: string, node: unknown[], depth: number): number {
  if (depth >= MAX_JSON_NESTING_DEPTH) throw new InvalidArgumentError(DEPTH_MESSAGE);
  let size = 0;
  for (let k = 0; k < node.length; k++) {
    const v = node[k];
    if (Array.isArray(v)) {
      size += bytesSize(name, v, depth + 1);
      continue;
    }
    if (depth + 1 >= MAX_JSON_NESTING_DEPTH) throw new InvalidArgumentError(DEPTH_MESSAGE);
    if (typeof v !== 'string') {
      throw malformedRequest('Unable to parse JSON bytes array: attempt to access JSON non-string as string', `input '${name}'`);
    }
    size += 4 + Buffer.byteLength(v, 'utf8');
  }
  return size;
}

const enum Kind {
  Bool,
  Uint8,
  Uint16,
  Uint32,
  Uint64,
  Int8,
  Int16,
  Int32,
  Int64,
  Float32,
  Float64,
  Bytes,
}

/** What each kind expects, in TritonJson's words. */
const EXPECTED: Record<Kind, string> = {
  [Kind.Bool]: 'non-boolean as boolean',
  [Kind.Uint8]: 'non-unsigned-integer as unsigned-integer',
  [Kind.Uint16]: 'non-unsigned-integer as unsigned-integer',
  [Kind.Uint32]: 'non-unsigned-integer as unsigned-integer',
  [Kind.Uint64]: 'non-unsigned-integer as unsigned-integer',
  [Kind.Int8]: 'non-signed-integer as signed-integer',
  [Kind.Int16]: 'non-signed-integer as signed-integer',
  [Kind.Int32]: 'non-signed-integer as signed-integer',
  [Kind.Int64]: 'non-signed-integer as signed-integer',
  [Kind.Float32]: 'non-number as double',
  [Kind.Float64]: 'non-number as double',
  [Kind.Bytes]: 'non-string as string',
};

interface Fill {
  kind: Kind;
  /** The typed view the elements go through (Uint32Array/Int32Array words for 64-bit kinds). */
  view: any; // one of several typed arrays, fixed per kind
  bytes: Buffer | null;
  offset: number;
  count: number;
  expected: number;
}

/**
 * Converts JSON `data` (nested or flat, row-major) into tensor bytes. Nesting need not follow
 * the shape: like Triton, elements are taken in document order.
 *
 * @param name input name, for messages
 * @param elementCount product of the shape (> 0)
 * @param byteSize bytes to allocate: elementCount * element size, or `jsonBytesByteSize` for BYTES
 * @returns a freshly allocated buffer the caller owns exclusively
 * @throws InvalidArgumentError (400):
 *   "receiving FP16 data via JSON is not supported. Please use the binary data format for input
 *   <name>" (also BF16);
 *   "Unable to parse 'data': attempt to access JSON non-number as double" (or non-boolean /
 *   non-signed-integer / non-unsigned-integer / non-string) for an element of the wrong JSON
 *   type; "Unable to parse 'data': Shape does not match true shape of 'data' field" for too many
 *   elements, "Failed to parse 'data' field: shape does not match true shape" for too few;
 *   "Unable to parse 'data': JSON nesting depth exceeds maximum allowed limit (100)". All are
 *   Triton's exact text (clients match them); the input name and element counts, which they
 *   leave out, go to the error's `detail` for the verbose log.
 *   Triton answers the element, count and syntax cases with 500, only because its JSON wrapper
 *   reports INTERNAL; infera answers 400.
 */
export function jsonDataToBytes(
  name: string,
  datatype: Datatype,
  data: unknown[],
  elementCount: number,
  byteSize: number,
): Uint8Array {
  let kind: Kind;
  let view: Fill['view'];
  let bytes: Uint8Array;
  let buffer: Buffer | null = null;
  switch (datatype) {
    case 'FP16':
    case 'BF16':
      throw new InvalidArgumentError(
        `receiving ${datatype} data via JSON is not supported. Please use the binary data format for input ${name}`,
      );
    case 'BOOL':
    case 'UINT8':
      kind = datatype === 'BOOL' ? Kind.Bool : Kind.Uint8;
      bytes = view = new Uint8Array(byteSize);
      break;
    case 'INT8':
      kind = Kind.Int8;
      view = new Int8Array(byteSize);
      bytes = new Uint8Array(view.buffer);
      break;
    case 'UINT16':
      kind = Kind.Uint16;
      view = new Uint16Array(elementCount);
      bytes = new Uint8Array(view.buffer);
      break;
    case 'INT16':
      kind = Kind.Int16;
      view = new Int16Array(elementCount);
      bytes = new Uint8Array(view.buffer);
      break;
    case 'UINT32':
    case 'UINT64':
      kind = datatype === 'UINT32' ? Kind.Uint32 : Kind.Uint64;
      view = new Uint32Array(byteSize / 4);
      bytes = new Uint8Array(view.buffer);
      break;
    case 'INT32':
    case 'INT64':
      kind = datatype === 'INT32' ? Kind.Int32 : Kind.Int64;
      view = new Int32Array(byteSize / 4);
      bytes = new Uint8Array(view.buffer);
      break;
    case 'FP32':
      kind = Kind.Float32;
      view = new Float32Array(elementCount);
      bytes = new Uint8Array(view.buffer);
      break;
    case 'FP64':
      kind = Kind.Float64;
      view = new Float64Array(elementCount);
      bytes = new Uint8Array(view.buffer);
      break;
    case 'BYTES':
      kind = Kind.Bytes;
      buffer = Buffer.allocUnsafeSlow(byteSize);
      bytes = view = new Uint8Array(buffer.buffer, 0, byteSize);
      break;
  }
  const fill: Fill = { kind, view, bytes: buffer, offset: 0, count: 0, expected: elementCount };
  walk(fill, name, data, 0);
  if (fill.count !== elementCount) {
    throw malformedRequest(TOO_FEW, `input '${name}': the shape needs ${elementCount} elements, 'data' has ${fill.count}`);
  }
  return bytes;
}

function walk(fill: Fill, name: string, node: unknown[], depth: number): void {
  if (depth >= MAX_JSON_NESTING_DEPTH) throw nestedDepthError(name);
  for (let k = 0; k < node.length; k++) {
    const v = node[k];
    if (Array.isArray(v)) {
      walk(fill, name, v, depth + 1);
      continue;
    }
    if (depth + 1 >= MAX_JSON_NESTING_DEPTH) throw nestedDepthError(name);
    if (fill.count >= fill.expected) {
      throw malformedRequest(TOO_MANY, `input '${name}': the shape needs ${fill.expected} elements, 'data' has more`);
    }
    if (!store(fill, v)) {
      throw malformedRequest(`Unable to parse 'data': attempt to access JSON ${EXPECTED[fill.kind]}`, `input '${name}'`);
    }
    fill.count++;
  }
}

/**
 * Writes element `fill.count`; false when the JSON value has the wrong type. Integers follow
 * RapidJSON's IsInt64/IsUint64 ranges, then wrap to the element width like the C++ casts
 * Triton uses (typed-array stores wrap the same way). JSON.parse cannot tell `1.0` from `1`,
 * so integral doubles pass where RapidJSON would refuse `1.0`: a deliberate leniency.
 */
function store(fill: Fill, v: unknown): boolean {
  const i = fill.count;
  switch (fill.kind) {
    case Kind.Bool:
      if (typeof v !== 'boolean') return false;
      fill.view[i] = v ? 1 : 0;
      return true;
    case Kind.Uint8:
    case Kind.Uint16:
    case Kind.Uint32:
      if (!isUint64(v)) return false;
      fill.view[i] = v;
      return true;
    case Kind.Int8:
    case Kind.Int16:
    case Kind.Int32:
      if (!isInt64(v)) return false;
      fill.view[i] = v;
      return true;
    case Kind.Int64:
      if (!isInt64(v)) return false;
      // Two's complement halves without BigInt: floor division keeps the sign in the high
      // word, ToUint32 gives the low word.
      fill.view[2 * i] = v >>> 0;
      fill.view[2 * i + 1] = Math.floor(v / TWO_POW_32);
      return true;
    case Kind.Uint64:
      if (!isUint64(v)) return false;
      fill.view[2 * i] = v >>> 0;
      fill.view[2 * i + 1] = Math.floor(v / TWO_POW_32);
      return true;
    case Kind.Float32:
    case Kind.Float64:
      if (typeof v !== 'number') return false;
      fill.view[i] = v;
      return true;
    case Kind.Bytes: {
      if (typeof v !== 'string') return false;
      const out = fill.bytes!;
      const written = out.write(v, fill.offset + 4, 'utf8');
      out.writeUInt32LE(written, fill.offset);
      fill.offset += 4 + written;
      return true;
    }
  }
}

/** Triton wraps the helper's depth error in ReadDataFromJson's "Unable to parse 'data'". */
function nestedDepthError(name: string): InvalidArgumentError {
  return withDetail(new InvalidArgumentError(`Unable to parse 'data': ${DEPTH_MESSAGE}`), `input '${name}'`);
}

function isInt64(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= -TWO_POW_63 && v < TWO_POW_63;
}

function isUint64(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < TWO_POW_64;
}
