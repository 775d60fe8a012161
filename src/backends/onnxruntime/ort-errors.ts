import { TritonError } from '../../errors/index.js';
import type { ErrorCode } from '../../errors/index.js';
import type { WireError } from './messages.js';

/**
 * Maps errors thrown by onnxruntime-node onto infera's codes. The binding throws plain
 * `Error`s carrying only ORT's message (the OrtErrorCode is lost), so the message is all there
 * is to go on; the patterns below are the ones ORT 1.30 produces (checked against the binding).
 */

const RESOURCE = /failed to allocate|bad_alloc|out of memory|cannot allocate/i;
const UNSUPPORTED_TYPE = /unsupported data type/i;

/**
 * An error from `session.run`. The graph and weights are fixed once loaded, so a run that
 * fails on a valid session almost always failed on its inputs: wrong rank, dimension, type
 * or name (ORT's input validation), or a node that cannot handle the given dynamic dims
 * ("Non-zero status code returned while running ..."). Those are INVALID_ARG; allocation
 * failures are INTERNAL. `prefix` names the model, e.g. "model 'cls'".
 */
export function classifyRunError(err: unknown, prefix: string): WireError {
  if (err instanceof TritonError) return { code: err.code, message: `${prefix}: ${err.message}` };
  const message = messageOf(err);
  const code: ErrorCode = RESOURCE.test(message) ? 'INTERNAL' : 'INVALID_ARG';
  return { code, message: `${prefix}: ${message}` };
}

/**
 * An error from creating a session. A file that is missing or is not an ONNX model, or one
 * whose graph ORT rejects, is the caller's (the repository's) problem: INVALID_ARG. A tensor
 * type the binding cannot represent is UNSUPPORTED; resource failures are INTERNAL.
 * `prefix` names the model file, e.g. "failed to load ONNX model '/repo/m/1/model.onnx'".
 */
export function classifyLoadError(err: unknown, prefix: string): WireError {
  if (err instanceof TritonError) return { code: err.code, message: `${prefix}: ${err.message}` };
  const message = messageOf(err);
  let code: ErrorCode = 'INVALID_ARG';
  if (RESOURCE.test(message)) code = 'INTERNAL';
  else if (UNSUPPORTED_TYPE.test(message)) code = 'UNSUPPORTED';
  return { code, message: `${prefix}: ${message}` };
}

function messageOf(err: unknown): string {
  const raw = err instanceof Error ? err.message : String(err);
  return raw.trim();
}
