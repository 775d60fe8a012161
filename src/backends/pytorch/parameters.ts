import { InvalidArgumentError } from '../../errors/index.js';
import type { ModelConfig } from '../../generated/model_config_pb.js';

/**
 * Triton's PyTorch backend parameters (its README "Parameters" and "Customization"; parsed as
 * its `ModelState::ParseParameters` does) that apply to a TorchScript model on the CPU.
 * Absent parameters keep Triton's defaults: inference mode on, optimized execution on, the JIT
 * executor/profiling/fuser switches left as libtorch has them.
 */
export interface PyTorchParameters {
  /** INFERENCE_MODE (default true). */
  inferenceMode: boolean;
  /** !DISABLE_OPTIMIZED_EXECUTION (default true). */
  optimizedExecution: boolean;
  /** ENABLE_JIT_EXECUTOR, ENABLE_JIT_PROFILING, ENABLE_TENSOR_FUSER; undefined when absent. */
  jitExecutor?: boolean;
  jitProfiling?: boolean;
  tensorFuser?: boolean;
  /** NUM_THREADS or INTRA_OP_THREAD_COUNT (torch.set_num_threads); undefined when absent or ≤ 0. */
  numThreads?: number;
  /** NUM_INTEROP_THREADS or INTER_OP_THREAD_COUNT (process wide, first model wins). */
  numInteropThreads?: number;
}

/** Parameters Triton's PyTorch backend reads and infera accepts without acting on (GPU-only). */
export const GPU_ONLY_PARAMETERS = ['DISABLE_CUDNN', 'ENABLE_CACHE_CLEANING', 'ENABLE_WEIGHT_SHARING'] as const;

/**
 * Triton's ParseBoolValue: true/yes/on/1 and false/no/off/0, any case.
 * @throws InvalidArgumentError naming the model and the parameter for any other value.
 */
function parseBool(value: string, key: string, model: string): boolean {
  const v = value.trim().toLowerCase();
  if (['true', 'yes', 'on', '1'].includes(v)) return true;
  if (['false', 'no', 'off', '0'].includes(v)) return false;
  throw new InvalidArgumentError(`model '${model}': parameter '${key}': failed to convert '${value}' to boolean value`);
}

/**
 * Triton's ParseIntValue: a decimal integer.
 * @throws InvalidArgumentError naming the model and the parameter otherwise.
 */
function parseInt32(value: string, key: string, model: string): number {
  const v = value.trim();
  if (!/^[+-]?\d+$/.test(v)) {
    throw new InvalidArgumentError(`model '${model}': parameter '${key}': failed to convert '${value}' to integral number`);
  }
  return Number(v);
}

/**
 * Reads the PyTorch parameters of a model config (`parameters { key: "INFERENCE_MODE" value:
 * { string_value: "false" } }`).
 * @throws InvalidArgumentError for a value that is not a boolean / integer where Triton needs one.
 */
export function parsePyTorchParameters(config: ModelConfig): PyTorchParameters {
  const model = config.name;
  const raw = (key: string): string | undefined => config.parameters[key]?.stringValue;
  const bool = (key: string): boolean | undefined => {
    const v = raw(key);
    return v === undefined ? undefined : parseBool(v, key, model);
  };
  const int = (...keys: string[]): number | undefined => {
    for (const key of keys) {
      const v = raw(key);
      if (v === undefined) continue;
      const n = parseInt32(v, key, model);
      return n > 0 ? n : undefined;
    }
    return undefined;
  };
  for (const key of GPU_ONLY_PARAMETERS) bool(key);
  return {
    inferenceMode: bool('INFERENCE_MODE') ?? true,
    optimizedExecution: !(bool('DISABLE_OPTIMIZED_EXECUTION') ?? false),
    jitExecutor: bool('ENABLE_JIT_EXECUTOR'),
    jitProfiling: bool('ENABLE_JIT_PROFILING'),
    tensorFuser: bool('ENABLE_TENSOR_FUSER'),
    numThreads: int('NUM_THREADS', 'INTRA_OP_THREAD_COUNT'),
    numInteropThreads: int('NUM_INTEROP_THREADS', 'INTER_OP_THREAD_COUNT'),
  };
}
