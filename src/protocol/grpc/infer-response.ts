import { create } from '@bufbuild/protobuf';
import {
  InferParameterSchema,
  ModelInferResponseSchema,
  ModelStreamInferResponseSchema,
  type ModelInferResponse,
  type ModelInferResponse_InferOutputTensor,
  type ModelStreamInferResponse,
} from '../../generated/grpc_service_pb.js';
import { InvalidArgumentError } from '../../errors/index.js';
import type { InferenceResponse } from '../../infer/tensor.js';
import { encodeParameters } from './infer-parameters.js';
import { toBigInt } from './model-infer-wire.js';

/**
 * Encoding of infer responses (reference §2.2; Triton `InferResponseCompleteCommon`): every
 * output's bytes go in `raw_output_contents` (never typed `contents`), one entry per output
 * in output order, BYTES with the 4-byte length prefixes; `id` echoes the request's id.
 * Output bytes are referenced, not copied, until protobuf serialization.
 */

const EMPTY = new Uint8Array(0);

/** Triton's `MAX_GRPC_MESSAGE_SIZE` (INT32_MAX). */
export const MAX_GRPC_MESSAGE_SIZE = 2147483647;

/** No output is in shared memory. */
const NONE_IN_SHARED_MEMORY = (): boolean => false;

/**
 * @param requestId the request's `id` (Triton sets the response id from it, empty or not)
 * @param inSharedMemory whether an output was written to a shared-memory region instead: its
 *   `raw_output_contents` entry is then empty, as in Triton
 * @throws InvalidArgumentError "Response has byte size <n> which exceeds gRPC's byte size
 *   limit 2147483647." when the outputs alone pass the limit.
 */
export function encodeModelInferResponse(
  response: InferenceResponse,
  requestId: string,
  inSharedMemory: (output: string) => boolean = NONE_IN_SHARED_MEMORY,
): ModelInferResponse {
  const raw = response.outputs.map((t) => (inSharedMemory(t.name) ? EMPTY : t.data));
  let total = 0;
  for (const r of raw) total += r.byteLength;
  if (total > MAX_GRPC_MESSAGE_SIZE) {
    throw new InvalidArgumentError(
      `Response has byte size ${total} which exceeds gRPC's byte size limit ${MAX_GRPC_MESSAGE_SIZE}.`,
    );
  }
  // The messages are written as the object literals `create()` returns for them (proto3, no
  // field presence: every field set, `contents` absent): create() walks the schema each time.
  const outputs: ModelInferResponse_InferOutputTensor[] = [];
  for (const t of response.outputs) {
    outputs.push({
      $typeName: 'inference.ModelInferResponse.InferOutputTensor',
      name: t.name,
      datatype: t.datatype,
      shape: t.shape.map(toBigInt),
      parameters: {},
    });
  }
  return {
    $typeName: 'inference.ModelInferResponse',
    modelName: response.modelName,
    modelVersion: response.modelVersion,
    id: response.id ?? requestId,
    parameters: encodeParameters(response.parameters),
    outputs,
    rawOutputContents: raw,
  };
}

function finalResponseFlag(response: ModelInferResponse): void {
  response.parameters['triton_final_response'] = create(InferParameterSchema, {
    parameterChoice: { case: 'boolParam', value: true },
  });
}

/**
 * A ModelStreamInfer message for a completed request of a non-decoupled model: the response
 * with `parameters["triton_final_response"] = true` (Triton `StreamInferResponseComplete`).
 */
export function streamResponse(
  response: InferenceResponse,
  requestId: string,
  inSharedMemory?: (output: string) => boolean,
): ModelStreamInferResponse {
  const inferResponse = encodeModelInferResponse(response, requestId, inSharedMemory);
  finalResponseFlag(inferResponse);
  return create(ModelStreamInferResponseSchema, { errorMessage: '', inferResponse });
}

/**
 * A ModelStreamInfer message reporting a failed request in-band: `error_message`, and an
 * `infer_response` that carries only what associates it with its request (id, model name and
 * version as requested) and `triton_final_response = true`.
 */
export function streamErrorResponse(
  message: string,
  request: { id: string; modelName: string; modelVersion: string },
): ModelStreamInferResponse {
  const inferResponse = create(ModelInferResponseSchema, {
    id: request.id,
    modelName: request.modelName,
    modelVersion: request.modelVersion,
  });
  finalResponseFlag(inferResponse);
  return create(ModelStreamInferResponseSchema, { errorMessage: message, inferResponse });
}
