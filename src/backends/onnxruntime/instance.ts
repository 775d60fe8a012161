import { Worker } from 'node:worker_threads';
import { errorFromCode, InternalError, UnavailableError } from '../../errors/index.js';
import type { Tensor } from '../../infer/tensor.js';
import { planRegionIo, type RegionIo } from '../../memory/region-io.js';
import type { BatchRunner, ExecuteResult, InstanceOptions } from '../backend.js';
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
 * The runtime of one ONNX Runtime model instance (a BatchRunner; the backend wraps it in
 * BatchingInstance): a worker thread owning one InferenceSession. This is the one way a batch
 * runs: onnxruntime-node runs a model synchronously on the thread that calls it, so it never
 * runs on the main thread (bench/onnx-inline measured the main-thread alternatives: neither
 * paid, even for the trivial add/sub model).
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
  private state: State = 'ready';
  private nextId = 1;
  private readonly pending = new Map<number, Call>();
  private readonly queue: Call[] = [];
  private closing: Promise<void> | undefined;
  private drained: (() => void) | undefined;
  private deathReason = '';

  private constructor(options: InstanceOptions, worker: Worker) {
    this.name = options.name;
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
   *   the one way to kill it mid-call without the abort described above.
   */
  static async start(options: InstanceOptions, faults: { exitOnRun?: boolean } = {}): Promise<OrtModelInstance> {
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
    if (!(reply instanceof Error) && reply.kind === 'ready') return new OrtModelInstance(options, worker);
    // A failed load leaves nothing worth a graceful close: the session never existed.
    worker.on('error', () => undefined);
    await worker.terminate();
    if (reply instanceof Error) throw reply;
    if (reply.kind === 'failed') throw errorFromCode(reply.error.code, reply.error.message);
    throw new InternalError(`${label}: unexpected '${reply.kind}' message while loading`);
  }

  /**
   * Runs one batch in the worker. Inputs carry the batch dimension; outputs come back in
   * `outputNames` order, each `data` a view over a buffer transferred from the worker.
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
    await this.worker.terminate();
  }

  private send(call: Call): void {
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
