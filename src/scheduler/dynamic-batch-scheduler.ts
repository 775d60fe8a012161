import type { ModelInstance } from '../backends/backend.js';
import { UnavailableError } from '../errors/index.js';
import type { ModelConfig } from '../generated/model_config_pb.js';
import type { ComputeTiming } from '../infer/compute-timing.js';
import { decideBatch, type BatchLimits } from './dynamic/batch-decision.js';
import { batchRules } from './dynamic/batch-rules.js';
import { OrderedCompletion } from './dynamic/ordered-completion.js';
import { PriorityQueue, type QueuedRequest } from './dynamic/priority-queue.js';
import { requestLevel, requestLogPrefix, requestTimeoutUs, resolvePriorityPolicies, type PriorityPolicies } from './queue-policy.js';
import type { ScheduledRequest } from './scheduled-request.js';
import { SchedulerBase } from './scheduler-base.js';
import { NO_STATS, nowNs, type ModelStatsRecorder } from '../observability/stats-recorder.js';

/** Below this much waiting, a timer (1 ms resolution) would overshoot the queue delay. */
const TIMER_MIN_NS = 2_000_000;

/**
 * Triton's dynamic batcher (`dynamic_batching`, core `dynamic_batch_scheduler.cc`): requests
 * wait in a priority queue and, whenever a model instance is free, are combined into one
 * batch following `decideBatch` (preferred sizes, `max_queue_delay_microseconds`,
 * `max_batch_size`, equal shapes unless `allow_ragged_batch`). Each batch goes to the free
 * instance as its list of requests (a merged-batch backend's BatchingInstance gathers them
 * into one owned buffer per input and splits the outputs back per request).
 *
 * Queue policies (per priority level): `max_queue_size` refuses a request at enqueue with
 * UnavailableError "[request id: <id>] Exceeds maximum queue size"; a request whose queue
 * timeout expires is rejected with UnavailableError "Request timeout expired" (REJECT) or moved
 * behind its level's unexpired requests (DELAY). A request whose `signal` aborts while queued
 * is removed and rejects with CancelledError; once dispatched it runs to the end. With
 * `preserve_ordering` responses (and errors) leave in dispatch order, which is arrival order
 * since such a model has one priority level and no DELAY policy (config validation).
 *
 * Stats: `execution(batch size = sum of members)` per batch, `pending(±1)` per queue change;
 * each result carries its queue time (enqueue → batch start).
 */
export class DynamicBatchScheduler extends SchedulerBase {
  readonly #free: ModelInstance[];
  readonly #limits: BatchLimits;
  readonly #policies: PriorityPolicies;
  readonly #queue: PriorityQueue;
  readonly #ordered: OrderedCompletion | undefined;
  #inflight = 0;
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;

