import type { handleBidiStreamingCall, ServerDuplexStream } from '@grpc/grpc-js';
import type { ModelInferRequest, ModelStreamInferResponse } from '../../generated/grpc_service_pb.js';
import { CancelledError, InvalidArgumentError, toTritonError, UnavailableError, type TritonError } from '../../errors/index.js';
import { RequestSharedMemory } from '../../memory/index.js';
import type { ReadyModel } from '../../server-types.js';
import { toGrpcStatus } from './grpc-status.js';
import { streamDecoupled } from './decoupled-stream.js';
import { decodeWithModelLookup } from './infer-handler.js';
import type { DecodedGrpcInferRequest } from './infer-request.js';
import { streamErrorResponse, streamResponse } from './infer-response.js';
import { restrictionError } from './restricted-protocols.js';
import { logFailure, type RpcContext } from './rpc-context.js';
import { forwardHeaders, metadataPairs } from '../header-forward.js';
import { decodeFailure } from './undecodable-request.js';

/**
 * ModelStreamInfer (reference §2.3; Triton `ModelStreamInferHandler`): every request read
 * from the stream is decoded and handed to `core.infer` at once, so requests run
 * concurrently, but responses are written in request order (a request that finishes early
 * waits for the ones before it). Each response carries `triton_final_response = true`.
 * Requests to decoupled models are the exception (decoupled-stream.ts): their zero, one or
 * many responses are written as they come, `triton_final_response` true only on the last.
 *
 * A failed request is answered in-band: `error_message` set, `infer_response.id` the
 * request's id, and the stream stays open. A message that is not a ModelInferRequest at all
 * is such a failure too (INVALID_ARGUMENT "failed to parse ModelInferRequest: ...", empty id). A stream opened with the metadata
 * `triton_grpc_error: true` instead ends with the failure's gRPC status (after the responses
 * of the requests before it); later results are dropped and the requests still running are
 * cancelled. Cancelling the stream (or its deadline passing) aborts every request in flight.
 * Once the frontend is closing, new requests fail with UNAVAILABLE "GRPC server is shutting
 * down and has stopped accepting new requests.".
 */

type Call = ServerDuplexStream<ModelInferRequest, ModelStreamInferResponse>;

/** One request of the stream, in arrival order. */
interface Slot {
  done: boolean;
  message?: ModelStreamInferResponse;
  error?: TritonError;
}

const GRPC_ERROR_HEADER = 'triton_grpc_error';
const SHUTTING_DOWN = 'GRPC server is shutting down and has stopped accepting new requests.';

/**
 * The ModelStreamInfer handler described at the top of this file (request order, decoupled
 * responses as they come, in-band errors or `triton_grpc_error`). A restricted `inference`
 * protocol refuses the stream with its status before any message is read.
 */
export function streamInferHandler(
  ctx: RpcContext,
): handleBidiStreamingCall<ModelInferRequest, ModelStreamInferResponse> {
  return (call) => {
    const restricted = restrictionError(ctx.restrictions, 'inference', call.metadata);
    if (restricted !== undefined) {
      logFailure(ctx, 'ModelStreamInfer', restricted);
      call.emit('error', toGrpcStatus(restricted));
      return;
    }
    new InferStream(ctx, call).start();
  };
}

class InferStream {
  readonly #ctx: RpcContext;
  readonly #call: Call;
  readonly #grpcErrorMode: boolean;
  readonly #slots: Slot[] = [];
  readonly #inFlight = new Set<AbortController>();
  #readEnded = false;
  /** Requests of decoupled models still sending responses. */
  #streaming = 0;
  /** Set once the stream is over for us: status sent, or the client went away. */
  #finished = false;

  constructor(ctx: RpcContext, call: Call) {
    this.#ctx = ctx;
    this.#call = call;
    this.#grpcErrorMode = call.metadata.get(GRPC_ERROR_HEADER)[0]?.toString() === 'true';
  }

