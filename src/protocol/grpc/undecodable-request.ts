import { create } from '@bufbuild/protobuf';
import { ModelInferRequestSchema, type ModelInferRequest } from '../../generated/grpc_service_pb.js';

/**
 * ModelStreamInfer messages that are not a valid ModelInferRequest.
 *
 * When a deserializer throws, grpc-js ends the whole call itself with INTERNAL "Error
 * deserializing request", out of the handler's sight: the responses of the requests before it
 * that were still running are lost, and a stream whose earlier requests had been answered
 * in-band got no status at all. The stream's deserializer therefore never throws: it returns
 * an empty request marked with why it could not be read, and the stream handler answers that
 * request like any other failed one, in order (stream-handler.ts).
 */

const failures = new WeakMap<ModelInferRequest, string>();

/** The stand-in for a message that failed to decode with `err`. */
export function undecodableRequest(err: unknown): ModelInferRequest {
  const msg = create(ModelInferRequestSchema);
  const reason = err instanceof Error ? err.message : String(err);
  failures.set(msg, `failed to parse ModelInferRequest: ${reason}`);
  return msg;
}

/** Why `msg` could not be decoded ("failed to parse ModelInferRequest: <reason>"), or undefined. */
export function decodeFailure(msg: ModelInferRequest): string | undefined {
  return failures.get(msg);
}

/** Wraps a request deserializer so that a message it cannot read becomes `undecodableRequest`. */
export function tolerantDeserializer(read: (bytes: Buffer) => ModelInferRequest): (bytes: Buffer) => ModelInferRequest {
  return (bytes) => {
    try {
      return read(bytes);
    } catch (err) {
      return undecodableRequest(err);
    }
  };
}
