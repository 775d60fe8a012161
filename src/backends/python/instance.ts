import { errorFromCode, InternalError, TRITON_ERROR_CODES, UnavailableError } from '../../errors/index.js';
import type { ComputeTiming } from '../../infer/compute-timing.js';
import type { InferParameters, Tensor } from '../../infer/tensor.js';
import type { ExecuteResult, ModelInstance } from '../backend.js';
import { executionTimeoutError } from '../execution-watchdog.js';
import { IsolatedInstance, type Execution } from '../isolated-instance.js';
import { requestToWire } from './request-wire.js';
import { launchStub, type LaunchOptions, type LaunchedStub } from './stub-launch.js';
import type { StubMessage } from './stub-process.js';
import { readTensors, writeRequestInputs, type WireTensor } from './tensor-wire.js';

/** How long a model's `is_ready()` may take before the check counts as not ready (Triton: 5 s). */
const IS_READY_TIMEOUT_MS = 5_000;

/**
 * One instance of a Triton Python-backend model: a stub process (stub.py) running the
 * model's `TritonPythonModel`, as Triton runs one stub per instance.
 *
 * Executions run one at a time; each hands `execute` the list of requests it was given.
 * Inputs go through the instance's input arena (shared memory), responses come back through
 * the stub's output arena; the control messages carry only names, shapes and offsets. An
 * execution ends when every request got its final response (decoupled models answer through
 * response senders, possibly after `execute` returned) or its error.
 *
 * When the stub dies (a crash, `os._exit`, killed, or past EXECUTION_TIMEOUT_MS) only the
 * execution in flight fails, with an error naming the model and instance; the instance
 * restarts at once (new stub, `initialize` again) and requests wait for it. If the restart
 * fails they get UnavailableError and the next request tries again.
 */
export class PythonInstance extends IsolatedInstance<LaunchedStub> implements ModelInstance {
  /** `model_transaction_policy { decoupled: true }`: zero, one or many responses per request. */
  readonly decoupled: boolean;
  readonly #opts: LaunchOptions;
  /** The current execution's stub `execute` returned (`done`); it ends once every request is final. */
  #returned = false;
  /** The current execution's time in the model's `execute` (ns), as the stub measured it. */
  #inferNs = 0;
  /** The last answer of the model's `is_ready()`, and the check in flight. */
  #userReady = true;
  #readyCheck: { call: number; timer: NodeJS.Timeout } | undefined;
  #nextReadyCall = 1;

  private constructor(opts: LaunchOptions, stub: LaunchedStub) {
    super({
      name: opts.args.model_instance_name,
      label: opts.label,
      modelName: opts.args.model_name,
      logger: opts.logger,
      executionTimeoutMs: opts.executionTimeoutMs,
      terminatedAs: 'its stub process was killed',
      finalizeTimeoutAction: 'killing its stub process',
    });
    this.decoupled = opts.decoupled;
    this.#opts = opts;
    this.attach(stub);
  }

  /**
   * Starts the stub and runs the model's `initialize`.
   * @throws as launchStub: the Python error with its traceback when import or `initialize`
   *   fails; UnavailableError naming a missing interpreter or numpy and how to install it.
   */
  static async start(opts: LaunchOptions): Promise<PythonInstance> {
    let instance: PythonInstance | undefined;
    const stub = await launchStub(
      opts,
      (s, m) => {
        if (instance !== undefined) instance.#onMessage(s, m);
      },
      (s, reason) => {
        if (instance !== undefined) instance.#onExit(s, reason);
      },
    );
    instance = new PythonInstance(opts, stub);
    return instance;
  }

  async execute(inputs: Tensor[], outputNames: string[]): Promise<ExecuteResult> {
    let outputs: Tensor[] | undefined;
    let error: Error | undefined;
    const batchSize = this.#opts.maxBatchSize > 0 ? (inputs[0]?.shape[0] ?? 1) : 1;
    const timing = await this.executeRequests([
      { inputs, outputNames, batchSize, respond: (o) => (outputs = o ?? outputs), fail: (e) => (error = e) },
    ]);
    if (error !== undefined) throw error;
    if (outputs === undefined) throw new InternalError(`${this.label} completed the request without a response`);
    return { outputs, timing };
  }

