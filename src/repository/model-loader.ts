import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { clone, create } from '@bufbuild/protobuf';
import type { Backend, ModelFileMetadata, ModelInstance } from '../backends/backend.js';
import type { BackendRegistry } from '../backends/registry.js';
import { normalizeModelConfig, parseModelConfigText, resolveBackendFields, validateModelConfig } from '../config/index.js';
import { ENSEMBLE_PLATFORM } from '../config/constants.js';
import { InvalidArgumentError } from '../errors/index.js';
import {
  DataType,
  ModelConfigSchema,
  ModelInstanceGroup_Kind,
  ModelTransactionPolicySchema,
  type ModelConfig,
} from '../generated/model_config_pb.js';
import { configTypeToDatatype, type Datatype } from '../infer/datatype.js';
import { makeModelSpec, type ModelSpec } from '../infer/model-spec.js';
import type { Logger } from '../observability/logger.js';
import { createScheduler } from '../scheduler/create-scheduler.js';
import type { EnsembleHost } from '../scheduler/ensemble/ensemble-host.js';
import type { ModelStatsRecorder } from '../observability/stats-recorder.js';
import { escapesModelDir } from './repository-scan.js';
import { warmupInstances } from './warmup.js';
import type { ModelVersion } from './model-version.js';

/** Settings that shape how every model is loaded (CLI flags of reference §5). */
export interface LoaderOptions {
  /** false with `--disable-auto-complete-config` / `--strict-model-config=true`. */
  autoComplete: boolean;
  /** ORT `default-max-batch-size` backend config (reference §4), default 4. */
  defaultMaxBatchSize: number;
  /** GPUs visible to the server (instance-group normalization). */
  gpuCount: number;
  /**
   * GPUs the machine has (the native device query), for Triton's check that a KIND_GPU group
   * names only GPUs that exist; undefined (no native addon) skips that check.
   */
  deviceCount?: number;
  backends: BackendRegistry;
  logger: Logger;
  /**
   * Makes the statistics recorder of a version once its config is resolved (the server's
   * ModelStatistics, feeding the statistics extension and metrics); versions keep NO_STATS
   * without it.
   */
  createStats?: (name: string, version: number, config: ModelConfig) => ModelStatsRecorder;
  /** How ensembles run their steps on the other models (the server's infer path). */
  ensembleHost?: EnsembleHost;
  /**
   * `--exit-timeout-secs` in ms: how long unloading a version waits for its executions in
   * flight before terminating its instances (ModelVersion.unload); absent = no limit.
   */
  unloadTimeoutMs?: number;
}

/** An ensemble (Triton: platform "ensemble", or a config with `ensemble_scheduling`). */
export function isEnsembleConfig(config: ModelConfig): boolean {
  return config.platform === ENSEMBLE_PLATFORM || config.schedulingChoice.case === 'ensembleScheduling';
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === 'ENOENT';
}

/**
 * Reads `<model>/config.pbtxt` (absent is allowed when auto-complete can derive it) and applies
 * auto-complete step 1 (backend, platform and file name; reference §4), which runs even with
 * auto-complete disabled.
 * @param file the config file to read; default `<dir>/config.pbtxt` (`--model-config-name`
 *   picks another, see repository/model-source.ts).
 * @throws InvalidArgumentError naming the file, line and reason for a config that does not
 *   parse, or for a missing config with auto-complete disabled.
 */
export async function readModelConfig(
  name: string,
  dir: string,
  opts: LoaderOptions,
  file = path.join(dir, 'config.pbtxt'),
): Promise<ModelConfig> {
  let config: ModelConfig;
  try {
    config = parseModelConfigText(await readFile(file, 'utf8'), file);
  } catch (err) {
    if (!isMissing(err)) throw err;
    if (!opts.autoComplete) {
      throw new InvalidArgumentError(
        `model configuration file '${file}' for model '${name}' is missing, and auto-complete is disabled (--disable-auto-complete-config)`,
      );
    }
    config = create(ModelConfigSchema, {});
  }
  return resolveBackendFields(config, dir);
}

/** The model file of a version: `<model>/<version>/<default_model_filename>`. */
export function modelFilePath(dir: string, version: number, config: ModelConfig): string {
  return path.join(dir, String(version), config.defaultModelFilename);
}

