import { UnavailableError } from '../../errors/index.js';
import type { QueuePolicy } from '../queue-policy.js';
import type { ScheduledRequest } from '../scheduled-request.js';
import type { SchedulerPayload } from '../scheduler.js';

/** A request waiting in the dynamic batcher. */
export interface QueuedRequest {
  /** The request, settled by the scheduler. */
  request: ScheduledRequest;
  payload: SchedulerPayload;
  /** Batch size it adds to a batch (>= 1). */
  batchSize: number;
  /** Monotonic ns when it was queued. */
  enqueuedNs: number;
  /** Monotonic ns when its queue timeout expires; 0 = none (also once it was delayed). */
  deadlineNs: number;
  level: number;
}

/** What the queue reads of an entry; the rest is the scheduler's. */
export interface QueueEntry {
  /** Monotonic ns when its queue timeout expires; 0 = none (also once it was delayed). */
  deadlineNs: number;
  level: number;
}

/**
 * One priority level (Triton `PolicyQueue`): unexpired requests in arrival order, then the
 * requests whose timeout expired under a DELAY policy. Delayed requests stay eligible for
 * batching but only after every unexpired request of their level.
 */
class LevelQueue<T extends QueueEntry> {
  readonly live: T[] = [];
  readonly delayed: T[] = [];
  constructor(readonly policy: QueuePolicy) {}
  get size(): number {
    return this.live.length + this.delayed.length;
  }
}

/**
 * The dynamic batcher's queue (Triton `PriorityQueue`): one FIFO per priority level, lower
 * level numbers first (1 is the highest priority), each with its own queue policy. Not
 * thread-safe; the scheduler owns it.
 */
export class PriorityQueue<T extends QueueEntry = QueuedRequest> {
  readonly #levels = new Map<number, LevelQueue<T>>();
  /** Level numbers in ascending order (the batching order). */
  #order: number[] = [];
  #size = 0;
  /** Earliest deadline among unexpired requests; 0 = none, recomputed by expire(). */
  #closestDeadline = 0;

  constructor(private readonly policyFor: (level: number) => QueuePolicy) {}

  get size(): number {
    return this.#size;
  }

  /**
   * The earliest queue-timeout deadline (monotonic ns) among queued requests; 0 when none.
   * It may belong to a request that left the queue since (expire() recomputes it).
   */
  get closestDeadlineNs(): number {
    return this.#size === 0 ? 0 : this.#closestDeadline;
  }

  /**
   * Appends a request to its level.
   * @throws UnavailableError "[request id: <id>] Exceeds maximum queue size" when the level
   *   already holds `max_queue_size` requests (Triton `PolicyQueue::Enqueue`).
   */
  enqueue(item: T, logPrefix: string): void {
    const q = this.#level(item.level);
    if (q.policy.maxQueueSize !== 0 && q.size >= q.policy.maxQueueSize) {
      throw new UnavailableError(`${logPrefix}Exceeds maximum queue size`);
    }
    q.live.push(item);
    this.#size++;
    if (item.deadlineNs !== 0 && (this.#closestDeadline === 0 || item.deadlineNs < this.#closestDeadline)) {
      this.#closestDeadline = item.deadlineNs;
    }
  }

  /** Removes a queued request (cancellation); false when it is no longer queued. */
  remove(item: T): boolean {
    const q = this.#levels.get(item.level);
    if (q === undefined) return false;
    for (const list of [q.live, q.delayed]) {
      const i = list.indexOf(item);
      if (i >= 0) {
        list.splice(i, 1);
        this.#size--;
        return true;
      }
    }
    return false;
  }

  /**
   * Applies the timeout policies at `nowNs` (Triton `PolicyQueue::ApplyPolicy`): an expired
   * request under REJECT is removed and returned; under DELAY it moves behind the unexpired
   * requests of its level and loses its deadline.
   * @returns the rejected requests, for the caller to answer "Request timeout expired".
   */
  expire(nowNs: number): T[] {
    if (this.#closestDeadline === 0 || nowNs < this.#closestDeadline) return [];
    const rejected: T[] = [];
    let closest = 0;
    for (const level of this.#order) {
      const q = this.#levels.get(level)!;
      let keep = 0;
      for (const item of q.live) {
        if (item.deadlineNs !== 0 && nowNs >= item.deadlineNs) {
          if (q.policy.timeoutAction === 'DELAY') {
            item.deadlineNs = 0;
            q.delayed.push(item);
          } else {
            rejected.push(item);
            this.#size--;
          }
          continue;
        }
        if (item.deadlineNs !== 0 && (closest === 0 || item.deadlineNs < closest)) closest = item.deadlineNs;
        q.live[keep++] = item;
      }
      q.live.length = keep;
    }
    this.#closestDeadline = closest;
    return rejected;
  }

  /** Queued requests in batching order: by level, then unexpired before delayed, then arrival. */
  *inOrder(): Generator<T> {
    for (const level of this.#order) {
      const q = this.#levels.get(level)!;
      yield* q.live;
      yield* q.delayed;
    }
  }

  /** Removes and returns the first `count` requests of `inOrder()`. */
  takeFirst(count: number): T[] {
    const taken: T[] = [];
    for (const level of this.#order) {
      if (taken.length === count) break;
      const q = this.#levels.get(level)!;
      for (const list of [q.live, q.delayed]) {
        const n = Math.min(count - taken.length, list.length);
        if (n > 0) taken.push(...list.splice(0, n));
      }
    }
    this.#size -= taken.length;
    return taken;
  }

  /** Removes and returns every queued request. */
  takeAll(): T[] {
    return this.takeFirst(this.#size);
  }

  #level(level: number): LevelQueue<T> {
    let q = this.#levels.get(level);
    if (q === undefined) {
      q = new LevelQueue<T>(this.policyFor(level));
      this.#levels.set(level, q);
      this.#order = [...this.#levels.keys()].sort((a, b) => a - b);
    }
    return q;
  }
}
