import type { ErrorCode } from './triton-error.js';

/**
 * The error codes by their TRITONSERVER_Error_Code value (core `tritonserver.h`: UNKNOWN 0 …
 * CANCELLED 7), which pb_utils.TritonError codes use too; the native core's StatusCode is this
 * list shifted by one, after SUCCESS.
 */
export const TRITON_ERROR_CODES = [
  'UNKNOWN',
  'INTERNAL',
  'NOT_FOUND',
  'INVALID_ARG',
  'UNAVAILABLE',
  'UNSUPPORTED',
  'ALREADY_EXISTS',
  'CANCELLED',
] as const satisfies readonly ErrorCode[];

/**
 * HTTP status per error code, as Triton's `HttpCodeFromError` (server `http_server.cc`):
 * INTERNAL 500, NOT_FOUND 404, UNAVAILABLE 503, UNSUPPORTED 501, everything else 400.
 */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  UNKNOWN: 400,
  INTERNAL: 500,
  NOT_FOUND: 404,
  INVALID_ARG: 400,
  UNAVAILABLE: 503,
  UNSUPPORTED: 501,
  ALREADY_EXISTS: 400,
  CANCELLED: 400,
};

/**
 * gRPC status code per error code, as Triton's `GrpcStatusUtil::CodeToStatus`
 * (server `grpc/grpc_utils.cc`); UNSUPPORTED becomes UNIMPLEMENTED (12).
 */
export const GRPC_STATUS: Record<ErrorCode, number> = {
  UNKNOWN: 2,
  INTERNAL: 13,
  NOT_FOUND: 5,
  INVALID_ARG: 3,
  UNAVAILABLE: 14,
  UNSUPPORTED: 12,
  ALREADY_EXISTS: 6,
  CANCELLED: 1,
};
