import { InvalidArgumentError, UnavailableError } from '../../errors/index.js';
import type { Logger } from '../../observability/logger.js';
import { nowNs } from '../../observability/stats-recorder.js';
import { sequenceRequestCancelledError, stoppingError } from '../lifecycle-errors.js';
import type { ScheduledRequest } from '../scheduled-request.js';
import { SchedulerBase } from '../scheduler-base.js';
import type { SequenceControlTensors } from './control-tensors.js';
import { formatSequenceId, readSequenceParameters, sequenceKey, type SequenceId, type SequenceParameters } from './sequence-id.js';
import { IDLE_RELEASE, type SequenceRequest, type SlotEntry, type SlotOwner } from './sequence-request.js';
import { setUpSequenceBatching, type SequenceSchedulerOptions, type SlotBatcher } from './sequence-setup.js';

export type { SequenceSchedulerOptions } from './sequence-setup.js';

interface SlotRef {
  batcher: number;
  slot: number;
}

/** Requests of a sequence that waits for a free slot (core `BacklogQueue`). */
interface Backlog {
  queue: SequenceRequest[];
  /** Monotonic µs after which the backlog is rejected (the requests' `timeout`); Infinity = never. */
  expiresUs: number;
}

/** How often the reaper looks again at an idle sequence that still waits in the backlog (core: 50 ms). */
const BACKLOG_IDLE_RECHECK_US = 50_000;

const nowUs = (): number => nowNs() / 1000;

/** Triton's `InferenceRequest::LogRequest()` prefix. */
function logPrefix(id: string | undefined): string {
  return `[request id: ${id !== undefined && id !== '' ? id : '<id_unknown>'}] `;
}

/**
 * Triton's sequence batcher (`sequence_batching`, reference §3.3; core
 * `SequenceBatchScheduler`): routes the requests of each sequence (`sequence_id`, with
 * `sequence_start` on the first and `sequence_end` on the last) to one slot of one model
 * instance for the sequence's whole life, so they execute in order, one at a time, on the same
 * instance, with the control tensors and implicit state the config asks for. How slots of an
 * instance are batched is the strategy: `DirectBatcher` (default) or `OldestBatcher`.
 *
 * Slots are handed out lowest slot number first across instances; when none is free a new
 * sequence waits in the backlog (it is not rejected) and takes the next slot freed by an END,
 * an idle release or a cancellation. A sequence that sends nothing for
 * `max_sequence_idle_microseconds` (default 1 s) loses its slot and its state; its next
 * non-START request is then refused. A request's `timeout` (µs) rejects its sequence while it
 * still waits in the backlog (UNAVAILABLE "timeout of the corresponding sequence has been expired").
 *
 * `enqueue` rejects with Triton's messages:
 * - InvalidArgumentError "inference request to model 'm' must specify batch-size 1 due to
 *   requirements of sequence batcher";
 * - InvalidArgumentError "inference request to model 'm' must specify a non-zero or non-empty
 *   correlation ID" (no `sequence_id`, or 0 or "");
 * - InvalidArgumentError "inference request for sequence N to model 'm' must specify the START
 *   flag on the first request of the sequence" (unknown or released sequence);
 * - InvalidArgumentError "[request id: r] sequence batching control 'CORRID' data-type is
 *   'BYTES', but model 'm' expects 'UINT64'" (id type does not fit the CORRID control);
 * - UnavailableError when a START arrives while the scheduler drains (sequences already
 *   running may go on); CancelledError for a request whose client gave up while it waited.
 */
export class SequenceBatchScheduler extends SchedulerBase implements SlotOwner {
  readonly #model: string;
  readonly #logger: Logger;
  readonly #controls: SequenceControlTensors;
  readonly #idleUs: number;
  readonly #batchers: SlotBatcher[];
  /** Free slots, ordered by slot number then instance (core `ready_batcher_seq_slots_`). */
  readonly #free: SlotRef[] = [];
  readonly #toSlot = new Map<string, SlotRef>();
  readonly #toBacklog = new Map<string, Backlog>();
  #backlogs: Backlog[] = [];
  /** Last request time of each known sequence, µs (core `correlation_id_timestamps_`). */
  readonly #lastSeen = new Map<string, number>();
  #reaper: NodeJS.Timeout | undefined;
  #reaperAtUs = Infinity;

