import type { MessagePort } from 'node:worker_threads';
import type { Worker } from 'node:worker_threads';
import { CancelledError, UnsupportedError } from '../../errors/index.js';
import { Cancellation } from '../../infer/cancellation.js';
import type { InferenceResponse } from '../../infer/tensor.js';
import { markUntransferable } from '../../infer/untransferable.js';
import type { ReadyModel, ServerCore } from '../../server-types.js';
import { HTTP_DECOUPLED_MESSAGE } from '../http/transaction-policy.js';
import { fromWireError, packResponse, toWireError, type FromCore, type InferCall, type InferReply, type ToCore } from './wire.js';
import { WireReader } from './wire-buffer.js';
import { decodeCall, encodableResponse, encodeError, encodeResponse } from './wire-codec.js';
import { isWireMessage, readWireMessage, WireSender, type WireMessage } from './wire-sender.js';

/** gRPC ModelInfer's refusal of a decoupled model (grpc/infer-handler.ts `refuseDecoupled`). */
const GRPC_DECOUPLED_MESSAGE = "ModelInfer RPC doesn't support models with decoupled transaction policy";

const OWNED = { transfer: true } as const;

/**
 * The core thread's side of one protocol thread: runs each infer call it receives through
 * `core.infer` (the server facade's public API, as an in-thread frontend would) and posts the
 * replies back, those completed in the same tick in one message. This is all the per-request
 * work the core thread does for a request a protocol thread received: receive, decode,
 * validation of the wire form and encoding happen there.
 *
 * Calls still running when the thread's port closes are cancelled (their client is gone).
 */
export function serveCorePort(core: ServerCore, port: MessagePort | Worker): { readonly inFlight: number; readonly calls: number; close(): void } {
  let inFlight = 0;
  let calls = 0;
  const cancels = new Map<number, Cancellation>();
  const reader = new WireReader();
  const post = (message: FromCore | WireMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);
  const sender = new WireSender<InferReply, FromCore>(post, (replies): FromCore => ({ t: 'replies', replies }), (ids, err) => {
    // The protocol thread must still hear of these requests: their error goes the object way.
    const error = toWireError(err);
    post({ t: 'replies', replies: ids.map((id) => ({ id, error })) });
  });

  const succeed = (id: number, response: InferenceResponse): void => {
    inFlight--;
    cancels.delete(id);
    if (encodableResponse(response)) {
      try {
        sender.record(id, encodeResponse, id, response);
        return;
      } catch {
        // The object way below: the clone says what it cannot carry.
      }
    }
    const transfer: ArrayBuffer[] = [];
    sender.object(id, { id, response: packResponse(response, transfer) }, transfer);
  };
  const fail = (id: number, err: unknown): void => {
    inFlight--;
    cancels.delete(id);
    const error = toWireError(err);
    try {
      sender.record(id, encodeError, id, error);
    } catch {
      sender.object(id, { id, error }, []);
    }
  };

  const run = (call: InferCall): void => {
    const { id, request } = call;
    inFlight++;
    calls++;
    try {
      // As the in-thread handlers: the model lookup, then the refusal of a decoupled model; the
      // model found goes with the request, which is then not looked up again.
      let model: ReadyModel | undefined;
      if (call.refuseDecoupled !== undefined) {
        model = core.model(request.modelName, request.modelVersion);
        if (model.decoupled) throw new UnsupportedError(call.refuseDecoupled === 'http' ? HTTP_DECOUPLED_MESSAGE : GRPC_DECOUPLED_MESSAGE);
      }
      let cancel: Cancellation | undefined;
      if (call.cancellable === true) cancels.set(id, (cancel = new Cancellation()));
      core.infer(request, cancel, model === undefined ? OWNED : { transfer: true, model }).then(
        (response) => succeed(id, response),
        (err: unknown) => fail(id, err),
      );
    } catch (err) {
      fail(id, err);
    }
  };

  const onMessage = (message: ToCore | WireMessage): void => {
    if (isWireMessage(message)) {
      let received: InferCall[];
      try {
        received = readWireMessage(reader, message, decodeCall);
      } catch {
        // A bug, not a client's doing: the protocol thread fails what it waits for and starts a
        // new name table rather than this thread guessing which requests the message held.
        post({ t: 'resync' });
        return;
      }
      // Several calls' inputs view this one buffer: a backend must copy them, not move it.
      const buf = Array.isArray(message) ? message[0]! : message;
      if (received.length > 1 && buf.byteLength > Buffer.poolSize) markUntransferable(buf as ArrayBuffer);
      for (const call of received) run(call);
    } else if (message.t === 'infer') {
      for (const call of message.calls) run(call);
    } else if (message.t === 'cancel') {
      cancels.get(message.id)?.abort(fromWireError(message.error));
    } else if (message.t === 'resync') {
      sender.resync();
    }
  };
  port.on('message', onMessage);
  return {
    /** Infer calls received and not yet answered. */
    get inFlight() {
      return inFlight;
    },
    /** Infer calls received so far. */
    get calls() {
      return calls;
    },
    close() {
      port.off('message', onMessage);
      for (const c of cancels.values()) c.abort(new CancelledError('Request cancelled: its protocol thread stopped'));
      cancels.clear();
    },
  };
}
