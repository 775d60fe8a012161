import { clone, create } from '@bufbuild/protobuf';
import type { AutoCompleteResult, ModelFileMetadata, ModelTensorInfo } from '../backend.js';
import { InvalidArgumentError } from '../../errors/index.js';
import {
  DataType,
  ModelConfigSchema,
  ModelDynamicBatchingSchema,
  ModelInputSchema,
  ModelOutputSchema,
  ModelTensorReshapeSchema,
  type ModelConfig,
  type ModelInput,
  type ModelOutput,
} from '../../generated/model_config_pb.js';
import { DEFAULT_MAX_BATCH_SIZE, WILDCARD_DIM } from '../../config/constants.js';
import { wireToConfigDataType } from '../../config/tensor-shapes.js';

export interface AutoCompleteOptions {
  /** ORT backend config `default-max-batch-size`; default {@link DEFAULT_MAX_BATCH_SIZE} (4). */
  defaultMaxBatchSize?: number;
}

/**
 * Auto-complete step 2 for ONNX Runtime models (reference §4; ORT backend
 * `AutoCompleteConfig`), from the I/O read out of the model file. Skipped with
 * `--disable-auto-complete-config`; the caller decides.
 *
 * - With ≥1 input (batch_input entries count) and ≥1 output already in the config, the
 *   lists and max_batch_size are left alone.
 * - Otherwise: the model can batch when every input and output has rank ≥ 1 and a first
 *   dim of -1. If it can and max_batch_size is 0, it becomes `defaultMaxBatchSize` (with a
 *   warning); if it cannot and max_batch_size is not 0, that is an error. A max_batch_size
 *   above 1 with no scheduler adds an empty `dynamic_batching {}`. An empty input or output
 *   list is filled from the model: dims without the batch dim when max_batch_size > 0, and
 *   a scalar becomes `dims: [1]` (plus `reshape { shape: [] }` when batching).
 * - infera extension, in both cases: a listed tensor that lacks `data_type` or `dims` gets
 *   them from the model tensor of the same name. Triton would reject such a config
 *   ("must specify 'dims'"), so no config that loads on Triton changes meaning.
 *
 * @param metadata the model file's tensors; shapes are full model shapes (-1 = variable).
 * @throws InvalidArgumentError "autofill failed for model '<m>': model does not support
 *   batching while non-zero max_batch_size is specified".
 */
export function autoCompleteOnnxConfig(
  config: ModelConfig,
  metadata: ModelFileMetadata,
  options: AutoCompleteOptions = {},
): AutoCompleteResult {
  const out = clone(ModelConfigSchema, config);
  const warnings: string[] = [];
  const inputCount = out.input.length + out.batchInput.length;
  const outputCount = out.output.length;

  if (inputCount === 0 || outputCount === 0) {
    completeMaxBatch(out, metadata, options.defaultMaxBatchSize ?? DEFAULT_MAX_BATCH_SIZE, warnings);
    if (inputCount === 0) {
      out.input = metadata.inputs.map((t) => fillEntry(create(ModelInputSchema, { name: t.name }), t, out.maxBatchSize));
    }
    if (outputCount === 0) {
      out.output = metadata.outputs.map((t) => fillEntry(create(ModelOutputSchema, { name: t.name }), t, out.maxBatchSize));
    }
  }

  completePartialEntries(out.input, metadata.inputs, out.maxBatchSize);
  completePartialEntries(out.output, metadata.outputs, out.maxBatchSize);
  return { config: out, warnings };
}

/** Every model tensor has a leading variable dimension that can carry the batch. */
export function canSupportBatching(metadata: ModelFileMetadata): boolean {
  return [...metadata.inputs, ...metadata.outputs].every(
    (t) => t.shape.length > 0 && t.shape[0] === WILDCARD_DIM,
  );
}

function completeMaxBatch(
  config: ModelConfig,
  metadata: ModelFileMetadata,
  defaultMaxBatchSize: number,
  warnings: string[],
): void {
  if (!canSupportBatching(metadata)) {
    if (config.maxBatchSize !== 0) {
      throw new InvalidArgumentError(
        `autofill failed for model '${config.name}': model does not support batching while non-zero max_batch_size is specified`,
      );
    }
    return;
  }
  if (config.maxBatchSize === 0) {
    config.maxBatchSize = Math.max(defaultMaxBatchSize, 0);
    warnings.push(
      `autofilled max_batch_size to ${config.maxBatchSize} for model '${config.name}' since batching is supported but no max_batch_size is specified in model configuration. Must specify max_batch_size to utilize autofill with a larger max batch size`,
    );
  }
  if (config.maxBatchSize > 1 && config.schedulingChoice.case === undefined) {
    config.schedulingChoice = { case: 'dynamicBatching', value: create(ModelDynamicBatchingSchema) };
  }
}

/** Sets data_type and dims of a config entry from the model tensor, as ORT's autofill. */
function fillEntry<T extends ModelInput | ModelOutput>(entry: T, tensor: ModelTensorInfo, maxBatchSize: number): T {
  entry.dataType = wireToConfigDataType(tensor.datatype);
  setDimsFromModel(entry, tensor, maxBatchSize);
  return entry;
}

function setDimsFromModel(entry: ModelInput | ModelOutput, tensor: ModelTensorInfo, maxBatchSize: number): void {
  const dims = tensor.shape.slice(maxBatchSize > 0 ? 1 : 0).map(BigInt);
  if (dims.length > 0) {
    entry.dims = dims;
    return;
  }
  // Config dims cannot be empty, so a scalar is spelled [1]; with batching the backend must
  // still see the model's scalar shape, hence the empty reshape (invalid without batching).
  entry.dims = [1n];
  if (maxBatchSize > 0) entry.reshape = create(ModelTensorReshapeSchema, { shape: [] });
}

function completePartialEntries(
  entries: (ModelInput | ModelOutput)[],
  tensors: readonly ModelTensorInfo[],
  maxBatchSize: number,
): void {
  for (const entry of entries) {
    const tensor = tensors.find((t) => t.name === entry.name);
    if (tensor === undefined) continue;
    if (entry.dataType === DataType.TYPE_INVALID) entry.dataType = wireToConfigDataType(tensor.datatype);
    if (entry.dims.length === 0 && entry.reshape === undefined) setDimsFromModel(entry, tensor, maxBatchSize);
  }
}