  /** @throws what `setUpSequenceBatching` throws for a config it cannot serve. */
  constructor(options: SequenceSchedulerOptions) {
    super(options.label, options.stats);
    const { config } = options;
    this.#model = config.name;
    this.#logger = options.logger;
    const setup = setUpSequenceBatching(options, this);
    this.#controls = setup.controls;
    this.#batchers = setup.batchers;
    this.#idleUs = setup.idleUs;
    const slotCount = this.#batchers[0]!.slotCount;
    for (let slot = 0; slot < slotCount; slot++) {
      for (let batcher = 0; batcher < this.#batchers.length; batcher++) this.#free.push({ batcher, slot });
    }
  }

  get pendingCount(): number {
    let n = 0;
    for (const b of this.#batchers) n += b.pendingCount;
    for (const b of this.#backlogs) n += b.queue.length;
    return n;
  }

  get inflightCount(): number {
    let n = 0;
    for (const b of this.#batchers) n += b.inflightCount;
    return n;
  }

  /** @throws (the request rejects with) the errors listed on the class. */
  protected accept(scheduled: ScheduledRequest): void {
    const payload = scheduled.payload;
    const params: SequenceParameters = readSequenceParameters(payload.request?.parameters);
    this.#controls.checkId(params.id, logPrefix(payload.request?.id));
    const model = this.#model;
    if (payload.batchSize > 1) {
      throw new InvalidArgumentError(`inference request to model '${model}' must specify batch-size 1 due to requirements of sequence batcher`);
    }
    const id = params.id;
    if (id === undefined) {
      throw new InvalidArgumentError(`inference request to model '${model}' must specify a non-zero or non-empty correlation ID`);
    }
    if (this.stopping && params.start) throw stoppingError(this.label);
    const key = sequenceKey(id);
    const slot = this.#toSlot.get(key);
    const backlog = this.#toBacklog.get(key);
    if (!params.start && slot === undefined && backlog === undefined) {
      throw new InvalidArgumentError(
        `inference request for sequence ${formatSequenceId(id)} to model '${model}' must specify the START flag on the first request of the sequence`,
      );
    }
    const now = nowUs();
    this.#lastSeen.set(key, now);
    if (params.start && (slot !== undefined || backlog !== undefined)) {
      this.#logger.warn(
        { model: this.label },
        `sequence ${formatSequenceId(id)} for model '${model}' has a conflict. The previous sequence did not end before this sequence start. Previous sequence will be terminated early.`,
      );
    }

    const request = this.#newRequest(scheduled, id, key, params.start, params.end);
    this.stats.pending(1);
    if (slot !== undefined) {
      if (request.end) this.#toSlot.delete(key);
      this.#batchers[slot.batcher]!.enqueue(slot.slot, request);
    } else if (backlog !== undefined) {
      if (params.timeoutUs > 0) backlog.expiresUs = Math.min(backlog.expiresUs, now + params.timeoutUs);
      backlog.queue.push(request);
      if (request.end) this.#toBacklog.delete(key);
    } else if (this.#free.length > 0) {
      const target = this.#free.shift()!;
      if (!request.end) this.#toSlot.set(key, target);
      this.#batchers[target.batcher]!.enqueue(target.slot, request);
    } else {
      const created: Backlog = { queue: [request], expiresUs: params.timeoutUs > 0 ? now + params.timeoutUs : Infinity };
      this.#backlogs.push(created);
      if (!request.end) this.#toBacklog.set(key, created);
    }
    this.#armReaper(Math.min(now + this.#idleUs, this.#nextBacklogExpiry()));
  }

  releaseSlot(batcher: number, slot: number, queue: SlotEntry[]): SequenceId | undefined {
    const head = queue[0];
    if (head !== undefined && head !== IDLE_RELEASE) {
      // A cancelled sequence: forget it, so the reaper does not release the slot again.
      const mapped = this.#toSlot.get(head.key);
      if (mapped?.batcher === batcher && mapped.slot === slot) {
        this.#toSlot.delete(head.key);
        this.#lastSeen.delete(head.key);
      }
    }
    this.#cancel(queue.splice(0));

    while (this.#backlogs.length > 0) {
      const backlog = this.#backlogs.shift()!;
      const last = backlog.queue[backlog.queue.length - 1]!;
      const cancelled = backlog.queue.some((r) => r.cancelled);
      if (!last.end) {
        if (this.#toBacklog.get(last.key) === backlog) this.#toBacklog.delete(last.key);
        if (!cancelled) this.#toSlot.set(last.key, { batcher, slot });
      }
      // Time spent in the backlog is not the client's idleness: the idle clock restarts
      // when the sequence gets its slot (Triton keeps the enqueue time, so a sequence that
      // waited longer than the idle limit could be reaped right after getting its slot).
      if (this.#lastSeen.has(last.key)) this.#lastSeen.set(last.key, nowUs());
      if (cancelled) {
        this.#cancel(backlog.queue);
        continue;
      }
      queue.push(...backlog.queue);
      return last.id;
    }
    const at = this.#free.findIndex((f) => f.slot > slot || (f.slot === slot && f.batcher > batcher));
    this.#free.splice(at === -1 ? this.#free.length : at, 0, { batcher, slot });
    return undefined;
  }

  dropped(count: number): void {
    this.stats.pending(-count);
    this.checkDrained();
  }

  batchDone(): void {
    this.checkDrained();
  }

  #newRequest(scheduled: ScheduledRequest, id: SequenceId, key: string, start: boolean, end: boolean): SequenceRequest {
    const request: SequenceRequest = {
      payload: scheduled.payload,
      id,
      key,
      start,
      end,
      enqueuedNs: scheduled.enqueuedNs,
      cancelled: scheduled.payload.signal?.aborted === true,
      respond: (outputs, final, parameters) => scheduled.respond(outputs, final, parameters),
      complete: (outcome) => scheduled.complete(outcome),
      reject: (e) => scheduled.reject(e),
    };
    scheduled.watch(() => {
      request.cancelled = true;
      this.#onCancel(request);
    });
    return request;
  }

  /**
   * A request's client gave up. A backlogged sequence is cancelled whole at once (Triton does
   * it when the sequence would get a slot); a request in a slot is dropped when it reaches the
   * head of its queue, which also ends its sequence (core `DirectSequenceBatch`/`CompleteAndNext`).
   */
  #onCancel(request: SequenceRequest): void {
    const index = this.#backlogs.findIndex((b) => b.queue.includes(request));
    if (index !== -1) {
      const [backlog] = this.#backlogs.splice(index, 1);
      const last = backlog!.queue[backlog!.queue.length - 1]!;
      if (this.#toBacklog.get(last.key) === backlog) this.#toBacklog.delete(last.key);
      this.#lastSeen.delete(last.key);
      this.#cancel(backlog!.queue);
      return;
    }
    for (const b of this.#batchers) b.kick();
  }

  #cancel(requests: readonly SlotEntry[]): void {
    let n = 0;
    for (const r of requests) {
      if (r === IDLE_RELEASE) continue;
      r.reject(sequenceRequestCancelledError());
      n++;
    }
    if (n > 0) this.dropped(n);
  }

  #nextBacklogExpiry(): number {
    let at = Infinity;
    for (const b of this.#backlogs) at = Math.min(at, b.expiresUs);
    return at;
  }

  #armReaper(atUs: number): void {
    if (atUs < this.#reaperAtUs && Number.isFinite(atUs)) {
      if (this.#reaper !== undefined) clearTimeout(this.#reaper);
      this.#reaperAtUs = atUs;
      this.#reaper = setTimeout(() => this.#reap(), Math.max(1, Math.ceil((atUs - nowUs()) / 1000)));
    }
    // Idle checks alone must not keep a process alive; requests waiting in the backlog for
    // an idle release must.
    if (this.#backlogs.length > 0) this.#reaper?.ref();
    else this.#reaper?.unref();
  }

  /**
   * Core `ReaperThread`: releases the slot of every sequence idle for longer than
   * `max_sequence_idle_microseconds` (an idle marker queued behind its pending requests), and
   * rejects backlogged sequences whose timeout expired.
   */
  #reap(): void {
    this.#reaper = undefined;
    this.#reaperAtUs = Infinity;
    const now = nowUs();
    let next = Infinity;
    // Markers are queued after the scan: queueing one can hand a slot to a backlogged
    // sequence, which must not be judged by this pass.
    const forceEnd: SlotRef[] = [];
    for (const [key, seen] of this.#lastSeen) {
      const remaining = this.#idleUs - (now - seen);
      if (remaining > 0) {
        next = Math.min(next, now + remaining);
        continue;
      }
      const slot = this.#toSlot.get(key);
      if (slot !== undefined) {
        this.#logger.debug({ model: this.label }, `Reaper: force-ending CORRID ${key.slice(1)}: max sequence idle exceeded`);
        this.#toSlot.delete(key);
        this.#lastSeen.delete(key);
        forceEnd.push(slot);
      } else if (this.#toBacklog.has(key)) {
        next = Math.min(next, now + BACKLOG_IDLE_RECHECK_US);
      } else {
        this.#lastSeen.delete(key);
      }
    }
    for (const slot of forceEnd) this.#batchers[slot.batcher]!.enqueue(slot.slot, IDLE_RELEASE);
    const expired = this.#backlogs.filter((b) => b.expiresUs <= now);
    if (expired.length > 0) {
      this.#backlogs = this.#backlogs.filter((b) => b.expiresUs > now);
      for (const b of expired) {
        const last = b.queue[b.queue.length - 1]!;
        if (this.#toBacklog.get(last.key) === b) this.#toBacklog.delete(last.key);
        for (const r of b.queue) r.reject(new UnavailableError('timeout of the corresponding sequence has been expired'));
        this.dropped(b.queue.length);
      }
    }
    this.#armReaper(Math.min(next, this.#nextBacklogExpiry()));
  }

  /** Drained: the reaper has nothing left to watch. */
  protected override onDrained(): void {
    if (this.#reaper !== undefined) clearTimeout(this.#reaper);
    this.#reaper = undefined;
    this.#reaperAtUs = Infinity;
  }
}
