import { create } from '@bufbuild/protobuf';
import { InferParameterSchema, type InferParameter } from '../../generated/grpc_service_pb.js';
import { InvalidArgumentError } from '../../errors/index.js';
import type { InferParameters } from '../../infer/tensor.js';
import type { SharedMemoryRef } from '../../memory/index.js';

/**
 * `map<string, InferParameter>` of requests and responses (reference §1.3, §2.2) ↔
 * `InferParameters`, with the type rules and messages of Triton's gRPC frontend
 * (`SetInferenceRequestMetadata`, `ParseSharedMemoryParams`, `ParseClassificationParams`).
 * int64/uint64 values become numbers; beyond 2^53 they are refused rather than rounded.
 */

type ParameterMap = { [key: string]: InferParameter };

/** Request-level `triton_` keys Triton accepts (`TRITON_RESERVED_REQUEST_PARAMS`). */
const TRITON_RESERVED_REQUEST_PARAMS = ['triton_enable_empty_final_response'];

export interface DecodedRequestParameters {
  /** What reaches the core: sequence and scheduling keys plus custom parameters. */
  parameters: InferParameters;
  /** `triton_enable_empty_final_response` (decoupled models on a stream). */
  enableEmptyFinalResponse: boolean;
}

function safeNumber(key: string, value: bigint): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) {
    throw new InvalidArgumentError(
      `value ${value} of '${key}' parameter is outside the supported range [-(2^53-1), 2^53-1]`,
    );
  }
  return n;
}

function typeError(key: string, expected: string): InvalidArgumentError {
  return new InvalidArgumentError(`invalid value type for '${key}' parameter, expected ${expected}.`);
}

/**
 * Decodes the request-level parameters.
 * @throws InvalidArgumentError with Triton's messages, e.g. "invalid value type for
 *   'sequence_id' parameter, expected int64_param or string_param.", "invalid value for
 *   'priority', expected value >= 0.", and for `triton_` keys other than the reserved ones
 *   "parameter keys starting with 'triton_' are reserved for Triton usage. Only the following
 *   keys starting with 'triton_' are allowed: triton_enable_empty_final_response".
 */
export function decodeRequestParameters(map: ParameterMap): DecodedRequestParameters {
  const parameters: InferParameters = {};
  let enableEmptyFinalResponse = false;
  for (const key of Object.keys(map)) {
    const choice = map[key]!.parameterChoice;
    switch (key) {
      case 'sequence_id':
        if (choice.case === 'int64Param') parameters[key] = safeNumber(key, choice.value);
        else if (choice.case === 'stringParam') parameters[key] = choice.value;
        else throw typeError(key, 'int64_param or string_param');
        break;
      case 'sequence_start':
      case 'sequence_end':
        if (choice.case !== 'boolParam') throw typeError(key, 'bool_param');
        parameters[key] = choice.value;
        break;
      case 'priority':
        if (choice.case === 'int64Param') {
          if (choice.value < 0n) throw new InvalidArgumentError("invalid value for 'priority', expected value >= 0.");
          parameters[key] = safeNumber(key, choice.value);
        } else if (choice.case === 'uint64Param') {
          parameters[key] = safeNumber(key, choice.value);
        } else {
          throw typeError(key, 'int64_param or uint64_param');
        }
        break;
      case 'timeout':
        if (choice.case !== 'int64Param') throw typeError(key, 'int64_param');
        // Triton passes a negative int64 unchecked into its uint64 timeout; HTTP refuses it, and
        // so does infera here, so the two protocols agree on what a valid timeout is.
        if (choice.value < 0n) throw new InvalidArgumentError("invalid value for 'timeout', expected value >= 0.");
        parameters[key] = safeNumber(key, choice.value);
        break;
      default:
        if (key.startsWith('triton_')) {
          if (!TRITON_RESERVED_REQUEST_PARAMS.includes(key)) {
            throw new InvalidArgumentError(
              "parameter keys starting with 'triton_' are reserved for Triton usage. Only the following keys " +
                `starting with 'triton_' are allowed: ${TRITON_RESERVED_REQUEST_PARAMS.join(' ')}`,
            );
          }
          if (choice.case !== 'boolParam') throw typeError(key, 'bool_param');
          enableEmptyFinalResponse = choice.value;
        } else if (choice.case === 'int64Param') {
          parameters[key] = safeNumber(key, choice.value);
        } else if (choice.case === 'boolParam' || choice.case === 'stringParam' || choice.case === 'doubleParam') {
          parameters[key] = choice.value;
        } else {
          throw typeError(key, 'int64_param, bool_param, or string_param');
        }
    }
  }
  return { parameters, enableEmptyFinalResponse };
}

