import { errorFromCode, InternalError, UnavailableError } from '../../errors/index.js';
import type { ComputeTiming } from '../../infer/compute-timing.js';
import type { InferParameters, Tensor } from '../../infer/tensor.js';
import type { ExecuteResult, ModelInstance } from '../backend.js';
import { executionTimeoutError, ExecutionWatchdog } from '../execution-watchdog.js';
import type { InstanceRequest } from '../request-instance.js';
import { requestToWire } from './request-wire.js';
import { launchStub, type LaunchOptions, type LaunchedStub } from './stub-launch.js';
import type { StubMessage } from './stub-process.js';
import { readTensors, TRITON_ERROR_CODES, writeRequestInputs, type WireTensor } from './tensor-wire.js';

/** One `executeRequests` call, queued or running. */
interface Execution {
  id: number;
  requests: InstanceRequest[];
  final: boolean[];
  /** The stub's execute returned (`done`); the execution ends once every request is final. */
  returned: boolean;
  inferNs: number;
  sentAt: number;
  resolve: (timing: ComputeTiming) => void;
  unlisten: (() => void)[];
}

type State = 'ready' | 'restarting' | 'broken' | 'closing' | 'closed';

const FINALIZE_TIMEOUT_MS = 10_000;
/** How long a model's `is_ready()` may take before the check counts as not ready (Triton: 5 s). */
const IS_READY_TIMEOUT_MS = 5_000;
const ZERO_TIMING: ComputeTiming = { inputNs: 0, inferNs: 0, outputNs: 0 };

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
// A ModelInstance with executeRequests (the schedulers hand it whole requests when it has
// one); `execute` serves merged batches.
export class PythonInstance implements ModelInstance {
  readonly name: string;
  /** `model_transaction_policy { decoupled: true }`: zero, one or many responses per request. */
  readonly decoupled: boolean;
  readonly #opts: LaunchOptions;
  readonly #label: string;
  #stub: LaunchedStub | undefined;
  #state: State = 'ready';
  #restarting: Promise<void> | undefined;
  #current: Execution | undefined;
  readonly #queue: Execution[] = [];
  #nextId = 1;
  readonly #watchdog: ExecutionWatchdog;
  #closing: Promise<void> | undefined;
  #onIdle: (() => void) | undefined;
  #onFinalized: (() => void) | undefined;
  /** The last answer of the model's `is_ready()`, and the check in flight. */
  #userReady = true;
  #readyCheck: { call: number; timer: NodeJS.Timeout } | undefined;
  #nextReadyCall = 1;

