import { decodeBytesElements } from '../infer/bytes-codec.js';
import type { Datatype } from '../infer/datatype.js';
import type { InputData } from '../client/types.js';

/**
 * One input tensor of a request as `infera perf` sends it, prepared once before measuring:
 * the full shape (batch dimension included) and the wire bytes of the binary tensor data
 * extension / gRPC `raw_input_contents` (little-endian, row-major, BOOL one byte, BYTES as
 * 4-byte little-endian length + bytes per element).
 */
export interface PreparedTensor {
  name: string;
  datatype: Datatype;
  shape: number[];
  raw: Uint8Array;
}

/** The inputs of one request. */
export type RequestStep = PreparedTensor[];

/**
 * The data `infera perf` cycles through. Requests of a non-sequence model take the steps of
 * all streams round-robin; each sequence of a sequence model plays one stream (streams taken
 * round-robin per new sequence), as perf_analyzer does with `--input-data <json>`.
 */
export interface InputPlan {
  streams: RequestStep[][];
}

const ARRAYS: Partial<Record<Datatype, { new (buffer: ArrayBuffer): Exclude<InputData, readonly unknown[]> }>> = {
  BOOL: Uint8Array,
  UINT8: Uint8Array,
  INT8: Int8Array,
  UINT16: Uint16Array,
  INT16: Int16Array,
  UINT32: Uint32Array,
  INT32: Int32Array,
  UINT64: BigUint64Array,
  INT64: BigInt64Array,
  FP16: Uint16Array,
  BF16: Uint16Array,
  FP32: Float32Array,
  FP64: Float64Array,
};

/**
 * The tensor's contents in the form the HTTP client's encoder takes: the datatype's own typed
 * array (a copy, so it is aligned) or, for BYTES, the elements.
 */
export function toInputData(t: PreparedTensor): InputData {
  if (t.datatype === 'BYTES') return decodeBytesElements(t.raw, `input '${t.name}'`);
  const ctor = ARRAYS[t.datatype]!;
  const copy = new Uint8Array(t.raw.byteLength);
  copy.set(t.raw);
  return new ctor(copy.buffer);
}
