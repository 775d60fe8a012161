import type { ComputeTiming } from '../../infer/compute-timing.js';
import { errorFromCode, InvalidArgumentError, toTritonError, type TritonError } from '../../errors/index.js';
import type { InferenceRequest, Tensor } from '../../infer/tensor.js';
import type { ResponseListener, SchedulerPayload, StreamOutcome } from '../scheduler.js';
import { nowNs, type ModelStatsRecorder } from '../../observability/stats-recorder.js';
import { reshapeForBatching } from './batch-reshape.js';
import type { ComposingModel, ComposingResult, EnsembleHost } from './ensemble-host.js';
import type { EnsemblePlan, EnsembleStep } from './ensemble-plan.js';
import { EnsembleTensors, type TensorKey } from './ensemble-tensors.js';
import type { StepLimiter } from './step-limiter.js';
import { handOff } from './tensor-handoff.js';

const NONE: readonly EnsembleStep[] = [];

/** A step request's inputs, its batch size (0: the model does not batch) and the version that serves it. */
interface StepInputs {
  tensors: Tensor[];
  batchSize: number;
  model: ComposingModel;
}

/** What every run of one ensemble shares. */
export interface EnsembleRunContext {
  plan: EnsemblePlan;
  host: EnsembleHost;
  /** One per step when `max_inflight_requests` > 0, else empty. */
  limiters: readonly StepLimiter[];
  stats: ModelStatsRecorder;
}

/**
 * Runs one ensemble request (Triton's `EnsembleContext`): the request's inputs are the first
 * ensemble tensors (iteration 0); a step starts as soon as each of its input tensors has a
 * value of the same iteration, so independent branches run concurrently; each response of a
 * step adds a new iteration of its output tensors (ensemble-tensors.ts), which may start
 * more steps. A decoupled step (zero, one or many responses) thus starts the steps after it
 * once per response.
 *
 * Responses (Triton's `CheckAndSetEnsembleOutput` / `FinishEnsemble`): whenever every
 * requested output has a value of the iteration just added, the ensemble answers with them
 * (an output a composing model left out is left out of the answer), final when no step is
 * in flight any more. When the last step ends without such an answer, a decoupled ensemble
 * sends the final flag alone, and any other fails with Triton's "unexpected deadlock".
 *
 * The first failing step stops new steps from starting; steps already running finish, then
 * the request fails with that step's error, its code kept and its message prefixed with
 * "in ensemble '<e>', step <i> (model '<m>'): ". Each failed step request also counts as an
 * OTHER failure of the ensemble (Triton's metrics note); the caller counts the request itself.
 */
export class EnsembleRun {
  readonly #tensors: EnsembleTensors;
  readonly #wanted: ReadonlySet<string>;
  readonly #timing: ComputeTiming = { inputNs: 0, inferNs: 0, outputNs: 0 };
  #inflight = 0;
  #error: TritonError | undefined;
  #firstStepNs = 0;
  #finished = false;
  #responded = false;
  #respond: ResponseListener = () => undefined;
  #resolve: (outcome: StreamOutcome) => void = () => undefined;
  #reject: (err: unknown) => void = () => undefined;

  constructor(
    private readonly ctx: EnsembleRunContext,
    private readonly payload: SchedulerPayload,
    private readonly enqueuedNs: number,
  ) {
    this.#wanted = new Set(payload.outputNames);
    this.#tensors = new EnsembleTensors((tensor) => (ctx.plan.readers.get(tensor) ?? 0) + (this.#wanted.has(tensor) ? 1 : 0));
  }

