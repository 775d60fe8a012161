import { create } from '@bufbuild/protobuf';
import { ModelStreamInferResponseSchema, type ModelStreamInferResponse } from '../../generated/grpc_service_pb.js';
import type { RequestSharedMemory } from '../../memory/index.js';
import type { ReadyModel, ServerCore } from '../../server-types.js';
import type { DecodedGrpcInferRequest } from './infer-request.js';
import { encodeModelInferResponse } from './infer-response.js';

/**
 * Runs one request of a decoupled model (`model.decoupled`: Triton decides per request,
 * `ModelStreamInferHandler`, `is_decoupled_`) on a ModelStreamInfer stream (reference §2.3; Triton
 * `StreamInferResponseComplete`): each response is written as soon as the model sends it,
 * not in request order, with `infer_response.parameters["triton_final_response"]` false until
 * the last; the model's bare final flag becomes an empty response (id, model name and version,
 * the flag) only when the request set `triton_enable_empty_final_response`. Outputs asked for
 * in shared memory are written there by every response.
 * @param write sends one message (the caller drops it once the stream is over)
 * @throws (rejects with) the request's error, for the caller to answer in-band or with a status.
 */
export async function streamDecoupled(
  core: ServerCore,
  decoded: DecodedGrpcInferRequest,
  model: ReadyModel,
  requestId: string,
  shm: RequestSharedMemory,
  signal: AbortSignal,
  write: (message: ModelStreamInferResponse) => void,
): Promise<void> {
  const options = { emptyFinalResponse: decoded.enableEmptyFinalResponse, transfer: true, model };
  const responses = core.inferStream(decoded.request, signal, options);
  for await (const response of responses) {
    shm.writeOutputs(response.outputs);
    const inferResponse = encodeModelInferResponse(response, requestId, (name) => shm.hasOutput(name));
    write(create(ModelStreamInferResponseSchema, { errorMessage: '', inferResponse }));
  }
}
