import { BackendRegistry } from './backends/registry.js';
import { modelConfigToJson } from './config/index.js';
import { NotFoundError, UnavailableError } from './errors/index.js';
import { ServerMemory, type ServerMemoryUsage, type SharedMemoryService } from './memory/index.js';
import { ResponseCache } from './cache/response-cache.js';
import type { InferenceRequest, InferenceResponse } from './infer/tensor.js';
import { copyTransferable } from './infer/transfer.js';
import type { CancelSignal } from './infer/cancellation.js';
import { logControlOf } from './observability/log-control.js';
import { silentLogger, type Logger } from './observability/logger.js';
import type { ModelStatsJson } from './observability/model-statistics.js';
import { ServerMetrics } from './observability/server-metrics.js';
import { queryModelStatistics } from './observability/statistics-query.js';
import { TraceManager, type TraceSettingsJson } from './observability/trace-manager.js';
import { traceChangeFromUpdate, type TraceSettingsUpdate } from './observability/trace-update.js';
import { ModelRepositoryManager, type ModelControlMode } from './repository/model-repository-manager.js';
import type { ModelPager } from './repository/model-paging.js';
import { createModelPager, pagingIndexJson } from './repository/paging-setup.js';
import { pagedOutModel } from './server-paging.js';
import { tryLoadNativeAddon } from './native/binding.js';
import { readyModelOf, runInference, streamInference, type PipelineContext } from './server-pipeline.js';
import { ensembleHostOf } from './server-ensemble-host.js';
import type { InferenceServerOptions } from './server-options.js';
import { serverMetadataOf } from './server-metadata.js';
import type {
  InferOptions,
  InferStreamOptions,
  LoadModelParameters,
  LogSettings,
  ModelIndexEntry,
  ModelMetadata,
  ReadyModel,
  ServerCore,
  ServerMetadata,
} from './server-types.js';

export type { InferenceServerOptions } from './server-options.js';

const OWNED: InferOptions = { transfer: true };

/** `request` with the input buffers a worker hop could detach copied (infer/transfer.ts). */
function callerOwned(request: InferenceRequest): InferenceRequest {
  const inputs = copyTransferable(request.inputs);
  return inputs === request.inputs ? request : { ...request, inputs };
}

/**
 * The inference server engine: model repository, schedulers and backends, with no network
 * attached. The HTTP frontend (and any other protocol) is a thin adapter over it; embedders
 * call it directly:
 *
 * ```ts
 * const server = await InferenceServer.create({ modelRepositories: ['./models'] });
 * const res = await server.infer({ modelName: 'm', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], data }] });
 * await server.close();
 * ```
 */
export class InferenceServer implements ServerCore {
  readonly #repository: ModelRepositoryManager;
  readonly #id: string;
  readonly #strictReadiness: boolean;
  readonly #allowMetrics: boolean;
  readonly #logger: Logger;
  readonly #metrics: ServerMetrics;
  readonly #traces: TraceManager;
  readonly #memory: ServerMemory;
  readonly #cache: ResponseCache | undefined;
  readonly #pipeline: PipelineContext;
  /** Model paging (`--model-memory-budget`), undefined when off. */
  readonly #pager: ModelPager | undefined;
  #state: 'LOADING' | 'READY' | 'EXITING' = 'LOADING';

