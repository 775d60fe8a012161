import type { ModelInstance } from '../backends/backend.js';
import { InternalError } from '../errors/index.js';
import type { ModelConfig } from '../generated/model_config_pb.js';
import type { Logger } from '../observability/logger.js';
import { DefaultScheduler } from './default-scheduler.js';
import { DynamicBatchScheduler } from './dynamic-batch-scheduler.js';
import type { EnsembleHost } from './ensemble/ensemble-host.js';
import { EnsembleScheduler } from './ensemble/ensemble-scheduler.js';
import type { Scheduler } from './scheduler.js';
import { SequenceBatchScheduler } from './sequence/sequence-batch-scheduler.js';
import type { ModelStatsRecorder } from '../observability/stats-recorder.js';

/** What every scheduler is built from. */
export interface SchedulerContext {
  config: ModelConfig;
  instances: readonly ModelInstance[];
  /** `<model>:<version>`, for messages. */
  label: string;
  stats: ModelStatsRecorder;
  logger: Logger;
  /** The model's folder (`<repository>/<model>`), for files a scheduler reads (initial_state). */
  modelDir?: string;
  /** How an ensemble reaches its composing models (required for `ensemble_scheduling`). */
  ensembleHost?: EnsembleHost;
}

/**
 * The scheduler a model config asks for (`scheduling_choice`, reference §3.2): none → the
 * default scheduler; `dynamic_batching` → the dynamic batcher; `sequence_batching` → the
 * sequence batcher; `ensemble_scheduling` → the ensemble scheduler.
 * @throws InternalError for an ensemble without `ensembleHost`.
 */
export function createScheduler(ctx: SchedulerContext): Scheduler {
  const choice = ctx.config.schedulingChoice.case;
  if (choice === 'dynamicBatching') return new DynamicBatchScheduler(ctx.config, ctx.instances, ctx.label, ctx.stats);
  if (choice === 'sequenceBatching') return new SequenceBatchScheduler(ctx);
  if (choice === 'ensembleScheduling') {
    if (ctx.ensembleHost === undefined) throw new InternalError(`ensemble '${ctx.label}' cannot be scheduled: no server to run its steps`);
    return new EnsembleScheduler({ ...ctx, host: ctx.ensembleHost });
  }
  return new DefaultScheduler(ctx.instances, ctx.label, ctx.stats);
}
