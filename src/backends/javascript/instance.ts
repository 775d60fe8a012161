import type { Worker } from 'node:worker_threads';
import { errorFromCode, InternalError, toTritonError, UnavailableError } from '../../errors/index.js';
import type { InferenceRequest, InferenceResponse } from '../../infer/tensor.js';
import { packForTransfer } from '../../infer/transfer.js';
import type { Logger } from '../../observability/logger.js';
import type { ModelInstance } from '../backend.js';
import type { ComputeTiming } from '../../infer/compute-timing.js';
import { executionTimeoutError, ExecutionWatchdog } from '../execution-watchdog.js';
import type { InstanceRequest } from '../request-instance.js';
import { MAX_EXTERNAL_PARAMETER, MAX_HEAP_PARAMETER } from './instance-limits.js';
import type { FromWorker, InstanceWorkerData, ToWorker, WireBlsRequest, WireRequest, WireResponse } from './messages.js';
import { startWorker } from './worker-spawn.js';

/** Runs a BLS request on the server (`InferenceServer.infer`). */
export type BlsHandler = (request: InferenceRequest) => Promise<InferenceResponse>;

/** One `executeRequests` call, queued or running. */
interface Execution {
  id: number;
  requests: InstanceRequest[];
  /** Requests that got their final response or error. */
  final: boolean[];
  resolve: (timing: ComputeTiming) => void;
  /** performance.now() when posted. */
  sentAt: number;
  unlisten: (() => void)[];
}

type State = 'ready' | 'restarting' | 'broken' | 'closing' | 'closed';

/** How long `finalize` may take at unload before the thread is terminated anyway. */
const FINALIZE_TIMEOUT_MS = 10_000;
const ZERO_TIMING: ComputeTiming = { inputNs: 0, inferNs: 0, outputNs: 0 };

/**
 * One JavaScript model instance: a worker thread running the model's class (javascript-worker.ts).
 *
 * Executions run one at a time, in call order. When the thread dies — a crash (an uncaught
 * exception, an unhandled rejection, `process.exit` in model code), its V8 heap reaching
 * MAX_HEAP_MB, or terminated by us because its external memory passed MAX_EXTERNAL_MB or an
 * execution ran past EXECUTION_TIMEOUT_MS — only the requests of the execution in flight
 * fail, with an error naming the model and instance: InternalError when the model failed
 * (as Triton's Python backend answers when its stub process dies), UnavailableError for the
 * timeout (see executionTimeoutError). The instance then restarts at once: a new thread, the
 * module imported again, `initialize` called again. Requests that arrive meanwhile wait for
 * it; if the restart fails they get UnavailableError and the next request tries again.
 * Unlike ONNX Runtime threads, a JavaScript thread may be terminated at any time, so close()
 * gives `finalize` FINALIZE_TIMEOUT_MS and then terminates, and terminate() ends it at once.
 */
export class JavaScriptInstance implements ModelInstance {
  readonly name: string;
  /** A javascript model may answer a request zero, one or many times. */
  readonly decoupled = true;
  readonly #label: string;
  readonly #data: InstanceWorkerData;
  readonly #bls: BlsHandler | undefined;
  readonly #logger: Logger | undefined;
  #worker: Worker | undefined;
  /** A thread being started (restart), so terminate() can end an `initialize` that hangs. */
  #starting: Worker | undefined;
  readonly #watchdog: ExecutionWatchdog;
  #state: State = 'ready';
  #brokenReason = '';
  #restarting: Promise<void> | undefined;
  #current: Execution | undefined;
  readonly #queue: Execution[] = [];
  #nextId = 1;
  #lastThreadError: Error | undefined;
  #closing: Promise<void> | undefined;
  #onIdle: (() => void) | undefined;
  #onClosed: (() => void) | undefined;

