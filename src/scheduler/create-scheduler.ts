import type { ModelInstance } from '../backends/backend.js';
import type { ModelConfig } from '../generated/model_config_pb.js';
import type { Logger } from '../observability/logger.js';
import { DefaultScheduler } from './default-scheduler.js';
import type { Scheduler } from './scheduler.js';
import type { ModelStatsRecorder } from './stats-recorder.js';

/** What every scheduler is built from. */
export interface SchedulerContext {
  config: ModelConfig;
  instances: readonly ModelInstance[];
  /** `<model>:<version>`, for messages. */
  label: string;
  stats: ModelStatsRecorder;
  logger: Logger;
}

/**
 * The scheduler a model config asks for (`scheduling_choice`, reference §3.2): none → the
 * default scheduler.
 */
export function createScheduler(ctx: SchedulerContext): Scheduler {
  const choice = ctx.config.schedulingChoice.case;
  if (choice !== undefined) {
    ctx.logger.warn(
      { model: ctx.label },
      `${choice} is not implemented yet: requests to '${ctx.label}' run one by one through the default scheduler`,
    );
  }
  return new DefaultScheduler(ctx.instances, ctx.label, ctx.stats);
}
