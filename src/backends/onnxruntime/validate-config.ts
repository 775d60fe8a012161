import type { ModelFileMetadata, ModelTensorInfo } from '../backend.js';
import { InvalidArgumentError } from '../../errors/index.js';
import type { ModelConfig } from '../../generated/model_config_pb.js';
import { datatypeToConfigType } from '../../infer/datatype.js';
import { WILDCARD_DIM } from '../../config/constants.js';
import { sequenceControls } from '../../config/sequence-controls.js';
import { configDataTypeName, formatShape, toNumbers, type ConfigTensorEntry } from '../../config/tensor-shapes.js';

/**
 * Load-time validation of a config against the ONNX model (reference §4 "Load-time
 * validation in ORT"; ORT backend `ValidateInputs` / `ValidateOutputs` and
 * `CompareDimsSupported`). Expects a completed, normalized and generally valid config.
 *
 * - The model must have exactly as many inputs as the config expects: its inputs minus the
 *   `optional` ones, plus batch inputs, sequence control tensors and implicit states.
 * - Every config input and output must exist in the model with exactly the same datatype.
 *   A model output missing from the config is fine.
 * - The shape compared is `reshape.shape` when present, else `dims`. With max_batch_size > 0
 *   the model's first dim must be -1 and the rest is compared to the config; otherwise the
 *   whole shape is. Ranks must match; inputs must match wherever the model dim is fixed (a
 *   config -1 against a fixed model dim is an error); outputs must match exactly.
 * - A scalar model tensor needs every config dim to be 1. Batch-output targets are not
 *   shape-checked. `optional` inputs are refused for batching models; `allow_ragged_batch`
 *   inputs must be `[-1]` in the model.
 *
 * @throws InvalidArgumentError stating what the model expects and what the config says, e.g.
 *   "unable to load model 'm', configuration expects datatype TYPE_INT32 for input 'x',
 *   model provides TYPE_FP32".
 */
export function validateOnnxConfigAgainstModel(config: ModelConfig, metadata: ModelFileMetadata): void {
  const model = config.name;
  const expectedInputs = expectedInputCount(config);
  if (metadata.inputs.length !== expectedInputs) {
    throw new InvalidArgumentError(
      `unable to load model '${model}', configuration expects ${expectedInputs} inputs, model provides ${metadata.inputs.length}`,
    );
  }

  for (const io of config.input) {
    if (io.optional && config.maxBatchSize !== 0) {
      throw new InvalidArgumentError(
        `unable to load model '${model}', optional input '${io.name}' is not supported for models that support batching`,
      );
    }
    const tensor = findTensor(metadata.inputs, io.name, model, 'input');
    checkDatatype(io, tensor, model, 'input');
    if (io.allowRaggedBatch) {
      if (io.optional) {
        throw new InvalidArgumentError(
          `unable to load model '${model}', configuration expects model provides input with shape [-1] for ragged input '${io.name}', which is not supported for optional input`,
        );
      }
      if (tensor.shape.length !== 1 || tensor.shape[0] !== WILDCARD_DIM) {
        throw new InvalidArgumentError(
          `unable to load model '${model}', configuration expects model provides input with shape [-1] for ragged input '${io.name}', model provides ${formatShape(tensor.shape)}`,
        );
      }
      continue;
    }
    checkShape(io, tensor, config, false);
  }

  const batchOutputTargets = new Set(config.batchOutput.flatMap((b) => b.targetName));
  for (const io of config.output) {
    const tensor = findTensor(metadata.outputs, io.name, model, 'output');
    checkDatatype(io, tensor, model, 'output');
    if (!batchOutputTargets.has(io.name)) checkShape(io, tensor, config, true);
  }

  checkStates(config, metadata);
}

function expectedInputCount(config: ModelConfig): number {
  let n = config.input.filter((i) => !i.optional).length + config.batchInput.length;
  if (config.schedulingChoice.case === 'sequenceBatching') {
    const seq = config.schedulingChoice.value;
    n += sequenceControls(seq, config.name).length + seq.state.length;
  }
  return n;
}

function findTensor(tensors: readonly ModelTensorInfo[], name: string, model: string, kind: string): ModelTensorInfo {
  const tensor = tensors.find((t) => t.name === name);
  if (tensor !== undefined) return tensor;
  const allowed = tensors.map((t) => t.name).sort().join(', ');
  throw new InvalidArgumentError(
    `unable to load model '${model}', unexpected inference ${kind} '${name}', allowed ${kind}s are: ${allowed}`,
  );
}

