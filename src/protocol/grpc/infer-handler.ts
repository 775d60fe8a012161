import type { handleUnaryCall, ServerUnaryCall } from '@grpc/grpc-js';
import type { ModelInferRequest, ModelInferResponse } from '../../generated/grpc_service_pb.js';
import { CancelledError, UnsupportedError } from '../../errors/index.js';
import type { ReadyModel, ServerCore } from '../../server-types.js';
import { Cancellation, type CancelSignal } from '../../infer/cancellation.js';
import { LazySharedMemory, type RequestRegions } from '../lazy-shared-memory.js';
import { decodeModelInferRequest, type DecodedGrpcInferRequest } from './infer-request.js';
import { encodeModelInferResponse } from './infer-response.js';
import { freeReceived } from './received-message.js';
import { parseGrpcModelVersion } from './model-version.js';
import { unary, type RpcContext } from './rpc-context.js';
import { forwardHeaders, metadataPairs } from '../header-forward.js';

/**
 * ModelInfer (reference §2.1–2.3; Triton `ModelInferHandler::Execute`): decode, reject
 * decoupled models, `core.infer` with a signal that aborts when the client cancels the
 * call or its deadline passes, encode into `raw_output_contents` (outputs asked for in shared
 * memory are written there instead).
 */

/**
 * Decodes a request; when decoding fails, the model lookup Triton does first decides the
 * error (an unknown model wins over a bad tensor). The lookup is skipped on the happy path:
 * `modelForInfer` does it once the request is decoded.
 * @throws the lookup error, else the decoding error (infer-request documents them)
 */
export function decodeWithModelLookup(
  core: ServerCore,
  msg: ModelInferRequest,
  shm: RequestRegions,
): DecodedGrpcInferRequest {
  try {
    return decodeModelInferRequest(msg, shm);
  } catch (err) {
    let version: number | undefined;
    try {
      version = parseGrpcModelVersion(msg.modelVersion);
    } catch {
      throw err; // the version string itself is what failed
    }
    core.modelMetadata(msg.modelName, version);
    throw err;
  }
}

/**
 * The request's model, for `core.infer` to run the request on without a second lookup.
 * @throws the model lookup errors; UnsupportedError for a decoupled model (Triton's message).
 */
export function modelForInfer(core: ServerCore, decoded: DecodedGrpcInferRequest): ReadyModel {
  const model = core.model(decoded.request.modelName, decoded.request.modelVersion);
  if (model.decoupled) throw new UnsupportedError("ModelInfer RPC doesn't support models with decoupled transaction policy");
  return model;
}

/**
 * A signal that aborts (with a CancelledError) when the call is cancelled by the client or its
 * deadline expires; `release()` detaches it once the request is done, because grpc-js also
 * signals 'cancelled' after a call ends normally. A `Cancellation` rather than an
 * AbortController: this runs for every call, and an AbortSignal costs microseconds to create.
 */
export function abortOnCancel(call: ServerUnaryCall<ModelInferRequest, ModelInferResponse>): {
  signal: CancelSignal;
  release(): void;
} {
  const cancellation = new Cancellation();
  const onCancel = (): void => {
    const deadline = call.getDeadline();
    const expired =
      deadline instanceof Date ? deadline.getTime() <= Date.now() : Number.isFinite(deadline) && deadline <= Date.now();
    cancellation.abort(new CancelledError(expired ? 'Deadline exceeded' : 'Request cancelled by the client'));
  };
  if (call.cancelled) onCancel();
  else call.once('cancelled', onCancel);
  return { signal: cancellation, release: () => call.removeListener('cancelled', onCancel) };
}

/**
 * `GRPCInferenceService/ModelInfer`, as Triton's grpc_server.cc answers it: the model looked
 * up once (NOT_FOUND / UNAVAILABLE with the lookup's message), a decoupled model refused with
 * UNIMPLEMENTED "ModelInfer RPC doesn't support models with decoupled transaction policy",
 * the request decoded against the model (raw_input_contents stay views of the message; inputs
 * and outputs in registered shared-memory regions are read and written in place), and the
 * core's error as its gRPC status (errors/status-map.ts). A client cancel or an expired
 * deadline cancels the request in the core.
 */
export function inferHandler(ctx: RpcContext): handleUnaryCall<ModelInferRequest, ModelInferResponse> {
  const { core } = ctx;
  return unary(ctx, 'inference', 'ModelInfer', async (msg, call) => {
    // Holds the shared-memory regions the request names until its response is built.
    const shm = new LazySharedMemory(core);
    const cancel = abortOnCancel(call);
    try {
      const decoded = decodeWithModelLookup(core, msg, shm);
      if (ctx.headerForwardPattern !== undefined) forwardHeaders(decoded.request, metadataPairs(call.metadata), ctx.headerForwardPattern);
      const model = modelForInfer(core, decoded);
      const response = await core.infer(decoded.request, cancel.signal, { transfer: true, model });
      shm.writeOutputs(response.outputs);
      const encoded = encodeModelInferResponse(response, msg.id, (name) => shm.hasOutput(name));
      freeReceived(msg, response.outputs);
      return encoded;
    } finally {
      cancel.release();
      shm.release();
    }
  });
}
