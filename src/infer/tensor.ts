import type { Datatype } from './datatype.js';

/**
 * A tensor as it travels through the server: datatype, shape and its raw bytes.
 *
 * `data` holds the elements little-endian and row-major with no padding, exactly as the
 * binary tensor data extension sends them (reference §1.4): BOOL is one byte per element,
 * and BYTES elements are each a 4-byte little-endian length followed by that many bytes.
 * `data` is usually a view into a larger buffer (the received body), never copied on the
 * way in; the backend decides whether it must copy (alignment) or can transfer it.
 */
export interface Tensor {
  name: string;
  datatype: Datatype;
  /** Full shape, including the batch dimension when the model batches. */
  shape: number[];
  data: Uint8Array;
}

/** One output the client asked for, with the per-output options of reference §1.3. */
export interface RequestedOutput {
  name: string;
  /** Top-N classification (reference §1.3 `classification`); 0 or absent = off. */
  classification?: number;
}

/** Request parameters: the scalar values KServe v2 allows (reference §1.3). */
export type InferParameters = Record<string, string | number | boolean>;

/**
 * An infer request after protocol decoding (reference §1.3, §2.2). The protocol layers build
 * it; the server facade validates it against the model config before it is queued.
 */
export interface InferenceRequest {
  /** Request id, echoed in the response when non-empty. */
  id?: string;
  modelName: string;
  /** Explicit version; undefined selects the highest-numbered READY version. */
  modelVersion?: number;
  inputs: Tensor[];
  /** Outputs to return; undefined or empty returns every model output. */
  outputs?: RequestedOutput[];
  parameters?: InferParameters;
}

/** An infer response: outputs in the order requested (or model order when none were named). */
export interface InferenceResponse {
  id?: string;
  modelName: string;
  /** A string, as on the wire (reference §1.3). */
  modelVersion: string;
  parameters?: InferParameters;
  outputs: Tensor[];
}
