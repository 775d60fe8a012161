import { status as Status, type ServerErrorResponse } from '@grpc/grpc-js';
import { GRPC_STATUS, TritonError } from '../../errors/index.js';

/**
 * A gRPC status for an error: a TritonError's code mapped with `GRPC_STATUS` (Triton's
 * `GrpcStatusUtil::CodeToStatus`: INVALID_ARG → INVALID_ARGUMENT, UNSUPPORTED →
 * UNIMPLEMENTED, ...), its message as the details; anything else is INTERNAL with its message.
 * Details longer than `MAX_STATUS_DETAILS` characters are cut (see `boundedDetails`).
 * The object is what grpc-js callbacks and `stream.emit('error', ...)` accept.
 */
export function toGrpcStatus(err: unknown): ServerErrorResponse {
  const message = boundedDetails(err instanceof Error ? err.message : String(err));
  const code = err instanceof TritonError ? GRPC_STATUS[err.code] : Status.INTERNAL;
  const out = new Error(message) as ServerErrorResponse;
  out.code = code;
  out.details = message;
  return out;
}

/**
 * Longest status message sent, in characters. The details travel percent-encoded in the
 * `grpc-message` trailer, and gRPC clients cap header lists (C-core 8 KiB by default, grpc-js
 * 16 KiB); a message echoing a client's 100,000-character id or model name was never accepted,
 * and the call and every other call on its connection hung to their deadlines. Triton sends
 * such messages whole; infera cuts them.
 */
export const MAX_STATUS_DETAILS = 4096;
const TRUNCATED = '... (message truncated)';

/** Bytes of `text` in a `grpc-message` trailer: ASCII as is, other UTF-8 bytes as `%XX`. */
function trailerBytes(text: string): number {
  const nonAscii = text.replace(/[\x00-\x7f]+/g, '');
  return text.length - nonAscii.length + 3 * Buffer.byteLength(nonAscii);
}

/**
 * `message`, or as much of its start as fits `MAX_STATUS_DETAILS` characters and 8 KiB once
 * percent-encoded (a non-ASCII character takes up to 12 bytes), with a marker that it was cut.
 */
export function boundedDetails(message: string): string {
  const budget = 8192 - TRUNCATED.length;
  if (message.length <= MAX_STATUS_DETAILS && trailerBytes(message) <= budget) return message;
  let keep = MAX_STATUS_DETAILS - TRUNCATED.length;
  while (keep > 0 && trailerBytes(message.slice(0, keep)) > budget) keep >>= 1;
  // Never end on the first half of a surrogate pair.
  if (keep > 0 && /[\ud800-\udbff]/.test(message[keep - 1]!)) keep -= 1;
  return message.slice(0, keep) + TRUNCATED;
}

/** True when the error is a server-side fault worth an error log line (INTERNAL or unknown). */
export function isServerFault(err: unknown): boolean {
  return !(err instanceof TritonError) || err.code === 'INTERNAL';
}