  /**
   * Starts the steps. Each response goes to `onResponse` (outputs in `outputNames` order),
   * the last one final, or the final flag alone (outputs undefined) for a decoupled ensemble.
   * Resolves when the last step ended; rejects as described above.
   */
  run(onResponse: ResponseListener): Promise<StreamOutcome> {
    return new Promise<StreamOutcome>((resolve, reject) => {
      this.#respond = onResponse;
      this.#resolve = resolve;
      this.#reject = reject;
      const { plan } = this.ctx;
      const batchSize = plan.batching ? this.payload.batchSize : 0;
      const added: TensorKey[] = this.payload.inputs.map((t) => this.#tensors.add(t.name, t, batchSize));
      for (const name of plan.optionalInputs) {
        if (!this.#tensors.has(name)) added.push(this.#tensors.add(name, null, batchSize));
      }
      this.#proceed(added);
    });
  }

  /** After new tensor values: starts the steps they complete, answers when the outputs are ready, finishes when nothing is in flight. */
  #proceed(added: readonly TensorKey[]): void {
    if (this.#finished) return;
    if (this.#error === undefined) {
      // A step completed by several of the values (two inputs from one response) starts once.
      const ready: { step: EnsembleStep; iteration: number }[] = [];
      for (const { tensor, iteration } of added) {
        for (const step of this.ctx.plan.consumers.get(tensor) ?? NONE) {
          if (this.#hasInputs(step, iteration) && !ready.some((r) => r.step === step && r.iteration === iteration)) ready.push({ step, iteration });
        }
      }
      this.#inflight += ready.length;
      for (const { step, iteration } of ready) this.#runStep(step, iteration);
    }
    const outputs = this.#error === undefined ? this.#readyOutputs(added) : undefined;
    const final = this.#inflight === 0;
    if (outputs !== undefined) {
      this.#responded = true;
      this.#respond(outputs, final);
    }
    if (final) this.#finish(outputs !== undefined);
  }

  /** Whether each input tensor of `step` has a value of `iteration` still to be read. */
  #hasInputs(step: EnsembleStep, iteration: number): boolean {
    for (const { tensor } of step.inputs) if (this.#tensors.at(tensor, iteration) === undefined) return false;
    return true;
  }

  /** Runs one step at `iteration`; its end (success or failure) is `#stepEnded`. */
  #runStep(step: EnsembleStep, iteration: number): void {
    const limiter = this.ctx.limiters[step.index];
    let inputs: StepInputs;
    try {
      inputs = this.#stepInputs(step, iteration);
    } catch (err) {
      this.#fail(step, err);
      this.#stepEnded([]);
      return;
    }
    if (limiter === undefined) return this.#sendStep(step, inputs);
    limiter.acquire(this.payload.signal).then(
      () => this.#sendStep(step, inputs, limiter),
      (err: unknown) => {
        this.#fail(step, err);
        this.#stepEnded([]);
      },
    );
  }

  /** Sends the step request: one answer, or a decoupled model's stream of them. */
  #sendStep(step: EnsembleStep, inputs: StepInputs, limiter?: StepLimiter): void {
    const sentNs = nowNs();
    if (this.#firstStepNs === 0) this.#firstStepNs = sentNs;
    const failed = (err: unknown): void => {
      limiter?.release();
      this.ctx.stats.requestFailure('OTHER', sentNs, nowNs());
      this.#fail(step, err);
      this.#stepEnded([]);
    };
    const request = this.#stepRequest(step, inputs.tensors);
    if (inputs.model.decoupled) {
      this.#streamStep(step, request, inputs, limiter).then(undefined, failed);
      return;
    }
    this.ctx.host.infer(request, inputs.model, this.payload.signal).then((result) => {
      limiter?.release();
      this.#stepEnded(this.#absorb(step, result, inputs.batchSize));
    }, failed);
  }

  /**
   * A decoupled step: each response adds its values and proceeds; the final one (or the end
   * of the stream, for a final flag sent alone) ends the step.
   * @throws (rejects) what the stream throws, before the step ended.
   */
  async #streamStep(step: EnsembleStep, request: InferenceRequest, inputs: StepInputs, limiter: StepLimiter | undefined): Promise<void> {
    for await (const result of this.ctx.host.inferStream(request, inputs.model, this.payload.signal)) {
      const added = this.#absorb(step, result, inputs.batchSize);
      if (!result.final) {
        this.#proceed(added);
        continue;
      }
      limiter?.release();
      this.#stepEnded(added);
      return;
    }
    limiter?.release();
    this.#stepEnded([]);
  }

  /** A step is no longer in flight (Triton decrements on its final response). */
  #stepEnded(added: readonly TensorKey[]): void {
    this.#inflight--;
    this.#proceed(added);
  }