/**
 * Completes, normalizes and validates the config of one version against its model file
 * (auto-complete step 2 and 3, load-time validation; reference §4), loads label files, and
 * derives the request-validation spec.
 * @throws InvalidArgumentError with what the model expects and what the config says;
 *   UnsupportedError for a backend infera does not have.
 */
export async function resolveVersion(mv: ModelVersion, dir: string, base: ModelConfig, opts: LoaderOptions): Promise<void> {
  if (isEnsembleConfig(base)) return resolveEnsembleVersion(mv, dir, base, opts);
  let config = clone(ModelConfigSchema, base);
  const backend = opts.backends.get(config.backend, mv.name);
  const file = modelFilePath(dir, mv.version, config);
  const escape = await escapesModelDir(file, dir);
  if (escape) throw new InvalidArgumentError(`model '${mv.name}' version ${mv.version}: ${escape}`);
  let metadata: ModelFileMetadata;
  try {
    metadata = await backend.readModelMetadata(file);
  } catch (err) {
    if (isMissing(err)) throw new InvalidArgumentError(`model '${mv.name}' version ${mv.version}: model file '${file}' not found`);
    throw err;
  }
  // Completing the config from the model file and checking it against the file are the
  // backend's (a JavaScript model's class completes its own config; nothing in its file can
  // contradict it).
  if (opts.autoComplete && backend.autoCompleteConfig !== undefined) {
    const completed = await backend.autoCompleteConfig(config, { modelFile: file, metadata, defaultMaxBatchSize: opts.defaultMaxBatchSize });
    config = completed.config;
    for (const w of completed.warnings) opts.logger.warn({ model: mv.name, version: mv.version }, w);
  }
  config = normalizeModelConfig(config, { gpuCount: opts.gpuCount });
  validateModelConfig(config);
  backend.validateConfig?.(config, metadata);
  mv.config = config;
  mv.spec = await buildSpec(mv, dir, config);
  if (opts.createStats !== undefined) mv.stats = opts.createStats(mv.name, mv.version, config);
}

/**
 * An ensemble version: no model file and no backend, so no auto-complete from a file; the
 * config is normalized and validated, including the ensemble's own data flow (its steps were
 * checked against their models before: model-operations.ts). Its transaction policy is the one
 * that check set on `base`, as Triton's (core `ValidateEnsembleConfig`: decoupled when a
 * decoupled step model is on its data flow), never the config's own.
 * @throws InvalidArgumentError with Triton's message for a bad config.
 */
async function resolveEnsembleVersion(mv: ModelVersion, dir: string, base: ModelConfig, opts: LoaderOptions): Promise<void> {
  const config = normalizeModelConfig(clone(ModelConfigSchema, base), { gpuCount: opts.gpuCount });
  validateModelConfig(config);
  config.modelTransactionPolicy = create(ModelTransactionPolicySchema, { decoupled: base.modelTransactionPolicy?.decoupled === true });
  mv.config = config;
  mv.spec = await buildSpec(mv, dir, config);
  if (opts.createStats !== undefined) mv.stats = opts.createStats(mv.name, mv.version, config);
}

/**
 * Starts an ensemble version: it has no instances, only its scheduler, which runs each step
 * on the composing models through `opts.ensembleHost`. Stays LOADING, as `startVersion`.
 * @throws InternalError without `opts.ensembleHost` (a repository used outside a server).
 */
export function startEnsembleVersion(mv: ModelVersion, dir: string, opts: LoaderOptions): void {
  const label = `${mv.name}:${mv.version}`;
  mv.scheduler = createScheduler({
    config: mv.config!,
    instances: [],
    label,
    stats: mv.stats,
    logger: opts.logger,
    modelDir: dir,
    ensembleHost: opts.ensembleHost,
  });
  mv.stats.loaded?.();
}

function wireType(t: DataType, what: string): Datatype {
  const d = configTypeToDatatype(DataType[t] ?? 'TYPE_INVALID');
  if (d === undefined) throw new InvalidArgumentError(`${what}: unsupported data_type ${DataType[t] ?? t}`);
  return d;
}

