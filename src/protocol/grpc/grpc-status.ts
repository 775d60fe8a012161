import { status as Status, type ServerErrorResponse } from '@grpc/grpc-js';
import { GRPC_STATUS, TritonError, UnsupportedError } from '../../errors/index.js';

/**
 * A gRPC status for an error: a TritonError's code mapped with `GRPC_STATUS` (Triton's
 * `GrpcStatusUtil::CodeToStatus`: INVALID_ARG → INVALID_ARGUMENT, UNSUPPORTED →
 * UNIMPLEMENTED, ...), its message as the details; anything else is INTERNAL with its message.
 * The object is what grpc-js callbacks and `stream.emit('error', ...)` accept.
 */
export function toGrpcStatus(err: unknown): ServerErrorResponse {
  const message = err instanceof Error ? err.message : String(err);
  const code = err instanceof TritonError ? GRPC_STATUS[err.code] : Status.INTERNAL;
  const out = new Error(message) as ServerErrorResponse;
  out.code = code;
  out.details = message;
  return out;
}

/** True when the error is a server-side fault worth an error log line (INTERNAL or unknown). */
export function isServerFault(err: unknown): boolean {
  return !(err instanceof TritonError) || err.code === 'INTERNAL';
}

/**
 * The error for an RPC whose ServerCore method is absent (an extension infera does not
 * serve yet): UNIMPLEMENTED, with the sentence Triton uses for a build without the feature,
 * e.g. "the server does not support model statistics".
 */
export function notSupported(feature: string): UnsupportedError {
  return new UnsupportedError(`the server does not support ${feature}`);
}
