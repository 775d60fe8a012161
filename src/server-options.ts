import type { Logger } from './observability/logger.js';
import type { MetricsConfig } from './observability/metrics-config.js';
import type { TraceOptions } from './observability/trace-manager.js';
import type { ModelControlMode } from './repository/model-repository-manager.js';

/** Options of an InferenceServer; each mirrors a tritonserver flag (reference §5). */
export interface InferenceServerOptions {
  /** `--model-repository` (repeatable). */
  modelRepositories: string[];
  /** `--id`: the server name in server metadata. Default "triton". */
  id?: string;
  /** `--strict-readiness`, default true. */
  strictReadiness?: boolean;
  /** `--disable-auto-complete-config` (or `--strict-model-config=true`). */
  disableAutoCompleteConfig?: boolean;
  /**
   * `--exit-timeout-secs`, default 30: how long an unload (and so shutdown) waits for the
   * executions in flight before it fails them and kills the instances' threads.
   */
  exitTimeoutSecs?: number;
  /** `--model-load-thread-count`, default 4. */
  modelLoadThreadCount?: number;
  /** `--model-control-mode`: `none` (default), `poll` or `explicit` (reference §8). */
  modelControlMode?: ModelControlMode;
  /**
   * `--model-memory-budget` in bytes (explicit mode only): turns model paging on; models are
   * loaded on their first request and the least recently used idle ones unloaded to keep the
   * loaded models' measured memory under it (README "Model paging").
   */
  modelMemoryBudgetBytes?: number;
  /** `--model-paging-timeout-secs`, default 30: how long a request waits for its model's page-in. */
  modelPagingTimeoutSecs?: number;
  /** `--repository-poll-secs`: seconds between polls in poll mode, > 0; default 15. */
  repositoryPollSecs?: number;
  /** `--load-model` (explicit mode, repeatable): models loaded at start-up; `['*']` = all. */
  loadModels?: string[];
  /** `--model-config-name`: load `<model>/configs/<name>.pbtxt` instead of config.pbtxt where it exists. */
  modelConfigName?: string;
  /** `--model-load-allow-file-override`: accept `file:` load parameters (default false; CVE-2023-31036). */
  modelLoadAllowFileOverride?: boolean;
  /**
   * `--model-load-allow-code-override`: also accept `file:` overrides that carry code (a
   * JavaScript model, any file of a backend that runs code); default false, as such a load
   * runs the client's code as the server's user.
   */
  modelLoadAllowCodeOverride?: boolean;
  /** `--backend-config=onnxruntime,default-max-batch-size=N`, default 4. */
  defaultMaxBatchSize?: number;
  /** Cores the model instances share; default os.availableParallelism(). */
  cpuCount?: number;
  /** pino logger; silent when absent (embedded use). Its levels follow the logging extension. */
  logger?: Logger;
  /** `--metrics-config`: which latency metrics are kept (counters by default). */
  metricsConfig?: MetricsConfig;
  /** `--allow-metrics` (default true): false keeps the metrics from every endpoint, the console's too. */
  allowMetrics?: boolean;
  /** `--trace-config` and the deprecated `--trace-*` flags; tracing is OFF by default. */
  trace?: TraceOptions;
  /** `--allow-client-shm`: allow registering system/CUDA shared memory, default false. */
  allowClientShm?: boolean;
  /** `--pinned-memory-pool-byte-size`, default 256 MiB; 0 disables the pool. */
  pinnedMemoryPoolByteSize?: number;
  /** `--cuda-memory-pool-byte-size <gpu>:<bytes>`: bytes per GPU id; others get 64 MiB. */
  cudaMemoryPoolByteSize?: ReadonlyMap<number, number>;
  /**
   * `--cache-config local,size=<bytes>`: byte size of the response cache shared by every model
   * with `response_cache { enable: true }`. Absent = no cache, and such models run uncached
   * (as Triton does when the server has no cache).
   */
  responseCacheByteSize?: number;
}