async function buildSpec(mv: ModelVersion, dir: string, config: ModelConfig): Promise<ModelSpec> {
  const inputs = config.input.map((i) => ({
    name: i.name,
    datatype: wireType(i.dataType, `model '${mv.name}', input '${i.name}'`),
    dims: i.dims.map(Number),
    reshape: i.reshape ? i.reshape.shape.map(Number) : undefined,
    optional: i.optional,
  }));
  const outputs = [];
  for (const o of config.output) {
    let labels: string[] | undefined;
    if (o.labelFilename !== '') {
      const file = path.join(dir, o.labelFilename);
      const escape = await escapesModelDir(file, dir);
      if (escape) throw new InvalidArgumentError(`model '${mv.name}', output '${o.name}': label file ${escape}`);
      try {
        labels = (await readFile(file, 'utf8')).split(/\r?\n/);
        if (labels.at(-1) === '') labels.pop();
      } catch (err) {
        throw new InvalidArgumentError(`model '${mv.name}', output '${o.name}': cannot read label file '${file}': ${(err as Error).message}`);
      }
    }
    outputs.push({ name: o.name, datatype: wireType(o.dataType, `model '${mv.name}', output '${o.name}'`), dims: o.dims.map(Number), labels });
  }
  return makeModelSpec(mv.name, mv.version, config.maxBatchSize, inputs, outputs);
}

/** Instances a config asks for, counted over its instance groups (KIND_GPU: per listed GPU). */
export function instanceCount(config: ModelConfig): number {
  let n = 0;
  for (const g of config.instanceGroup) {
    n += g.kind === ModelInstanceGroup_Kind.GPU ? g.count * Math.max(1, g.gpus.length) : g.count;
  }
  return n;
}

function threadParameter(config: ModelConfig, key: string, model: string): number | undefined {
  const raw = config.parameters[key]?.stringValue;
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    throw new InvalidArgumentError(`model '${model}': parameter '${key}' must be a non-negative integer, got '${raw}'`);
  }
  return n;
}

/**
 * Starts every instance of a resolved version (Triton names them `<group>_<index>`), runs the
 * `model_warmup` samples on each (repository/warmup.ts), then creates its scheduler. The
 * version stays LOADING: the caller marks it READY once every version of the
 * same load has started (Triton's `OnLoadFinal`, repository/model-lifecycle.ts), so a load
 * that fails part-way never serves a request. On failure the instances already started are
 * closed.
 *
 * @param defaultIntraOpThreads used when the config has no `intra_op_thread_count`
 *   parameter: max(1, cores ÷ instances of all loaded models), so instances never
 *   oversubscribe the cores (performance-baseline §2.2).
 */
export async function startVersion(
  mv: ModelVersion,
  dir: string,
  backend: Backend,
  defaultIntraOpThreads: number,
  logger: Logger,
): Promise<void> {
  const config = mv.config!;
  const intra = threadParameter(config, 'intra_op_thread_count', mv.name);
  const inter = threadParameter(config, 'inter_op_thread_count', mv.name) ?? 0;
  const file = modelFilePath(dir, mv.version, config);
  const pending: Promise<ModelInstance>[] = [];
  for (const group of config.instanceGroup) {
    const gpu = group.kind === ModelInstanceGroup_Kind.GPU;
    const devices = gpu ? (group.gpus.length > 0 ? group.gpus : [0]) : [undefined];
    for (const device of devices) {
      for (let c = 0; c < group.count; c++) {
        pending.push(
          backend.createInstance({
            name: `${group.name}_${c}`,
            modelName: mv.name,
            version: mv.version,
            modelFile: file,
            kind: gpu ? 'KIND_GPU' : 'KIND_CPU',
            gpu: device,
            intraOpThreads: intra !== undefined && intra > 0 ? intra : defaultIntraOpThreads,
            interOpThreads: inter,
            gpuExecutionAccelerators: gpu
              ? config.optimization?.executionAccelerators?.gpuExecutionAccelerator.map((a) => ({
                  name: a.name,
                  parameters: { ...a.parameters },
                }))
              : undefined,
            config,
          }),
        );
      }
    }
  }
  const results = await Promise.allSettled(pending);
  const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.allSettled(started.map((i) => i.close()));
    throw failed.reason;
  }
  try {
    await warmupInstances(config, dir, started, logger);
  } catch (err) {
    await Promise.allSettled(started.map((i) => i.close()));
    throw err;
  }
  mv.instances = started;
  try {
    const label = `${mv.name}:${mv.version}`;
    mv.scheduler = createScheduler({ config, instances: started, label, stats: mv.stats, logger, modelDir: dir });
    mv.stats.loaded?.();
  } catch (err) {
    // A scheduler can refuse the config (e.g. a bad sequence_batching initial_state).
    mv.instances = [];
    await Promise.allSettled(started.map((i) => i.close()));
    throw err;
  }
}
