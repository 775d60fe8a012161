import { nowNs } from '../../observability/stats-recorder.js';
import { batchSignature, emptySlotInputs, slotInputs, type SlotWork } from './batch-execution.js';
import type { SequenceStates } from './implicit-state.js';
import { IDLE_RELEASE, type SequenceRequest, type SlotEntry } from './sequence-request.js';
import { SlotBatcher, type SlotBatcherInit } from './slot-batcher.js';

/** Settings of `sequence_batching.direct` (reference §3.3). */
export interface DirectOptions {
  /** `max_queue_delay_microseconds` in ns; 0 = never wait for more slots to fill. */
  maxQueueDelayNs: number;
  /** `minimum_slot_utilization` in [0, 1]; 0 = never wait. */
  minimumSlotUtilization: number;
}

/**
 * The Direct strategy for one model instance (core `DirectSequenceBatch`): the instance has
 * `max(1, max_batch_size)` slots, each sequence owns one slot for its whole life, and slot i
 * is always row i of the batch, so a model that keeps per-row state sees each sequence in the
 * same row. A batch covers slots 0..k (k = the highest slot with a request); a slot with
 * nothing to run — or whose next request has differently shaped inputs — is an empty row with
 * READY false. One batch runs at a time; the next is formed when it completes.
 *
 * With a queue delay and a minimum slot utilization, a batch waits until
 * ready slots ÷ max_batch_size ≥ the utilization, or its oldest request has waited the delay.
 */
export class DirectBatcher extends SlotBatcher {
  /** Whether a sequence holds the slot (Triton's `seq_slot_correlation_ids_`). */
  readonly #occupied: boolean[];
  #maxActive = -1;

  constructor(
    init: SlotBatcherInit,
    private readonly options: DirectOptions,
  ) {
    super(init);
    this.#occupied = new Array<boolean>(init.slotCount).fill(false);
  }

  /** Queues a request (or the idle marker) on a slot its sequence owns. */
  enqueue(slot: number, entry: SlotEntry): void {
    this.queues[slot]!.push(entry);
    this.#occupied[slot] = true;
    this.#maxActive = Math.max(this.#maxActive, slot);
    this.kick();
  }

  /** Looks at the queues again (new request, cancellation, timer). */
  kick(): void {
    if (this.busy) return;
    this.disarm();
    this.#formBatch();
  }

  /** Frees a slot and lets a backlogged sequence take it. */
  #release(slot: number): void {
    const queue = this.queues[slot]!;
    const taken = this.owner.releaseSlot(this.index, slot, queue);
    this.states[slot] = undefined;
    this.#occupied[slot] = taken !== undefined;
  }

  #formBatch(): void {
    let representative: SequenceRequest | undefined;
    let repStates: SequenceStates | undefined;
    let signature = '';
    let earliest = Infinity;
    let ready = 0;
    let maxSlot = -1;
    const batching = this.ctx.maxBatchSize > 0;
    const planned = new Map<number, SequenceStates | undefined>();

    for (let slot = 0; slot <= this.#maxActive; slot++) {
      const queue = this.queues[slot]!;
      // An idle marker or a cancelled head ends the slot's sequence here; releasing answers
      // what is left of a cancelled sequence CANCELLED.
      while (queue.length > 0 && (queue[0] === IDLE_RELEASE || queue[0]!.cancelled)) {
        if (queue[0] === IDLE_RELEASE) queue.shift();
        this.#release(slot);
      }
      const head = queue[0];
      if (head === undefined || head === IDLE_RELEASE) continue;
      const states = this.statesFor(slot, head);
      const sig = batchSignature(head, states, batching);
      if (representative === undefined) {
        representative = head;
        repStates = states;
        signature = sig;
      } else if (sig !== signature) {
        continue;
      }
      planned.set(slot, states);
      earliest = Math.min(earliest, head.enqueuedNs);
      ready++;
      maxSlot = slot;
    }

    if (maxSlot >= 0 && this.options.maxQueueDelayNs > 0 && this.options.minimumSlotUtilization > 0) {
      const waited = nowNs() - earliest;
      const utilization = ready / Math.max(1, this.ctx.maxBatchSize);
      if (waited <= this.options.maxQueueDelayNs && utilization < this.options.minimumSlotUtilization) {
        this.timer = setTimeout(() => this.kick(), Math.max(1, (this.options.maxQueueDelayNs - waited) / 1e6));
        maxSlot = -1;
      }
    }

    const slots: SlotWork[] = [];
    for (let slot = 0; slot <= maxSlot; slot++) {
      if (!planned.has(slot)) {
        slots.push({ inputs: emptySlotInputs(representative!, repStates, this.controls) });
        continue;
      }
      const states = planned.get(slot);
      const request = this.queues[slot]!.shift() as SequenceRequest;
      this.states[slot] = states;
      slots.push({ request, inputs: slotInputs(request, states, this.controls), states });
      if (request.end) this.#release(slot);
    }
    while (this.#maxActive >= 0 && !this.#occupied[this.#maxActive]) this.#maxActive--;
    if (slots.length === 0) return;

    this.execute(slots, () => {});
  }
}
