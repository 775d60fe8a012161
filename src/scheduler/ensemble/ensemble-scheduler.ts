import { CancelledError } from '../../errors/index.js';
import type { ModelConfig } from '../../generated/model_config_pb.js';
import type { Logger } from '../../observability/logger.js';
import type { ScheduledResult, Scheduler, SchedulerPayload } from '../scheduler.js';
import { nowNs, type ModelStatsRecorder } from '../../observability/stats-recorder.js';
import type { EnsembleHost } from './ensemble-host.js';
import { planEnsemble } from './ensemble-plan.js';
import { EnsembleRun, type EnsembleRunContext } from './ensemble-run.js';
import { StepLimiter } from './step-limiter.js';
import { stoppingError } from '../stopping-error.js';

/** What an ensemble scheduler is built from. */
export interface EnsembleSchedulerOptions {
  /** The ensemble's validated config (`platform: "ensemble"`, `ensemble_scheduling`). */
  config: ModelConfig;
  /** `<model>:<version>`, for messages. */
  label: string;
  stats: ModelStatsRecorder;
  logger: Logger;
  host: EnsembleHost;
}

/**
 * Triton's ensemble scheduler: an ensemble has no instances of its own; each request runs its
 * steps (a DAG over named tensors, see EnsembleRun) as requests to the composing models, each
 * through that model's own scheduler, so the composing models batch and scale as they are
 * configured. Tensors pass from step to step as views, copied only where a later reader
 * needs them intact (tensor-handoff.ts).
 *
 * `max_inflight_requests` > 0 bounds, per step, the step requests in flight across all
 * requests of the ensemble (StepLimiter). Nothing queues in the ensemble itself, so
 * `pendingCount` is always 0 (Triton does not count ensemble requests as pending either).
 */
export class EnsembleScheduler implements Scheduler {
  readonly #ctx: EnsembleRunContext;
  readonly #label: string;
  #inflight = 0;
  #stopping = false;
  #drained: (() => void) | undefined;

  /** @throws InvalidArgumentError when the config has no `ensemble_scheduling`. */
  constructor(opts: EnsembleSchedulerOptions) {
    const plan = planEnsemble(opts.config);
    this.#label = opts.label;
    const limiters: StepLimiter[] = [];
    if (plan.maxInflight > 0) {
      opts.logger.info(`Ensemble model '${plan.name}' configured with max_inflight_requests: ${plan.maxInflight}`);
      for (const step of plan.steps) {
        limiters.push(
          new StepLimiter(plan.maxInflight, (inflight) =>
            opts.logger.error(
              `[Internal Error] Ensemble '${plan.name}' unable to schedule step ${step.index} (inflight: ${inflight} >= limit: ${plan.maxInflight}) for 300 seconds. Proceeding to avoid deadlock.`,
            ),
          ),
        );
      }
    }
    this.#ctx = { plan, host: opts.host, limiters, stats: opts.stats };
  }

  get pendingCount(): number {
    return 0;
  }

  /** Ensemble requests whose steps are running or waiting for a step limiter. */
  get inflightCount(): number {
    return this.#inflight;
  }

  /**
   * @throws (rejects) UnavailableError when stopping; CancelledError when the request's signal
   *   is already aborted; otherwise the first failing step's error (see EnsembleRun).
   */
  enqueue(payload: SchedulerPayload): Promise<ScheduledResult> {
    if (this.#stopping) {
      return Promise.reject(stoppingError(this.#label));
    }
    if (payload.signal?.aborted) return Promise.reject(new CancelledError('Request was cancelled'));
    this.#inflight++;
    return new EnsembleRun(this.#ctx, payload, nowNs()).run().finally(() => {
      this.#inflight--;
      if (this.#stopping && this.#inflight === 0) this.#drained?.();
    });
  }

  drain(): Promise<void> {
    this.#stopping = true;
    if (this.#inflight === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#drained = resolve;
    });
  }
}
