import { Worker } from 'node:worker_threads';
import { errorFromCode, InternalError, UnavailableError } from '../../errors/index.js';
import type { Tensor } from '../../infer/tensor.js';
import { planRegionIo, type RegionIo } from '../../memory/region-io.js';
import type { BatchRunner, ExecuteResult, InstanceOptions } from '../backend.js';
import { InlinePolicy, type InlinePolicyOptions, inlineEligible } from './inline-policy.js';
import type { InlineSession } from './inline-session.js';
import type { FromWorker, InstanceWorkerData, ToWorker } from './messages.js';
import { receivedOutputs, runMessage } from './run-message.js';
import { firstReply, workerScriptUrl } from './worker-script.js';

interface Call {
  id: number;
  inputs: Tensor[];
  outputNames: string[];
  resolve: (result: ExecuteResult) => void;
  reject: (err: Error) => void;
  /** performance.now() when the inputs were posted. */
  sentAt: number;
  /** Its shared-memory inputs and output targets, when it has any (run-message.ts). */
  io?: RegionIo;
}

type State = 'ready' | 'closing' | 'closed' | 'dead';

/**
 * One ONNX Runtime model instance: a worker thread owning one InferenceSession, and, for a
 * model whose runs cost less than the hop to that worker, a second session on the main thread
 * that it runs inline once measured to be that cheap (inline-policy.ts).
 *
 * Executions run one at a time, in call order (the scheduler already dispatches one batch per
 * instance; calls made while one runs wait here). The worker is ref'd only while a call is
 * pending, so an idle instance never keeps the process alive on its own.
 *
 * Never terminate the worker while a run may be in flight: onnxruntime-node 1.30 aborts the
 * whole process (SIGABRT, "terminate called after throwing an instance of 'Napi::Error'")
 * when a thread is terminated inside `session.run`, and so does `process.exit()` while a run
 * is in flight (measured; the same crash as daintreehq/daintree#12577). So close() drains,
 * lets the worker release its session and only then terminates it, and a server must close
 * its instances before exiting.
 */
export class OrtModelInstance implements BatchRunner {
  readonly name: string;
  private readonly label: string;
  private readonly worker: Worker;
  private readonly modelFile: string;
  /** How ORT errors name the model, as the worker names it. */
  private readonly what: string;
  /** Undefined when this instance never runs inline (KIND_GPU, large model file). */
  private readonly policy: InlinePolicy | undefined;
  private inline: InlineSession | undefined;
  private promoting = false;
  private state: State = 'ready';
  private nextId = 1;
  private readonly pending = new Map<number, Call>();
  private readonly queue: Call[] = [];
  private closing: Promise<void> | undefined;
  private drained: (() => void) | undefined;
  private deathReason = '';

  private constructor(options: InstanceOptions, worker: Worker, policy: InlinePolicy | undefined) {
    this.name = options.name;
    this.modelFile = options.modelFile;
    this.what = `model '${options.modelName}'`;
    this.policy = policy;
    this.label = `model '${options.modelName}' version ${options.version} instance '${options.name}'`;
    this.worker = worker;
    worker.on('message', (msg: FromWorker) => this.onMessage(msg));
    worker.on('error', (err) => this.onDeath(`its worker thread failed: ${err.message}`));
    worker.on('exit', (code) => this.onDeath(`its worker thread exited (code ${code})`));
    worker.unref();
  }

