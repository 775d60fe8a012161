import { sequenceRequestCancelledError } from '../lifecycle-errors.js';
import { nowNs } from '../../observability/stats-recorder.js';
import { batchSignature, slotInputs, type SlotWork } from './batch-execution.js';
import type { SequenceStates } from './implicit-state.js';
import { decideBatch, type OldestPolicy } from './oldest-batch-policy.js';
import { IDLE_RELEASE, type SequenceRequest, type SlotEntry } from './sequence-request.js';
import { SlotBatcher, type SlotBatcherInit } from './slot-batcher.js';

/** A request handed to the dynamic batch: the next request of its sequence. */
interface Candidate {
  request: SequenceRequest;
  slot: number;
  states: SequenceStates | undefined;
  /** When it became a candidate (the dynamic batcher's own enqueue time), ns. */
  readyNs: number;
  /** `batchSignature` of the request with its states (fixed while it is a candidate). */
  signature: string;
}

/**
 * The Oldest strategy for one model instance (core `OldestSequenceBatch`): the instance keeps
 * up to `max_candidate_sequences` sequences in slots, and at most one request of each
 * sequence is a candidate for batching at a time — the next one becomes a candidate when the
 * previous one has executed, so a sequence's requests run in order and each reads the state
 * the previous one wrote. Candidates from different sequences are batched like the dynamic
 * batcher batches (`decideBatch`: preferred sizes, queue delay), oldest first, in any row.
 *
 * Batches of one instance run one after another, so responses leave in the order their
 * batches were formed (`preserve_ordering` holds by construction).
 */
export class OldestBatcher extends SlotBatcher {
  /** A request of the slot is a candidate or executing (Triton's `in_flight_`). */
  readonly #inFlight: boolean[];
  #candidates: Candidate[] = [];

  constructor(
    init: SlotBatcherInit,
    private readonly policy: OldestPolicy,
  ) {
    super(init);
    this.#inFlight = new Array<boolean>(init.slotCount).fill(false);
  }

  /** Requests waiting: in slot queues and among the candidates. */
  override get pendingCount(): number {
    return super.pendingCount + this.#candidates.length;
  }

  /** Queues a request (or the idle marker) on a slot its sequence owns. */
  enqueue(slot: number, entry: SlotEntry): void {
    this.queues[slot]!.push(entry);
    if (!this.#inFlight[slot]) this.#next(slot);
    this.kick();
  }

  /** Looks at the candidates again (new candidate, cancellation, timer). */
  kick(): void {
    if (this.busy) return;
    this.disarm();
    this.#dropCancelled();
    this.#formBatch();
  }

  /**
   * Makes the slot's next request a candidate, after its previous one completed (core
   * `CompleteAndNext`). An idle marker, a cancelled head or an issued END frees the slot;
   * a backlogged sequence that takes it over starts right away when nothing of the slot is
   * still executing.
   */
  #next(slot: number): void {
    const queue = this.queues[slot]!;
    for (let retry = true; retry; ) {
      retry = false;
      let release = false;
      this.#inFlight[slot] = false;
      const head = queue[0];
      if (head === IDLE_RELEASE) {
        queue.shift();
        release = true;
      } else if (head !== undefined && head.cancelled) {
        // Left in the queue: releasing answers it and the rest of its sequence CANCELLED.
        release = true;
      } else if (head !== undefined) {
        queue.shift();
        if (head.end) release = true;
        const states = this.statesFor(slot, head);
        this.states[slot] = states;
        this.#inFlight[slot] = true;
        const signature = batchSignature(head, states, this.ctx.maxBatchSize > 0);
        this.#candidates.push({ request: head, slot, states, readyNs: nowNs(), signature });
      }
      if (release) {
        const taken = this.owner.releaseSlot(this.index, slot, queue);
        this.states[slot] = undefined;
        if (taken !== undefined && !this.#inFlight[slot]) retry = true;
      }
    }
  }

  /** A candidate whose client gave up is answered CANCELLED; its sequence goes on. */
  #dropCancelled(): void {
    const cancelled = this.#candidates.filter((c) => c.request.cancelled);
    if (cancelled.length === 0) return;
    this.#candidates = this.#candidates.filter((c) => !c.request.cancelled);
    for (const c of cancelled) c.request.reject(sequenceRequestCancelledError());
    this.owner.dropped(cancelled.length);
    for (const c of cancelled) this.#next(c.slot);
  }

  #formBatch(): void {
    const candidates = this.#candidates;
    if (candidates.length === 0) return;
    const batching = this.ctx.maxBatchSize > 0;
    const limit = batching ? this.ctx.maxBatchSize : 1;
    // Only requests shaped like the oldest one can join its batch, in arrival order.
    let count = 1;
    while (count < candidates.length && count < limit && candidates[count]!.signature === candidates[0]!.signature) count++;
    const policy = batching ? this.policy : { maxBatchSize: 1, preferred: [1], maxQueueDelayNs: 0 };
    const decision = decideBatch(count, nowNs() - candidates[0]!.readyNs, policy, count < candidates.length);
    if ('waitNs' in decision) {
      this.timer = setTimeout(() => this.kick(), Math.max(1, decision.waitNs / 1e6));
      return;
    }
    const chosen = candidates.splice(0, decision.run);
    const slots: SlotWork[] = chosen.map((c) => ({
      request: c.request,
      states: c.states,
      inputs: slotInputs(c.request, c.states, this.controls),
    }));
    this.execute(slots, () => {
      for (const c of chosen) this.#next(c.slot);
    });
  }
}
