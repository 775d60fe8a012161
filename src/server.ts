import { createRequire } from 'node:module';
import { BackendRegistry } from './backends/registry.js';
import { modelConfigToJson } from './config/index.js';
import { CancelledError, InternalError, UnavailableError } from './errors/index.js';
import { classify } from './infer/classification.js';
import { validateRequest } from './infer/request-validation.js';
import type { InferenceRequest, InferenceResponse, Tensor } from './infer/tensor.js';
import { silentLogger, type Logger } from './observability/logger.js';
import { ModelRepositoryManager } from './repository/model-repository-manager.js';
import type { ScheduledResult } from './scheduler/scheduler.js';
import { nowNs, type FailureReason } from './scheduler/stats-recorder.js';
import type { ModelIndexEntry, ModelMetadata, ServerCore, ServerMetadata } from './server-types.js';

/**
 * The `reason` label of a failed request (reference §6): REJECTED when a queue policy or the
 * server refused it, CANCELED when the client gave up, BACKEND when execution failed, OTHER
 * for everything else (e.g. a request that did not validate).
 */
function failureReason(err: unknown, executed: boolean): FailureReason {
  if (err instanceof CancelledError) return 'CANCELED';
  if (err instanceof UnavailableError) return 'REJECTED';
  if (executed || err instanceof InternalError) return 'BACKEND';
  return 'OTHER';
}

const pkg = createRequire(import.meta.url)('../package.json') as { version: string };

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
  /** `--model-load-thread-count`, default 4. */
  modelLoadThreadCount?: number;
  /** `--backend-config=onnxruntime,default-max-batch-size=N`, default 4. */
  defaultMaxBatchSize?: number;
  /** Cores the model instances share; default os.availableParallelism(). */
  cpuCount?: number;
  /** pino logger; silent when absent (embedded use). */
  logger?: Logger;
}

/**
 * Extensions reported in server metadata: only what is implemented (reference §1.2).
 * `parameters` = request/response parameters are accepted and passed through.
 */
const EXTENSIONS = ['classification', 'model_configuration', 'binary_tensor_data', 'parameters'];

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
  #state: 'LOADING' | 'READY' | 'EXITING' = 'LOADING';

  private constructor(opts: InferenceServerOptions, logger: Logger) {
    this.#id = opts.id ?? 'triton';
    this.#strictReadiness = opts.strictReadiness ?? true;
    this.#repository = new ModelRepositoryManager({
      repositories: opts.modelRepositories,
      loadThreadCount: opts.modelLoadThreadCount ?? 4,
      cpuCount: opts.cpuCount,
      autoComplete: !(opts.disableAutoCompleteConfig ?? false),
      defaultMaxBatchSize: opts.defaultMaxBatchSize ?? 4,
      gpuCount: 0,
      backends: new BackendRegistry(),
      logger,
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
    await server.#repository.loadAll();
    server.#state = 'READY';
    return server;
  }

  serverMetadata(): ServerMetadata {
    return { name: this.#id, version: pkg.version, extensions: [...EXTENSIONS] };
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
    if (version === undefined) return entry.latestReady() !== undefined;
    return entry.versions.get(version)?.state === 'READY';
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

  /** Model index rows (name, version, state, reason), as the repository index extension lists them. */
  modelIndex(): ModelIndexEntry[] {
    return this.#repository.index();
  }

  /** Models and versions that failed to load, with the reason. */
  failures(): { name: string; version?: number; reason: string }[] {
    return this.#repository.failures();
  }

  /**
   * @param signal aborted when the client gave up; a request still queued is then removed
   *   (CancelledError).
   */
  async infer(request: InferenceRequest, signal?: AbortSignal): Promise<InferenceResponse> {
    if (this.#state === 'EXITING') throw new UnavailableError('Server is stopping, no new inference requests are accepted');
    const receivedNs = nowNs();
    const mv = this.#repository.getReady(request.modelName, request.modelVersion);
    const spec = mv.spec!;
    let scheduled: ScheduledResult | undefined;
    try {
      const validated = validateRequest(request, spec);
      scheduled = await mv.scheduler!.enqueue({ ...validated, request, signal });
      let outputs: Tensor[] = scheduled.outputs;
      const wanted = request.outputs;
      if (wanted !== undefined && wanted.some((o) => (o.classification ?? 0) > 0)) {
        outputs = outputs.map((t, i) => {
          const count = wanted[i]?.classification ?? 0;
          return count > 0 ? classify(t, count, spec.maxBatchSize > 0, spec.outputByName.get(t.name)?.labels) : t;
        });
      }
      const response: InferenceResponse = { modelName: mv.name, modelVersion: String(mv.version), outputs };
      if (request.id !== undefined && request.id !== '') response.id = request.id;
      mv.stats.requestSuccess(receivedNs, scheduled.queueNs, scheduled.timing, nowNs());
      return response;
    } catch (err) {
      mv.stats.requestFailure(failureReason(err, scheduled !== undefined), receivedNs, nowNs(), scheduled?.queueNs, scheduled?.timing);
      throw err;
    }
  }

  /**
   * Stops the engine: new requests get UNAVAILABLE, queued and executing requests finish,
   * then every model instance is released. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#state === 'EXITING') return;
    this.#state = 'EXITING';
    await this.#repository.unloadAll();
  }
}
