import type { ModelInstance } from '../backends/backend.js';
import type { ModelConfig } from '../generated/model_config_pb.js';
import type { ModelSpec } from '../infer/model-spec.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import { NO_STATS, type ModelStatsRecorder } from '../observability/stats-recorder.js';
import type { ModelReadyState } from './model-index.js';

/**
 * One version of a model and its lifecycle state (Triton `ModelReadyState`):
 * LOADING while its config resolves and its instances start, READY once every instance is up,
 * UNAVAILABLE with a reason when loading failed or after unload, UNLOADING while draining.
 */
export class ModelVersion {
  state: ModelReadyState = 'LOADING';
  reason = '';
  config: ModelConfig | undefined;
  spec: ModelSpec | undefined;
  instances: ModelInstance[] = [];
  scheduler: Scheduler | undefined;
  /** Statistics of this version (statistics extension, metrics). */
  stats: ModelStatsRecorder = NO_STATS;

  /**
   * @param unloadTimeoutMs how long `unload` waits for executions in flight (the server's
   *   `--exit-timeout-secs`); undefined = as long as they take.
   */
  constructor(
    readonly name: string,
    readonly version: number,
    readonly unloadTimeoutMs?: number,
  ) {}

  fail(reason: string): void {
    this.state = 'UNAVAILABLE';
    this.reason = reason;
  }

  /**
   * Drains the scheduler (in-flight requests finish) and closes every instance. Past
   * `unloadTimeoutMs` the instances are terminated (`ModelInstance.terminate`): their requests
   * still in flight or queued fail UNAVAILABLE, so a model that hangs or busy-loops cannot
   * keep the version UNLOADING (and its next load blocked) forever. An instance that cannot be
   * terminated is left to finish in the background. Ends UNAVAILABLE ("unloaded") either way.
   */
  async unload(): Promise<void> {
    if (this.state === 'READY') this.state = 'UNLOADING';
    const instances = this.instances;
    const scheduler = this.scheduler;
    const stopped = (async () => {
      await scheduler?.drain();
      await Promise.allSettled(instances.map((i) => i.close()));
    })();
    const limitMs = this.unloadTimeoutMs;
    if (limitMs !== undefined && !(await settlesWithin(stopped, limitMs))) {
      const reason = `unloading did not finish within the exit timeout of ${limitMs / 1000} s`;
      await Promise.allSettled(instances.map((i) => i.terminate?.(reason)));
      // Terminated instances fail what the scheduler still hands them, so it drains at once.
      if (instances.every((i) => i.terminate !== undefined)) await stopped;
    } else {
      await stopped;
    }
    this.instances = [];
    this.scheduler = undefined;
    this.state = 'UNAVAILABLE';
    this.reason = 'unloaded';
  }
}

/**
 * A model folder of the repository and its versions. `reason` is set when the model failed
 * before any version existed (config that does not parse, no version folders).
 */
export class ModelEntry {
  readonly versions = new Map<number, ModelVersion>();
  /** Model-level failure (no version could be created). */
  failure: string | undefined;

  constructor(
    readonly name: string,
    readonly dir: string,
  ) {}

  /** Highest-numbered READY version, the one a request without a version gets (reference §8). */
  latestReady(): ModelVersion | undefined {
    let best: ModelVersion | undefined;
    for (const v of this.versions.values()) {
      if (v.state === 'READY' && (best === undefined || v.version > best.version)) best = v;
    }
    return best;
  }
}

/** Whether `work` settles within `ms`. */
async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([work.then(() => true), expired]);
  } finally {
    clearTimeout(timer);
  }
}
