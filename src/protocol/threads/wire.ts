import { errorFromCode, isErrorCode, TritonError } from '../../errors/index.js';
import type { InferenceRequest, InferenceResponse, Tensor } from '../../infer/tensor.js';
import { isUntransferable } from '../../infer/untransferable.js';
import { packForTransfer } from '../../infer/transfer.js';

/**
 * Messages between a protocol thread and the core thread (the main thread, which owns the
 * server and its schedulers). A protocol thread posts decoded infer requests; the core thread
 * answers each with the response or the error. Calls and replies usually travel as records of
 * one binary message (wire-codec.ts: small tensors copied in, large buffers transferred); the
 * object forms here (`packRequest`, `packResponse`: tensor bytes by transfer or a small clone,
 * never by JSON) carry what the binary form does not.
 *
 * Several requests (or replies) that are ready in the same tick travel in one message: a
 * postMessage costs a few microseconds on each side, which is what this layer exists to save
 * on the core thread.
 */

/** One infer request from a protocol thread. `id` is unique per thread. */
export interface InferCall {
  id: number;
  request: InferenceRequest;
  /** HTTP/gRPC frontends refuse decoupled models on infer; the core thread checks that. */
  refuseDecoupled?: 'http' | 'grpc';
  /** A `cancel` message may follow (gRPC: client cancel or deadline). */
  cancellable?: boolean;
}

/**
 * Protocol thread → core thread. Infer calls usually travel as a binary message (wire-codec.ts);
 * `infer` carries those that cannot. `resync`: a binary message from the core thread could not
 * be read (its name table is reset, and the calls waiting on it are failed).
 */
export type ToCore = { t: 'infer'; calls: InferCall[] } | { t: 'cancel'; id: number; error: WireError } | { t: 'resync' };

/** An error as it crosses threads: a TritonError keeps its code (and so its HTTP/gRPC status). */
export interface WireError {
  code?: string;
  message: string;
  detail?: string;
}

export interface InferReply {
  id: number;
  response?: InferenceResponse;
  error?: WireError;
}

/**
 * Core thread → protocol thread. Replies usually travel as a binary message (wire-codec.ts);
 * `replies` carries those that cannot. `resync`: a binary message from the protocol thread
 * could not be read (its calls are lost: the protocol thread fails what it waits for).
 */
export type FromCore = { t: 'replies'; replies: InferReply[] } | { t: 'resync' };

/**
 * Buffers up to this size are cloned with the message rather than transferred: a transfer
 * detaches and re-wraps the buffer on each side, which costs more than copying a few KiB, and
 * this is the core thread's time.
 */
export const CLONE_MAX_BYTES = 16 * 1024;

/**
 * Whether every tensor's whole ArrayBuffer is small (a view is cloned with all of its buffer).
 * SharedArrayBuffers and marked (untransferable) buffers go through `packForTransfer`.
 */
function allSmall(tensors: readonly Tensor[]): boolean {
  for (const t of tensors) {
    const b = t.data.buffer;
    if (b.byteLength > CLONE_MAX_BYTES || !(b instanceof ArrayBuffer) || isUntransferable(b)) return false;
  }
  return true;
}

/** A fresh tensor object: nothing else a caller hung on its Tensor is cloned along. */
function plain(t: Tensor): Tensor {
  return { name: t.name, datatype: t.datatype, shape: t.shape, data: t.data };
}

/** `err` for postMessage: code, message and the `detail` some errors carry for the log. */
export function toWireError(err: unknown): WireError {
  if (err instanceof Error) {
    const code = err instanceof TritonError ? err.code : undefined;
    const detail = (err as { detail?: unknown }).detail;
    return { code, message: err.message, ...(typeof detail === 'string' ? { detail } : {}) };
  }
  return { message: String(err) };
}

/** The error again, as the TritonError subclass of its code (a plain Error without one). */
export function fromWireError(wire: WireError): Error {
  const err = isErrorCode(wire.code) ? errorFromCode(wire.code, wire.message) : new Error(wire.message);
  if (wire.detail !== undefined) (err as { detail?: string }).detail = wire.detail;
  return err;
}

/**
 * `request` ready to post: inputs packed for transfer. The caller must not read the inputs'
 * data afterwards (their buffers may be detached).
 * @param owned the received body's ArrayBuffer when the request owns all of it (a body read
 *   into a buffer of its own): when every input views it, it moves whole, whatever its size,
 *   and the core thread sees the same views of it (no copy at all).
 */
export function packRequest(request: InferenceRequest, transfer: ArrayBuffer[], owned?: ArrayBuffer): InferenceRequest {
  if (owned !== undefined && owned.byteLength > 0 && request.inputs.every((t) => t.data.buffer === owned)) {
    if (owned.byteLength > CLONE_MAX_BYTES) transfer.push(owned);
    return request;
  }
  if (allSmall(request.inputs)) return request;
  const packed = packForTransfer(request.inputs);
  for (const b of packed.transfer) transfer.push(b);
  return { ...request, inputs: packed.tensors };
}

/** `response` ready to post: outputs packed for transfer. */
export function packResponse(response: InferenceResponse, transfer: ArrayBuffer[]): InferenceResponse {
  const packed = allSmall(response.outputs) ? { tensors: response.outputs.map(plain), transfer: [] } : packForTransfer(response.outputs);
  for (const b of packed.transfer) transfer.push(b);
  const out: InferenceResponse = { modelName: response.modelName, modelVersion: response.modelVersion, outputs: packed.tensors };
  if (response.id !== undefined) out.id = response.id;
  if (response.parameters !== undefined) out.parameters = response.parameters;
  return out;
}
