import { CancelledError } from '../errors/index.js';
import type { ModelInstance } from '../backends/backend.js';
import type { ScheduledResult, Scheduler, SchedulerPayload } from './scheduler.js';
import { NO_STATS, nowNs, type ModelStatsRecorder } from '../observability/stats-recorder.js';
import { stoppingError } from './stopping-error.js';

interface QueuedRequest {
  payload: SchedulerPayload;
  enqueuedNs: number;
  resolve: (result: ScheduledResult) => void;
  reject: (err: unknown) => void;
  /** Detaches the abort listener of its signal. */
  unlisten?: () => void;
}

/**
 * Triton's default scheduler (a model with no dynamic or sequence batcher): each request runs
 * as its own batch, on the first free instance, in arrival order. A request may carry its own
 * batch (up to max_batch_size; validated before it gets here). A request whose `signal` is
 * aborted before it reaches an instance is dropped and rejects with CancelledError.
 */
export class DefaultScheduler implements Scheduler {
  readonly #free: ModelInstance[];
  // FIFO as an array plus a head index: shift() is O(n) on long queues.
  #queue: (QueuedRequest | undefined)[] = [];
  #head = 0;
  #inflight = 0;
  #stopping = false;
  #drained: (() => void) | undefined;

  /**
   * @param instances the model's instances; each runs one request at a time.
   * @param modelLabel `<model>:<version>`, for messages.
   */
  constructor(
    instances: readonly ModelInstance[],
    private readonly modelLabel: string,
    private readonly stats: ModelStatsRecorder = NO_STATS,
  ) {
    this.#free = [...instances];
  }

  get pendingCount(): number {
    return this.#queue.length - this.#head;
  }

  get inflightCount(): number {
    return this.#inflight;
  }

  enqueue(payload: SchedulerPayload): Promise<ScheduledResult> {
    if (this.#stopping) {
      return Promise.reject(stoppingError(this.modelLabel));
    }
    const signal = payload.signal;
    if (signal?.aborted) return Promise.reject(new CancelledError('Request was cancelled'));
    return new Promise<ScheduledResult>((resolve, reject) => {
      const item: QueuedRequest = { payload, enqueuedNs: nowNs(), resolve, reject };
      if (signal !== undefined) {
        const onAbort = (): void => this.#cancel(item);
        signal.addEventListener('abort', onAbort, { once: true });
        item.unlisten = () => signal.removeEventListener('abort', onAbort);
      }
      this.#queue.push(item);
      this.stats.pending(1);
      this.#dispatch();
    });
  }

  #cancel(item: QueuedRequest): void {
    const i = this.#queue.indexOf(item, this.#head);
    if (i < 0) return;
    this.#queue.splice(i, 1);
    this.stats.pending(-1);
    item.reject(new CancelledError('Request was cancelled'));
    this.#checkDrained();
  }

  #checkDrained(): void {
    if (this.#stopping && this.#drained && this.pendingCount === 0 && this.#inflight === 0) {
      this.#drained();
      this.#drained = undefined;
    }
  }

  drain(): Promise<void> {
    this.#stopping = true;
    if (this.pendingCount === 0 && this.#inflight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#drained = resolve;
    });
  }

  #dispatch(): void {
    while (this.#free.length > 0 && this.#head < this.#queue.length) {
      const item = this.#queue[this.#head]!;
      this.#queue[this.#head++] = undefined;
      if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
      this.stats.pending(-1);
      item.unlisten?.();
      this.#run(this.#free.pop()!, item);
    }
  }

  #run(instance: ModelInstance, item: QueuedRequest): void {
    this.#inflight++;
    const queueNs = nowNs() - item.enqueuedNs;
    // One reaction per outcome, each freeing the instance itself: no `finally` (it would add
    // promises and turns of the microtask queue to every request).
    instance.execute(item.payload.inputs, item.payload.outputNames).then(
      ({ outputs, timing }) => {
        try {
          this.stats.execution(item.payload.batchSize, timing);
          item.resolve({ outputs, queueNs, timing });
        } finally {
          this.#release(instance);
        }
      },
      (err: unknown) => {
        item.reject(err);
        this.#release(instance);
      },
    );
  }

  /** An execution ended: the instance takes the next queued request. */
  #release(instance: ModelInstance): void {
    this.#inflight--;
    this.#free.push(instance);
    this.#dispatch();
    this.#checkDrained();
  }
}