  private constructor(opts: InferenceServerOptions, logger: Logger) {
    this.#id = opts.id ?? 'triton';
    this.#strictReadiness = opts.strictReadiness ?? true;
    this.#allowMetrics = opts.allowMetrics ?? true;
    this.#logger = logger;
    this.#cache = opts.responseCacheByteSize ? new ResponseCache(opts.responseCacheByteSize) : undefined;
    this.#metrics = new ServerMetrics(() => this.#repository.readyVersions(), opts.metricsConfig, {
      responseCache: this.#cache !== undefined,
      pinnedMemoryPool: () => this.#memory.usage().pinned,
    });
    this.#traces = new TraceManager(opts.trace, (message) => logger.error(message));
    this.#memory = ServerMemory.create(
      {
        allowClientShm: opts.allowClientShm,
        pinnedMemoryPoolByteSize: opts.pinnedMemoryPoolByteSize,
        cudaMemoryPoolByteSize: opts.cudaMemoryPoolByteSize,
      },
      logger,
    );
    this.#pipeline = {
      getReady: (name, version) => this.#repository.getReady(name, version),
      traces: this.#traces,
      cache: this.#cache,
      stopping: () => this.#state === 'EXITING',
    };
    this.#repository = new ModelRepositoryManager({
      repositories: opts.modelRepositories,
      loadThreadCount: opts.modelLoadThreadCount ?? 4,
      cpuCount: opts.cpuCount,
      autoComplete: !(opts.disableAutoCompleteConfig ?? false),
      defaultMaxBatchSize: opts.defaultMaxBatchSize ?? 4,
      gpuCount: 0,
      unloadTimeoutMs: (opts.exitTimeoutSecs ?? 30) * 1000,
      deviceCount: tryLoadNativeAddon()?.deviceQuery().deviceCount,
      // BLS calls from JavaScript models go through the same path as any request.
      // Their tensors arrived from the model's worker thread: the server owns them.
      backends: new BackendRegistry(
        { infer: (request) => this.infer(request, undefined, OWNED), logger },
        {
          infer: (request, signal) => this.infer(request, signal, OWNED),
          inferStream: (request, signal) => this.inferStream(request, signal, OWNED),
          loadModel: (name, parameters) => this.loadModel(name, parameters),
          unloadModel: (name, options) => this.unloadModel(name, options),
          isModelReady: (name, version) => this.isModelReady(name, version),
          metrics: this.#metrics.registry,
          logger,
        },
      ),
      logger,
      controlMode: opts.modelControlMode,
      pollSecs: opts.repositoryPollSecs,
      startupModels: opts.loadModels,
      modelConfigName: opts.modelConfigName,
      allowFileOverride: opts.modelLoadAllowFileOverride,
      allowCodeOverride: opts.modelLoadAllowCodeOverride,
      createStats: (name, version, config) => this.#metrics.createStats(name, version, config),
      ensembleHost: ensembleHostOf(this.#pipeline),
    });
    this.#pager =
      opts.modelMemoryBudgetBytes === undefined
        ? undefined
        : createModelPager(this.#repository, this.#metrics.registry, logger, {
            budgetBytes: opts.modelMemoryBudgetBytes,
            timeoutSecs: opts.modelPagingTimeoutSecs ?? 30,
            pinned: opts.loadModels ?? [],
          });
  }

  /**
   * Creates the server and loads every model of the repositories. Models that fail to load
   * are reported by `failures()` and in the index (UNAVAILABLE with the reason); they do not
   * make `create` throw — the caller decides (the CLI exits with code 1 under `--exit-on-error`).
   * @throws the file-system error when a repository folder cannot be read.
   */
  static async create(opts: InferenceServerOptions): Promise<InferenceServer> {
    const server = new InferenceServer(opts, opts.logger ?? silentLogger());
    // With model paging, the start-up models' memory is measured as they load.
    if (server.#pager !== undefined) await server.#pager.startup(() => server.#repository.loadAll());
    else await server.#repository.loadAll();
    server.#state = 'READY';
    return server;
  }

  serverMetadata(): ServerMetadata {
    return serverMetadataOf(this.#id);
  }

  isLive(): boolean {
    return this.#state !== 'EXITING';
  }

  isReady(): boolean {
    if (this.#state !== 'READY') return false;
    return !this.#strictReadiness || this.#repository.allModelsReady();
  }

  isModelReady(name: string, version?: number): boolean {
    const entry = this.#repository.entry(name);
    const mv = version === undefined ? entry.latestReady() : entry.versions.get(version);
    return mv?.state === 'READY' && mv.instances.every((i) => i.isReady?.() !== false);
  }

  modelMetadata(name: string, version?: number): ModelMetadata {
    const mv = this.#repository.getReady(name, version);
    const config = mv.config!;
    const spec = mv.spec!;
    const batch = spec.maxBatchSize > 0;
    const entry = this.#repository.entry(name);
    const versions =
      version !== undefined
        ? [String(version)]
        : [...entry.versions.values()].filter((v) => v.state === 'READY').map((v) => String(v.version));
    return {
      name,
      versions,
      platform: config.platform !== '' ? config.platform : config.backend,
      inputs: spec.inputs.map((i) => ({ name: i.name, datatype: i.datatype, shape: batch ? [-1, ...i.dims] : [...i.dims] })),
      outputs: spec.outputs.map((o) => ({ name: o.name, datatype: o.datatype, shape: batch ? [-1, ...o.dims] : [...o.dims] })),
    };
  }

  modelConfigJson(name: string, version?: number): Record<string, unknown> {
    return modelConfigToJson(this.#repository.config(name, version));
  }

  /**
   * Rows of the models the server loaded or tried to load (name, version, state, reason): the
   * start-up model table, which leaves out models never loaded (explicit mode), as Triton's does.
   */
  modelIndex(): ModelIndexEntry[] {
    return this.#repository.index().filter((r) => r.state !== undefined);
  }

  /** Models and versions that failed to load, with the reason. */
  failures(): { name: string; version?: number; reason: string }[] {
    return this.#repository.failures();
  }

  /**
   * The repository index extension (reference §1.5): every model folder, with its versions'
   * states (see `ModelRepositoryManager.index`).
   * @throws UnavailableError "Server not ready" while starting or stopping (Triton).
   */
  repositoryIndex(ready?: boolean): ModelIndexEntry[] {
    if (this.#state !== 'READY') throw new UnavailableError('Server not ready');
    const rows = this.#repository.index(ready ?? false);
    if (this.#pager === undefined) return rows;
    // Model paging adds each READY row's measured memory (an extra key Triton's clients ignore).
    return rows.map((r) => {
      const info = r.state === 'READY' ? this.#pager!.info(r.name) : undefined;
      return info === undefined ? r : { ...r, paging: pagingIndexJson(info) };
    });
  }

  /**
   * Loads or reloads a model (explicit mode); resolves once it serves. Errors as
   * `ModelRepositoryManager.load`, and UnavailableError "Server not ready" while stopping.
   */
  async loadModel(name: string, parameters?: LoadModelParameters): Promise<void> {
    if (this.#state !== 'READY') throw new UnavailableError('Server not ready');
    if (this.#pager !== undefined) await this.#pager.explicitLoad(name, () => this.#repository.load(name, parameters));
    else await this.#repository.load(name, parameters);
  }

  /**
   * Unloads a model (explicit mode); resolves once its in-flight requests finished. Errors as
   * `ModelRepositoryManager.unload`, and UnavailableError "Server not ready" while stopping.
   */
  async unloadModel(name: string, options?: { unloadDependents?: boolean }): Promise<void> {
    if (this.#state !== 'READY') throw new UnavailableError('Server not ready');
    await this.#repository.unload(name, options);
  }

  /**
   * One request, one response (server-pipeline.ts, `runInference`).
   * @param signal aborted when the client gave up (an AbortSignal, or any CancelSignal); a
   *   request still queued is then removed (CancelledError).
   * @param options `transfer: true` moves the input buffers to the model's worker thread
   *   (zero-copy, the caller's may be detached); by default the caller's arrays are left
   *   intact. `model`: the request's model as `model()` returned it (no second lookup).
   */
  infer(request: InferenceRequest, signal?: CancelSignal, options?: InferOptions): Promise<InferenceResponse> {
    const owned = options?.transfer === true ? request : callerOwned(request);
    const run = (): Promise<InferenceResponse> => runInference(this.#pipeline, owned, signal, { model: options?.model });
    // With model paging, a model that is not loaded is paged in first (not while stopping:
    // the pipeline refuses the request then).
    if (this.#pager !== undefined && this.#state !== 'EXITING') return this.#pager.run(request.modelName, run);
    return run();
  }

  /**
   * The READY version `infer` would serve the request with (`ServerCore.model`); with model
   * paging, a provisional handle for a model that is not loaded (server-paging.ts).
   * @throws the lookup errors of `modelMetadata`.
   */
  model(name: string, version?: number): ReadyModel {
    // With model paging, a model that is not loaded gets a provisional handle: its request pages it in.
    if (this.#pager !== undefined && !this.#pager.serves(name)) return pagedOutModel(this.#repository, name, version);
    return readyModelOf(this.#repository.getReady(name, version));
  }

  /** Whether the model is decoupled. @throws the lookup errors of `modelMetadata`. */
  isDecoupled(name: string, version?: number): boolean {
    return this.model(name, version).decoupled;
  }

  /** A request's responses as they come (`ServerCore.inferStream`, server-pipeline.ts); any model. */
  inferStream(request: InferenceRequest, signal?: CancelSignal, options?: InferStreamOptions): AsyncIterable<InferenceResponse> {
    const owned = options?.transfer === true ? request : callerOwned(request);
    const stream = (): AsyncIterable<InferenceResponse> =>
      streamInference(this.#pipeline, owned, signal, { model: options?.model, emptyFinalResponse: options?.emptyFinalResponse });
    if (this.#pager !== undefined && this.#state !== 'EXITING') return this.#pager.runStream(request.modelName, stream);
    return stream();
  }

  /**
   * The statistics extension (reference §7): `{model_stats}` of every READY version, or of
   * `name`'s (and `version`'s). Same numbers as `/metrics`, from the same recorder.
   * @throws InvalidArgumentError "requested model '<m>' is not available" /
   *   "requested model version is not available for model '<m>'"; UnavailableError "Server
   *   not ready" while starting or stopping.
   */
  modelStatistics(name?: string, version?: number): { model_stats: ModelStatsJson[] } {
    if (this.#state !== 'READY') throw new UnavailableError('Server not ready');
    return queryModelStatistics(this.#repository.readyVersions(), name, version);
  }

  /**
   * The logging extension: the current settings, after applying `update` when given (at once,
   * on the server's logger). Errors as `LogControl.update`.
   */
  logSettings(update?: Partial<LogSettings>): LogSettings {
    const control = logControlOf(this.#logger);
    return update === undefined ? control.settings() : control.update(update);
  }

  /**
   * The trace extension: the global settings (no `model`) or a model's, after applying
   * `update` when given. In an update a string (or list of strings for `trace_level`) sets a
   * value and null makes a model's setting follow the global one again; the gRPC frontend
   * passes an empty value list as null. Errors as `traceChangeFromUpdate` and
   * `TraceManager.update`, and, for a model, the lookup errors of `modelMetadata` (Triton
   * checks the model with ModelIsReady, which goes through GetModel: NOT_FOUND for an unknown
   * model or one with no READY version).
   */
  traceSettings(model?: string, update?: TraceSettingsUpdate): TraceSettingsJson {
    const name = model ?? '';
    if (name !== '') this.#repository.getReady(name);
    if (update !== undefined) this.#traces.update(name, traceChangeFromUpdate(update));
    return this.#traces.settingsJson(name);
  }

  /**
   * The server's Prometheus metrics, in their own registry: `metrics.text()` is what the CLI's
   * metrics listener serves; the CPU gauges appear once `metrics.startCpuMetrics()` runs.
   */
  get metrics(): ServerMetrics {
    return this.#metrics;
  }

  /** `--model-control-mode` (none, poll or explicit), for the web console. */
  modelControlMode(): ModelControlMode {
    return this.#repository.controlMode;
  }

  /**
   * `/metrics`' text (Prometheus exposition format), for the web console's charts.
   * @throws NotFoundError (404) when the server runs with `--allow-metrics false`.
   */
  metricsText(): Promise<string> {
    if (!this.#allowMetrics) return Promise.reject(new NotFoundError('Not Found'));
    return this.#metrics.text();
  }

  /**
   * The client shared-memory regions (system and CUDA extensions, reference §1.5, §2.1), for
   * the HTTP and gRPC frontends; see `SharedMemoryService` for the errors.
   */
  sharedMemory(): SharedMemoryService {
    return this.#memory.sharedMemory;
  }

  /**
   * Totals of the pinned host pool and the CUDA pools, in bytes, for the
   * `nv_pinned_memory_pool_total_bytes` / `nv_pinned_memory_pool_used_bytes` gauges (zeros
   * when the pool is disabled or the native addon is missing).
   */
  memoryPoolUsage(): ServerMemoryUsage {
    return this.#memory.usage();
  }

  /**
   * Stops the engine: new requests get UNAVAILABLE, queued and executing requests finish,
   * then every model instance is released. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#state === 'EXITING') return;
    this.#state = 'EXITING';
    await this.#repository.unloadAll();
    this.#memory.close();
    this.#metrics.close();
    await this.#traces.close();
  }
}
