import { InvalidArgumentError } from '../errors/index.js';
import {
  ModelInstanceGroup_Kind,
  ModelInstanceGroup_KindSchema,
  ModelQueuePolicy_TimeoutAction,
  type ModelConfig,
  type ModelDynamicBatching,
  type ModelSequenceBatching,
} from '../generated/model_config_pb.js';
import {
  ENSEMBLE_PLATFORM,
  ONNXRUNTIME_BACKEND,
  ONNXRUNTIME_ONNX_PLATFORM,
  PYTORCH_AOTI_PLATFORM,
  PYTORCH_BACKEND,
  PYTORCH_LIBTORCH_PLATFORM,
  PYTORCH_LIBTORCH_PLATFORM_ALT,
  TENSORFLOW_BACKEND,
  TENSORFLOW_GRAPHDEF_PLATFORM,
  TENSORFLOW_SAVEDMODEL_PLATFORM,
  TENSORRT_BACKEND,
  TENSORRT_PLAN_PLATFORM,
} from './constants.js';
import { validateEnsembleScheduling } from './ensemble-validate.js';
import { sequenceControls } from './sequence-controls.js';
import { enumName } from './tensor-shapes.js';
import { validateModelIO } from './validate-io.js';

export interface ValidateOptions {
  /** When given, KIND_GPU groups must list only GPUs 0..gpuCount-1. */
  gpuCount?: number;
}

/** Backends whose platform names Triton knows; a platform of another backend is an error. */
const PLATFORM_BACKEND: Readonly<Record<string, string>> = {
  [TENSORFLOW_GRAPHDEF_PLATFORM]: TENSORFLOW_BACKEND,
  [TENSORFLOW_SAVEDMODEL_PLATFORM]: TENSORFLOW_BACKEND,
  [TENSORRT_PLAN_PLATFORM]: TENSORRT_BACKEND,
  [ONNXRUNTIME_ONNX_PLATFORM]: ONNXRUNTIME_BACKEND,
  [PYTORCH_LIBTORCH_PLATFORM]: PYTORCH_BACKEND,
  [PYTORCH_LIBTORCH_PLATFORM_ALT]: PYTORCH_BACKEND,
  [PYTORCH_AOTI_PLATFORM]: PYTORCH_BACKEND,
};
const KNOWN_BACKENDS = new Set(Object.values(PLATFORM_BACKEND));

/**
 * General checks of a completed and normalized config (core `ValidateModelConfig`,
 * `ValidateModelIOConfig` and `ValidateInstanceGroup`), independent of the model file:
 *
 * - `name` set; `backend` set unless the platform is "ensemble" (which must have no
 *   backend and must have `ensemble_scheduling`); a known platform matches its backend;
 * - `max_batch_size` ≥ 0; `version_policy` set, and a `specific` policy lists versions;
 * - dynamic batching: preferred sizes in 1..max_batch_size, priority levels and queue
 *   policies in range, `preserve_ordering` without priorities or DELAY timeouts;
 * - sequence batching: control tensors well-formed, oldest preferred sizes in
 *   1..max_batch_size, direct `minimum_slot_utilization` in [0, 1], no response cache;
 * - decoupled models without response cache; model_metrics complete;
 * - every input/output (see validateModelIO);
 * - non-ensembles: ≥ 1 instance group, each with count ≥ 1 and a resolved kind; KIND_CPU and
 *   KIND_MODEL list no GPUs, KIND_GPU lists existing ones; `profile` only for TensorRT.
 *
 * Dynamic batching with max_batch_size 0 is accepted, as Triton accepts it (the batcher then
 * schedules one request at a time, with its queue policies). Messages follow Triton's text.
 * @throws InvalidArgumentError for the first problem found.
 */
export function validateModelConfig(config: ModelConfig, options: ValidateOptions = {}): void {
  validateModelConfigFields(config);
  validateModelIO(config);
  validateInstanceGroups(config, options.gpuCount);
}

/**
 * The checks of core `ValidateModelConfig` alone, in its order: everything above except the
 * inputs/outputs and the instance groups, with an ensemble's own data flow
 * (`validateEnsembleScheduling`) where Triton checks it. Needs neither the model file nor the
 * backend, so the repository runs it before it looks at version folders (core
 * `InitializeModelInfo`).
 * @throws InvalidArgumentError for the first problem found.
 */
