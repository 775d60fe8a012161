import {
  status as Status,
  type MethodDefinition,
  type sendUnaryData,
  type ServerDuplexStream,
  type ServerErrorResponse,
  type ServerUnaryCall,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';

/**
 * The gRPC calls that have not sent their status yet, so that shutdown can end them with one.
 *
 * grpc-js's `forceShutdown()` destroys the HTTP/2 sessions: the client sees a dropped
 * connection (or nothing, for a call whose bytes never arrive) instead of a status. At the end
 * of `--exit-timeout-secs` the frontend first answers every call still open with
 * `endAll(status)` (a unary call gets it through its callback, a stream as its final status
 * after the responses already written), and only then destroys what is left. Ending a call
 * this way makes grpc-js report it 'cancelled' to its handler, which aborts the request in
 * the server core.
 */
export class InFlightCalls {
  readonly #ends = new Set<(status: ServerErrorResponse) => void>();

  /** Number of calls not yet answered. */
  get size(): number {
    return this.#ends.size;
  }

  /**
   * Wraps every handler of a service implementation so its calls are tracked: unary and
   * bidirectional-streaming handlers (the only kinds the inference and health services have;
   * others are returned unwrapped).
   */
  track(
    definition: Record<string, Pick<MethodDefinition<unknown, unknown>, 'requestStream' | 'responseStream'>>,
    implementation: Record<string, unknown>,
  ): UntypedServiceImplementation {
    const out: Record<string, unknown> = {};
    for (const [name, handler] of Object.entries(implementation)) {
      const method = definition[name];
      if (typeof handler !== 'function' || method === undefined) out[name] = handler;
      else if (!method.requestStream && !method.responseStream) out[name] = this.#unary(handler as UnaryHandler);
      else if (method.requestStream && method.responseStream) out[name] = this.#bidi(handler as BidiHandler);
      else out[name] = handler;
    }
    return out as UntypedServiceImplementation;
  }

  /** Ends every call not yet answered with `status`; calls that answer later are ignored. */
  endAll(status: { code: Status; details: string }): void {
    const error = Object.assign(new Error(status.details), status) as ServerErrorResponse;
    const ends = [...this.#ends];
    this.#ends.clear();
    for (const end of ends) end(error);
  }

  #unary(handler: UnaryHandler): UnaryHandler {
    return (call, callback) => {
      let answered = false;
      const answer: sendUnaryData<unknown> = (...args) => {
        if (answered) return;
        answered = true;
        this.#ends.delete(end);
        callback(...args);
      };
      const end = (error: ServerErrorResponse): void => answer(error);
      this.#ends.add(end);
      handler(call, answer);
    };
  }

  #bidi(handler: BidiHandler): BidiHandler {
    return (call) => {
      const end = (error: ServerErrorResponse): void => {
        if (!call.writableEnded) call.emit('error', error);
      };
      const forget = (): void => {
        this.#ends.delete(end);
      };
      this.#ends.add(end);
      // 'finish': the handler ended the stream (its status follows); 'cancelled': the client
      // went away or a status was already sent.
      call.once('finish', forget);
      call.once('cancelled', forget);
      handler(call);
    };
  }
}

type UnaryHandler = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => void;
type BidiHandler = (call: ServerDuplexStream<unknown, unknown>) => void;
