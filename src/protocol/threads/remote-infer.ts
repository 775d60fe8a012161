import type { MessagePort } from 'node:worker_threads';
import { CancelledError, InternalError } from '../../errors/index.js';
import type { CancelSignal } from '../../infer/cancellation.js';
import type { InferenceRequest, InferenceResponse } from '../../infer/tensor.js';
import { fromWireError, packRequest, toWireError, type FromCore, type InferCall, type InferReply, type ToCore } from './wire.js';
import { WireReader } from './wire-buffer.js';
import { decodeReply, encodableRequest, encodeCall } from './wire-codec.js';
import { isWireMessage, readWireMessage, WireSender } from './wire-sender.js';

interface Waiter {
  resolve(response: InferenceResponse): void;
  reject(err: Error): void;
  unlisten?: () => void;
}

/** Per-call options of `RemoteInfer.infer`. */
export interface RemoteInferOptions {
  /** The protocol whose decoupled-model refusal applies (infer routes refuse decoupled models). */
  refuseDecoupled?: 'http' | 'grpc';
  /** Aborting it cancels the request in the core (gRPC cancel or deadline). */
  signal?: CancelSignal;
  /** The received body's ArrayBuffer, when the request owns all of it (`packRequest`). */
  owned?: ArrayBuffer;
}

/**
 * A protocol thread's way to `ServerCore.infer`: the request goes to the core thread
 * (core-port.ts) as a record of a binary message (wire-codec.ts: small inputs copied in, large
 * ones transferred), and the promise settles with the response (its outputs likewise) or the
 * core's error, rebuilt as the TritonError of the same code, so the frontend answers exactly as
 * it would in-thread. Requests made in the same turn of the event loop go in one message.
 */
export class RemoteInfer {
  readonly #port: MessagePort;
  readonly #waiters = new Map<number, Waiter>();
  readonly #reader = new WireReader();
  readonly #sender: WireSender<InferCall, ToCore>;
  #nextId = 1;

  constructor(port: MessagePort) {
    this.#port = port;
    this.#sender = new WireSender<InferCall, ToCore>(
      (message, transfer) => port.postMessage(message, transfer),
      (calls): ToCore => ({ t: 'infer', calls }),
      (ids, err) => {
        for (const id of ids) this.#settle({ id, error: toWireError(err) });
      },
    );
    port.on('message', (message: FromCore) => {
      if (isWireMessage(message)) {
        let replies: InferReply[];
        try {
          replies = readWireMessage(this.#reader, message, decodeReply);
        } catch (err) {
          // Which requests it answered is unknown: all fail, and the core starts a new name table.
          this.failAll(new InternalError(`a reply from the core thread could not be read: ${(err as Error).message}`));
          port.postMessage({ t: 'resync' } satisfies ToCore);
          return;
        }
        for (const r of replies) this.#settle(r);
      } else if (message.t === 'replies') {
        for (const r of message.replies) this.#settle(r);
      } else if (message.t === 'resync') {
        this.#sender.resync();
        this.failAll(new InternalError('a request could not be read by the core thread'));
      }
    });
  }

  /** Requests waiting for their reply. */
  get size(): number {
    return this.#waiters.size;
  }

  /**
   * Sends `request` to the core thread. Its input buffers are moved: the caller must not read
   * them afterwards. Rejects with the core's error (same code and message).
   */
  infer(request: InferenceRequest, options: RemoteInferOptions = {}): Promise<InferenceResponse> {
    const id = this.#nextId++;
    const call: InferCall = { id, request };
    if (options.refuseDecoupled !== undefined) call.refuseDecoupled = options.refuseDecoupled;
    const signal = options.signal;
    return new Promise<InferenceResponse>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject };
      if (signal !== undefined) {
        if (signal.aborted) {
          reject(signal.reason instanceof Error ? signal.reason : new CancelledError('Request cancelled'));
          return;
        }
        call.cancellable = true;
        const onAbort = (): void => {
          // The call itself first, if it is still waiting for its flush: else the cancel would
          // arrive before it and be ignored.
          this.#sender.flush();
          const message: ToCore = { t: 'cancel', id, error: toWireError(signal.reason ?? new CancelledError('Request cancelled')) };
          this.#port.postMessage(message);
        };
        signal.addEventListener('abort', onAbort);
        waiter.unlisten = () => signal.removeEventListener('abort', onAbort);
      }
      this.#waiters.set(id, waiter);
      this.#send(call, options.owned);
    });
  }

  /** Binary when it can (wire-codec.ts), else as an object with its inputs packed. */
  #send(call: InferCall, owned: ArrayBuffer | undefined): void {
    if (encodableRequest(call.request)) {
      try {
        this.#sender.record(call.id, encodeCall, call, owned);
        return;
      } catch {
        // The object way below: the clone says what it cannot carry.
      }
    }
    const transfer: ArrayBuffer[] = [];
    this.#sender.object(call.id, { ...call, request: packRequest(call.request, transfer, owned) }, transfer);
  }

  #settle(r: InferReply): void {
    const w = this.#waiters.get(r.id);
    if (w === undefined) return;
    this.#waiters.delete(r.id);
    w.unlisten?.();
    if (r.response !== undefined) w.resolve(r.response);
    else w.reject(fromWireError(r.error ?? { message: 'no response' }));
  }

  /** Rejects every waiting request with `err` (the core thread went away). */
  failAll(err: Error): void {
    for (const w of this.#waiters.values()) {
      w.unlisten?.();
      w.reject(err);
    }
    this.#waiters.clear();
  }
}