export function validateModelConfigFields(config: ModelConfig): void {
  const name = config.name;
  if (name === '') throw new InvalidArgumentError("model configuration must specify 'name'");
  checkPlatform(config);
  if (config.maxBatchSize < 0) {
    throw new InvalidArgumentError(`'max_batch_size' must be non-negative value for ${name}`);
  }
  const policy = config.versionPolicy?.policyChoice;
  if (policy === undefined || policy.case === undefined) {
    throw new InvalidArgumentError(`must specify 'version policy' for ${name}`);
  }
  if (policy.case === 'specific' && policy.value.versions.length === 0) {
    throw new InvalidArgumentError(`version_policy 'specific' must list at least one version for ${name}`);
  }

  const scheduling = config.schedulingChoice;
  if (scheduling.case === 'dynamicBatching') checkDynamicBatching(scheduling.value, config);
  if (scheduling.case === 'sequenceBatching') checkSequenceBatching(scheduling.value, config);
  if (scheduling.case === 'ensembleScheduling') validateEnsembleScheduling(config);
  if (scheduling.case !== 'ensembleScheduling' && config.platform === ENSEMBLE_PLATFORM) {
    throw new InvalidArgumentError(
      `ensemble scheduling must be set for ensemble ${name} whose platform is ${ENSEMBLE_PLATFORM}`,
    );
  }
  if (config.modelTransactionPolicy?.decoupled && config.responseCache?.enable) {
    throw new InvalidArgumentError(
      `Response Cache does not currently support model ${name} with 'decoupled' transaction policy. Please disable the response cache.`,
    );
  }
  checkModelMetrics(config);
}

function checkPlatform(config: ModelConfig): void {
  const { name, backend, platform } = config;
  if (backend === '' && platform !== ENSEMBLE_PLATFORM) {
    throw new InvalidArgumentError(`unexpected platform type '${platform}' for ${name}`);
  }
  if (backend !== '' && platform === ENSEMBLE_PLATFORM) {
    throw new InvalidArgumentError(
      `Ensemble model '${name}' must have platform type '${platform}' and empty backend type`,
    );
  }
  const platformBackend = PLATFORM_BACKEND[platform];
  if (KNOWN_BACKENDS.has(backend) && platformBackend !== backend) {
    throw new InvalidArgumentError(`unexpected 'platform' and 'backend' pair, got:${platform}, ${backend}`);
  }
}

function checkPreferredSizes(sizes: readonly number[], config: ModelConfig, what: string): void {
  for (const size of sizes) {
    if (size <= 0) throw new InvalidArgumentError(`${what} must be positive for ${config.name}`);
    if (size > config.maxBatchSize) {
      throw new InvalidArgumentError(`${what} must be <= max batch size for ${config.name}`);
    }
  }
}

function checkDynamicBatching(db: ModelDynamicBatching, config: ModelConfig): void {
  const name = config.name;
  checkPreferredSizes(db.preferredBatchSize, config, 'dynamic batching preferred size');
  const levels = db.priorityLevels;
  if (levels !== 0n) {
    if (db.defaultPriorityLevel === 0n || db.defaultPriorityLevel > levels) {
      throw new InvalidArgumentError(`default priority level must be in range [1, ${levels}] for ${name}`);
    }
    for (const key of Object.keys(db.priorityQueuePolicy)) {
      const level = BigInt(key);
      if (level === 0n || level > levels) {
        throw new InvalidArgumentError(
          `priority queue policy must have priority level in range [1, ${levels}] for ${name}`,
        );
      }
    }
  }
  if (db.preserveOrdering) {
    if (levels > 1n) {
      throw new InvalidArgumentError(`Only one priority level is allowed when 'preserve_ordering' is true for ${name}`);
    }
    const policies = [db.defaultQueuePolicy, ...Object.values(db.priorityQueuePolicy)];
    for (const p of policies) {
      if (p !== undefined && p.defaultTimeoutMicroseconds !== 0n && p.timeoutAction === ModelQueuePolicy_TimeoutAction.DELAY) {
        throw new InvalidArgumentError(
          `Queue policy can not have DELAY as timeout action when 'preserve_ordering' is true for ${name}`,
        );
      }
    }
  }
}

