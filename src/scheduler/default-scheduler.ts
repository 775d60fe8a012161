import type { ModelInstance } from '../backends/backend.js';
import type { ComputeTiming } from '../infer/compute-timing.js';
import { NO_STATS, nowNs, type ModelStatsRecorder } from '../observability/stats-recorder.js';
import type { ScheduledRequest } from './scheduled-request.js';
import { SchedulerBase } from './scheduler-base.js';

/**
 * Triton's default scheduler (a model with no dynamic or sequence batcher): each request runs
 * as an execution of its own (a list of one request), on the first free instance, in arrival
 * order, with Triton's default queue policy (one FIFO, no timeout: the request `timeout`
 * parameter does not apply). A request may carry its own batch (up to max_batch_size;
 * validated before it gets here). The instance sees the request whole (id, parameters) and
 * may answer it many times (a decoupled model, through `enqueueStream`).
 *
 * A request whose `signal` aborts before it reaches an instance is dropped and rejects with
 * CancelledError; once executing, a decoupled instance sees the signal and stops it.
 *
 * An instance with a `pipelineDepth` above 1 (ONNX Runtime, Python) is handed up to that many requests
 * before the first ends; it runs them one at a time in order, as if they had waited here, and
 * their wait inside it (`ComputeTiming.waitNs`) is added to their queue time. What differs is
 * that such a request can no longer be dropped on cancellation while it waits there.
 */
export class DefaultScheduler extends SchedulerBase {
  readonly #free: ModelInstance[];
  // FIFO as an array plus a head index: shift() is O(n) on long queues.
  #queue: (ScheduledRequest | undefined)[] = [];
  #head = 0;
  #inflight = 0;

  /**
   * @param instances the model's instances; each runs one request at a time, and takes up to
   *   its `pipelineDepth` (default 1) before the first ends: `#free` holds one slot per
   *   execution an instance may take, the instances' first slots last (taken first).
   * @param modelLabel `<model>:<version>`, for messages.
   */
  constructor(instances: readonly ModelInstance[], modelLabel: string, stats: ModelStatsRecorder = NO_STATS) {
    super(modelLabel, stats);
    const depth = Math.max(1, ...instances.map((i) => i.pipelineDepth ?? 1));
    this.#free = [];
    for (let d = depth; d >= 1; d--) for (const i of instances) if ((i.pipelineDepth ?? 1) >= d) this.#free.push(i);
  }

  get pendingCount(): number {
    return this.#queue.length - this.#head;
  }

  get inflightCount(): number {
    return this.#inflight;
  }

  protected accept(request: ScheduledRequest): void {
    const refused = this.refusal(request);
    if (refused !== undefined) return request.reject(refused);
    this.cancelWhileQueued(request, () => {
      const i = this.#queue.indexOf(request, this.#head);
      if (i < 0) return false;
      this.#queue.splice(i, 1);
      return true;
    });
    this.#queue.push(request);
    this.stats.pending(1);
    this.#dispatch();
  }

  #dispatch(): void {
    while (this.#free.length > 0 && this.#head < this.#queue.length) {
      const request = this.#queue[this.#head]!;
      this.#queue[this.#head++] = undefined;
      if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
      this.stats.pending(-1);
      request.unwatch();
      this.#run(this.#free.pop()!, request);
    }
  }

  #run(instance: ModelInstance, request: ScheduledRequest): void {
    this.#inflight++;
    const queueNs = nowNs() - request.enqueuedNs;
    // One reaction per outcome, each freeing the instance itself: no `finally` (it would add
    // promises and turns of the microtask queue to every request). Settling only queues the
    // caller's reaction, so the instance takes its next request before the response is written.
    let run: Promise<ComputeTiming>;
    try {
      run = instance.executeRequests([request.forInstance()]);
    } catch (err) {
      run = Promise.reject(err);
    }
    run.then(
      (timing) => {
        try {
          this.stats.execution(request.payload.batchSize, timing);
          // Time spent inside a pipelined instance behind earlier executions is queue time.
          request.complete({ queueNs: timing.waitNs === undefined ? queueNs : queueNs + timing.waitNs, timing });
        } finally {
          this.#release(instance);
        }
      },
      (err: unknown) => {
        request.reject(err);
        this.#release(instance);
      },
    );
  }

  /** An execution ended: the instance takes the next queued request. */
  #release(instance: ModelInstance): void {
    this.#inflight--;
    this.#free.push(instance);
    this.#dispatch();
    this.checkDrained();
  }
}
