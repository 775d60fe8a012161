import type { Datatype } from '../infer/datatype.js';

/**
 * What `infera perf` needs to know about the model it loads: read once, before measuring, from
 * the model metadata and (when the server serves it) the model configuration.
 */

/** One tensor as model metadata lists it; `-1` marks a variable dimension. */
export interface TensorInfo {
  name: string;
  datatype: Datatype;
  /** Metadata shape: for a batching model the first entry is the batch dimension (-1). */
  shape: number[];
}

/** The model as perf sees it: metadata plus the config fields that change how requests are built. */
export interface ModelInfo {
  name: string;
  /** `-x`, or undefined for the server's choice. */
  version?: string;
  /** config `max_batch_size`; 0 = the model does not batch. */
  maxBatchSize: number;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  /** The config has `sequence_batching`: requests carry sequence_id/start/end. */
  sequence: boolean;
  /** The config has `dynamic_batching`. */
  dynamicBatching: boolean;
  /** The transaction policy is decoupled (streaming only). */
  decoupled: boolean;
}

/**
 * Builds a ModelInfo from the metadata and config JSON as KServe v2 / Triton print them. When
 * the server does not serve configs (`config` undefined), batching is inferred the way the
 * metadata shows it: every input's first dimension is -1.
 */
export function modelInfoFrom(
  metadata: { name: string; inputs: TensorInfo[]; outputs: TensorInfo[] },
  config: Record<string, unknown> | undefined,
  version?: string,
): ModelInfo {
  let maxBatchSize: number;
  if (config !== undefined && config.max_batch_size !== undefined) {
    maxBatchSize = Number(config.max_batch_size);
  } else {
    const all = [...metadata.inputs, ...metadata.outputs];
    maxBatchSize = all.length > 0 && all.every((t) => t.shape[0] === -1) ? 1 : 0;
  }
  const policy = config?.model_transaction_policy as { decoupled?: boolean } | undefined;
  return {
    name: metadata.name,
    version,
    maxBatchSize,
    inputs: metadata.inputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: [...t.shape] })),
    outputs: metadata.outputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: [...t.shape] })),
    sequence: config?.sequence_batching !== undefined && config.sequence_batching !== null,
    dynamicBatching: config?.dynamic_batching !== undefined && config.dynamic_batching !== null,
    decoupled: policy?.decoupled === true,
  };
}

/** A tensor's dimensions without the batch dimension (what `--shape` and JSON `shape` give). */
export function dimsWithoutBatch(model: ModelInfo, tensor: TensorInfo): number[] {
  return model.maxBatchSize > 0 ? tensor.shape.slice(1) : [...tensor.shape];
}
