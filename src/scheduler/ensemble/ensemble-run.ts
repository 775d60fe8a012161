import type { ComputeTiming } from '../../infer/compute-timing.js';
import { errorFromCode, InvalidArgumentError, toTritonError, type TritonError } from '../../errors/index.js';
import type { InferenceRequest, Tensor } from '../../infer/tensor.js';
import type { ScheduledResult, SchedulerPayload } from '../scheduler.js';
import { nowNs, type ModelStatsRecorder } from '../../observability/stats-recorder.js';
import { reshapeForBatching } from './batch-reshape.js';
import type { EnsembleHost } from './ensemble-host.js';
import type { EnsemblePlan, EnsembleStep } from './ensemble-plan.js';
import type { StepLimiter } from './step-limiter.js';
import { handOff } from './tensor-handoff.js';

/** What every run of one ensemble shares. */
export interface EnsembleRunContext {
  plan: EnsemblePlan;
  host: EnsembleHost;
  /** One per step when `max_inflight_requests` > 0, else empty. */
  limiters: readonly StepLimiter[];
  stats: ModelStatsRecorder;
}

/** One ensemble tensor of a request (Triton's `TensorData`). */
interface Slot {
  /** null once it is known to be absent (an optional ensemble input the request left out). */
  tensor: Tensor | null;
  /** Batch size of the request that produced it; 0 when its producer does not batch. */
  batchSize: number;
  /** Readers still to come: step inputs not yet started, plus 1 when the response returns it. */
  remaining: number;
}

/**
 * Runs one ensemble request (Triton's `EnsembleContext`): the request's inputs are the first
 * ensemble tensors; every step whose input tensors all exist starts at once, so independent
 * branches run concurrently; a finished step's outputs become new tensors, which may start
 * more steps. When no step is in flight any more the response is assembled from the
 * requested outputs.
 *
 * The first failing step stops new steps from starting; steps already running finish, then
 * the request fails with that step's error, its code kept and its message prefixed with
 * "in ensemble '<e>', step <i> (model '<m>'): ". Each failed step request also counts as an
 * OTHER failure of the ensemble (Triton's metrics note); the caller counts the request itself.
 */
export class EnsembleRun {
  readonly #slots = new Map<string, Slot>();
  readonly #waiting: EnsembleStep[];
  readonly #wanted: ReadonlySet<string>;
  readonly #timing: ComputeTiming = { inputNs: 0, inferNs: 0, outputNs: 0 };
  #inflight = 0;
  #error: TritonError | undefined;
  #firstStepNs = 0;
  #finished = false;
  #resolve: (result: ScheduledResult) => void = () => undefined;
  #reject: (err: unknown) => void = () => undefined;

  constructor(
    private readonly ctx: EnsembleRunContext,
    private readonly payload: SchedulerPayload,
    private readonly enqueuedNs: number,
  ) {
    this.#waiting = [...ctx.plan.steps];
    this.#wanted = new Set(payload.outputNames);
  }

