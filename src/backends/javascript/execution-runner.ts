import type { MessagePort } from 'node:worker_threads';
import { InternalError, isErrorCode, TritonError } from '../../errors/index.js';
import type { Tensor } from '../../infer/tensor.js';
import { packForTransfer } from '../../infer/transfer.js';
import type { FromWorker, WireError, WireRequest, WireResponse } from './messages.js';
import type { ExecuteContext, JavaScriptModel } from './model-api.js';
import { errorText } from './model-module.js';
import { WorkerRequest } from './model-request.js';
import { describeValue, responseToTensors, type ResponseRules } from './response-outputs.js';

/** A value that is iterated for responses (async or sync iterables, arrays included). */
type ResponseIterator = AsyncIterator<unknown, unknown> | Iterator<unknown, unknown>;

function iteratorOf(v: unknown): ResponseIterator | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as { [Symbol.asyncIterator]?: () => ResponseIterator; [Symbol.iterator]?: () => ResponseIterator };
  if (typeof o[Symbol.asyncIterator] === 'function') return o[Symbol.asyncIterator]!();
  if (typeof o[Symbol.iterator] === 'function') return o[Symbol.iterator]!();
  return undefined;
}

/**
 * Runs `execute` calls in the model's worker thread and turns what the model returns into
 * responses for the main thread. Default models: one response per request, all sent in one
 * 'done' message. Decoupled models: each response is posted as soon as the model yields it
 * (model-api.ts `DecoupledResult`), then 'done' once every request is final.
 */
export class ExecutionRunner {
  readonly #cancels = new Map<string, () => void>();
  readonly #label: string;

  constructor(
    private readonly port: MessagePort,
    private readonly model: JavaScriptModel,
    private readonly context: ExecuteContext,
    private readonly rules: ResponseRules,
    private readonly decoupled: boolean,
  ) {
    this.#label = `model '${context.modelName}' version ${context.modelVersion} instance '${context.instanceName}'`;
  }

  /** The client gave up on request `index` of execution `id`: stop iterating its responses. */
  cancel(id: number, index: number): void {
    this.#cancels.get(`${id}:${index}`)?.();
  }

