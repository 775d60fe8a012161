import { clone, create } from '@bufbuild/protobuf';
import {
  ModelConfigSchema,
  ModelInstanceGroupSchema,
  ModelInstanceGroup_Kind,
  ModelOptimizationPolicySchema,
  ModelOptimizationPolicy_PinnedMemoryBufferSchema,
  ModelVersionPolicySchema,
  ModelVersionPolicy_LatestSchema,
  type ModelConfig,
  type ModelInstanceGroup,
} from '../generated/model_config_pb.js';
import {
  DEFAULT_CPU_INSTANCE_COUNT,
  ONNXRUNTIME_BACKEND,
  SEQUENCE_IDLE_DEFAULT_MICROSECONDS,
  TENSORFLOW_BACKEND,
} from './constants.js';

export interface NormalizeOptions {
  /** GPUs the server can use; their ids are 0..gpuCount-1. 0 on a CPU-only machine. */
  gpuCount: number;
}

/**
 * Auto-complete step 3 (reference §4; core `NormalizeModelConfig` + `NormalizeInstanceGroup`),
 * which Triton always runs, after the backend's auto-complete:
 *
 * - `version_policy` defaults to `latest { num_versions: 1 }`.
 * - `dynamic_batching` (and `sequence_batching.oldest`) without preferred sizes gets
 *   `[max_batch_size]` when max_batch_size > 0.
 * - `sequence_batching.max_sequence_idle_microseconds` 0 becomes 1,000,000.
 * - Non-ensembles: `optimization.input_pinned_memory` / `output_pinned_memory` default to
 *   `enable: true`, and instance groups are normalized ({@link normalizeInstanceGroups}).
 *
 * @returns a normalized copy; the argument is not modified. Never throws.
 */
export function normalizeModelConfig(config: ModelConfig, options: NormalizeOptions): ModelConfig {
  const out = clone(ModelConfigSchema, config);
  if (out.versionPolicy === undefined) {
    out.versionPolicy = create(ModelVersionPolicySchema, {
      policyChoice: { case: 'latest', value: create(ModelVersionPolicy_LatestSchema, { numVersions: 1 }) },
    });
  }

  const scheduling = out.schedulingChoice;
  if (scheduling.case === 'dynamicBatching') {
    if (scheduling.value.preferredBatchSize.length === 0 && out.maxBatchSize > 0) {
      scheduling.value.preferredBatchSize = [out.maxBatchSize];
    }
  } else if (scheduling.case === 'sequenceBatching') {
    const seq = scheduling.value;
    if (seq.maxSequenceIdleMicroseconds === 0n) {
      seq.maxSequenceIdleMicroseconds = BigInt(SEQUENCE_IDLE_DEFAULT_MICROSECONDS);
    }
    const strategy = seq.strategyChoice;
    if (strategy.case === 'oldest' && strategy.value.preferredBatchSize.length === 0 && out.maxBatchSize > 0) {
      strategy.value.preferredBatchSize = [out.maxBatchSize];
    }
  }

  if (scheduling.case !== 'ensembleScheduling') {
    const opt = (out.optimization ??= create(ModelOptimizationPolicySchema));
    opt.inputPinnedMemory ??= create(ModelOptimizationPolicy_PinnedMemoryBufferSchema, { enable: true });
    opt.outputPinnedMemory ??= create(ModelOptimizationPolicy_PinnedMemoryBufferSchema, { enable: true });
    normalizeInstanceGroups(out, options.gpuCount);
  }
  return out;
}

/**
 * Instance-group rules of `NormalizeInstanceGroup` (reference §4), in place:
 * - no group: one group named after the model (Triton names it `<model>`, so its
 *   instances become `<model>_0`, `<model>_1`, ...);
 * - a group without a name: `<model>_<group index>`;
 * - KIND_AUTO: KIND_CPU when there is no GPU or a listed GPU does not exist, else KIND_GPU;
 * - count < 1: 1, except KIND_CPU on the onnxruntime and tensorflow backends: 2;
 * - KIND_GPU without `gpus`: every GPU.
 * Ensembles have no instance groups and are left alone.
 */
export function normalizeInstanceGroups(config: ModelConfig, gpuCount: number): void {
  if (config.schedulingChoice.case === 'ensembleScheduling') return;
  const gpus = Array.from({ length: Math.max(0, gpuCount) }, (_, i) => i);
  const available = new Set(gpus);

  if (config.instanceGroup.length === 0) {
    config.instanceGroup.push(create(ModelInstanceGroupSchema, { name: config.name }));
  }
  config.instanceGroup.forEach((group, index) => {
    if (group.name === '') group.name = `${config.name}_${index}`;
    if (group.kind === ModelInstanceGroup_Kind.AUTO) {
      const cpu = available.size === 0 || group.gpus.some((g) => !available.has(g));
      group.kind = cpu ? ModelInstanceGroup_Kind.CPU : ModelInstanceGroup_Kind.GPU;
    }
    if (group.count < 1) group.count = defaultInstanceCount(group, config.backend);
    if (group.kind === ModelInstanceGroup_Kind.GPU && group.gpus.length === 0) group.gpus = [...gpus];
  });
}

/**
 * Triton's `SetDefaultInstanceCount`: 2 for KIND_CPU on backends that scale with instances
 * (onnxruntime, tensorflow), 1 otherwise.
 */
function defaultInstanceCount(group: ModelInstanceGroup, backend: string): number {
  const cpuDefault = backend === ONNXRUNTIME_BACKEND || backend === TENSORFLOW_BACKEND;
  return group.kind === ModelInstanceGroup_Kind.CPU && cpuDefault ? DEFAULT_CPU_INSTANCE_COUNT : 1;
}