  /** Starts the steps; resolves with the requested outputs in `outputNames` order. */
  run(): Promise<ScheduledResult> {
    return new Promise<ScheduledResult>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
      const { plan } = this.ctx;
      const batchSize = plan.batching ? this.payload.batchSize : 0;
      for (const t of this.payload.inputs) {
        this.#slots.set(t.name, { tensor: t, batchSize, remaining: this.#readers(t.name) });
      }
      for (const name of plan.optionalInputs) {
        if (!this.#slots.has(name)) this.#slots.set(name, { tensor: null, batchSize, remaining: 0 });
      }
      this.#advance();
    });
  }

  #readers(tensor: string): number {
    return (this.ctx.plan.readers.get(tensor) ?? 0) + (this.#wanted.has(tensor) ? 1 : 0);
  }

  /** Starts every waiting step whose inputs exist; finishes when nothing is left in flight. */
  #advance(): void {
    if (this.#error === undefined) {
      for (let i = 0; i < this.#waiting.length; ) {
        const step = this.#waiting[i]!;
        if (step.inputs.every(({ tensor }) => this.#slots.has(tensor))) {
          this.#waiting.splice(i, 1);
          this.#inflight++;
          void this.#runStep(step);
        } else {
          i++;
        }
      }
    }
    if (this.#inflight === 0) this.#finish();
  }

  async #runStep(step: EnsembleStep): Promise<void> {
    const limiter = this.ctx.limiters[step.index];
    let acquired = false;
    let sentNs: number | undefined;
    try {
      const inputs = this.#stepInputs(step);
      if (limiter !== undefined) {
        await limiter.acquire(this.payload.signal);
        acquired = true;
      }
      const request: InferenceRequest = {
        modelName: step.model,
        modelVersion: step.version,
        inputs: inputs.tensors,
        outputs: step.outputs.map(({ output }) => ({ name: output })),
      };
      const parent = this.payload.request;
      if (parent?.id !== undefined && parent.id !== '') request.id = parent.id;
      // Sequence ids, priority and timeout travel with the request, as Triton copies them.
      if (parent?.parameters !== undefined) request.parameters = parent.parameters;
      sentNs = nowNs();
      if (this.#firstStepNs === 0) this.#firstStepNs = sentNs;
      const result = await this.ctx.host.infer(request, this.payload.signal);
      if (result.timing !== undefined) {
        this.#timing.inputNs += result.timing.inputNs;
        this.#timing.inferNs += result.timing.inferNs;
        this.#timing.outputNs += result.timing.outputNs;
      }
      step.outputs.forEach(({ tensor }, k) => {
        const out = result.outputs[k];
        this.#slots.set(tensor, {
          tensor: out === undefined ? null : out.name === tensor ? out : { ...out, name: tensor },
          batchSize: inputs.batchSize,
          remaining: this.#readers(tensor),
        });
      });
    } catch (err) {
      if (sentNs !== undefined) this.ctx.stats.requestFailure('OTHER', sentNs, nowNs());
      this.#fail(step, err);
    } finally {
      if (acquired) limiter!.release();
      this.#inflight--;
      this.#advance();
    }
  }

  /**
   * The step request's inputs: each ensemble tensor renamed to the step model's input, its
   * shape adapted between batching and non-batching sides, handed off without a copy where it
   * is safe (tensor-handoff.ts).
   * @returns the tensors and the step request's batch size (0 when the model does not batch).
   * @throws the host's lookup error when the step's model has no version to serve it.
   */
  #stepInputs(step: EnsembleStep): { tensors: Tensor[]; batchSize: number } {
    const spec = this.ctx.host.spec(step.model, step.version);
    const batching = spec.maxBatchSize > 0;
    const tensors: Tensor[] = [];
    for (const { input, tensor } of step.inputs) {
      const slot = this.#slots.get(tensor)!;
      slot.remaining--;
      const t = slot.tensor;
      if (t === null) continue;
      const dims = spec.inputByName.get(input)?.dims;
      // An input the model does not have is left for the model's request validation to name.
      const shape = dims === undefined ? t.shape : reshapeForBatching(dims, batching, slot.batchSize, t.shape);
      const last = slot.remaining <= 0;
      tensors.push(handOff(t, input, shape, last && !this.#sharedWithOthers(t.data.buffer, slot)));
      // Its buffer may be detached from here on; nothing reads the tensor again.
      if (last) slot.tensor = null;
    }
    return { tensors, batchSize: batching ? (tensors[0]?.shape[0] ?? 0) : 0 };
  }

  /**
   * Another tensor still to be read views the same buffer (a model that returned one array
   * for two outputs): moving the buffer away would empty that tensor too.
   */
  #sharedWithOthers(buffer: ArrayBufferLike, own: Slot): boolean {
    for (const slot of this.#slots.values()) {
      if (slot !== own && slot.remaining > 0 && slot.tensor?.data.buffer === buffer) return true;
    }
    return false;
  }

  #fail(step: EnsembleStep, err: unknown): void {
    if (this.#error !== undefined) return;
    const e = toTritonError(err);
    const message = `in ensemble '${this.ctx.plan.name}', step ${step.index} (model '${step.model}'): ${e.message}`;
    this.#error = errorFromCode(e.code, message);
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#error !== undefined) {
      this.#reject(this.#error);
      return;
    }
    const { plan } = this.ctx;
    const outputs: Tensor[] = [];
    for (const name of this.payload.outputNames) {
      const slot = this.#slots.get(name);
      if (slot?.tensor == null) {
        const id = this.payload.request?.id;
        const log = `[request id: ${id !== undefined && id !== '' ? id : '<id_unknown>'}] `;
        this.#reject(
          new InvalidArgumentError(
            `in ensemble '${plan.name}', ${log}unexpected deadlock, at least one output is not set while no more ensemble steps can be made`,
          ),
        );
        return;
      }
      const t = slot.tensor;
      const shape = reshapeForBatching(plan.outputDims.get(name) ?? t.shape, plan.batching, slot.batchSize, t.shape);
      outputs.push(shape === t.shape && t.name === name ? t : { ...t, name, shape });
    }
    // Triton counts an ensemble request as one execution of its own batch size.
    this.ctx.stats.execution(Math.max(1, this.payload.batchSize), this.#timing);
    const queueNs = this.#firstStepNs === 0 ? 0 : Math.max(0, this.#firstStepNs - this.enqueuedNs);
    this.#resolve({ outputs, queueNs, timing: { ...this.#timing } });
  }
}
