import type { Tensor } from '../../infer/tensor.js';
import { callNative } from '../../native/binding.js';
import type { NativeTorchModule } from '../../native/torch-binding.js';
import type { BatchRunner, ExecuteResult } from '../backend.js';
import { ExecutionGate } from '../execution-gate.js';
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
  readonly #gate: ExecutionGate;

  constructor(name: string, module: NativeTorchModule, plan: TorchRunPlan) {
    this.name = name;
    this.#module = module;
    this.#plan = plan;
    this.#gate = new ExecutionGate(plan.label);
  }

  /**
   * Runs one merged batch (merged-batch.ts `runMergedBatch`).
   * @throws what runMergedBatch throws; UnavailableError once closing.
   */
  execute(inputs: Tensor[], outputNames: string[]): Promise<ExecuteResult> {
    return this.#gate.run(() => runMergedBatch(this.#module, this.#plan, inputs, outputNames));
  }

  /** Waits for executions in flight, then frees the module (its memory goes back at once). Idempotent. */
  close(): Promise<void> {
    return this.#gate.close(() => callNative(() => this.#module.dispose()));
  }
}
