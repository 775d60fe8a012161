import { canJoinBatch, type BatchRules } from './batch-rules.js';
import type { QueuedRequest } from './priority-queue.js';

/** The batching limits of one model (from `max_batch_size` and `dynamic_batching`). */
export interface BatchLimits {
  /** Largest batch (sum of request batch sizes); `max(1, max_batch_size)`. */
  maxBatchSize: number;
  /** `preferred_batch_size` values. */
  preferred: ReadonlySet<number>;
  /** Largest preferred size; 0 when there is none. */
  maxPreferred: number;
  /** `max_queue_delay_microseconds` in nanoseconds; 0 = never wait. */
  delayNs: number;
  rules: BatchRules;
}

/** What to do with the queue now. */
export type BatchDecision =
  /** Dispatch the first `count` queued requests as one batch. */
  | { kind: 'send'; count: number }
  /** Hold the pending batch until `untilNs` (monotonic ns) unless more requests arrive. */
  | { kind: 'wait'; untilNs: number }
  /** Nothing queued. */
  | { kind: 'idle' };

/**
 * Triton's batch decision (core `DynamicBatchScheduler::GetDynamicBatch`), taken when an
 * instance is free. Requests are examined in queue order and added to the pending batch while
 * it stays within `max_batch_size` and the next request has compatible inputs (batch rules).
 * Then:
 * - a preferred size was reached and the oldest member has not waited `max_queue_delay`:
 *   send the largest preferred-size prefix;
 * - the pending batch cannot grow (incompatible next request, `max_batch_size` reached) or
 *   is at least the largest preferred size, or the delay is 0 or exceeded: send it all;
 * - otherwise wait until the oldest member has waited `max_queue_delay`.
 */
export function decideBatch(queue: Iterable<QueuedRequest>, limits: BatchLimits, nowNs: number): BatchDecision {
  let first: QueuedRequest | undefined;
  let size = 0;
  let count = 0;
  let bestCount = 0;
  let sendNow = false;
  let oldestNs = Number.POSITIVE_INFINITY;
  for (const item of queue) {
    const b = item.batchSize;
    if (first === undefined) {
      first = item;
    } else {
      if (size + b > limits.maxPreferred && bestCount === 0) bestCount = count;
      if (size + b > limits.maxBatchSize || !canJoinBatch(first.payload.inputs, item.payload.inputs, limits.rules)) {
        sendNow = true;
        break;
      }
    }
    size += b;
    count++;
    if (item.enqueuedNs < oldestNs) oldestNs = item.enqueuedNs;
    if (limits.preferred.has(size)) bestCount = count;
  }
  if (count === 0) return { kind: 'idle' };

  const delayExceeded = limits.delayNs !== 0 && nowNs - oldestNs >= limits.delayNs;
  if (bestCount > 0 && !delayExceeded) return { kind: 'send', count: bestCount };
  if (sendNow || size >= limits.maxPreferred || delayExceeded || limits.delayNs === 0) return { kind: 'send', count };
  return { kind: 'wait', untilNs: oldestNs + limits.delayNs };
}
