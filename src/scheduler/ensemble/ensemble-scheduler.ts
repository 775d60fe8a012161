import type { ModelConfig } from '../../generated/model_config_pb.js';
import type { Logger } from '../../observability/logger.js';
import type { ScheduledRequest } from '../scheduled-request.js';
import { SchedulerBase } from '../scheduler-base.js';
import type { ModelStatsRecorder } from '../../observability/stats-recorder.js';
import type { EnsembleHost } from './ensemble-host.js';
import { planEnsemble } from './ensemble-plan.js';
import { EnsembleRun, type EnsembleRunContext } from './ensemble-run.js';
import { StepLimiter } from './step-limiter.js';

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
export class EnsembleScheduler extends SchedulerBase {
  readonly #ctx: EnsembleRunContext;
  #inflight = 0;

  /** @throws InvalidArgumentError when the config has no `ensemble_scheduling`. */
  constructor(opts: EnsembleSchedulerOptions) {
    super(opts.label, opts.stats);
    const plan = planEnsemble(opts.config);
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
   * Runs the request's steps; it gets the ensemble's responses as they come (one, or for a
   * decoupled ensemble any number, see EnsembleRun).
   * @throws (rejects) UnavailableError when stopping; CancelledError when the request's signal
   *   is already aborted; otherwise the first failing step's error (see EnsembleRun).
   */
  protected accept(request: ScheduledRequest): void {
    const refused = this.refusal(request);
    if (refused !== undefined) return request.reject(refused);
    this.#inflight++;
    const done = (): void => {
      this.#inflight--;
      this.checkDrained();
    };
    new EnsembleRun(this.#ctx, request.payload, request.enqueuedNs).run((outputs, final) => request.respond(outputs, final)).then(
      (outcome) => {
        done();
        request.complete(outcome);
      },
      (err: unknown) => {
        done();
        request.reject(err);
      },
    );
  }
}
