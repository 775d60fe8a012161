import { InvalidArgumentError } from '../../errors/index.js';
import type { InferParameters } from '../../infer/tensor.js';

/**
 * A sequence's correlation id (Triton `InferenceRequest::SequenceId`): an unsigned 64-bit
 * integer or a string. Two ids are the same sequence only when both type and value match,
 * so `7` and `"7"` are different sequences, as in Triton.
 */
export type SequenceId = { readonly type: 'uint64'; readonly value: bigint } | { readonly type: 'string'; readonly value: string };

/** The sequence fields of one request (reference §1.3 `sequence_id`, `sequence_start`, `sequence_end`, `timeout`). */
export interface SequenceParameters {
  /** Undefined when the request names no sequence: absent, 0 or "" (Triton's `InSequence()` false). */
  id: SequenceId | undefined;
  start: boolean;
  end: boolean;
  /** `timeout` parameter in microseconds; 0 = none. Only limits time spent in the backlog. */
  timeoutUs: number;
}

const UINT64_MAX = (1n << 64n) - 1n;

/**
 * Reads the sequence parameters a protocol layer decoded. `sequence_id` may be a number
 * (JSON integer), a bigint (gRPC uint64) or a string; the flags are booleans.
 * @throws InvalidArgumentError for a negative, fractional or too large numeric id, or a flag
 *   that is not a boolean (the HTTP layer already refuses these; this guards other callers).
 */
export function readSequenceParameters(parameters: InferParameters | undefined): SequenceParameters {
  const raw = parameters?.['sequence_id'] as unknown;
  let id: SequenceId | undefined;
  if (typeof raw === 'string') {
    if (raw !== '') id = { type: 'string', value: raw };
  } else if (typeof raw === 'number' || typeof raw === 'bigint') {
    if (typeof raw === 'number' && !Number.isSafeInteger(raw)) {
      throw new InvalidArgumentError(`sequence_id must be an unsigned 64-bit integer or a string, got ${raw}`);
    }
    const value = BigInt(raw);
    if (value < 0n || value > UINT64_MAX) {
      throw new InvalidArgumentError(`sequence_id must be an unsigned 64-bit integer or a string, got ${raw}`);
    }
    if (value !== 0n) id = { type: 'uint64', value };
  } else if (raw !== undefined) {
    throw new InvalidArgumentError(`sequence_id must be an unsigned 64-bit integer or a string, got ${typeof raw}`);
  }
  return {
    id,
    start: flag(parameters, 'sequence_start'),
    end: flag(parameters, 'sequence_end'),
    timeoutUs: timeout(parameters),
  };
}

function flag(parameters: InferParameters | undefined, key: string): boolean {
  const v = parameters?.[key];
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new InvalidArgumentError(`${key} must be a boolean, got ${typeof v}`);
  return v;
}

function timeout(parameters: InferParameters | undefined): number {
  const v = parameters?.['timeout'];
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0;
}

/** A Map key for an id: type and value, so a number and the same digits as a string differ. */
export function sequenceKey(id: SequenceId): string {
  return id.type === 'uint64' ? `u${id.value}` : `s${id.value}`;
}

/** The id as Triton prints it in messages: the number, or the string as is. */
export function formatSequenceId(id: SequenceId): string {
  return String(id.value);
}
