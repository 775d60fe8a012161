import {
  ModelQueuePolicy_TimeoutAction,
  type ModelDynamicBatching,
  type ModelQueuePolicy,
} from '../generated/model_config_pb.js';
import type { InferParameters } from '../infer/tensor.js';

/** A `ModelQueuePolicy` with plain numbers (reference §3.3). */
export interface QueuePolicy {
  /** What happens to a request whose timeout expired while queued: REJECT or DELAY. */
  timeoutAction: 'REJECT' | 'DELAY';
  /** Queue timeout in microseconds; 0 = none. */
  defaultTimeoutUs: number;
  /** A request's `timeout` parameter may shorten (never lengthen) `defaultTimeoutUs`. */
  allowTimeoutOverride: boolean;
  /** Requests this priority level may hold (queued + delayed); 0 = unbounded. */
  maxQueueSize: number;
}

/** The priority and queue settings of a dynamic batcher, resolved once at load. */
export interface PriorityPolicies {
  /** `priority_levels`; 0 = one level (0) for every request. */
  levels: number;
  /** `default_priority_level`: the level of a request with priority 0 or out of range. */
  defaultLevel: number;
  /** The policy of one level: `priority_queue_policy[level]`, else `default_queue_policy`. */
  policyFor(level: number): QueuePolicy;
}

function toPolicy(p: ModelQueuePolicy | undefined): QueuePolicy {
  return {
    timeoutAction: p?.timeoutAction === ModelQueuePolicy_TimeoutAction.DELAY ? 'DELAY' : 'REJECT',
    defaultTimeoutUs: Number(p?.defaultTimeoutMicroseconds ?? 0n),
    allowTimeoutOverride: p?.allowTimeoutOverride ?? false,
    maxQueueSize: p?.maxQueueSize ?? 0,
  };
}

/**
 * Resolves `priority_levels`, `default_priority_level`, `default_queue_policy` and
 * `priority_queue_policy` of a (validated) dynamic batching config.
 */
export function resolvePriorityPolicies(db: ModelDynamicBatching | undefined): PriorityPolicies {
  const fallback = toPolicy(db?.defaultQueuePolicy);
  const byLevel = new Map<number, QueuePolicy>();
  for (const [level, p] of Object.entries(db?.priorityQueuePolicy ?? {})) byLevel.set(Number(level), toPolicy(p));
  return {
    levels: Number(db?.priorityLevels ?? 0n),
    defaultLevel: Number(db?.defaultPriorityLevel ?? 0n),
    policyFor: (level) => byLevel.get(level) ?? fallback,
  };
}

/** A request parameter as a non-negative integer; gRPC may carry uint64 values as strings. */
function uintParameter(params: InferParameters | undefined, key: string): number {
  const v = params?.[key];
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : 0;
}

/**
 * The priority level a request is queued at (Triton `InferenceRequest::SetPriority`): its
 * `priority` parameter (1 = highest), or the default level when that is 0 or above
 * `priority_levels`.
 */
export function requestLevel(params: InferParameters | undefined, policies: PriorityPolicies): number {
  const p = uintParameter(params, 'priority');
  return p === 0 || p > policies.levels ? policies.defaultLevel : p;
}

/**
 * The queue timeout of a request in microseconds, 0 for none (Triton
 * `PolicyQueue::Enqueue`): the level's `default_timeout_microseconds`, replaced by the
 * request's `timeout` parameter only when overriding is allowed and the parameter is non-zero
 * and shorter. A level with no default timeout therefore ignores the parameter, as Triton does.
 */
export function requestTimeoutUs(params: InferParameters | undefined, policy: QueuePolicy): number {
  let timeout = policy.defaultTimeoutUs;
  if (policy.allowTimeoutOverride) {
    const override = uintParameter(params, 'timeout');
    if (override !== 0 && override < timeout) timeout = override;
  }
  return timeout;
}

/** Triton's `InferenceRequest::LogRequest()` prefix of a request's error messages. */
export function requestLogPrefix(id: string | undefined): string {
  return `[request id: ${id !== undefined && id !== '' ? id : '<id_unknown>'}] `;
}