  /**
   * Starts the worker and loads the session; resolves once it is ready to execute.
   * @throws UnsupportedError for KIND_GPU without a usable CUDA execution provider;
   *   InvalidArgumentError when the model file cannot be loaded (missing, not ONNX, rejected
   *   by ORT); InternalError when the worker cannot start or dies while loading.
   *   `faults` is for tests only: `exitOnRun` makes the worker thread exit on its first run,
   *   the one way to kill it mid-call without the abort described above; `inlinePolicy`
   *   replaces the thresholds of inline-policy.ts.
   */
  static async start(
    options: InstanceOptions,
    faults: { exitOnRun?: boolean; inlinePolicy?: InlinePolicyOptions } = {},
  ): Promise<OrtModelInstance> {
    const data: InstanceWorkerData = {
      mode: 'instance',
      modelFile: options.modelFile,
      modelName: options.modelName,
      instanceName: options.name,
      kind: options.kind,
      gpu: options.gpu ?? 0,
      intraOpThreads: options.intraOpThreads,
      interOpThreads: options.interOpThreads,
      gpuExecutionAccelerators: options.gpuExecutionAccelerators ?? [],
      exitOnRun: faults.exitOnRun === true,
    };
    const worker = new Worker(workerScriptUrl(), { workerData: data });
    const label = `model '${options.modelName}' instance '${options.name}'`;
    const reply = await firstReply<FromWorker>(worker, `loading ${label}`).catch((err: unknown) => err as Error);
    if (!(reply instanceof Error) && reply.kind === 'ready') {
      const inline = faults.exitOnRun !== true && inlineEligible(options.modelFile, options.kind);
      return new OrtModelInstance(options, worker, inline ? new InlinePolicy(faults.inlinePolicy) : undefined);
    }
    // A failed load leaves nothing worth a graceful close: the session never existed.
    worker.on('error', () => undefined);
    await worker.terminate();
    if (reply instanceof Error) throw reply;
    if (reply.kind === 'failed') throw errorFromCode(reply.error.code, reply.error.message);
    throw new InternalError(`${label}: unexpected '${reply.kind}' message while loading`);
  }

  /**
   * Runs one batch in the worker, or on the main thread once promoted. Inputs carry the batch
   * dimension; outputs come back in `outputNames` order, each `data` a view over a buffer
   * transferred from the worker (or allocated by the main thread's session).
   * Ownership: the ArrayBuffers behind `inputs` may be transferred (detached) by this call
   * (see transfer.ts for which); the caller must not read the inputs afterwards.
   * @throws InvalidArgumentError when ORT rejects the inputs (rank, dims, type, names), the
   *   message prefixed with the model name; UnsupportedError for BF16; InternalError when the
   *   worker dies during the call; UnavailableError once closed or after the worker died.
   */
  execute(inputs: Tensor[], outputNames: string[]): Promise<ExecuteResult> {
    if (this.state !== 'ready') return Promise.reject(this.unavailable());
    return new Promise<ExecuteResult>((resolve, reject) => {
      const call: Call = { id: this.nextId++, inputs, outputNames, resolve, reject, sentAt: 0 };
      if (this.pending.size === 0) this.send(call);
      else this.queue.push(call);
    });
  }

  /** Whether executions currently run on the main thread (see inline-policy.ts). */
  get executesInline(): boolean {
    return this.inline !== undefined;
  }

