import type { ModelInferRequest } from '../../generated/grpc_service_pb.js';
import type { Tensor } from '../../infer/tensor.js';
import { freeBuffer } from '../../memory/free-buffer.js';

/**
 * The bytes a ModelInfer request was decoded from, so that they can be freed as soon as the
 * request is answered instead of when the GC gets to them (the same reason as for HTTP bodies,
 * src/memory/free-buffer.ts: at concurrency 16 on the text-direction model, 110 KB messages
 * left to the GC kept V8's helper threads busy for about 400 µs of CPU per request).
 *
 * grpc-js gathers each received message into a buffer of its own, prefixed by the 5-byte gRPC
 * frame header, and hands the deserializer the part after the header; `raw_input_contents`
 * are views of it. Only a buffer of that shape, larger than Node's pool slab, is freed, so a
 * small message in the shared pool, or a layout other than this, is simply left to the GC.
 */

/** grpc-js keeps the length-prefixed frame header in front of the message. */
const FRAME_HEADER_BYTES = 5;

const received = new WeakMap<ModelInferRequest, Uint8Array>();

/** Remembers `bytes` as what `msg` was decoded from (called by the ModelInfer deserializer). */
export function rememberReceived(msg: ModelInferRequest, bytes: Uint8Array): ModelInferRequest {
  received.set(msg, bytes);
  return msg;
}

/** The bytes `msg` was decoded from (what the ModelInfer deserializer was given), if known. */
export function receivedBytes(msg: ModelInferRequest): Uint8Array | undefined {
  return received.get(msg);
}

/**
 * Frees the bytes `msg` was decoded from. Call only once the request has been answered
 * successfully, when nothing reads its inputs any more: not after an error or a cancellation,
 * where an execution may still hold views of them. Nothing is freed when an output of the
 * response views the same memory (a model that passes an input through), because the response
 * may not have been serialized yet.
 */
export function freeReceived(msg: ModelInferRequest, outputs: readonly Tensor[]): void {
  const bytes = received.get(msg);
  if (bytes === undefined) return;
  received.delete(msg);
  const buffer = bytes.buffer;
  // Too small to matter (maybe the pool slab), or already gone: transferred to a worker thread.
  if (buffer instanceof SharedArrayBuffer || buffer.byteLength <= Buffer.poolSize) return;
  if (bytes.byteOffset > FRAME_HEADER_BYTES || bytes.byteOffset + bytes.byteLength !== buffer.byteLength) return;
  for (const o of outputs) if (o.data.buffer === buffer) return;
  freeBuffer(new Uint8Array(buffer));
}
