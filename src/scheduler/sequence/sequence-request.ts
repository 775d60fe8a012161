import type { InferParameters, Tensor } from '../../infer/tensor.js';
import type { SchedulerPayload, StreamOutcome } from '../scheduler.js';
import type { SequenceId } from './sequence-id.js';

/** A request of a sequence while the sequence batcher holds it. */
export interface SequenceRequest {
  payload: SchedulerPayload;
  id: SequenceId;
  /** `sequenceKey(id)`. */
  key: string;
  start: boolean;
  end: boolean;
  /** `nowNs()` at enqueue, for the queue time. */
  enqueuedNs: number;
  /** The client gave up while the request waited; it is answered CANCELLED, never executed. */
  cancelled: boolean;
  /** A response: a model's one, final, or one of a decoupled model's (outputs undefined: the final flag alone). */
  respond(outputs: Tensor[] | undefined, final: boolean, parameters?: InferParameters): void;
  /** The execution it ran in ended (for a decoupled model, after its responses). */
  complete(outcome: StreamOutcome): void;
  reject(err: unknown): void;
}

/**
 * An entry of a slot's queue: a request, or `IDLE_RELEASE`, the reaper's marker that the
 * slot's sequence went idle and the slot is to be freed once the entries before it are done
 * (Triton enqueues a null request for this).
 */
export type SlotEntry = SequenceRequest | typeof IDLE_RELEASE;

export const IDLE_RELEASE = null;

/**
 * What a batcher needs from the scheduler that owns the slots (Triton's
 * `SequenceBatchScheduler::ReleaseSequenceSlot`).
 */
export interface SlotOwner {
  /**
   * Frees a slot whose sequence ended, went idle or was cancelled. Requests left in `queue`
   * are answered CANCELLED and removed. When a sequence waits in the backlog it takes the slot
   * at once: its requests are moved into `queue` and its id is returned.
   * @param batcherIndex which instance's batcher owns the slot.
   */
  releaseSlot(batcherIndex: number, slot: number, queue: SlotEntry[]): SequenceId | undefined;
  /** A request left a queue without executing (cancelled): the pending gauge goes down. */
  dropped(count: number): void;
  /** A batch finished (or failed): the drain may complete. */
  batchDone(): void;
}

/** Requests (not idle markers) in a queue. */
export function countRequests(queue: readonly SlotEntry[]): number {
  let n = 0;
  for (const e of queue) if (e !== IDLE_RELEASE) n++;
  return n;
}
