import type { MessagePort } from 'node:worker_threads';
import { CancelledError } from '../../errors/index.js';
import type { CancelSignal } from '../../infer/cancellation.js';
import type { InferenceRequest, InferenceResponse } from '../../infer/tensor.js';
import { fromWireError, packRequest, toWireError, type FromCore, type InferCall, type ToCore } from './wire.js';

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
 * (core-port.ts) with its input buffers transferred, and the promise settles with the
 * response (its outputs transferred back) or the core's error, rebuilt as the TritonError of
 * the same code, so the frontend answers exactly as it would in-thread. Requests made in the
 * same turn of the event loop go in one message.
 */
export class RemoteInfer {
  readonly #port: MessagePort;
  readonly #waiters = new Map<number, Waiter>();
  #nextId = 1;
  #calls: InferCall[] = [];
  #transfer: ArrayBuffer[] = [];
  #flushQueued = false;
  readonly #flush = (): void => {
    this.#flushQueued = false;
    const message: ToCore = { t: 'infer', calls: this.#calls };
    const list = this.#transfer;
    this.#calls = [];
    this.#transfer = [];
    this.#port.postMessage(message, list);
  };

  constructor(port: MessagePort) {
    this.#port = port;
    port.on('message', (message: FromCore) => {
      if (message.t !== 'replies') return;
      for (const r of message.replies) {
        const w = this.#waiters.get(r.id);
        if (w === undefined) continue;
        this.#waiters.delete(r.id);
        w.unlisten?.();
        if (r.response !== undefined) w.resolve(r.response);
        else w.reject(fromWireError(r.error ?? { message: 'no response' }));
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
    const call: InferCall = { id, request: packRequest(request, this.#transfer, options.owned) };
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
          const message: ToCore = { t: 'cancel', id, error: toWireError(signal.reason ?? new CancelledError('Request cancelled')) };
          this.#port.postMessage(message);
        };
        signal.addEventListener('abort', onAbort);
        waiter.unlisten = () => signal.removeEventListener('abort', onAbort);
      }
      this.#waiters.set(id, waiter);
      this.#calls.push(call);
      if (!this.#flushQueued) {
        this.#flushQueued = true;
        setImmediate(this.#flush);
      }
    });
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
