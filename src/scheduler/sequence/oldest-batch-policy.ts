/** Settings of `sequence_batching.oldest` that decide batch sizes (reference §3.3). */
export interface OldestPolicy {
  /** The model's max_batch_size, at least 1. */
  maxBatchSize: number;
  /** `preferred_batch_size`, ascending, without duplicates (normalization fills `[max_batch_size]`). */
  preferred: readonly number[];
  /** `max_queue_delay_microseconds` in ns; 0 = run with what is there. */
  maxQueueDelayNs: number;
}

/** Run a batch of `size` candidates now, or look again in `waitNs`. */
export type BatchDecision = { run: number } | { waitNs: number };

/**
 * Triton's dynamic-batcher decision (`DynamicBatchScheduler::GetDynamicBatch`) for queued
 * requests of batch size 1 each, as the Oldest strategy feeds it, when the instance is free:
 *
 * 1. The largest preferred size that the queue fills is run at once, unless the oldest
 *    request has already waited the queue delay.
 * 2. Otherwise everything up to max_batch_size runs at once when more requests wait behind
 *    them (a full batch, or a request shaped differently), the largest preferred size is
 *    reached, the oldest has waited the delay, or the delay is 0.
 * 3. Otherwise the batcher waits for more requests until the oldest has waited the delay.
 *
 * @param count requests at the head of the queue that can batch together (equal shapes).
 * @param oldestWaitNs how long the first of them has waited, in ns.
 * @param more whether other requests wait behind those `count` (they cannot join this batch).
 */
export function decideBatch(count: number, oldestWaitNs: number, policy: OldestPolicy, more = false): BatchDecision {
  if (count === 0) return { waitNs: Infinity };
  const fill = Math.min(count, policy.maxBatchSize);
  const maxPreferred = policy.preferred.length > 0 ? policy.preferred[policy.preferred.length - 1]! : policy.maxBatchSize;
  let best = 0;
  for (const p of policy.preferred) if (p <= fill) best = p;
  const delayExceeded = policy.maxQueueDelayNs > 0 && oldestWaitNs >= policy.maxQueueDelayNs;
  if (best > 0 && !delayExceeded) return { run: best };
  if (more || count > policy.maxBatchSize || fill >= maxPreferred || delayExceeded || policy.maxQueueDelayNs === 0) {
    return { run: fill };
  }
  return { waitNs: policy.maxQueueDelayNs - oldestWaitNs };
}
