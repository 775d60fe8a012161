import type { ComputeTiming } from '../infer/compute-timing.js';
import type { ModelInstance } from '../backends/backend.js';
import { isRequestInstance, type InstanceRequest, type RequestInstance } from '../backends/request-instance.js';
import { CancelledError, InternalError, toTritonError, UnavailableError, UnsupportedError } from '../errors/index.js';
import type { ModelConfig } from '../generated/model_config_pb.js';
import { toAbortSignal } from '../infer/cancellation.js';
import type { Tensor } from '../infer/tensor.js';
import { PriorityQueue, type QueueEntry } from './dynamic/priority-queue.js';
import { requestLevel, requestLogPrefix, requestTimeoutUs, resolvePriorityPolicies, type PriorityPolicies } from './queue-policy.js';
import type { ScheduledResult, Scheduler, SchedulerPayload } from './scheduler.js';
import { NO_STATS, nowNs, type ModelStatsRecorder } from '../observability/stats-recorder.js';
import { stoppingError } from './stopping-error.js';

/** Called for each response of a streamed request; `outputs` undefined = the final flag alone. */
export type ResponseListener = (outputs: Tensor[] | undefined, final: boolean) => void;

/** How a streamed request ended. */
export interface StreamOutcome {
  /** Nanoseconds between enqueue and the start of its execution. */
  queueNs: number;
  /** Compute split of the execution it ran in. */
  timing: ComputeTiming;
}

interface QueuedRequest extends QueueEntry {
  payload: SchedulerPayload;
  enqueuedNs: number;
  onResponse: ResponseListener;
  resolve: (outcome: StreamOutcome) => void;
  reject: (err: unknown) => void;
  settled: boolean;
  unlisten?: () => void;
}

/**
 * A scheduler that hands instances whole requests (`RequestInstance.executeRequests`) instead
 * of merged batches, so a model can answer each request zero, one or many times (Triton's
 * decoupled transaction policy) and sees request ids and parameters. Requests run in arrival
 * order on the first free instance; with `maxRequestBatch` > 0 (a batching model with
 * `dynamic_batching`), one execution takes as many queued requests as fit in that many batch
 * items, as Triton's dynamic batcher hands the Python backend a list of requests.
 *
 * With `policies` (a decoupled model's `dynamic_batching`), the queue follows Triton's dynamic
 * batcher queue policy as DynamicBatchScheduler does: priority levels, `max_queue_size`
 * (UnavailableError "[request id: <id>] Exceeds maximum queue size"), and queue timeouts
 * (UnavailableError "Request timeout expired", or DELAY). Without, the queue is Triton's
 * default policy: one FIFO, no timeout (the request `timeout` parameter does not apply).
 *
 * A request whose `signal` aborts while queued is dropped (CancelledError); once executing,
 * the instance sees the signal and stops it.
 */
export class RequestScheduler implements Scheduler {
  readonly #free: RequestInstance[];
  readonly #queue: PriorityQueue<QueuedRequest>;
  #timer: NodeJS.Timeout | undefined;
  #inflight = 0;
  #stopping = false;
  #drained: (() => void) | undefined;

  /**
   * @param modelLabel `<model>:<version>`, for messages.
   * @param maxRequestBatch batch items one execution may take (0 = one request per execution).
   * @param policies the queue policy of the model's `dynamic_batching`; default: none.
   */
  constructor(
    instances: readonly RequestInstance[],
    private readonly modelLabel: string,
    private readonly maxRequestBatch = 0,
    private readonly stats: ModelStatsRecorder = NO_STATS,
    private readonly policies: PriorityPolicies = resolvePriorityPolicies(undefined),
  ) {
    this.#free = [...instances];
    this.#queue = new PriorityQueue<QueuedRequest>(policies.policyFor);
  }

  get pendingCount(): number {
    return this.#queue.size;
  }

  get inflightCount(): number {
    return this.#inflight;
  }

  /**
   * A request that expects exactly one response (a default model): resolves with the last
   * response's outputs.
   * @throws (rejects) InternalError when the model completed the request without a response;
   *   otherwise as `enqueueStream`.
   */
  async enqueue(payload: SchedulerPayload): Promise<ScheduledResult> {
    let last: Tensor[] | undefined;
    const outcome = await this.enqueueStream(payload, (outputs) => {
      if (outputs !== undefined) last = outputs;
    });
    if (last === undefined) throw new InternalError(`model '${this.modelLabel}' completed the request without a response`);
    return { outputs: last, ...outcome };
  }

  /**
   * Queues a request whose responses go to `onResponse` as the model sends them. Resolves
   * once its execution finished (after its final response); rejects with the request's
   * error (as soon as the model reports it), CancelledError when aborted while queued, or
   * UnavailableError when the scheduler is stopping or the queue policy refuses or expires it.
   */
  enqueueStream(payload: SchedulerPayload, onResponse: ResponseListener): Promise<StreamOutcome> {
    if (this.#stopping) {
      return Promise.reject(stoppingError(this.modelLabel));
    }
    const signal = payload.signal;
    if (signal?.aborted) return Promise.reject(new CancelledError('Request was cancelled'));
    return new Promise<StreamOutcome>((resolve, reject) => {
      const params = payload.request?.parameters;
      const level = requestLevel(params, this.policies);
      const timeoutUs = requestTimeoutUs(params, this.policies.policyFor(level));
      const enqueuedNs = nowNs();
      const deadlineNs = timeoutUs > 0 ? enqueuedNs + timeoutUs * 1000 : 0;
      const item: QueuedRequest = { payload, enqueuedNs, deadlineNs, level, onResponse, resolve, reject, settled: false };
      try {
        this.#queue.enqueue(item, requestLogPrefix(payload.request?.id));
      } catch (err) {
        reject(err);
        return;
      }
      if (signal !== undefined) {
        const onAbort = (): void => this.#cancel(item);
        signal.addEventListener('abort', onAbort, { once: true });
        item.unlisten = () => signal.removeEventListener('abort', onAbort);
      }
      this.stats.pending(1);
      this.#dispatch();
    });
  }