  start(): void {
    const call = this.#call;
    call.on('data', (msg: ModelInferRequest) => this.#onRequest(msg));
    call.on('end', () => {
      this.#readEnded = true;
      this.#flush();
    });
    call.on('cancelled', () => {
      this.#finished = true;
      this.#abortAll('Request cancelled by the client');
    });
    // The client may reset the stream; grpc-js reports it as 'cancelled' as well.
    call.on('error', () => undefined);
  }

  #onRequest(msg: ModelInferRequest): void {
    if (this.#finished) return;
    const slot: Slot = { done: false };
    this.#slots.push(slot);
    const undecodable = decodeFailure(msg);
    if (undecodable !== undefined) return this.#settle(slot, msg, new InvalidArgumentError(undecodable));
    if (this.#ctx.isClosing()) return this.#settle(slot, msg, new UnavailableError(SHUTTING_DOWN));
    const shm = new RequestSharedMemory(this.#ctx.core.sharedMemory());
    let decoded;
    let model: ReadyModel;
    try {
      decoded = decodeWithModelLookup(this.#ctx.core, msg, shm);
      const forward = this.#ctx.headerForwardPattern;
      if (forward !== undefined) forwardHeaders(decoded.request, metadataPairs(this.#call.metadata), forward);
      model = this.#ctx.core.model(decoded.request.modelName, decoded.request.modelVersion);
    } catch (err) {
      shm.release();
      return this.#settle(slot, msg, toTritonError(err));
    }
    const controller = new AbortController();
    this.#inFlight.add(controller);
    if (model.decoupled) return this.#runDecoupled(slot, msg, decoded, model, shm, controller);
    this.#ctx.core.infer(decoded.request, controller.signal, { transfer: true, model }).then(
      (response) => {
        this.#inFlight.delete(controller);
        let message: ModelStreamInferResponse;
        try {
          shm.writeOutputs(response.outputs);
          message = streamResponse(response, msg.id, (name) => shm.hasOutput(name));
        } catch (err) {
          return this.#settle(slot, msg, toTritonError(err));
        } finally {
          shm.release();
        }
        slot.message = message;
        slot.done = true;
        this.#flush();
      },
      (err: unknown) => {
        this.#inFlight.delete(controller);
        shm.release();
        this.#settle(slot, msg, toTritonError(err));
      },
    );
  }

  /**
   * A decoupled model's responses bypass the request order: its slot is done at once (nothing
   * to write in order) and each response is written as it comes; the stream stays open until
   * its last one.
   */
  #runDecoupled(
    slot: Slot,
    msg: ModelInferRequest,
    decoded: DecodedGrpcInferRequest,
    model: ReadyModel,
    shm: RequestSharedMemory,
    controller: AbortController,
  ): void {
    slot.done = true;
    this.#streaming++;
    this.#flush();
    const write = (message: ModelStreamInferResponse): void => {
      if (!this.#finished) this.#call.write(message);
    };
    streamDecoupled(this.#ctx.core, decoded, model, msg.id, shm, controller.signal, write)
      .catch((err: unknown) => {
        if (this.#finished) return;
        const error = toTritonError(err);
        logFailure(this.#ctx, 'ModelStreamInfer', error);
        if (!this.#grpcErrorMode) return write(streamErrorResponse(error.message, msg));
        this.#finished = true;
        this.#abortAll('Stream closed after an error');
        this.#call.emit('error', toGrpcStatus(error));
      })
      .finally(() => {
        this.#inFlight.delete(controller);
        shm.release();
        this.#streaming--;
        this.#flush();
      });
  }

  #settle(slot: Slot, msg: ModelInferRequest, error: TritonError): void {
    logFailure(this.#ctx, 'ModelStreamInfer', error);
    slot.error = error;
    if (!this.#grpcErrorMode) slot.message = streamErrorResponse(error.message, msg);
    slot.done = true;
    this.#flush();
  }

  /** Writes every response that is next in order, then ends the stream when all are written. */
  #flush(): void {
    if (this.#finished) return;
    const slots = this.#slots;
    while (slots.length > 0 && slots[0]!.done) {
      const slot = slots.shift()!;
      if (this.#grpcErrorMode && slot.error !== undefined) {
        this.#finished = true;
        this.#abortAll('Stream closed after an error');
        this.#call.emit('error', toGrpcStatus(slot.error));
        return;
      }
      if (slot.message !== undefined) this.#call.write(slot.message);
    }
    if (this.#readEnded && slots.length === 0 && this.#streaming === 0) {
      this.#finished = true;
      this.#call.end();
    }
  }

  #abortAll(reason: string): void {
    for (const controller of this.#inFlight) controller.abort(new CancelledError(reason));
    this.#inFlight.clear();
  }
}
