import { executeSlots, type BatchContext, type SlotWork } from './batch-execution.js';
import type { SequenceControlTensors } from './control-tensors.js';
import type { ImplicitStates, SequenceStates } from './implicit-state.js';
import { countRequests, type SequenceRequest, type SlotEntry, type SlotOwner } from './sequence-request.js';

/** What a slot batcher is built from. */
export interface SlotBatcherInit {
  /** Which instance's batcher this is (for `owner.releaseSlot`). */
  index: number;
  slotCount: number;
  owner: SlotOwner;
  ctx: BatchContext;
  controls: SequenceControlTensors;
  implicit: ImplicitStates;
}

/**
 * What both sequence-batching strategies (DirectBatcher, OldestBatcher) share for one model
 * instance: a queue and the implicit state of each slot, one batch executing at a time, the
 * wake-up timer of a batch that waits, and the counts the scheduler reads. A strategy decides
 * which slots form the next batch (`kick`) and hands them to `execute`.
 */
export abstract class SlotBatcher {
  /** Per slot, its sequence's requests (and idle markers) not yet executing. */
  protected readonly queues: SlotEntry[][];
  /** Per slot, its sequence's implicit state (undefined: none yet, or the model has none). */
  protected readonly states: (SequenceStates | undefined)[];
  /** A batch is executing on the instance. */
  protected busy = false;
  protected timer: NodeJS.Timeout | undefined;
  protected readonly index: number;
  protected readonly owner: SlotOwner;
  protected readonly ctx: BatchContext;
  protected readonly controls: SequenceControlTensors;
  protected readonly implicit: ImplicitStates;
  #inflight = 0;

  constructor(init: SlotBatcherInit) {
    ({ index: this.index, owner: this.owner, ctx: this.ctx, controls: this.controls, implicit: this.implicit } = init);
    this.queues = Array.from({ length: init.slotCount }, () => []);
    this.states = new Array<SequenceStates | undefined>(init.slotCount).fill(undefined);
  }

  get slotCount(): number {
    return this.queues.length;
  }

  /** Requests waiting in this batcher's slot queues (a strategy adds what it holds besides). */
  get pendingCount(): number {
    return this.queues.reduce((n, q) => n + countRequests(q), 0);
  }

  /** Requests in the batch now executing. */
  get inflightCount(): number {
    return this.#inflight;
  }

  /** Queues a request (or the idle marker) on a slot its sequence owns. */
  abstract enqueue(slot: number, entry: SlotEntry): void;

  /** Looks at the slots again (new request, cancellation, timer). */
  abstract kick(): void;

  /** Stops the wake-up timer of a waiting batch. */
  protected disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The states a request reads: fresh at START (or on a slot without any), else the slot's. */
  protected statesFor(slot: number, request: SequenceRequest): SequenceStates | undefined {
    if (this.implicit.isEmpty) return undefined;
    const current = this.states[slot];
    return request.start || current === undefined ? this.implicit.startSequence() : current;
  }

  /**
   * Runs `slots` as the instance's one batch (`executeSlots`); once it executed, `executed`
   * runs, the owner hears of it and the batcher looks at its slots again.
   */
  protected execute(slots: SlotWork[], executed: () => void): void {
    this.busy = true;
    this.#inflight = slots.filter((s) => s.request !== undefined).length;
    void executeSlots(this.ctx, slots, () => {
      this.busy = false;
      this.#inflight = 0;
      executed();
      this.owner.batchDone();
      this.kick();
    });
  }
}