  drain(): Promise<void> {
    this.#stopping = true;
    if (this.#queue.size === 0 && this.#inflight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#drained = resolve;
    });
  }

  #cancel(item: QueuedRequest): void {
    if (!this.#queue.remove(item)) return;
    this.stats.pending(-1);
    item.settled = true;
    item.reject(new CancelledError('Request was cancelled'));
    this.#checkDrained();
  }

  #checkDrained(): void {
    if (this.#stopping && this.#drained && this.#queue.size === 0 && this.#inflight === 0) {
      this.#drained();
      this.#drained = undefined;
    }
  }

  #dispatch(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const item of this.#queue.expire(nowNs())) {
      this.stats.pending(-1);
      item.unlisten?.();
      item.settled = true;
      item.reject(new UnavailableError('Request timeout expired'));
    }
    while (this.#free.length > 0 && this.#queue.size > 0) {
      let count = 1;
      if (this.maxRequestBatch > 0) {
        let size = 0;
        count = 0;
        for (const next of this.#queue.inOrder()) {
          if (count > 0 && size + next.payload.batchSize > this.maxRequestBatch) break;
          size += next.payload.batchSize;
          count++;
        }
      }
      const items = this.#queue.takeFirst(count);
      this.stats.pending(-items.length);
      for (const item of items) item.unlisten?.();
      this.#run(this.#free.pop()!, items);
    }
    // Requests waiting for an instance still expire on time (Triton rejects them while it
    // waits for a free slot).
    const deadline = this.#queue.closestDeadlineNs;
    if (deadline !== 0) {
      this.#timer = setTimeout(
        () => {
          this.#dispatch();
          this.#checkDrained();
        },
        Math.max(1, Math.ceil((deadline - nowNs()) / 1e6)),
      );
    }
  }

  #run(instance: RequestInstance, items: QueuedRequest[]): void {
    this.#inflight += items.length;
    const startNs = nowNs();
    const fail = (item: QueuedRequest, err: unknown): void => {
      if (item.settled) return;
      item.settled = true;
      item.reject(toTritonError(err));
    };
    const requests: InstanceRequest[] = items.map((item) => ({
      inputs: item.payload.inputs,
      outputNames: item.payload.outputNames,
      batchSize: item.payload.batchSize,
      id: item.payload.request?.id,
      parameters: item.payload.request?.parameters,
      signal: toAbortSignal(item.payload.signal),
      respond: (outputs, final) => {
        if (!item.settled) item.onResponse(outputs, final);
      },
      fail: (err) => fail(item, err),
    }));
    let batchSize = 0;
    for (const item of items) batchSize += item.payload.batchSize;
    instance
      .executeRequests(requests)
      .then(
        (timing) => {
          this.stats.execution(batchSize, timing);
          for (const item of items) {
            if (item.settled) continue;
            item.settled = true;
            item.resolve({ queueNs: startNs - item.enqueuedNs, timing });
          }
        },
        (err: unknown) => {
          for (const item of items) fail(item, err);
        },
      )
      .finally(() => {
        this.#inflight -= items.length;
        this.#free.push(instance);
        this.#dispatch();
        this.#checkDrained();
      });
  }
}

/** Whether a scheduler can stream responses (see RequestScheduler.enqueueStream). */
export function isStreamingScheduler(scheduler: Scheduler | undefined): scheduler is RequestScheduler {
  return scheduler instanceof RequestScheduler;
}

/**
 * The scheduler a model version gets instead of the one its config names, or undefined to
 * use that one (create-scheduler.ts):
 * - a decoupled model (`model_transaction_policy { decoupled: true }`) always gets a
 *   RequestScheduler, since responses must reach each request on their own; with
 *   `dynamic_batching` one execution takes up to max_batch_size batch items of requests and
 *   the batcher's queue policy applies;
 * - a model whose instances take whole requests (the javascript backend) and that names no
 *   batcher gets one too, so the model sees request ids and parameters. With a dynamic or
 *   sequence batcher, that batcher runs and merges requests as for any backend.
 * @throws UnsupportedError naming the model for a decoupled model whose backend cannot answer
 *   requests one by one, or that asks for sequence_batching (not supported for decoupled
 *   models yet).
 */
export function requestSchedulerFor(
  config: ModelConfig,
  instances: readonly ModelInstance[],
  label: string,
  stats: ModelStatsRecorder,
): RequestScheduler | undefined {
  const choice = config.schedulingChoice.case;
  const whole = instances.every(isRequestInstance);
  if (config.modelTransactionPolicy?.decoupled === true) {
    if (!whole) {
      throw new UnsupportedError(
        `model '${config.name}' has a decoupled transaction policy, but backend '${config.backend}' cannot send decoupled responses (the javascript backend can)`,
      );
    }
    if (choice === 'sequenceBatching') {
      throw new UnsupportedError(`model '${config.name}': sequence_batching is not supported for decoupled models`);
    }
    const perExecution = choice === 'dynamicBatching' && config.maxBatchSize > 0 ? config.maxBatchSize : 0;
    const policies = resolvePriorityPolicies(choice === 'dynamicBatching' ? config.schedulingChoice.value : undefined);
    return new RequestScheduler(instances as RequestInstance[], label, perExecution, stats, policies);
  }
  if (whole && instances.length > 0 && choice === undefined) {
    return new RequestScheduler(instances as RequestInstance[], label, 0, stats);
  }
  return undefined;
}