function checkDatatype(io: ConfigTensorEntry, tensor: ModelTensorInfo, model: string, kind: string): void {
  const configured = configDataTypeName(io.dataType);
  const provided = datatypeToConfigType(tensor.datatype);
  if (configured !== provided) {
    throw new InvalidArgumentError(
      `unable to load model '${model}', configuration expects datatype ${configured} for ${kind} '${io.name}', model provides ${provided}`,
    );
  }
}

function checkShape(io: ConfigTensorEntry, tensor: ModelTensorInfo, config: ModelConfig, exact: boolean): void {
  const dims = toNumbers(io.reshape !== undefined ? io.reshape.shape : io.dims);
  if (tensor.shape.length === 0) {
    // ORT cannot batch a scalar, so the config may only spell it as ones.
    if (dims.some((d) => d !== 1)) {
      throw new InvalidArgumentError(
        `unable to load model '${config.name}', scalar tensor '${io.name}', should only provide 1 in the model configuration when the model doesn't support batching. Model configuration provided: ${formatShape(dims)}.`,
      );
    }
    return;
  }
  compareDimsSupported(config.name, io.name, tensor.shape, dims, config.maxBatchSize, exact);
}

/**
 * Compares a model shape with the config's shape for that tensor (Triton's
 * `CompareDimsSupported`). With `exact` every dim must be equal; otherwise a model dim of -1
 * accepts any config dim.
 * @param dims the config dims (or reshape) without the batch dimension.
 * @throws InvalidArgumentError "model '<m>', tensor '<t>': the model expects N dimensions
 *   (shape [...]) but the model configuration specifies M dimensions (...)".
 */
export function compareDimsSupported(
  model: string,
  tensorName: string,
  modelShape: readonly number[],
  dims: readonly number[],
  maxBatchSize: number,
  exact: boolean,
): void {
  const matches = (full: readonly number[]): boolean =>
    modelShape.length === full.length &&
    full.every((d, i) => {
      const m = modelShape[i]!;
      return !exact && m === WILDCARD_DIM ? true : m === d;
    });
  const subject = `model '${model}', tensor '${tensorName}'`;

  if (maxBatchSize > 0) {
    if (modelShape.length === 0 || modelShape[0] !== WILDCARD_DIM) {
      throw new InvalidArgumentError(
        `${subject}: for the model to support batching the shape should have at least 1 dimension and the first dimension must be -1; but shape expected by the model is ${formatShape(modelShape)}`,
      );
    }
    const full = [WILDCARD_DIM, ...dims];
    if (!matches(full)) {
      throw new InvalidArgumentError(
        `${subject}: the model expects ${modelShape.length} dimensions (shape ${formatShape(modelShape)}) but the model configuration specifies ${full.length} dimensions (an initial batch dimension because max_batch_size > 0 followed by the explicit tensor shape, making complete shape ${formatShape(full)})`,
      );
    }
    return;
  }
  if (!matches(dims)) {
    throw new InvalidArgumentError(
      `${subject}: the model expects ${modelShape.length} dimensions (shape ${formatShape(modelShape)}) but the model configuration specifies ${dims.length} dimensions (shape ${formatShape(dims)})`,
    );
  }
}

/** Implicit state tensors must exist on both sides of the model with the state's datatype. */
function checkStates(config: ModelConfig, metadata: ModelFileMetadata): void {
  if (config.schedulingChoice.case !== 'sequenceBatching') return;
  for (const state of config.schedulingChoice.value.state) {
    const dataType = configDataTypeName(state.dataType);
    const sides = [
      ['input', state.inputName, metadata.inputs],
      ['output', state.outputName, metadata.outputs],
    ] as const;
    for (const [kind, name, tensors] of sides) {
      const tensor = findTensor(tensors, name, config.name, kind);
      const provided = datatypeToConfigType(tensor.datatype);
      if (provided !== dataType) {
        throw new InvalidArgumentError(
          `unable to load model '${config.name}', configuration expects datatype ${dataType} for ${kind} state '${name}', model provides ${provided}`,
        );
      }
    }
  }
}