  async execute(id: number, wire: WireRequest[]): Promise<void> {
    const t0 = performance.now();
    let requests: WorkerRequest[];
    try {
      requests = wire.map((w) => new WorkerRequest(w, this.context.modelName));
    } catch (err) {
      return this.#done(id, this.#failAll(wire.length, err), [performance.now() - t0, 0, 0]);
    }
    const t1 = performance.now();
    let results: unknown;
    try {
      results = await this.model.execute(requests, this.context);
    } catch (err) {
      return this.#done(id, this.#failAll(requests.length, err), [t1 - t0, performance.now() - t1, 0]);
    }
    if (!Array.isArray(results) || results.length !== requests.length) {
      const err = new InternalError(
        `${this.#label}: execute must return an array with one ${this.decoupled ? 'result' : 'response'} per request (${requests.length}), got ${describeValue(results)}`,
      );
      return this.#done(id, this.#failAll(requests.length, err), [t1 - t0, performance.now() - t1, 0]);
    }
    if (this.decoupled) {
      const timing = { output: 0 };
      await Promise.all(results.map((r, i) => this.#stream(id, i, requests[i]!, r, timing)));
      const total = performance.now() - t1;
      return this.#done(id, [], [t1 - t0, total - timing.output, timing.output]);
    }
    const t2 = performance.now();
    const responses = results.map((r, index): WireResponse => {
      if (r instanceof Error) return { index, error: returnedError(r), final: true };
      try {
        const req = requests[index]!;
        return { index, outputs: responseToTensors(r, req.requestedOutputs, this.rules, req.batchSize), final: true };
      } catch (err) {
        return { index, error: returnedError(err as Error), final: true };
      }
    });
    this.#done(id, responses, [t1 - t0, t2 - t1, performance.now() - t2]);
  }

  /** Drives one request of a decoupled model to its final response. */
  async #stream(id: number, index: number, req: WorkerRequest, result: unknown, timing: { output: number }): Promise<void> {
    const send = (value: unknown, final: boolean): boolean => {
      const t = performance.now();
      try {
        const outputs = responseToTensors(value, req.requestedOutputs, this.rules, undefined);
        this.#post({ kind: 'response', id, response: { index, outputs, final } }, outputs);
        return true;
      } catch (err) {
        this.#post({ kind: 'response', id, response: { index, error: returnedError(err as Error), final: true } });
        return false;
      } finally {
        timing.output += performance.now() - t;
      }
    };
    const finalOnly = (): void => this.#post({ kind: 'response', id, response: { index, final: true } });
    if (result instanceof Error) {
      this.#post({ kind: 'response', id, response: { index, error: returnedError(result), final: true } });
      return;
    }
    if (result === undefined || result === null) return finalOnly();
    const it = iteratorOf(result);
    if (it === undefined) {
      send(result, true);
      return;
    }
    const key = `${id}:${index}`;
    this.#cancels.set(key, () => {
      req.cancelled = true;
    });
    try {
      for (;;) {
        const step = await it.next();
        if (req.cancelled) {
          await it.return?.();
          return finalOnly();
        }
        if (step.done === true) {
          if (step.value === undefined) finalOnly();
          else send(step.value, true);
          return;
        }
        if (!send(step.value, false)) {
          await it.return?.();
          return;
        }
      }
    } catch (err) {
      this.#post({ kind: 'response', id, response: { index, error: this.#thrown(err), final: true } });
    } finally {
      this.#cancels.delete(key);
    }
  }

  #failAll(count: number, err: unknown): WireResponse[] {
    const error = this.#thrown(err);
    return Array.from({ length: count }, (_, index) => ({ index, error, final: true }));
  }

  /** A throw from model code: the model named, Triton's code kept when the error carries one. */
  #thrown(err: unknown): WireError {
    if (err instanceof TritonError) return { code: err.code, message: err.message };
    const code = (err as { code?: unknown } | null)?.code;
    return { code: isErrorCode(code) ? code : 'INTERNAL', message: `${this.#label}: execute failed: ${errorText(err)}` };
  }

  #done(id: number, responses: WireResponse[], ms: [number, number, number]): void {
    const durations = ms.map((v) => Math.max(0, Math.round(v * 1e6))) as [number, number, number];
    const outputs = responses.flatMap((r) => r.outputs ?? []);
    this.#post({ kind: 'done', id, responses, durations }, outputs);
  }

  /**
   * Posts with the outputs' buffers transferred. A buffer that cannot move (detached because
   * the model returned the same array twice, or marked untransferable) turns into a copy; a
   * copy that fails as well turns the responses into errors.
   */
  #post(msg: FromWorker, outputs: Tensor[] = []): void {
    if (outputs.length === 0) return this.port.postMessage(msg);
    const attempt = (copyAll: boolean): void => {
      const packed = packForTransfer(outputs, copyAll);
      const swap = new Map(outputs.map((t, i) => [t, packed.tensors[i]!]));
      this.port.postMessage(replaceTensors(msg, swap), packed.transfer);
    };
    try {
      attempt(false);
    } catch {
      try {
        attempt(true);
      } catch (err) {
        const error: WireError = { code: 'INTERNAL', message: `${this.#label}: cannot send the response: ${errorText(err)}` };
        const fail = (r: WireResponse): WireResponse => ({ index: r.index, error, final: true });
        if (msg.kind === 'done') this.port.postMessage({ ...msg, responses: msg.responses.map(fail) });
        else if (msg.kind === 'response') this.port.postMessage({ ...msg, response: fail(msg.response) });
      }
    }
  }
}

function replaceTensors(msg: FromWorker, swap: Map<Tensor, Tensor>): FromWorker {
  const fix = (r: WireResponse): WireResponse => (r.outputs ? { ...r, outputs: r.outputs.map((t) => swap.get(t) ?? t) } : r);
  if (msg.kind === 'done') return { ...msg, responses: msg.responses.map(fix) };
  if (msg.kind === 'response') return { ...msg, response: fix(msg.response) };
  return msg;
}

/** An Error a model returned (or a response check failed): its message kept, code INTERNAL unless it carries Triton's. */
function returnedError(err: Error): WireError {
  const code = (err as { code?: unknown }).code;
  return { code: isErrorCode(code) ? code : 'INTERNAL', message: err.message };
}
