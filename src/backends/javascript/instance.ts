import type { Worker } from 'node:worker_threads';
import { errorFromCode, InternalError, toTritonError, UnavailableError } from '../../errors/index.js';
import type { InferenceRequest, InferenceResponse } from '../../infer/tensor.js';
import { packForTransfer } from '../../infer/transfer.js';
import type { Logger } from '../../observability/logger.js';
import type { ModelInstance } from '../backend.js';
import { executionTimeoutError } from '../execution-watchdog.js';
import { IsolatedInstance, type Execution } from '../isolated-instance.js';
import { MAX_EXTERNAL_PARAMETER, MAX_HEAP_PARAMETER } from './instance-limits.js';
import type { FromWorker, InstanceWorkerData, ToWorker, WireBlsRequest, WireRequest, WireResponse } from './messages.js';
import { startWorker } from './worker-spawn.js';

/** Runs a BLS request on the server (`InferenceServer.infer`). */
export type BlsHandler = (request: InferenceRequest) => Promise<InferenceResponse>;

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
export class JavaScriptInstance extends IsolatedInstance<Worker> implements ModelInstance {
  /** A javascript model may answer a request zero, one or many times. */
  readonly decoupled = true;
  readonly #data: InstanceWorkerData;
  readonly #bls: BlsHandler | undefined;
  /** A thread being started (restart), so terminate() can end an `initialize` that hangs. */
  #starting: Worker | undefined;
  #lastThreadError: Error | undefined;

  private constructor(data: InstanceWorkerData, worker: Worker, bls: BlsHandler | undefined, logger: Logger | undefined) {
    super({
      name: data.init.instanceName,
      label: `model '${data.init.modelName}' version ${data.init.modelVersion} instance '${data.init.instanceName}'`,
      modelName: data.init.modelName,
      logger,
      executionTimeoutMs: data.limits.executionTimeoutMs,
      terminatedAs: 'its worker thread was terminated',
      finalizeTimeoutAction: 'terminating its thread',
    });
    this.#data = data;
    this.#bls = bls;
    this.attach(worker);
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

  protected launch(): Promise<Worker> {
    return startWorker(this.#data, `restarting ${this.label}`, (w) => (this.#starting = w)).then(
      ({ worker }) => {
        this.#starting = undefined;
        return worker;
      },
      (err: unknown) => {
        this.#starting = undefined;
        throw err;
      },
    );
  }

  protected async disposeRunner(worker: Worker): Promise<void> {
    await worker.terminate();
  }

  /** Ends the thread and one being restarted (an `initialize` that hangs), and waits for both. */
  protected override terminateRunners(worker: Worker | undefined): Promise<unknown> {
    return Promise.allSettled([worker?.terminate(), this.#starting?.terminate()]);
  }

  protected askFinalize(worker: Worker): void {
    worker.postMessage({ kind: 'close' } satisfies ToWorker);
  }

  protected setRef(worker: Worker, ref: boolean): void {
    if (ref) worker.ref();
    else worker.unref();
  }

  protected timeoutError(ms: number): Error {
    return executionTimeoutError(this.label, ms);
  }

  protected attached(worker: Worker): void {
    this.#lastThreadError = undefined;
    worker.on('message', (msg: FromWorker) => this.#onMessage(worker, msg));
    worker.on('error', (err) => {
      if (worker === this.runner) this.#lastThreadError = err;
    });
    worker.on('exit', (code) => this.#onExit(worker, code));
  }

  /** Posts the inputs to the thread, transferring their buffers (copied where Node refuses). */
  protected send(worker: Worker, ex: Execution): void {
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
    this.markSent(worker, ex);
    try {
      try {
        post(false);
      } catch {
        // A buffer Node refuses to transfer (marked untransferable by its owner): copy instead.
        post(true);
      }
    } catch (err) {
      this.finish(ex, new InternalError(`${this.label}: cannot send the inputs to its worker thread: ${String(err)}`));
      return;
    }
    // The worker owns whatever was transferred now.
    for (const r of ex.requests) r.inputs = [];
    // Decoupled models keep producing until told the client left; default models just finish.
    if (!this.#data.decoupled) return;
    this.forwardCancellation(ex, (index) => worker.postMessage({ kind: 'cancel', id: ex.id, index } satisfies ToWorker));
  }

  #onMessage(worker: Worker, msg: FromWorker): void {
    if (worker !== this.runner) return;
    switch (msg.kind) {
      case 'response': {
        const ex = this.current;
        if (ex !== undefined && ex.id === msg.id) this.#deliver(ex, msg.response);
        return;
      }
      case 'done': {
        const ex = this.current;
        if (ex === undefined || ex.id !== msg.id) return;
        for (const r of msg.responses) this.#deliver(ex, r);
        const [inputNs, inferNs, outputNs] = msg.durations;
        // The two thread hops are not measured apart; each side gets half of them.
        const hopNs = Math.max(0, Math.round((performance.now() - ex.sentAt) * 1e6) - inputNs - inferNs - outputNs);
        this.finish(ex, new InternalError(`${this.label} finished without completing the request`), {
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
        this.logger?.warn({ model: this.#data.init.modelName }, msg.error.message);
        return;
      case 'memory-exceeded': {
        const mib = Math.round(msg.externalBytes / 2 ** 20);
        const limit = this.#data.limits.maxExternalMb;
        const reason = `its memory outside the JavaScript heap (${mib} MiB) exceeded ${MAX_EXTERNAL_PARAMETER} ${limit}`;
        this.kill(worker, new InternalError(`${this.label}: ${reason}; the instance is restarting`));
        return;
      }
      case 'closed':
        this.finalized();
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

  #onExit(worker: Worker, code: number): void {
    const cause = this.#lastThreadError;
    let reason = cause !== undefined ? `its worker thread failed: ${cause.name}: ${cause.message}` : `its worker thread exited (code ${code})`;
    if ((cause as NodeJS.ErrnoException | undefined)?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
      reason += ` (${MAX_HEAP_PARAMETER} ${this.#data.limits.maxHeapMb})`;
    }
    this.runnerExited(worker, new InternalError(`${this.label}: ${reason}; the instance is restarting`));
  }

  async #runBls(worker: Worker, callId: number, wire: WireBlsRequest): Promise<void> {
    let reply: ToWorker;
    let transfer: ArrayBuffer[] = [];
    try {
      if (this.#bls === undefined) throw new UnavailableError(`${this.label}: infer() is not available outside an InferenceServer`);
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
    if (worker === this.runner) worker.postMessage(reply, transfer);
  }
}
