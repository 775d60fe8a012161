import { Worker } from 'node:worker_threads';
import { errorFromCode, InternalError, UnavailableError } from '../../errors/index.js';
import type { Tensor } from '../../infer/tensor.js';
import { planRegionIo, type RegionIo } from '../../memory/region-io.js';
import type { ComputeTiming } from '../../infer/compute-timing.js';
import type { BatchRunner, ExecuteResult, InstanceOptions } from '../backend.js';
import type { FromWorker, InstanceWorkerData, ToWorker, WireRun } from './messages.js';
import { decodeResults } from './flat-results.js';
import { FlatNames, FlatRunWriter } from './flat-runs.js';
import { receivedOutputs, runMessage } from './run-message.js';
import { firstReply, workerScriptUrl } from './worker-script.js';

interface Call {
  id: number;
  inputs: Tensor[];
  outputNames: string[];
  resolve: (result: ExecuteResult) => void;
  reject: (err: Error) => void;
  /** Its shared-memory inputs and output targets, when it has any (run-message.ts). */
  io?: RegionIo;
}

/**
 * How many executions the scheduler may hand an instance at once (BatchRunner.pipelineDepth):
 * those waiting when the worker is free go to it in one message and come back in one. Measured
 * on the trivial add/sub model at 64 concurrent requests over HTTP, 2 protocol threads, 2-core
 * machine (main-thread CPU per request, medians of 4): 62 µs at depth 8, 41-44 µs at 32,
 * 34 µs at 64. Deeper saves more hops, but each request handed over early can no longer be
 * dropped on cancellation while it waits, so the depth stays below a typical concurrency.
 */
export const ORT_PIPELINE_DEPTH = 32;

type State = 'ready' | 'closing' | 'closed' | 'dead';