  /**
   * @param config the model's normalized, validated config (`dynamic_batching` set).
   * @param instances the model's instances; each runs one batch at a time.
   * @param modelLabel `<model>:<version>`, for messages.
   */
  constructor(
    config: ModelConfig,
    instances: readonly ModelInstance[],
    modelLabel: string,
    stats: ModelStatsRecorder = NO_STATS,
  ) {
    super(modelLabel, stats);
    const db = config.schedulingChoice.case === 'dynamicBatching' ? config.schedulingChoice.value : undefined;
    this.#free = [...instances];
    // Normalization gives preferred_batch_size [max_batch_size] when it is empty; a config
    // that skipped it (embedders, tests) gets the same.
    const preferred = new Set(db?.preferredBatchSize.length ? db.preferredBatchSize : config.maxBatchSize > 0 ? [config.maxBatchSize] : []);
    this.#limits = {
      maxBatchSize: Math.max(1, config.maxBatchSize),
      preferred,
      maxPreferred: Math.max(0, ...preferred),
      delayNs: Number(db?.maxQueueDelayMicroseconds ?? 0n) * 1000,
      rules: batchRules(config),
    };
    this.#policies = resolvePriorityPolicies(db);
    this.#queue = new PriorityQueue(this.#policies.policyFor);
    this.#ordered = db?.preserveOrdering ? new OrderedCompletion() : undefined;
  }

  get pendingCount(): number {
    return this.#queue.size;
  }

  get inflightCount(): number {
    return this.#inflight;
  }

  protected accept(request: ScheduledRequest): void {
    const refused = this.refusal(request);
    if (refused !== undefined) return request.reject(refused);
    const payload = request.payload;
    const params = payload.request?.parameters;
    const level = requestLevel(params, this.#policies);
    const timeoutUs = requestTimeoutUs(params, this.#policies.policyFor(level));
    const enqueuedNs = request.enqueuedNs;
    const item: QueuedRequest = {
      request,
      payload,
      batchSize: Math.max(1, payload.batchSize),
      enqueuedNs,
      deadlineNs: timeoutUs > 0 ? enqueuedNs + timeoutUs * 1000 : 0,
      level,
    };
    this.#queue.enqueue(item, requestLogPrefix(payload.request?.id));
    this.cancelWhileQueued(request, () => this.#queue.remove(item));
    this.stats.pending(1);
    this.#schedule();
  }

  /**
   * Forms and dispatches batches while an instance is free, then arms a wake-up for the
   * queue delay of a held batch or the next queue timeout.
   */
  #schedule(): void {
    this.#disarm();
    const now = nowNs();
    for (const item of this.#queue.expire(now)) {
      this.stats.pending(-1);
      item.request.reject(new UnavailableError('Request timeout expired'));
    }
    let wakeNs = 0;
    while (this.#free.length > 0 && this.#queue.size > 0) {
      const decision = decideBatch(this.#queue.inOrder(), this.#limits, now);
      if (decision.kind !== 'send') {
        if (decision.kind === 'wait') wakeNs = decision.untilNs;
        break;
      }
      this.#dispatch(this.#queue.takeFirst(decision.count));
    }
    const deadline = this.#queue.closestDeadlineNs;
    if (wakeNs !== 0) this.#arm(deadline !== 0 && deadline < wakeNs ? deadline : wakeNs, true);
    else if (deadline !== 0) this.#arm(deadline, false);
    this.checkDrained();
  }

  /**
   * Wakes the scheduler at `atNs`. `precise` (the queue delay of a held batch): the last
   * stretch below timer resolution is polled once per event-loop turn, since
   * max_queue_delay is often a few hundred µs and a 1 ms timer would overshoot it; arriving
   * requests are still read between polls. Queue timeouts only need a timer.
   */
  #arm(atNs: number, precise: boolean): void {
    const remaining = atNs - nowNs();
    if (!precise) {
      this.#timer = setTimeout(() => this.#schedule(), Math.max(1, Math.ceil(remaining / 1e6)));
    } else if (remaining >= TIMER_MIN_NS) {
      this.#timer = setTimeout(() => this.#schedule(), Math.floor(remaining / 1e6) - 1);
    } else {
      this.#immediate = setImmediate(() => this.#schedule());
    }
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    this.#timer = undefined;
    this.#immediate = undefined;
  }

  #dispatch(members: QueuedRequest[]): void {
    const instance = this.#free.pop()!;
    const startNs = nowNs();
    for (const m of members) m.request.unwatch();
    this.stats.pending(-members.length);
    this.#inflight += members.length;
    const tickets = this.#ordered !== undefined ? members.map(() => this.#ordered!.reserve()) : undefined;
    const settle = (k: number, fn: () => void): void => {
      if (tickets === undefined) fn();
      else this.#ordered!.complete(tickets[k]!, fn);
    };
    let run: Promise<ComputeTiming>;
    try {
      run = instance.executeRequests(members.map((m) => m.request.forInstance()));
    } catch (err) {
      run = Promise.reject(err);
    }
    run.then(
      (timing) => {
        this.#release(instance, members.length);
        let batchSize = 0;
        for (const m of members) batchSize += m.batchSize;
        this.stats.execution(batchSize, timing);
        members.forEach((m, k) => settle(k, () => m.request.complete({ queueNs: startNs - m.enqueuedNs, timing })));
      },
      (err: unknown) => {
        this.#release(instance, members.length);
        members.forEach((m, k) => settle(k, () => m.request.reject(err)));
      },
    );
  }

  /**
   * Frees the instance and starts the next batch on it before the finished batch's responses
   * are written: the instance would otherwise idle while the main thread encodes and sends
   * them (measured: a third of the worker's time at concurrency 16 on one core).
   */
  #release(instance: ModelInstance, members: number): void {
    this.#inflight -= members;
    this.#free.push(instance);
    this.#schedule();
  }
}
