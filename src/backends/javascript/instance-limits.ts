import type { ResourceLimits } from 'node:worker_threads';
import type { ModelConfig } from '../../generated/model_config_pb.js';
import { executionTimeoutMs, integerParameter } from '../execution-watchdog.js';

/** Model config parameter: the V8 heap (old generation) of each instance's worker, in MiB. */
export const MAX_HEAP_PARAMETER = 'MAX_HEAP_MB';
/** Model config parameter: memory outside that heap (ArrayBuffers, Buffers) per instance, in MiB. */
export const MAX_EXTERNAL_PARAMETER = 'MAX_EXTERNAL_MB';

/**
 * Defaults, in MiB. Any heap limit set through `resourceLimits` makes V8 running out of heap
 * end only the worker (ERR_WORKER_OUT_OF_MEMORY) instead of aborting the whole server, which
 * is what happens at V8's own limit (about 4 GiB); 2 GiB leaves a model plenty. Tensors a
 * model receives and returns are external memory, so that limit is the larger one.
 */
export const DEFAULT_MAX_HEAP_MB = 2048;
export const DEFAULT_MAX_EXTERNAL_MB = 4096;

/** How often a worker samples its external memory (javascript-worker.ts). */
export const EXTERNAL_SAMPLE_MS = 100;

/** The limits of one JavaScript model instance, resolved from its model config. */
export interface InstanceLimits {
  /** `MAX_HEAP_MB`; 0 = V8's default limit (which aborts the server when reached). */
  maxHeapMb: number;
  /** `MAX_EXTERNAL_MB`; 0 = not watched. */
  maxExternalMb: number;
  /** `EXECUTION_TIMEOUT_MS`; 0 = no limit. */
  executionTimeoutMs: number;
}

/**
 * Reads `MAX_HEAP_MB`, `MAX_EXTERNAL_MB` and `EXECUTION_TIMEOUT_MS` from the model config's
 * `parameters` (string values, non-negative integers; 0 turns a limit off).
 * @throws InvalidArgumentError naming the model and parameter for a value that is not a
 *   non-negative integer.
 */
export function instanceLimits(config: ModelConfig): InstanceLimits {
  return {
    maxHeapMb: integerParameter(config, MAX_HEAP_PARAMETER, DEFAULT_MAX_HEAP_MB),
    maxExternalMb: integerParameter(config, MAX_EXTERNAL_PARAMETER, DEFAULT_MAX_EXTERNAL_MB),
    executionTimeoutMs: executionTimeoutMs(config),
  };
}

/** The `resourceLimits` of a worker with these limits (undefined: Node's defaults). */
export function workerResourceLimits(limits: InstanceLimits | undefined): ResourceLimits | undefined {
  const heap = limits === undefined ? DEFAULT_MAX_HEAP_MB : limits.maxHeapMb;
  return heap > 0 ? { maxOldGenerationSizeMb: heap } : undefined;
}