function checkSequenceBatching(seq: ModelSequenceBatching, config: ModelConfig): void {
  const name = config.name;
  if (config.responseCache?.enable) {
    throw new InvalidArgumentError(
      `Response Cache does not currently support model ${name} with sequence batching scheduler. Please disable the response cache.`,
    );
  }
  sequenceControls(seq, name);
  const strategy = seq.strategyChoice;
  if (strategy.case === 'oldest') {
    checkPreferredSizes(strategy.value.preferredBatchSize, config, 'sequence batching preferred batch size');
  }
  if (strategy.case === 'direct') {
    const u = strategy.value.minimumSlotUtilization;
    if (u < 0 || u > 1) {
      throw new InvalidArgumentError(
        `sequence batching minimum slot utilization must be in range (0.0, 1.0] for ${name}`,
      );
    }
  }
}

function checkModelMetrics(config: ModelConfig): void {
  for (const control of config.modelMetrics?.metricControl ?? []) {
    if (control.metricIdentifier === undefined) {
      throw new InvalidArgumentError("metric control must specify 'metric_identifier'");
    }
    if (control.metricIdentifier.family === '') {
      throw new InvalidArgumentError("metric identifier must specify non-empty 'family'");
    }
    if (control.metricOptions.case !== 'histogramOptions') {
      throw new InvalidArgumentError("metric control must specify 'histogram_options'");
    }
    if (control.metricOptions.value.buckets.length === 0) {
      throw new InvalidArgumentError("histogram options must specify non-empty 'buckets'");
    }
  }
}

/**
 * Triton's minimum CUDA compute capability (`--min-supported-compute-capability` default,
 * TRITON_MIN_COMPUTE_CAPABILITY), as its GPU-id message prints it (C++ std::to_string).
 */
const MIN_COMPUTE_CAPABILITY = '7.500000';

/**
 * Core `ValidateInstanceGroup` on normalized groups (ensembles have none and pass): at least
 * one group, count ≥ 1, KIND_CPU / KIND_MODEL without GPUs, KIND_GPU with GPUs that exist,
 * `profile` only for TensorRT.
 * @param gpuCount GPUs 0..gpuCount-1 exist; undefined skips the GPU-id check.
 * @throws InvalidArgumentError with Triton's message, naming the group, the model and, for a
 *   GPU that does not exist, the GPU id and the GPUs there are.
 */
export function validateInstanceGroups(config: ModelConfig, gpuCount: number | undefined): void {
  if (config.schedulingChoice.case === 'ensembleScheduling') return;
  const name = config.name;
  if (config.instanceGroup.length === 0) {
    throw new InvalidArgumentError(`must specify one or more 'instance group's for ${name}`);
  }
  for (const group of config.instanceGroup) {
    const g = `instance group ${group.name} of model ${name}`;
    if (group.count < 1) {
      throw new InvalidArgumentError(`${g} must have a count of at least 1, got ${group.count}`);
    }
    switch (group.kind) {
      case ModelInstanceGroup_Kind.CPU:
      case ModelInstanceGroup_Kind.MODEL:
        if (group.gpus.length > 0) {
          throw new InvalidArgumentError(
            `${g} has kind ${enumName(ModelInstanceGroup_KindSchema, group.kind)} but specifies one or more GPUs`,
          );
        }
        break;
      case ModelInstanceGroup_Kind.GPU:
        if (group.gpus.length === 0) {
          const why = gpuCount === 0 ? 'no GPUs are available' : 'specifies no GPUs';
          throw new InvalidArgumentError(`${g} has kind KIND_GPU but ${why}`);
        }
        if (gpuCount !== undefined) {
          const bad = group.gpus.find((id) => id < 0 || id >= gpuCount);
          if (bad !== undefined) {
            const ids = Array.from({ length: gpuCount }, (_, i) => i).join(', ');
            throw new InvalidArgumentError(
              `${g} specifies invalid or unsupported gpu id ${bad}. GPUs with at least the minimum required CUDA compute compatibility of ${MIN_COMPUTE_CAPABILITY} are: ${ids}`,
            );
          }
        }
        break;
      default:
        // KIND_AUTO is resolved by normalization; meeting it here means that step was skipped.
        throw new InvalidArgumentError(`${g} has unexpected kind ${enumName(ModelInstanceGroup_KindSchema, group.kind)}`);
    }
    if (config.platform !== TENSORRT_PLAN_PLATFORM && group.profile.length > 0) {
      throw new InvalidArgumentError(
        `${g} and platform ${config.platform} specifies profile field which is only supported for TensorRT models`,
      );
    }
  }
}