  /** Waits for pending executions, releases the session, then terminates the worker. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    if (this.state === 'dead') {
      this.state = 'closed';
      return;
    }
    this.state = 'closing';
    if (this.pending.size > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    if (this.state === 'closing') {
      this.worker.ref();
      // No timeout that terminates a slow worker: terminating a thread inside an ORT run
      // aborts the whole process (see the class comment), so close waits for the reply.
      const closed = new Promise<void>((resolve) => {
        this.worker.on('message', (msg: FromWorker) => {
          if (msg.kind === 'closed') resolve();
        });
        this.worker.once('exit', () => resolve());
      });
      this.worker.postMessage({ kind: 'close' } satisfies ToWorker);
      await closed;
    }
    this.state = 'closed';
    await Promise.all([this.worker.terminate(), this.inline?.release()]);
    this.inline = undefined;
  }

  private send(call: Call): void {
    if (this.inline !== undefined) {
      this.runInline(call, this.inline);
      return;
    }
    this.pending.set(call.id, call);
    call.sentAt = performance.now();
    this.worker.ref();
    call.io = planRegionIo(call.inputs, call.outputNames);
    const post = (copyAll: boolean): void => {
      const run = runMessage(call.id, call.inputs, call.outputNames, call.io, copyAll);
      this.worker.postMessage(run.msg, run.transfer);
    };
    try {
      post(false);
    } catch {
      // A buffer Node refuses to transfer (marked untransferable by its owner): copy instead.
      try {
        post(true);
      } catch (err) {
        this.settle(call.id)?.reject(new InternalError(`${this.label}: cannot send inputs to the worker: ${String(err)}`));
      }
    }
    // The worker now owns whatever was transferred; drop our references to the views.
    call.inputs = [];
  }

  private onMessage(msg: FromWorker): void {
    if (msg.kind === 'result') {
      const call = this.settle(msg.id);
      if (call === undefined) return;
      // The two thread hops are not measured separately; each side gets half of them.
      const [inputNs, inferNs, outputNs] = msg.durations;
      const hopNs = Math.max(0, Math.round((performance.now() - call.sentAt) * 1e6) - inputNs - inferNs - outputNs);
      const inHop = Math.floor(hopNs / 2);
      if (this.policy?.record(inferNs, hopNs) === 'promote') this.promote();
      let outputs: Tensor[];
      try {
        outputs = receivedOutputs(msg.outputs, call.io);
      } catch (err) {
        call.reject(err as Error);
        return;
      }
      call.resolve({ outputs, timing: { inputNs: inputNs + inHop, inferNs, outputNs: outputNs + hopNs - inHop } });
    }
    else if (msg.kind === 'error') this.settle(msg.id)?.reject(errorFromCode(msg.error.code, msg.error.message));
  }

  private runInline(call: Call, session: InlineSession): void {
    this.pending.set(call.id, call);
    session.run(call.inputs, call.outputNames).then(
      (result) => {
        if (this.policy?.record(result.timing.inferNs) === 'demote') this.demote(session);
        this.settle(call.id)?.resolve(result);
      },
      (err: unknown) => this.settle(call.id)?.reject(err as Error),
    );
    call.inputs = [];
  }

  /** Loads the main-thread session; executions go inline once it is ready. */
  private promote(): void {
    if (this.promoting || this.inline !== undefined) return;
    this.promoting = true;
    import('./inline-session.js')
      .then(({ InlineSession }) => InlineSession.create(this.modelFile, this.what))
      .then(
        (session) => {
          this.promoting = false;
          if (this.state !== 'ready') return void session.release();
          this.inline = session;
          this.policy?.reset();
        },
        // The worker's session loaded this file, so this is rare (memory); stay in the worker.
        () => {
          this.promoting = false;
        },
      );
  }

  /** Back to the worker: inputs grew too heavy to run on the main thread. */
  private demote(session: InlineSession): void {
    if (this.inline !== session) return;
    this.inline = undefined;
    this.policy?.reset();
    void session.release();
  }

  /** Removes a finished call and starts the next queued one. */
  private settle(id: number): Call | undefined {
    const call = this.pending.get(id);
    this.pending.delete(id);
    const next = this.queue.shift();
    if (next !== undefined && this.state !== 'dead') this.send(next);
    else if (this.pending.size === 0) {
      this.worker.unref();
      this.drained?.();
    }
    return call;
  }

  private onDeath(reason: string): void {
    if (this.state === 'closed' || this.state === 'dead') return;
    const wasClosing = this.state === 'closing';
    this.state = 'dead';
    this.deathReason = reason;
    const err = new InternalError(`${this.label}: ${reason}`);
    for (const call of [...this.pending.values(), ...this.queue]) call.reject(err);
    this.pending.clear();
    this.queue.length = 0;
    this.drained?.();
    if (wasClosing) this.state = 'closed';
  }

  private unavailable(): UnavailableError {
    if (this.state === 'dead') return new UnavailableError(`${this.label} is unavailable: ${this.deathReason}`);
    return new UnavailableError(`${this.label} is ${this.state === 'closing' ? 'closing' : 'closed'}`);
  }
}
