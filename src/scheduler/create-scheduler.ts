import { InternalError, UnsupportedError } from '../errors/index.js';
import { DefaultScheduler } from './default-scheduler.js';
import { DynamicBatchScheduler } from './dynamic-batch-scheduler.js';
import { EnsembleScheduler } from './ensemble/ensemble-scheduler.js';
export type { SchedulerContext } from './scheduler.js';
import type { Scheduler, SchedulerContext } from './scheduler.js';
import { SequenceBatchScheduler } from './sequence/sequence-batch-scheduler.js';

/**
 * The one place a model version's scheduler is chosen, from its config's `scheduling_choice`
 * (reference §3.2): none → the default scheduler; `dynamic_batching` → the dynamic batcher;
 * `sequence_batching` → the sequence batcher; `ensemble_scheduling` → the ensemble scheduler.
 * Every scheduler hands instances lists of requests and streams responses, so a decoupled
 * model (`model_transaction_policy { decoupled: true }`) is scheduled the same way, with one
 * limit:
 * @throws UnsupportedError naming the model for a decoupled model whose instances cannot
 *   answer a request more than once (`ModelInstance.decoupled`; the javascript backend's can);
 *   InternalError for an ensemble without `ensembleHost`.
 */
export function createScheduler(ctx: SchedulerContext): Scheduler {
  const { config } = ctx;
  const choice = config.schedulingChoice.case;
  if (config.modelTransactionPolicy?.decoupled === true) {
    if (!ctx.instances.every((i) => i.decoupled === true)) {
      throw new UnsupportedError(
        `model '${config.name}' has a decoupled transaction policy, but backend '${config.backend}' cannot send decoupled responses (the javascript backend can)`,
      );
    }
  }
  if (choice === 'dynamicBatching') return new DynamicBatchScheduler(config, ctx.instances, ctx.label, ctx.stats);
  if (choice === 'sequenceBatching') return new SequenceBatchScheduler(ctx);
  if (choice === 'ensembleScheduling') {
    if (ctx.ensembleHost === undefined) throw new InternalError(`ensemble '${ctx.label}' cannot be scheduled: no server to run its steps`);
    return new EnsembleScheduler({ ...ctx, host: ctx.ensembleHost });
  }
  return new DefaultScheduler(ctx.instances, ctx.label, ctx.stats);
}
