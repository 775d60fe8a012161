import { create } from '@bufbuild/protobuf';
import { InferTensorContentsSchema, type InferTensorContents } from '../../generated/grpc_service_pb.js';
import { InvalidArgumentError } from '../../errors/index.js';
import { decodeBytesElements, encodeBytesElements } from '../../infer/bytes-codec.js';
import { DATATYPE_BYTE_SIZE, type Datatype } from '../../infer/datatype.js';

/**
 * Typed tensor contents (`InferTensorContents`, reference §2.2) ↔ the little-endian raw bytes
 * every other layer uses (`Tensor.data`, `raw_input_contents`). BOOL is one byte per element,
 * INT8/INT16 travel in `int_contents` and UINT8/UINT16 in `uint_contents` (the low bytes are
 * kept, as Triton keeps them), BYTES elements get the 4-byte length prefix. FP16 and BF16 have
 * no typed field. Typed-array views use host byte order; every platform Node runs on is
 * little-endian, which is what the wire uses.
 */

type ContentsField =
  | 'boolContents'
  | 'intContents'
  | 'int64Contents'
  | 'uintContents'
  | 'uint64Contents'
  | 'fp32Contents'
  | 'fp64Contents'
  | 'bytesContents';

/** The fields in Triton's order of examination (`InferGRPCToInput`). */
const FIELDS: readonly ContentsField[] = [
  'boolContents',
  'intContents',
  'int64Contents',
  'uintContents',
  'uint64Contents',
  'fp32Contents',
  'fp64Contents',
  'bytesContents',
];

/** The datatype a field carries for a tensor of `datatype` (the narrow integer fields adapt). */
function fieldDatatype(field: ContentsField, datatype: Datatype): Datatype {
  switch (field) {
    case 'boolContents':
      return 'BOOL';
    case 'intContents':
      return datatype === 'INT8' || datatype === 'INT16' ? datatype : 'INT32';
    case 'int64Contents':
      return 'INT64';
    case 'uintContents':
      return datatype === 'UINT8' || datatype === 'UINT16' ? datatype : 'UINT32';
    case 'uint64Contents':
      return 'UINT64';
    case 'fp32Contents':
      return 'FP32';
    case 'fp64Contents':
      return 'FP64';
    case 'bytesContents':
      return 'BYTES';
  }
}

function view(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Converts one field's elements to raw bytes of `datatype` (already checked to match). */
function fieldToBytes(contents: InferTensorContents, field: ContentsField, datatype: Datatype): Uint8Array {
  switch (datatype) {
    case 'BOOL':
      return Uint8Array.from(contents.boolContents, (b) => (b ? 1 : 0));
    case 'INT8':
      return view(Int8Array.from(contents.intContents));
    case 'INT16':
      return view(Int16Array.from(contents.intContents));
    case 'INT32':
      return view(Int32Array.from(contents.intContents));
    case 'INT64':
      return view(BigInt64Array.from(contents.int64Contents));
    case 'UINT8':
      return Uint8Array.from(contents.uintContents);
    case 'UINT16':
      return view(Uint16Array.from(contents.uintContents));
    case 'UINT32':
      return view(Uint32Array.from(contents.uintContents));
    case 'UINT64':
      return view(BigUint64Array.from(contents.uint64Contents));
    case 'FP32':
      return view(Float32Array.from(contents.fp32Contents));
    case 'FP64':
      return view(Float64Array.from(contents.fp64Contents));
    case 'BYTES':
      return encodeBytesElements(contents.bytesContents);
    default:
      throw new Error(`no typed contents field carries ${datatype} (${field})`);
  }
}

/**
 * The raw bytes of an input given as typed `contents` (Triton `InferGRPCToInput`): the one
 * non-empty field is converted; contents with no element are an empty tensor.
 * @param datatype the input's declared datatype
 * @throws InvalidArgumentError with Triton's messages: "unexpected explicit tensor data for
 *   input tensor '<i>' for model '<m>' of type '<field type>', expected datatype '<type>'"
 *   when the field does not match the datatype (always for FP16/BF16), and "..., binary data
 *   was already supplied." when a second field is non-empty.
 */
export function contentsToBytes(
  contents: InferTensorContents,
  datatype: Datatype,
  input: string,
  model: string,
): Uint8Array {
  let bytes: Uint8Array | undefined;
  for (const field of FIELDS) {
    if (contents[field].length === 0) continue;
    if (bytes !== undefined && bytes.byteLength !== 0) {
      throw new InvalidArgumentError(
        `unexpected explicit tensor data for input tensor '${input}' for model '${model}', binary data was already supplied.`,
      );
    }
    const carried = fieldDatatype(field, datatype);
    if (carried !== datatype) {
      throw new InvalidArgumentError(
        `unexpected explicit tensor data for input tensor '${input}' for model '${model}' of type '${carried}', ` +
          `expected datatype '${datatype}'`,
      );
    }
    bytes = fieldToBytes(contents, field, datatype);
  }
  return bytes ?? new Uint8Array(0);
}

/**
 * Typed contents holding the elements of raw little-endian `data` (what a client sends
 * instead of `raw_input_contents`).
 * @throws TypeError for FP16/BF16 (no typed field exists: send them raw), and when the byte
 *   length is not a multiple of the element size or BYTES data is malformed.
 */
export function bytesToContents(datatype: Datatype, data: Uint8Array, what: string): InferTensorContents {
  const contents = create(InferTensorContentsSchema);
  if (datatype === 'BYTES') {
    try {
      contents.bytesContents = decodeBytesElements(data, what);
    } catch (e) {
      throw new TypeError((e as Error).message);
    }
    return contents;
  }
  if (datatype === 'FP16' || datatype === 'BF16') {
    throw new TypeError(`${what}: ${datatype} has no typed contents field; send it as raw bytes`);
  }
  const size = DATATYPE_BYTE_SIZE[datatype];
  if (data.byteLength % size !== 0) {
    throw new TypeError(`${what}: ${data.byteLength} bytes is not a whole number of ${datatype} elements`);
  }
  // A copy (never a view, even of a Buffer) gives the typed views the alignment they need.
  const buf = new Uint8Array(data).buffer;
  const n = data.byteLength / size;
  switch (datatype) {
    case 'BOOL':
      contents.boolContents = Array.from(new Uint8Array(buf), (b) => b !== 0);
      break;
    case 'INT8':
      contents.intContents = Array.from(new Int8Array(buf, 0, n));
      break;
    case 'INT16':
      contents.intContents = Array.from(new Int16Array(buf, 0, n));
      break;
    case 'INT32':
      contents.intContents = Array.from(new Int32Array(buf, 0, n));
      break;
    case 'INT64':
      contents.int64Contents = Array.from(new BigInt64Array(buf, 0, n));
      break;
    case 'UINT8':
      contents.uintContents = Array.from(new Uint8Array(buf, 0, n));
      break;
    case 'UINT16':
      contents.uintContents = Array.from(new Uint16Array(buf, 0, n));
      break;
    case 'UINT32':
      contents.uintContents = Array.from(new Uint32Array(buf, 0, n));
      break;
    case 'UINT64':
      contents.uint64Contents = Array.from(new BigUint64Array(buf, 0, n));
      break;
    case 'FP32':
      contents.fp32Contents = Array.from(new Float32Array(buf, 0, n));
      break;
    case 'FP64':
      contents.fp64Contents = Array.from(new Float64Array(buf, 0, n));
      break;
  }
  return contents;
}
