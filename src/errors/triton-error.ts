/**
 * The error codes shared by every layer (and by the native core), with Triton's names
 * (`TRITONSERVER_Error_Code`, common `error.h`). Each code has one subclass; the protocol
 * layers map a code to an HTTP status or gRPC status with the tables in `status-map.ts`.
 */
export type ErrorCode =
  | 'UNKNOWN'
  | 'INTERNAL'
  | 'NOT_FOUND'
  | 'INVALID_ARG'
  | 'UNAVAILABLE'
  | 'UNSUPPORTED'
  | 'ALREADY_EXISTS'
  | 'CANCELLED';

/** Base class of every error infera raises on purpose; `code` decides the wire status. */
export abstract class TritonError extends Error {
  abstract readonly code: ErrorCode;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class UnknownError extends TritonError {
  readonly code = 'UNKNOWN' as const;
}
export class InternalError extends TritonError {
  readonly code = 'INTERNAL' as const;
}
export class NotFoundError extends TritonError {
  readonly code = 'NOT_FOUND' as const;
}
export class InvalidArgumentError extends TritonError {
  readonly code = 'INVALID_ARG' as const;
}
export class UnavailableError extends TritonError {
  readonly code = 'UNAVAILABLE' as const;
}
export class UnsupportedError extends TritonError {
  readonly code = 'UNSUPPORTED' as const;
}
export class AlreadyExistsError extends TritonError {
  readonly code = 'ALREADY_EXISTS' as const;
}
export class CancelledError extends TritonError {
  readonly code = 'CANCELLED' as const;
}

const CLASSES: Record<ErrorCode, new (message: string, options?: ErrorOptions) => TritonError> = {
  UNKNOWN: UnknownError,
  INTERNAL: InternalError,
  NOT_FOUND: NotFoundError,
  INVALID_ARG: InvalidArgumentError,
  UNAVAILABLE: UnavailableError,
  UNSUPPORTED: UnsupportedError,
  ALREADY_EXISTS: AlreadyExistsError,
  CANCELLED: CancelledError,
};

/** Builds the subclass for `code` (used where a code arrives as data, e.g. from a worker). */
export function errorFromCode(code: ErrorCode, message: string): TritonError {
  return new CLASSES[code](message);
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && value in CLASSES;
}

/** Normalises anything thrown into a TritonError; unknown values become INTERNAL with `cause`. */
export function toTritonError(err: unknown): TritonError {
  if (err instanceof TritonError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new InternalError(message, { cause: err });
}
