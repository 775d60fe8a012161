import type { ModelInstance } from '../../backends/backend.js';
import { InternalError, UnsupportedError } from '../../errors/index.js';
import type { ModelSequenceBatching } from '../../generated/model_config_pb.js';
import type { BatchContext } from './batch-execution.js';
import { SequenceControlTensors } from './control-tensors.js';
import { DirectBatcher } from './direct-batcher.js';
import { ImplicitStates } from './implicit-state.js';
import { OldestBatcher } from './oldest-batcher.js';
import type { SchedulerContext } from '../scheduler.js';
import type { SlotOwner } from './sequence-request.js';
import type { SlotBatcher } from './slot-batcher.js';

export type { SlotBatcher } from './slot-batcher.js';

/** What the sequence batcher is built from (the scheduler factory's context). */
export type SequenceSchedulerOptions = Omit<SchedulerContext, 'ensembleHost'>;


/** What the sequence batcher runs with, derived once from the config at load time. */
export interface SequenceSetup {
  controls: SequenceControlTensors;
  /** One per instance, in instance order; all with the same slot count. */
  batchers: SlotBatcher[];
  /** `max_sequence_idle_microseconds` (normalization makes 0 the 1 s default). */
  idleUs: number;
}

/**
 * Reads `sequence_batching` (reference §3.3) and builds a batcher per instance for its
 * strategy: `direct` (also when no strategy is given) with `max(1, max_batch_size)` slots, or
 * `oldest` with `max_candidate_sequences` slots (default `max(1, max_batch_size)`), as core
 * `SequenceBatchScheduler::Create` sizes them.
 *
 * @param owner the scheduler that hands out and frees the slots.
 * @throws InvalidArgumentError for a malformed control_input or state section (Triton's
 *   load-time messages); UnsupportedError for `iterative_sequence` and for
 *   `use_growable_memory` (Triton allows it only on KIND_GPU instances, with its messages),
 *   and for implicit state on a decoupled model (its responses come one by one: there is no
 *   one response to take the next state from);
 *   InternalError without instances or without `sequence_batching`.
 */
export function setUpSequenceBatching(options: SequenceSchedulerOptions, owner: SlotOwner): SequenceSetup {
  const { config } = options;
  if (config.schedulingChoice.case !== 'sequenceBatching') {
    throw new InternalError(`model '${config.name}' has no sequence_batching`);
  }
  const seq: ModelSequenceBatching = config.schedulingChoice.value;
  if (seq.iterativeSequence) {
    throw new UnsupportedError(`iterative_sequence is not supported for model '${config.name}'`);
  }
  for (const s of seq.state) {
    if (s.useGrowableMemory) {
      throw new UnsupportedError(
        s.useSameBufferForInputOutput
          ? `'use_growable_memory' can only work with KIND_GPU model instances right now. Please either change the instance type to KIND_GPU or set 'use_growable_memory' to false for state input '${s.inputName}'.`
          : `In order to 'use_growable_memory', you must also enable 'use_single_buffer' for state input name '${s.inputName}'.`,
      );
    }
  }
  const decoupled = config.modelTransactionPolicy?.decoupled === true;
  if (decoupled && seq.state.length > 0) {
    throw new UnsupportedError(`model '${config.name}': implicit state (sequence_batching state) is not supported for decoupled models`);
  }
  if (options.instances.length === 0) {
    throw new InternalError('Initialization failed for all sequence-batch scheduler threads');
  }
  const maxBatchSize = config.maxBatchSize;
  const controls = new SequenceControlTensors(seq, config.name, maxBatchSize);
  const implicit = ImplicitStates.create(seq, maxBatchSize, options.modelDir);
  const idleUs = Number(seq.maxSequenceIdleMicroseconds) || 1_000_000;
  const context = (instance: ModelInstance): BatchContext => ({
    instance,
    maxBatchSize,
    stateOutputs: implicit.outputNames,
    stats: options.stats,
    decoupled,
  });

  const strategy = seq.strategyChoice;
  if (strategy.case === 'oldest') {
    const o = strategy.value;
    const slots = o.maxCandidateSequences > 0 ? o.maxCandidateSequences : Math.max(1, maxBatchSize);
    const policy = {
      maxBatchSize: Math.max(1, maxBatchSize),
      preferred: [...new Set(o.preferredBatchSize)].sort((a, b) => a - b),
      maxQueueDelayNs: Number(o.maxQueueDelayMicroseconds) * 1000,
    };
    const batchers = options.instances.map((inst, i) => new OldestBatcher({ index: i, slotCount: slots, owner, ctx: context(inst), controls, implicit }, policy));
    return { controls, batchers, idleUs };
  }
  const d = strategy.case === 'direct' ? strategy.value : undefined;
  const direct = {
    maxQueueDelayNs: Number(d?.maxQueueDelayMicroseconds ?? 0n) * 1000,
    minimumSlotUtilization: d?.minimumSlotUtilization ?? 0,
  };
  const slots = Math.max(1, maxBatchSize);
  const batchers = options.instances.map((inst, i) => new DirectBatcher({ index: i, slotCount: slots, owner, ctx: context(inst), controls, implicit }, direct));
  return { controls, batchers, idleUs };
}
