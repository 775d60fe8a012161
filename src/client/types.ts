import type { Datatype } from '../infer/datatype.js';

/** Typed arrays the client sends and returns for numeric and BOOL tensors. */
export type NumericArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | BigUint64Array
  | BigInt64Array
  | Float32Array
  | Float64Array;

/**
 * Tensor contents as a caller may give them, flat and row-major:
 * - a typed array; when it is the datatype's own array type (see `OutputData`) its bytes are
 *   sent as they are, otherwise the elements are converted;
 * - plain numbers or bigints (converted to the datatype), booleans (BOOL);
 * - strings (sent as UTF-8) or byte arrays, for BYTES.
 * FP16 and BF16 take a Uint16Array of the raw 16-bit patterns.
 */
export type InputData =
  | NumericArray
  | readonly number[]
  | readonly bigint[]
  | readonly boolean[]
  | ReadonlyArray<string | Uint8Array>;

/**
 * Tensor contents as the client returns them, flat and row-major. The array type follows the
 * datatype: BOOL and UINT8 → Uint8Array, INT8 → Int8Array, UINT16 → Uint16Array, INT16 →
 * Int16Array, UINT32 → Uint32Array, INT32 → Int32Array, UINT64 → BigUint64Array, INT64 →
 * BigInt64Array, FP16 and BF16 → Uint16Array (raw bit patterns), FP32 → Float32Array, FP64 →
 * Float64Array, BYTES → string[] (UTF-8 decoded) or Buffer[] (with `bytesAs: 'buffer'`).
 */
export type OutputData = NumericArray | string[] | Buffer[];

/** Scalar parameter values KServe v2 allows (reference §1.3). */
export type Parameters = Record<string, string | number | boolean>;

export interface InferInput {
  name: string;
  datatype: Datatype;
  /** Full shape including any batch dimension; its element count must match `data`. */
  shape: number[];
  data: InputData;
}

export interface RequestedOutput {
  name: string;
  /** Return this output in the binary section (default: the request's `binaryOutputs`). */
  binary?: boolean;
  /** Return the top-N classes as BYTES `"<value>:<index>[:<label>]"` instead of the tensor. */
  classification?: number;
}

export interface InferRequest {
  model: string;
  /** Model version; the server's version policy picks one when absent. */
  version?: string | number;
  /** Request id, echoed in the response. */
  id?: string;
  inputs: InferInput[];
  /** Outputs to return; absent returns all of them. */
  outputs?: RequestedOutput[];
  /** Send inputs with the binary tensor data extension (default true); false sends JSON. */
  binary?: boolean;
  /** Default for outputs' `binary` and for all outputs when `outputs` is absent (default true). */
  binaryOutputs?: boolean;
  /** Request parameters (sequence_id, priority, timeout, custom keys...). */
  parameters?: Parameters;
  /** Compress the request body. */
  compression?: 'gzip' | 'deflate';
  /** Ask the server to compress the response (decompressed transparently). */
  responseCompression?: 'gzip' | 'deflate';
  /** How BYTES outputs come back: UTF-8 strings (default) or Buffers. */
  bytesAs?: 'string' | 'buffer';
  /** Extra HTTP headers for this request only. */
  headers?: Record<string, string>;
}

export interface InferOutput {
  name: string;
  datatype: Datatype;
  shape: number[];
  /** Output parameters from the server, without the wire-level `binary_data_size`. */
  parameters?: Parameters;
  data: OutputData;
}

/** One tensor of model metadata; `-1` marks a variable dimension. */
export interface TensorMetadata {
  name: string;
  datatype: Datatype;
  shape: number[];
}

export interface ServerMetadata {
  name: string;
  version: string;
  extensions: string[];
}

export interface ModelMetadata {
  name: string;
  versions?: string[];
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
}

/** One row of the repository index (reference §1.5). */
export interface RepositoryIndexEntry {
  name: string;
  version?: string;
  state?: string;
  reason?: string;
}