/**
 * Where a tensor's data lives when its parameters name a shared-memory region, after checking
 * the shared-memory parameters as Triton's `ParseSharedMemoryParams` does; undefined when it
 * names none. The offset defaults to 0.
 * @param tensor the tensor's name, for the messages
 * @throws InvalidArgumentError for a wrongly typed or incomplete set of shared-memory
 *   parameters, e.g. "'shared_memory_byte_size' must be specified along with
 *   'shared_memory_region' parameter for tensor '<t>'", or a negative offset or byte size
 *   ("invalid value for 'shared_memory_offset' parameter for tensor '<t>', expected >= 0.").
 */
export function sharedMemoryRef(map: ParameterMap, tensor: string): SharedMemoryRef | undefined {
  const region = map['shared_memory_region']?.parameterChoice;
  const offset = map['shared_memory_offset']?.parameterChoice;
  const byteSize = map['shared_memory_byte_size']?.parameterChoice;
  if (region === undefined && offset === undefined && byteSize === undefined) return undefined;
  if (region !== undefined && region.case !== 'stringParam') {
    throw new InvalidArgumentError(
      `invalid value type for 'shared_memory_region' parameter for tensor '${tensor}', expected string_param.`,
    );
  }
  const numbers: number[] = [];
  for (const [key, value] of [
    ['shared_memory_offset', offset],
    ['shared_memory_byte_size', byteSize],
  ] as const) {
    if (value === undefined) {
      numbers.push(0);
      continue;
    }
    if (region === undefined) {
      throw new InvalidArgumentError(
        `'${key}' can not be specified without 'shared_memory_region' parameter for tensor '${tensor}'`,
      );
    }
    if (value.case !== 'int64Param') {
      throw new InvalidArgumentError(
        `invalid value type for '${key}' parameter for tensor '${tensor}', expected int64_param.`,
      );
    }
    // Triton casts the int64 to size_t, so a negative value only fails later as out of
    // bounds; refused here by name instead.
    if (value.value < 0n) {
      throw new InvalidArgumentError(`invalid value for '${key}' parameter for tensor '${tensor}', expected >= 0.`);
    }
    numbers.push(safeNumber(key, value.value));
  }
  if (region === undefined) return undefined;
  if (byteSize === undefined) {
    throw new InvalidArgumentError(
      `'shared_memory_byte_size' must be specified along with 'shared_memory_region' parameter for tensor '${tensor}'`,
    );
  }
  return { region: region.value, offset: numbers[0]!, byteSize: numbers[1]! };
}

/**
 * The `classification` count of a requested output (Triton `ParseClassificationParams`);
 * undefined when absent.
 * @throws InvalidArgumentError "invalid value type for 'classification' parameter, expected
 *   int64_param" or "invalid value for 'classification' parameter, expected >= 0" (for <= 0).
 */
export function classificationCount(map: ParameterMap): number | undefined {
  const choice = map['classification']?.parameterChoice;
  if (choice === undefined) return undefined;
  if (choice.case !== 'int64Param') {
    throw new InvalidArgumentError("invalid value type for 'classification' parameter, expected int64_param");
  }
  if (choice.value <= 0n) {
    throw new InvalidArgumentError("invalid value for 'classification' parameter, expected >= 0");
  }
  return safeNumber('classification', choice.value);
}

/**
 * Response parameters as `InferParameter`s: booleans as bool_param, strings as string_param,
 * integers as int64_param (as Triton's `TRITONSERVER_PARAMETER_INT`), other numbers as
 * double_param.
 */
export function encodeParameters(parameters: InferParameters | undefined): ParameterMap {
  const out: ParameterMap = {};
  if (parameters === undefined) return out;
  for (const key of Object.keys(parameters)) {
    const v = parameters[key]!;
    const p = create(InferParameterSchema);
    if (typeof v === 'boolean') p.parameterChoice = { case: 'boolParam', value: v };
    else if (typeof v === 'string') p.parameterChoice = { case: 'stringParam', value: v };
    else if (Number.isSafeInteger(v)) p.parameterChoice = { case: 'int64Param', value: BigInt(v) };
    else p.parameterChoice = { case: 'doubleParam', value: v };
    out[key] = p;
  }
  return out;
}