  private constructor(data: InstanceWorkerData, worker: Worker, bls: BlsHandler | undefined, logger: Logger | undefined) {
    this.name = data.init.instanceName;
    this.#label = `model '${data.init.modelName}' version ${data.init.modelVersion} instance '${data.init.instanceName}'`;
    this.#data = data;
    this.#bls = bls;
    this.#logger = logger;
    this.#watchdog = new ExecutionWatchdog(data.limits.executionTimeoutMs, () => {
      if (this.#worker !== undefined) this.#kill(this.#worker, executionTimeoutError(this.#label, data.limits.executionTimeoutMs));
    });
    this.#attach(worker);
  }

  /**
   * Starts the thread, imports the model and runs `initialize`.
   * @throws InvalidArgumentError when the module cannot be imported or exports no model class;
   *   the model's error (INTERNAL unless it carries a Triton `code`) when `initialize` throws;
   *   InternalError when the thread dies first.
   */
  static async start(data: InstanceWorkerData, bls?: BlsHandler, logger?: Logger): Promise<JavaScriptInstance> {
    const { worker } = await startWorker(data, `loading model '${data.init.modelName}' instance '${data.init.instanceName}'`);
    return new JavaScriptInstance(data, worker, bls, logger);
  }

  /**
   * Hands the requests to the model's `execute` in its thread (as Triton's Python backend
   * hands a list of requests to `execute`), and relays its responses. Never rejects: a failed
   * execution fails its requests (see the class comment); UnavailableError once closing.
   */
  executeRequests(requests: InstanceRequest[]): Promise<ComputeTiming> {
    return new Promise<ComputeTiming>((resolve) => {
      const ex: Execution = { id: this.#nextId++, requests, final: requests.map(() => false), resolve, sentAt: 0, unlisten: [] };
      if (this.#state === 'closing' || this.#state === 'closed') {
        this.#finish(ex, new UnavailableError(`${this.#label} is ${this.#state === 'closing' ? 'closing' : 'closed'}`));
        return;
      }
      this.#queue.push(ex);
      this.#pump();
    });
  }

  /** Lets the running execution finish, calls `finalize`, then ends the thread. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  /**
   * Ends the instance now (unload past its exit timeout): the execution in flight and the
   * queued ones fail with UnavailableError "<instance>: <reason>; its worker thread was
   * terminated", the thread (or one being restarted) is terminated without `finalize`, and
   * later requests fail UNAVAILABLE. A close() in progress resolves.
   */
  async terminate(reason: string): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closing';
    const error = new UnavailableError(`${this.#label}: ${reason}; its worker thread was terminated`);
    const worker = this.#worker;
    const starting = this.#starting;
    this.#worker = undefined;
    this.#watchdog.disarm();
    for (const ex of this.#queue.splice(0)) this.#finish(ex, error);
    if (this.#current !== undefined) this.#finish(this.#current, error);
    this.#onClosed?.();
    await Promise.allSettled([worker?.terminate(), starting?.terminate()]);
    this.#state = 'closed';
  }

  async #shutdown(): Promise<void> {
    this.#state = 'closing';
    for (const ex of this.#queue.splice(0)) this.#finish(ex, new UnavailableError(`${this.#label} is closing`));
    if (this.#current !== undefined) await new Promise<void>((resolve) => (this.#onIdle = resolve));
    await this.#restarting;
    const worker = this.#worker;
    if (worker !== undefined) {
      worker.ref();
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.#onClosed = resolve;
        timer = setTimeout(() => {
          this.#logger?.warn({ model: this.#data.init.modelName }, `${this.#label}: finalize did not return within ${FINALIZE_TIMEOUT_MS} ms; terminating its thread`);
          resolve();
        }, FINALIZE_TIMEOUT_MS);
        worker.postMessage({ kind: 'close' } satisfies ToWorker);
      });
      clearTimeout(timer);
      this.#worker = undefined;
      await worker.terminate();
    }
    if (this.#state === 'closing') this.#state = 'closed';
  }

  #attach(worker: Worker): void {
    this.#worker = worker;
    this.#lastThreadError = undefined;
    worker.on('message', (msg: FromWorker) => this.#onMessage(worker, msg));
    worker.on('error', (err) => {
      if (worker === this.#worker) this.#lastThreadError = err;
    });
    worker.on('exit', (code) => this.#onExit(worker, code));
    worker.unref();
  }

  #pump(): void {
    if (this.#current !== undefined || this.#queue.length === 0) return;
    if (this.#state === 'broken') return this.#restart();
    if (this.#state !== 'ready' || this.#worker === undefined) return;
    const ex = this.#queue.shift()!;
    this.#current = ex;
    this.#send(this.#worker, ex);
  }

  #send(worker: Worker, ex: Execution): void {
    const all = ex.requests.flatMap((r) => r.inputs);
    const post = (copyAll: boolean): void => {
      const packed = packForTransfer(all, copyAll);
      let k = 0;
      const requests: WireRequest[] = ex.requests.map((r) => ({
        inputs: r.inputs.map(() => packed.tensors[k++]!),
        outputNames: r.outputNames,
        batchSize: r.batchSize,
        id: r.id ?? '',
        parameters: r.parameters ?? {},
      }));
      worker.postMessage({ kind: 'execute', id: ex.id, requests } satisfies ToWorker, packed.transfer);
    };
    ex.sentAt = performance.now();
    worker.ref();
    this.#watchdog.arm();
    try {
      try {
        post(false);
      } catch {
        // A buffer Node refuses to transfer (marked untransferable by its owner): copy instead.
        post(true);
      }
    } catch (err) {
      this.#finish(ex, new InternalError(`${this.#label}: cannot send the inputs to its worker thread: ${String(err)}`));
      return;
    }
    // The worker owns whatever was transferred now.
    for (const r of ex.requests) r.inputs = [];
    // Decoupled models keep producing until told the client left; default models just finish.
    if (!this.#data.decoupled) return;
    ex.requests.forEach((r, index) => {
      const signal = r.signal;
      if (signal === undefined) return;
      const onAbort = (): void => {
        if (!ex.final[index]) worker.postMessage({ kind: 'cancel', id: ex.id, index } satisfies ToWorker);
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      ex.unlisten.push(() => signal.removeEventListener('abort', onAbort));
    });
  }

  #onMessage(worker: Worker, msg: FromWorker): void {
    if (worker !== this.#worker) return;
    switch (msg.kind) {
      case 'response': {
        const ex = this.#current;
        if (ex !== undefined && ex.id === msg.id) this.#deliver(ex, msg.response);
        return;
      }
      case 'done': {
        const ex = this.#current;
        if (ex === undefined || ex.id !== msg.id) return;
        for (const r of msg.responses) this.#deliver(ex, r);
        const [inputNs, inferNs, outputNs] = msg.durations;
        // The two thread hops are not measured apart; each side gets half of them.
        const hopNs = Math.max(0, Math.round((performance.now() - ex.sentAt) * 1e6) - inputNs - inferNs - outputNs);
        this.#finish(ex, new InternalError(`${this.#label} finished without completing the request`), {
          inputNs: inputNs + hopNs / 2,
          inferNs,
          outputNs: outputNs + hopNs / 2,
        });
        return;
      }
      case 'bls':
        void this.#runBls(worker, msg.callId, msg.request);
        return;
      case 'failed':
        // Only finalize reports failures after start-up.
        this.#logger?.warn({ model: this.#data.init.modelName }, msg.error.message);
        return;
      case 'memory-exceeded': {
        const mib = Math.round(msg.externalBytes / 2 ** 20);
        const limit = this.#data.limits.maxExternalMb;
        const reason = `its memory outside the JavaScript heap (${mib} MiB) exceeded ${MAX_EXTERNAL_PARAMETER} ${limit}`;
        this.#kill(worker, new InternalError(`${this.#label}: ${reason}; the instance is restarting`));
        return;
      }
      case 'closed':
        this.#onClosed?.();
        return;
    }
  }

  #deliver(ex: Execution, r: WireResponse): void {
    const req = ex.requests[r.index];
    if (req === undefined || ex.final[r.index]) return;
    if (r.error !== undefined) {
      ex.final[r.index] = true;
      req.fail(errorFromCode(r.error.code, r.error.message));
      return;
    }
    if (r.final) ex.final[r.index] = true;
    req.respond(r.outputs, r.final);
  }

  /** Ends an execution: requests not yet final get `error`; the next execution starts. */
  #finish(ex: Execution, error: Error, timing: ComputeTiming = ZERO_TIMING): void {
    ex.requests.forEach((r, i) => {
      if (ex.final[i]) return;
      ex.final[i] = true;
      r.fail(error);
    });
    for (const u of ex.unlisten) u();
    if (this.#current === ex) {
      this.#current = undefined;
      this.#watchdog.disarm();
      this.#worker?.unref();
      this.#onIdle?.();
    }
    ex.resolve(timing);
    this.#pump();
  }

  #onExit(worker: Worker, code: number): void {
    if (worker !== this.#worker) return;
    if (this.#state === 'closing' && this.#current === undefined) {
      this.#worker = undefined;
      this.#onClosed?.();
      return;
    }
    const cause = this.#lastThreadError;
    let reason = cause !== undefined ? `its worker thread failed: ${cause.name}: ${cause.message}` : `its worker thread exited (code ${code})`;
    if ((cause as NodeJS.ErrnoException | undefined)?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
      reason += ` (${MAX_HEAP_PARAMETER} ${this.#data.limits.maxHeapMb})`;
    }
    this.#kill(worker, new InternalError(`${this.#label}: ${reason}; the instance is restarting`));
  }

  /**
   * The thread died or must die (`error` says why): it is terminated, the execution in flight
   * fails with `error`, and the instance restarts (unless it is closing).
   */
  #kill(worker: Worker, error: Error): void {
    if (worker !== this.#worker) return;
    this.#worker = undefined;
    this.#watchdog.disarm();
    this.#logger?.error({ model: this.#data.init.modelName, instance: this.name }, error.message);
    void worker.terminate();
    const ex = this.#current;
    this.#restart();
    if (ex !== undefined) this.#finish(ex, error);
    if (this.#state === 'closing') this.#onClosed?.();
  }

  #restart(): void {
    if (this.#state === 'restarting' || this.#state === 'closing' || this.#state === 'closed') return;
    this.#state = 'restarting';
    this.#restarting = startWorker(this.#data, `restarting ${this.#label}`, (w) => (this.#starting = w)).then(
      ({ worker }) => {
        this.#restarting = undefined;
        this.#starting = undefined;
        if (this.#state !== 'restarting') {
          void worker.terminate();
          return;
        }
        this.#state = 'ready';
        this.#attach(worker);
        this.#logger?.info({ model: this.#data.init.modelName, instance: this.name }, `${this.#label} restarted`);
        this.#pump();
      },
      (err: unknown) => {
        this.#restarting = undefined;
        this.#starting = undefined;
        if (this.#state !== 'restarting') return;
        this.#state = 'broken';
        this.#brokenReason = (err as Error).message;
        this.#logger?.error({ model: this.#data.init.modelName, instance: this.name, err }, `${this.#label}: restart failed`);
        const error = new UnavailableError(`${this.#label} is unavailable: restarting it failed: ${this.#brokenReason}`);
        for (const ex of this.#queue.splice(0)) this.#finish(ex, error);
      },
    );
  }

  async #runBls(worker: Worker, callId: number, wire: WireBlsRequest): Promise<void> {
    let reply: ToWorker;
    let transfer: ArrayBuffer[] = [];
    try {
      if (this.#bls === undefined) throw new UnavailableError(`${this.#label}: infer() is not available outside an InferenceServer`);
      const request: InferenceRequest = { modelName: wire.modelName, modelVersion: wire.modelVersion, inputs: wire.inputs };
      if (wire.id !== undefined) request.id = wire.id;
      if (wire.parameters !== undefined) request.parameters = wire.parameters;
      if (wire.outputs !== undefined) request.outputs = wire.outputs.map((name) => ({ name }));
      const response = await this.#bls(request);
      // Response tensors may be views into a batch buffer other requests share: copy them.
      const packed = packForTransfer(response.outputs, true);
      transfer = packed.transfer;
      reply = { kind: 'bls-result', callId, modelName: response.modelName, modelVersion: response.modelVersion, outputs: packed.tensors };
    } catch (err) {
      const e = toTritonError(err);
      reply = { kind: 'bls-error', callId, error: { code: e.code, message: e.message } };
    }
    if (worker === this.#worker) worker.postMessage(reply, transfer);
  }
}
