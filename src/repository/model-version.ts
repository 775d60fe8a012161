import type { ModelInstance } from '../backends/backend.js';
import type { ModelConfig } from '../generated/model_config_pb.js';
import type { ModelSpec } from '../infer/model-spec.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import { NO_STATS, type ModelStatsRecorder } from '../scheduler/stats-recorder.js';
import type { ModelReadyState } from '../server-types.js';

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

  constructor(
    readonly name: string,
    readonly version: number,
  ) {}

  fail(reason: string): void {
    this.state = 'UNAVAILABLE';
    this.reason = reason;
  }

  /** Drains the scheduler (in-flight requests finish) and closes every instance. */
  async unload(): Promise<void> {
    if (this.state === 'READY') this.state = 'UNLOADING';
    await this.scheduler?.drain();
    await Promise.allSettled(this.instances.map((i) => i.close()));
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