  private constructor(opts: LaunchOptions, stub: LaunchedStub) {
    this.name = opts.args.model_instance_name;
    this.decoupled = opts.decoupled;
    this.#opts = opts;
    this.#label = opts.label;
    this.#watchdog = new ExecutionWatchdog(opts.executionTimeoutMs, () => {
      const stub = this.#stub;
      if (stub !== undefined) this.#kill(stub, new UnavailableError(executionTimeoutError(this.#label, opts.executionTimeoutMs).message.replace('its worker thread', 'its stub process')));
    });
    this.#attach(stub);
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
    if (outputs === undefined) throw new InternalError(`${this.#label} completed the request without a response`);
    return { outputs, timing };
  }

  executeRequests(requests: InstanceRequest[]): Promise<ComputeTiming> {
    return new Promise<ComputeTiming>((resolve) => {
      const ex: Execution = { id: this.#nextId++, requests, final: requests.map(() => false), returned: false, inferNs: 0, sentAt: 0, resolve, unlisten: [] };
      if (this.#state === 'closing' || this.#state === 'closed') {
        this.#finish(ex, new UnavailableError(`${this.#label} is ${this.#state}`));
        return;
      }
      this.#queue.push(ex);
      this.#pump();
    });
  }

  /**
   * Not ready while the stub is down (restarting or broken) or closing. For a model that
   * defines `is_ready()`, each check asks the stub anew (one question in flight, 5 s limit)
   * and answers with the latest completed answer, since the readiness endpoints are
   * synchronous: a change shows from the check after the model's answer changed.
   */
  isReady(): boolean {
    const stub = this.#stub;
    if (this.#state !== 'ready' || stub === undefined) return false;
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

  /** Lets the running execution finish, calls `finalize`, ends the stub, frees its shared memory. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  /** Ends the instance now: executions fail UNAVAILABLE naming `reason`, the stub is killed. */
  async terminate(reason: string): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'closing';
    const error = new UnavailableError(`${this.#label}: ${reason}; its stub process was killed`);
    for (const ex of this.#queue.splice(0)) this.#finish(ex, error);
    if (this.#current !== undefined) this.#finish(this.#current, error);
    const stub = this.#stub;
    this.#stub = undefined;
    stub?.dispose();
    this.#onFinalized?.();
    this.#state = 'closed';
  }

  async #shutdown(): Promise<void> {
    this.#state = 'closing';
    for (const ex of this.#queue.splice(0)) this.#finish(ex, new UnavailableError(`${this.#label} is closing`));
    if (this.#current !== undefined) await new Promise<void>((resolve) => (this.#onIdle = resolve));
    await this.#restarting;
    const stub = this.#stub;
    if (stub !== undefined) {
      stub.process.ref();
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.#onFinalized = resolve;
        timer = setTimeout(() => {
          this.#opts.logger?.warn({ model: this.#opts.args.model_name }, `${this.#label}: finalize did not return within ${FINALIZE_TIMEOUT_MS} ms; killing its stub process`);
          resolve();
        }, FINALIZE_TIMEOUT_MS);
        stub.process.send({ op: 'finalize' });
      });
      clearTimeout(timer);
      this.#stub = undefined;
      await stub.dispose();
    }
    this.#state = 'closed';
  }

  #attach(stub: LaunchedStub): void {
    this.#stub = stub;
    if (this.#readyCheck !== undefined) clearTimeout(this.#readyCheck.timer);
    this.#readyCheck = undefined;
    this.#userReady = true;
    stub.process.unref();
  }

  #pump(): void {
    if (this.#current !== undefined || this.#queue.length === 0) return;
    if (this.#state === 'broken') return this.#restart();
    const stub = this.#stub;
    if (this.#state !== 'ready' || stub === undefined) return;
    const ex = this.#queue.shift()!;
    this.#current = ex;
    let key: string;
    let wires: WireTensor[][];
    try {
      ({ key, wires } = writeRequestInputs(stub.inputArena, ex.requests.map((r) => r.inputs)));
    } catch (err) {
      this.#finish(ex, new InternalError(`${this.#label}: cannot pass the inputs to its stub process: ${(err as Error).message}`));
      return;
    }
    ex.sentAt = performance.now();
    stub.process.ref();
    this.#watchdog.arm();
    stub.process.send({ op: 'execute', id: ex.id, shm: key, requests: ex.requests.map((r, i) => requestToWire(r, wires[i]!)) });
    ex.requests.forEach((r, index) => {
      const signal = r.signal;
      if (signal === undefined) return;
      const onAbort = (): void => {
        if (!ex.final[index]) stub.process.send({ op: 'cancel', id: ex.id, index });
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      ex.unlisten.push(() => signal.removeEventListener('abort', onAbort));
    });
  }

  #onMessage(stub: LaunchedStub, msg: StubMessage): void {
    if (stub !== this.#stub) return;
    switch (msg.op) {
      case 'response':
        return this.#onResponse(stub, msg);
      case 'done': {
        const ex = this.#current;
        if (ex === undefined || ex.id !== msg['id']) return;
        for (const response of (msg['responses'] as StubMessage[] | undefined) ?? []) this.#onResponse(stub, response);
        ex.returned = true;
        ex.inferNs = Number(msg['ns'] ?? 0);
        if (typeof msg['error'] === 'string') {
          this.#opts.logger?.error({ model: this.#opts.args.model_name, instance: this.name }, msg['error']);
          this.#finish(ex, new InternalError(msg['error']), this.#timing(ex));
        } else if (ex.final.every(Boolean)) {
          this.#finish(ex, new InternalError(`${this.#label} finished without completing the request`), this.#timing(ex));
        }
        return;
      }
      case 'ready_result':
        if (typeof msg['error'] === 'string') this.#opts.logger?.warn({ model: this.#opts.args.model_name }, `${this.#label}: is_ready failed: ${msg['error']}`);
        this.#readyAnswer(Number(msg['call']), msg['ready'] === true);
        return;
      case 'finalized':
        if (typeof msg['error'] === 'string') this.#opts.logger?.warn({ model: this.#opts.args.model_name }, `${this.#label}: finalize failed: ${msg['error']}`);
        this.#onFinalized?.();
        return;
    }
  }

  #onResponse(stub: LaunchedStub, msg: StubMessage): void {
    const ex = this.#current;
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
        const tensors = readTensors(stub.outputArena.current, msg['outputs'] as WireTensor[], this.#label);
        const outputs = req.outputNames.map((name) => {
          const t = tensors.find((o) => o.name === name);
          if (t === undefined) throw new InternalError(`${this.#label}: the response has no output '${name}', which the request asked for`);
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
    if (ex.returned && ex.final.every(Boolean)) this.#finish(ex, new InternalError('unreachable'), this.#timing(ex));
  }

  #timing(ex: Execution): ComputeTiming {
    const totalNs = Math.round((performance.now() - ex.sentAt) * 1e6);
    const hopNs = Math.max(0, totalNs - ex.inferNs);
    return { inputNs: hopNs / 2, inferNs: Math.min(ex.inferNs, totalNs), outputNs: hopNs / 2 };
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
      this.#stub?.process.unref();
      this.#onIdle?.();
    }
    ex.resolve(timing);
    this.#pump();
  }

  #onExit(stub: LaunchedStub, reason: string): void {
    if (stub !== this.#stub) return;
    if (this.#state === 'closing' && this.#current === undefined) {
      this.#onFinalized?.();
      return;
    }
    this.#kill(stub, new InternalError(`${this.#label}: ${reason}; the instance is restarting`));
  }

  /** The stub died or must die: it is killed, the execution in flight fails, the instance restarts. */
  #kill(stub: LaunchedStub, error: Error): void {
    if (stub !== this.#stub) return;
    this.#stub = undefined;
    this.#watchdog.disarm();
    this.#opts.logger?.error({ model: this.#opts.args.model_name, instance: this.name }, error.message);
    void stub.dispose();
    const ex = this.#current;
    this.#restart();
    if (ex !== undefined) this.#finish(ex, error);
    if (this.#state === 'closing') this.#onFinalized?.();
  }

  #restart(): void {
    if (this.#state === 'restarting' || this.#state === 'closing' || this.#state === 'closed') return;
    this.#state = 'restarting';
    const onMessage = (s: LaunchedStub, m: StubMessage): void => this.#onMessage(s, m);
    const onExit = (s: LaunchedStub, reason: string): void => this.#onExit(s, reason);
    this.#restarting = launchStub(this.#opts, onMessage, onExit).then(
      (stub) => {
        this.#restarting = undefined;
        if (this.#state !== 'restarting') {
          void stub.dispose();
          return;
        }
        this.#state = 'ready';
        this.#attach(stub);
        this.#opts.logger?.info({ model: this.#opts.args.model_name, instance: this.name }, `${this.#label} restarted`);
        this.#pump();
      },
      (err: unknown) => {
        this.#restarting = undefined;
        if (this.#state !== 'restarting') return;
        this.#state = 'broken';
        this.#opts.logger?.error({ model: this.#opts.args.model_name, instance: this.name, err }, `${this.#label}: restart failed`);
        const error = new UnavailableError(`${this.#label} is unavailable: restarting it failed: ${(err as Error).message}`);
        for (const ex of this.#queue.splice(0)) this.#finish(ex, error);
      },
    );
  }
}
