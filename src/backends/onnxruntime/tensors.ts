import ort from 'onnxruntime-node';
import { InvalidArgumentError, UnsupportedError } from '../../errors/index.js';
import { decodeBytesElements, encodeBytesElements } from '../../infer/bytes-codec.js';
import { DATATYPE_BYTE_SIZE, datatypeToOrtType, elementCount, ortTypeToDatatype } from '../../infer/datatype.js';
import type { Tensor } from '../../infer/tensor.js';

/**
 * Conversions between infera's byte tensors and onnxruntime-node tensors. Runs in the
 * instance's worker thread, on buffers that were just transferred to it or on views of a
 * shared-memory region the request holds (worker-region-io.ts), so views into them are safe to
 * hand to ORT (nothing else writes them during the run).
 */

type NumericArrayCtor =
  | Uint8ArrayConstructor
  | Int8ArrayConstructor
  | Uint16ArrayConstructor
  | Int16ArrayConstructor
  | Uint32ArrayConstructor
  | Int32ArrayConstructor
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | BigInt64ArrayConstructor
  | BigUint64ArrayConstructor;

/** Typed array for each ORT element type; FP16 travels as raw bits in a Uint16Array. */
const TYPED_ARRAY: Readonly<Record<string, NumericArrayCtor>> = {
  bool: Uint8Array,
  uint8: Uint8Array,
  int8: Int8Array,
  uint16: Uint16Array,
  int16: Int16Array,
  uint32: Uint32Array,
  int32: Int32Array,
  uint64: BigUint64Array,
  int64: BigInt64Array,
  float16: Uint16Array,
  float32: Float32Array,
  float64: Float64Array,
};

const utf8 = new TextDecoder('utf-8');

/**
 * Builds the ORT tensor for one input. Numeric data is viewed in place when its byteOffset is
 * a multiple of the element size (typed arrays require it) and copied once otherwise.
 * BYTES elements are decoded as UTF-8 strings, since onnxruntime-node's string tensors are
 * `string[]` (invalid UTF-8 is replaced, as ORT itself cannot hold it).
 * @throws UnsupportedError for BF16; InvalidArgumentError when `data` does not hold exactly
 *   the elements of `shape`. `what` names the model for messages, e.g. "model 'cls'".
 */
export function toOrtTensor(t: Tensor, what: string): ort.Tensor {
  const ortType = datatypeToOrtType(t.datatype);
  if (ortType === undefined) {
    throw new UnsupportedError(`${what}: input '${t.name}' has datatype ${t.datatype}, which ONNX Runtime cannot take`);
  }
  for (const d of t.shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new InvalidArgumentError(`${what}: input '${t.name}' has invalid shape [${t.shape.join(',')}]`);
    }
  }
  const count = elementCount(t.shape);
  if (ortType === 'string') {
    const elements = decodeBytesElements(t.data, `${what}: input '${t.name}'`, count);
    return new ort.Tensor('string', elements.map((e) => utf8.decode(e)), t.shape);
  }

  const size = DATATYPE_BYTE_SIZE[t.datatype];
  if (t.data.byteLength !== count * size) {
    throw new InvalidArgumentError(
      `${what}: input '${t.name}' with shape [${t.shape.join(',')}] and datatype ${t.datatype} needs ` +
        `${count * size} bytes, got ${t.data.byteLength}`,
    );
  }
  const inPlace = ortTensorOver(ortType, t.data, t.shape);
  if (inPlace !== undefined) return inPlace;
  const aligned = new Uint8Array(t.data.byteLength);
  aligned.set(t.data);
  return ortTensorOver(ortType, aligned, t.shape)!;
}

/**
 * An ORT tensor of the numeric `ortType` over `bytes` themselves (no copy), or undefined when
 * `bytes` do not start at a multiple of the element size (typed arrays require it). `bytes`
 * must hold exactly the elements of `shape`.
 */
export function ortTensorOver(ortType: string, bytes: Uint8Array, shape: number[]): ort.Tensor | undefined {
  const Ctor = TYPED_ARRAY[ortType];
  if (Ctor === undefined || bytes.byteOffset % Ctor.BYTES_PER_ELEMENT !== 0) return undefined;
  const array = new Ctor(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength / Ctor.BYTES_PER_ELEMENT);
  // The union of typed arrays is too wide for any one overload of the constructor.
  return new ort.Tensor(ortType as 'float32', array as Float32Array, shape);
}

/**
 * Turns one ORT output into a Tensor. Numeric data stays where ORT put it: `data` views the
 * output typed array's bytes (BOOL is already 0/1 bytes). String outputs are encoded with the
 * BYTES length-prefix codec.
 * @throws UnsupportedError when the output's element type has no wire datatype (e.g. int4).
 */
export function fromOrtTensor(name: string, value: ort.Tensor, what: string): Tensor {
  const datatype = ortTypeToDatatype(value.type);
  if (datatype === undefined) {
    throw new UnsupportedError(`${what}: output '${name}' has ONNX type ${value.type}, which has no wire datatype`);
  }
  let data: Uint8Array;
  if (value.type === 'string') {
    data = encodeBytesElements(value.data as string[]);
  } else {
    const a = value.data as ArrayBufferView;
    data = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  }
  return { name, datatype, shape: Array.from(value.dims), data };
}