  /** The request to a step's model: its inputs, the outputs the step maps, and the parent's id and parameters. */
  #stepRequest(step: EnsembleStep, inputs: Tensor[]): InferenceRequest {
    const request: InferenceRequest = {
      modelName: step.model,
      modelVersion: step.version,
      inputs,
      outputs: step.outputs.map(({ output }) => ({ name: output })),
    };
    const parent = this.payload.request;
    if (parent?.id !== undefined && parent.id !== '') request.id = parent.id;
    // Sequence ids, priority and timeout travel with the request, as Triton copies them.
    if (parent?.parameters !== undefined) request.parameters = parent.parameters;
    return request;
  }

  /**
   * A step's response becomes a new iteration of each tensor the step maps its outputs to (an
   * output the model left out: an absent value, which an optional input accepts).
   */
  #absorb(step: EnsembleStep, result: ComposingResult, batchSize: number): TensorKey[] {
    if (result.timing !== undefined) {
      this.#timing.inputNs += result.timing.inputNs;
      this.#timing.inferNs += result.timing.inferNs;
      this.#timing.outputNs += result.timing.outputNs;
    }
    return step.outputs.map(({ tensor }, k) => {
      const out = result.outputs[k];
      return this.#tensors.add(tensor, out === undefined ? null : out.name === tensor ? out : { ...out, name: tensor }, batchSize);
    });
  }

  /**
   * The step request's inputs at `iteration`: each ensemble tensor renamed to the step model's
   * input, its shape adapted between batching and non-batching sides, handed off without a
   * copy where it is safe (tensor-handoff.ts).
   * @returns the tensors, the step request's batch size (0 when the model does not batch) and
   *   the version that serves it.
   * @throws the host's lookup error when the step's model has no version to serve it.
   */
  #stepInputs(step: EnsembleStep, iteration: number): StepInputs {
    const model = this.ctx.host.model(step.model, step.version);
    const spec = model.spec;
    const batching = spec.maxBatchSize > 0;
    const tensors: Tensor[] = [];
    for (const { input, tensor } of step.inputs) {
      const value = this.#tensors.at(tensor, iteration)!;
      const last = this.#tensors.read(tensor, iteration);
      const t = value.tensor;
      if (t === null) continue;
      const dims = spec.inputByName.get(input)?.dims;
      // An input the model does not have is left for the model's request validation to name.
      const shape = dims === undefined ? t.shape : reshapeForBatching(dims, batching, value.batchSize, t.shape);
      // Its buffer may be detached from here on when this was its last reader.
      tensors.push(handOff(t, input, shape, last && !this.#tensors.sharesBuffer(t.data.buffer)));
    }
    return { tensors, batchSize: batching ? (tensors[0]?.shape[0] ?? 0) : 0, model };
  }

  /**
   * The response's outputs, in `outputNames` order, when every requested output has a value of
   * the iteration of one of the `added` requested tensors; those values are then read.
   */
  #readyOutputs(added: readonly TensorKey[]): Tensor[] | undefined {
    const { plan } = this.ctx;
    const names = this.payload.outputNames;
    let key: TensorKey | undefined;
    for (let i = added.length - 1; i >= 0 && key === undefined; i--) {
      const k = added[i]!;
      if (this.#wanted.has(k.tensor) && this.#allAt(names, k.iteration)) key = k;
    }
    if (key === undefined) return undefined;
    const outputs: Tensor[] = [];
    for (const name of names) {
      const value = this.#tensors.at(name, key.iteration)!;
      this.#tensors.read(name, key.iteration);
      const t = value.tensor;
      if (t === null) continue;
      const shape = reshapeForBatching(plan.outputDims.get(name) ?? t.shape, plan.batching, value.batchSize, t.shape);
      outputs.push(shape === t.shape && t.name === name ? t : { ...t, name, shape });
    }
    return outputs;
  }

  #allAt(tensors: readonly string[], iteration: number): boolean {
    for (const t of tensors) if (this.#tensors.at(t, iteration) === undefined) return false;
    return true;
  }

  #fail(step: EnsembleStep, err: unknown): void {
    if (this.#error !== undefined) return;
    const e = toTritonError(err);
    const message = `in ensemble '${this.ctx.plan.name}', step ${step.index} (model '${step.model}'): ${e.message}`;
    this.#error = errorFromCode(e.code, message);
  }

  /** No step is in flight any more; `answered`: the final response just went out. */
  #finish(answered: boolean): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#error !== undefined) return this.#reject(this.#error);
    const { plan } = this.ctx;
    if (!answered) {
      if (!plan.decoupled && !this.#responded) {
        const id = this.payload.request?.id;
        const log = `[request id: ${id !== undefined && id !== '' ? id : '<id_unknown>'}] `;
        return this.#reject(
          new InvalidArgumentError(
            `in ensemble '${plan.name}', ${log}unexpected deadlock, at least one output is not set while no more ensemble steps can be made`,
          ),
        );
      }
      this.#respond(undefined, true);
    }
    // Triton counts an ensemble request as one execution of its own batch size.
    this.ctx.stats.execution(Math.max(1, this.payload.batchSize), this.#timing);
    const queueNs = this.#firstStepNs === 0 ? 0 : Math.max(0, this.#firstStepNs - this.enqueuedNs);
    this.#resolve({ queueNs, timing: { ...this.#timing } });
  }
}