/**
 * The runtime of one ONNX Runtime model instance (a BatchRunner; the backend wraps it in
 * BatchingInstance): a worker thread owning one InferenceSession. This is the one way a batch
 * runs: onnxruntime-node runs a model synchronously on the thread that calls it, so it never
 * runs on the main thread (bench/onnx-inline measured the main-thread alternatives: neither
 * paid, even for the trivial add/sub model).
 *
 * Executions run one at a time, in call order. The scheduler may hand over up to
 * `pipelineDepth` at once; the calls made while the worker is busy wait here and go to it
 * together, in one message, once it answers the group it has (in one message too, unless its
 * runs are slow: see REPLY_AFTER_MS in onnxruntime-worker.ts). The worker
 * is ref'd only while a call is pending, so an idle instance never keeps the process alive on
 * its own.
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
  readonly pipelineDepth = ORT_PIPELINE_DEPTH;
  private readonly label: string;
  private readonly worker: Worker;
  /** The names the worker knows by index, for the flat form of runs (flat-runs.ts). */
  private readonly names = new FlatNames();
  private state: State = 'ready';
  private nextId = 1;
  /** The calls of the group in the worker, by id. */
  private readonly pending = new Map<number, Call>();
  /** Calls not yet sent: they go as the next group once the worker answers this one. */
  private queue: Call[] = [];
  private flushQueued = false;
  /** performance.now() when the group in the worker was posted. */
  private sentAt = 0;
  /** ns of the group's runs answered so far (a group may be answered in several messages). */
  private answeredNs = 0;
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
      this.queue.push({ id: this.nextId++, inputs, outputNames, resolve, reject });
      this.scheduleFlush();
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
    if (this.pending.size > 0 || this.queue.length > 0) await new Promise<void>((resolve) => (this.drained = resolve));
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

  /**
   * Sends the waiting calls once the current tick's work is done (a nextTick runs after the
   * promise reactions of the tick, where the scheduler hands over its next requests), so that
   * the calls made meanwhile go together.
   */
  private scheduleFlush(): void {
    if (this.flushQueued || this.pending.size > 0) return;
    this.flushQueued = true;
    process.nextTick(() => {
      this.flushQueued = false;
      this.flush();
    });
  }

  /** Posts every waiting call as one group, when the worker has none. */
  private flush(): void {
    if (this.pending.size > 0 || this.queue.length === 0 || this.state === 'dead') return;
    const group = this.queue;
    this.queue = [];
    for (const call of group) {
      this.pending.set(call.id, call);
      call.io = planRegionIo(call.inputs, call.outputNames);
    }
    this.worker.ref();
    this.sentAt = performance.now();
    this.answeredNs = 0;
    const post = (copyAll: boolean): void => {
      // Runs with small inputs and no shared memory go in one flat buffer, the rest as objects.
      const flat = new FlatRunWriter(this.names);
      const runs: WireRun[] = [];
      const transfer = new Set<ArrayBuffer>();
      for (const call of group) {
        if (call.io === undefined && flat.add(call.id, call.inputs, call.outputNames)) continue;
        flat.object();
        const run = runMessage(call.id, call.inputs, call.outputNames, call.io, copyAll);
        runs.push(run.msg);
        for (const b of run.transfer) transfer.add(b);
      }
      const msg: ToWorker = { kind: 'runs', runs };
      const names = this.names.unsent();
      if (names !== undefined) msg.names = names;
      const buffer = flat.finish();
      if (buffer !== undefined) {
        msg.flat = buffer;
        transfer.add(buffer);
      }
      this.worker.postMessage(msg, [...transfer]);
      this.names.sent();
    };
    try {
      post(false);
    } catch {
      // A buffer Node refuses to transfer (marked untransferable by its owner): copy instead.
      try {
        post(true);
      } catch (err) {
        const error = new InternalError(`${this.label}: cannot send inputs to the worker: ${String(err)}`);
        for (const call of group) this.pending.delete(call.id);
        for (const call of group) call.reject(error);
        this.idle();
        this.scheduleFlush();
        return;
      }
    }
    // The worker now owns whatever was transferred; drop our references to the views.
    for (const call of group) call.inputs = [];
  }

  private onMessage(msg: FromWorker): void {
    if (msg.kind !== 'results') return;
    let results = msg.results;
    if (msg.flat !== undefined) {
      try {
        results = decodeResults(msg.flat, msg.results, (id) => this.pending.get(id)?.outputNames);
      } catch (err) {
        // A bug: which calls it answers is unknown, so every pending one fails.
        const error = new InternalError(`${this.label}: cannot read the worker's results: ${(err as Error).message}`);
        for (const call of this.pending.values()) call.reject(error);
        this.pending.clear();
        this.idle();
        this.scheduleFlush();
        return;
      }
    }
    // The hops to the worker and back are the group's; each run also waited for the runs
    // before it (queue time, `waitNs`) and its reply for those after it in the same message
    // (output time).
    const elapsedNs = Math.round((performance.now() - this.sentAt) * 1e6);
    let runsNs = 0;
    for (const r of results) if ('durations' in r) runsNs += r.durations[0] + r.durations[1] + r.durations[2];
    const doneNs = this.answeredNs + runsNs;
    this.answeredNs = doneNs;
    const hopNs = Math.max(0, elapsedNs - doneNs);
    const inHop = Math.floor(hopNs / 2);
    let beforeNs = doneNs - runsNs;
    for (const r of results) {
      const call = this.pending.get(r.id);
      this.pending.delete(r.id);
      if (call === undefined) continue;
      if (!('durations' in r)) {
        call.reject(errorFromCode(r.error.code, r.error.message));
        continue;
      }
      const [inputNs, inferNs, outputNs] = r.durations;
      const ownNs = inputNs + inferNs + outputNs;
      let outputs: Tensor[];
      try {
        outputs = receivedOutputs(r.outputs, call.io);
      } catch (err) {
        call.reject(err as Error);
        beforeNs += ownNs;
        continue;
      }
      const afterNs = doneNs - beforeNs - ownNs;
      const timing: ComputeTiming = { inputNs: inputNs + inHop, inferNs, outputNs: outputNs + hopNs - inHop + afterNs };
      if (beforeNs > 0) timing.waitNs = beforeNs;
      beforeNs += ownNs;
      call.resolve({ outputs, timing });
    }
    this.idle();
    this.scheduleFlush();
  }

  /** The group in the worker is answered: unref the worker unless more calls wait. */
  private idle(): void {
    if (this.pending.size > 0) return;
    if (this.queue.length > 0 && this.state !== 'dead') return;
    this.worker.unref();
    this.drained?.();
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