  /**
   * Not ready while the stub is down (restarting or broken) or closing. For a model that
   * defines `is_ready()`, each check asks the stub anew (one question in flight, 5 s limit)
   * and answers with the latest completed answer, since the readiness endpoints are
   * synchronous: a change shows from the check after the model's answer changed.
   */
  isReady(): boolean {
    const stub = this.runner;
    if (!this.ready || stub === undefined) return false;
    if (stub.hasIsReady && this.#readyCheck === undefined) {
      const call = this.#nextReadyCall++;
      const timer = setTimeout(() => this.#readyAnswer(call, false), IS_READY_TIMEOUT_MS);
      timer.unref();
      this.#readyCheck = { call, timer };
      stub.process.send({ op: 'is_ready', call });
    }
    return this.#userReady;
  }

  #readyAnswer(call: number, ready: boolean): void {
    if (this.#readyCheck?.call !== call) return;
    clearTimeout(this.#readyCheck.timer);
    this.#readyCheck = undefined;
    this.#userReady = ready;
  }

  protected launch(): Promise<LaunchedStub> {
    const onMessage = (s: LaunchedStub, m: StubMessage): void => this.#onMessage(s, m);
    const onExit = (s: LaunchedStub, reason: string): void => this.#onExit(s, reason);
    return launchStub(this.#opts, onMessage, onExit);
  }

  /** Ends the stub process and frees its shared memory. */
  protected disposeRunner(stub: LaunchedStub): Promise<void> {
    return stub.dispose();
  }

  protected askFinalize(stub: LaunchedStub): void {
    stub.process.send({ op: 'finalize' });
  }

  protected setRef(stub: LaunchedStub, ref: boolean): void {
    if (ref) stub.process.ref();
    else stub.process.unref();
  }

  protected timeoutError(ms: number): Error {
    return new UnavailableError(executionTimeoutError(this.label, ms).message.replace('its worker thread', 'its stub process'));
  }

  protected attached(): void {
    if (this.#readyCheck !== undefined) clearTimeout(this.#readyCheck.timer);
    this.#readyCheck = undefined;
    this.#userReady = true;
  }

  /** Writes the inputs to the stub's input arena and sends `execute` with their offsets. */
  protected send(stub: LaunchedStub, ex: Execution): void {
    this.#returned = false;
    this.#inferNs = 0;
    let key: string;
    let wires: WireTensor[][];
    try {
      ({ key, wires } = writeRequestInputs(stub.inputArena, ex.requests.map((r) => r.inputs)));
    } catch (err) {
      this.finish(ex, new InternalError(`${this.label}: cannot pass the inputs to its stub process: ${(err as Error).message}`));
      return;
    }
    this.markSent(stub, ex);
    stub.process.send({ op: 'execute', id: ex.id, shm: key, requests: ex.requests.map((r, i) => requestToWire(r, wires[i]!)) });
    this.forwardCancellation(ex, (index) => stub.process.send({ op: 'cancel', id: ex.id, index }));
  }

  #onMessage(stub: LaunchedStub, msg: StubMessage): void {
    if (stub !== this.runner) return;
    switch (msg.op) {
      case 'response':
        return this.#onResponse(stub, msg);
      case 'done': {
        const ex = this.current;
        if (ex === undefined || ex.id !== msg['id']) return;
        for (const response of (msg['responses'] as StubMessage[] | undefined) ?? []) this.#onResponse(stub, response);
        this.#returned = true;
        this.#inferNs = Number(msg['ns'] ?? 0);
        if (typeof msg['error'] === 'string') {
          this.#opts.logger?.error({ model: this.#opts.args.model_name, instance: this.name }, msg['error']);
          this.finish(ex, new InternalError(msg['error']), this.#timing(ex));
        } else if (ex.final.every(Boolean)) {
          this.finish(ex, new InternalError(`${this.label} finished without completing the request`), this.#timing(ex));
        }
        return;
      }
      case 'ready_result':
        if (typeof msg['error'] === 'string') this.#opts.logger?.warn({ model: this.#opts.args.model_name }, `${this.label}: is_ready failed: ${msg['error']}`);
        this.#readyAnswer(Number(msg['call']), msg['ready'] === true);
        return;
      case 'finalized':
        if (typeof msg['error'] === 'string') this.#opts.logger?.warn({ model: this.#opts.args.model_name }, `${this.label}: finalize failed: ${msg['error']}`);
        this.finalized();
        return;
    }
  }

  #onResponse(stub: LaunchedStub, msg: StubMessage): void {
    const ex = this.current;
    const index = Number(msg['index']);
    if (ex === undefined || ex.id !== msg['id'] || ex.final[index] !== false) return;
    const req = ex.requests[index]!;
    const final = msg['final'] === true;
    const error = msg['error'] as { code: number; message: string } | undefined;
    if (error !== undefined) {
      ex.final[index] = true;
      req.fail(errorFromCode(TRITON_ERROR_CODES[error.code] ?? 'INTERNAL', error.message));
    } else if (msg['outputs'] === undefined) {
      if (final) {
        ex.final[index] = true;
        req.respond(undefined, true);
      }
    } else {
      try {
        const tensors = readTensors(stub.outputArena.current, msg['outputs'] as WireTensor[], this.label);
        const outputs = req.outputNames.map((name) => {
          const t = tensors.find((o) => o.name === name);
          if (t === undefined) throw new InternalError(`${this.label}: the response has no output '${name}', which the request asked for`);
          return t;
        });
        if (final) ex.final[index] = true;
        const parameters = msg['parameters'] as InferParameters | undefined;
        req.respond(outputs, final, parameters !== undefined && Object.keys(parameters).length > 0 ? parameters : undefined);
      } catch (err) {
        ex.final[index] = true;
        req.fail(err as Error);
      }
    }
    if (this.#returned && ex.final.every(Boolean)) this.finish(ex, new InternalError('unreachable'), this.#timing(ex));
  }

  #timing(ex: Execution): ComputeTiming {
    const totalNs = Math.round((performance.now() - ex.sentAt) * 1e6);
    const hopNs = Math.max(0, totalNs - this.#inferNs);
    return { inputNs: hopNs / 2, inferNs: Math.min(this.#inferNs, totalNs), outputNs: hopNs / 2 };
  }

  #onExit(stub: LaunchedStub, reason: string): void {
    this.runnerExited(stub, new InternalError(`${this.label}: ${reason}; the instance is restarting`));
  }
}
