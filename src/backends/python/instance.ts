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
 * How many executions the default scheduler may hand a Python instance at once
 * (ModelInstance.pipelineDepth): the next one's message and inputs are in the stub before the
 * one it runs ends, so the server reads one's `done` while the stub runs the next, and the
 * per-request costs of waking the event loop and of the protocol's reads and writes are
 * shared by several requests. Each costs one pair of arenas (StubSlot), and a request in the
 * stub can no longer be dropped on cancellation (execute sees `is_cancelled()` instead).
 * Measured on the add/sub model over gRPC at concurrency 16, one instance, 2-core machine
 * (server + stub CPU per request, medians of 3-4, noisy): 437 µs at depth 2, 300 at 4,
 * 230-245 at 8, 238 at 16; 450-600 without pipelining (depth 1).
 */
export const PYTHON_PIPELINE_DEPTH = 8;

/** What the server knows of an execution in the stub beyond `Execution`. */
interface InStub {
  /** The stub's `execute` returned (`done`); the execution ends once every request is final. */
  returned: boolean;
  /** Its time in the model's `execute` (ns), as the stub measured it. */
  inferNs: number;
  /** performance.now() when the stub took it up: the `done` of the one before, or when sent. */
  startedAt: number;
}

/**
 * One instance of a Triton Python-backend model: a stub process (stub.py) running the
 * model's `TritonPythonModel`, as Triton runs one stub per instance.
 *
 * Executions run one at a time, in order; each hands `execute` the list of requests it was
 * given. Under the default scheduler up to `pipelineDepth` are in the stub at once, each in
 * its own slot: inputs go through the slot's input arena (shared memory), responses come back
 * through its output arena; the control messages carry only names, shapes and offsets. An
 * execution ends when every request got its final response (decoupled models answer through
 * response senders, possibly after `execute` returned, while the stub runs the next) or its
 * error; only then is its slot used again.
 *
 * When the stub dies (a crash, `os._exit`, killed, or past EXECUTION_TIMEOUT_MS) only the
 * executions in the stub fail, with an error naming the model and instance; the instance
 * restarts at once (new stub, `initialize` again) and requests wait for it. If the restart
 * fails they get UnavailableError and the next request tries again.
 */
export class PythonInstance extends IsolatedInstance<LaunchedStub> implements ModelInstance {
  /** `model_transaction_policy { decoupled: true }`: zero, one or many responses per request. */
  readonly decoupled: boolean;
  /** ModelInstance.pipelineDepth: one per slot of the stub. */
  readonly pipelineDepth: number;
  readonly #opts: LaunchOptions;
  /** Executions in the stub, by id. */
  readonly #inStub = new Map<number, InStub>();
  /** performance.now() of the last `done`: the stub took up the next execution then. */
  #lastDoneAt = 0;
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
      depth: opts.slots,
    });
    this.decoupled = opts.decoupled;
    this.pipelineDepth = Math.max(1, opts.slots);
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
    this.#inStub.clear();
    this.#lastDoneAt = 0;
    if (this.#readyCheck !== undefined) clearTimeout(this.#readyCheck.timer);
    this.#readyCheck = undefined;
    this.#userReady = true;
  }

  /** Writes the inputs to its slot's input arena and sends `execute` with their offsets. */
  protected send(stub: LaunchedStub, ex: Execution): void {
    let key: string;
    let wires: WireTensor[][];
    try {
      ({ key, wires } = writeRequestInputs(stub.slots[ex.slot]!.inputArena, ex.requests.map((r) => r.inputs)));
    } catch (err) {
      this.finish(ex, new InternalError(`${this.label}: cannot pass the inputs to its stub process: ${(err as Error).message}`));
      return;
    }
    this.markSent(stub, ex);
    this.#inStub.set(ex.id, { returned: false, inferNs: 0, startedAt: ex.sentAt });
    stub.process.send({ op: 'execute', id: ex.id, slot: ex.slot, shm: key, requests: ex.requests.map((r, i) => requestToWire(r, wires[i]!)) });
    this.forwardCancellation(ex, (index) => stub.process.send({ op: 'cancel', id: ex.id, index }));
  }

  protected override finish(ex: Execution, error: Error, timing?: ComputeTiming): void {
    this.#inStub.delete(ex.id);
    super.finish(ex, error, timing);
  }

  #onMessage(stub: LaunchedStub, msg: StubMessage): void {
    if (stub !== this.runner) return;
    switch (msg.op) {
      case 'response':
        return this.#onResponse(stub, msg);
      case 'done': {
        const ex = this.inflight(msg['id']);
        const state = this.#inStub.get(ex?.id ?? -1);
        if (ex === undefined || state === undefined) return;
        const now = performance.now();
        // The stub runs executions in order: this one began when the one before it returned.
        state.startedAt = Math.max(ex.sentAt, this.#lastDoneAt);
        this.#lastDoneAt = now;
        for (const response of (msg['responses'] as StubMessage[] | undefined) ?? []) this.#onResponse(stub, response);
        if (!this.#inStub.has(ex.id)) return;
        state.returned = true;
        state.inferNs = Number(msg['ns'] ?? 0);
        if (typeof msg['error'] === 'string') {
          this.#opts.logger?.error({ model: this.#opts.args.model_name, instance: this.name }, msg['error']);
          this.finish(ex, new InternalError(msg['error']), this.#timing(ex, state));
        } else if (ex.final.every(Boolean)) {
          this.finish(ex, new InternalError(`${this.label} finished without completing the request`), this.#timing(ex, state));
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
    const ex = this.inflight(msg['id']);
    const index = Number(msg['index']);
    if (ex === undefined || ex.final[index] !== false) return;
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
        const tensors = readTensors(stub.slots[ex.slot]!.outputArena.current, msg['outputs'] as WireTensor[], this.label);
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
    const state = this.#inStub.get(ex.id);
    if (state?.returned === true && ex.final.every(Boolean)) this.finish(ex, new InternalError('unreachable'), this.#timing(ex, state));
  }

  /** The compute split of an execution; its wait in the stub behind earlier ones is `waitNs`. */
  #timing(ex: Execution, state: InStub): ComputeTiming {
    const totalNs = Math.round((performance.now() - state.startedAt) * 1e6);
    const hopNs = Math.max(0, totalNs - state.inferNs);
    const timing: ComputeTiming = { inputNs: hopNs / 2, inferNs: Math.min(state.inferNs, totalNs), outputNs: hopNs / 2 };
    const waitNs = Math.round((state.startedAt - ex.sentAt) * 1e6);
    if (waitNs > 0) timing.waitNs = waitNs;
    return timing;
  }

  #onExit(stub: LaunchedStub, reason: string): void {
    this.runnerExited(stub, new InternalError(`${this.label}: ${reason}; the instance is restarting`));
  }
}
