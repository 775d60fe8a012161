import { UnavailableError } from '../../errors/index.js';
import type { Tensor } from '../../infer/tensor.js';
import { callNative } from '../../native/binding.js';
import type { NativeTorchModule } from '../../native/torch-binding.js';
import type { BatchRunner, ExecuteResult } from '../backend.js';
import { runMergedBatch, type TorchRunPlan } from './merged-batch.js';

/**
 * The merged-batch runtime of one PyTorch model instance (a BatchRunner, which the backend
 * wraps in BatchingInstance to take lists of requests): its own TorchScript module (Triton loads one per instance
 * unless ENABLE_WEIGHT_SHARING) and its own native thread (native/addon/torch), on which
 * executions queue in call order; nothing here blocks the event loop. Input buffers are only
 * read, never detached.
 */
export class PyTorchModelInstance implements BatchRunner {
  readonly name: string;
  readonly #module: NativeTorchModule;
  readonly #plan: TorchRunPlan;
  #inFlight = 0;
  #drained: (() => void) | undefined;
  #closing: Promise<void> | undefined;

  constructor(name: string, module: NativeTorchModule, plan: TorchRunPlan) {
    this.name = name;
    this.#module = module;
    this.#plan = plan;
  }

  /**
   * Runs one merged batch (merged-batch.ts `runMergedBatch`).
   * @throws what runMergedBatch throws; UnavailableError once closing.
   */
  async execute(inputs: Tensor[], outputNames: string[]): Promise<ExecuteResult> {
    if (this.#closing !== undefined) throw new UnavailableError(`${this.#plan.label} is closing`);
    this.#inFlight++;
    try {
      return await runMergedBatch(this.#module, this.#plan, inputs, outputNames);
    } finally {
      if (--this.#inFlight === 0) this.#drained?.();
    }
  }

  /** Waits for executions in flight, then frees the module (its memory goes back at once). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#inFlight > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
      callNative(() => this.#module.dispose());
    })();
    return this.#closing;
  }
}
