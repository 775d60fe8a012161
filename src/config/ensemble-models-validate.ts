import { InvalidArgumentError } from '../errors/index.js';
import type { DataType, ModelConfig, ModelEnsembling_Step } from '../generated/model_config_pb.js';
import { configDataTypeName, formatShape, toNumbers } from './tensor-shapes.js';

/** What one ensemble tensor is, as some model declares it (Triton's `TensorNode`). */
interface TensorNode {
  /** The model that declares it (the ensemble itself for its inputs and outputs). */
  model: string;
  type: DataType;
  /** Config dims, without the batch dimension. */
  dims: number[];
  /** `[-1, ...dims]` for a batching model, else `dims`. */
  fullDims: number[];
}

function node(model: string, batching: boolean, type: DataType, dims: readonly bigint[]): TensorNode {
  const d = toNumbers(dims);
  return { model, type, dims: d, fullDims: batching ? [-1, ...d] : d };
}

/** Triton's `CompareDimsWithWildcard`: same rank, and each dim equal or -1 on either side. */
export function dimsMatchWithWildcard(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === -1 || b[i] === -1 || d === b[i]);
}

/**
 * Triton's `ValidateTensorConsistency`: the same datatype, and shapes that agree allowing -1,
 * compared without the batch dimension or, failing that, with it (a tensor may pass between a
 * non-batching model whose dims are `[-1, d...]` and a batching one whose dims are `[d...]`).
 */
function checkConsistent(known: TensorNode, other: TensorNode, prefix: string): void {
  if (known.type !== other.type) {
    throw new InvalidArgumentError(
      `${prefix}inconsistent data type: ${configDataTypeName(known.type)} is inferred from model ${known.model} while ` +
        `${configDataTypeName(other.type)} is inferred from model ${other.model}`,
    );
  }
  if (!dimsMatchWithWildcard(known.dims, other.dims) && !dimsMatchWithWildcard(known.fullDims, other.fullDims)) {
    throw new InvalidArgumentError(
      `${prefix}inconsistent shape: ${formatShape(known.fullDims)} is inferred from model ${known.model} while ` +
        `${formatShape(other.fullDims)} is inferred from model ${other.model}`,
    );
  }
}

/** Records `tensor` as `n`, or checks it against what an earlier model said about it. */
function declare(tensors: Map<string, TensorNode>, tensor: string, n: TensorNode, ensemble: string): void {
  const known = tensors.get(tensor);
  if (known === undefined) tensors.set(tensor, n);
  else checkConsistent(known, n, `in ensemble ${ensemble}, ensemble tensor ${tensor}: `);
}

/** Triton's `ValidateTensorMapping` for one step against its model's completed config. */
function checkStep(ensemble: string, step: ModelEnsembling_Step, model: ModelConfig, tensors: Map<string, TensorNode>): void {
  const stepModel = step.modelName;
  const batching = model.maxBatchSize > 0;
  const inputNames = new Set(model.input.map((i) => i.name));
  for (const [modelInput, tensor] of Object.entries(step.inputMap)) {
    if (!inputNames.has(modelInput)) {
      throw new InvalidArgumentError(
        `in ensemble ${ensemble}, ensemble tensor ${tensor} is mapping to non-existing input ${modelInput} in model ${stepModel}`,
      );
    }
  }
  for (const input of model.input) {
    const tensor = step.inputMap[input.name];
    if (tensor === undefined) {
      // An optional input may be left out of the ensemble.
      if (input.optional) continue;
      throw new InvalidArgumentError(`in ensemble ${ensemble}, input ${input.name} in model ${stepModel} is not mapped to any ensemble tensors`);
    }
    declare(tensors, tensor, node(stepModel, batching, input.dataType, input.dims), ensemble);
  }
  const outputs = new Map(model.output.map((o) => [o.name, o]));
  for (const [modelOutput, tensor] of Object.entries(step.outputMap)) {
    const output = outputs.get(modelOutput);
    if (output === undefined) {
      throw new InvalidArgumentError(
        `in ensemble ${ensemble}, ensemble tensor ${tensor} is mapped from non-existing output ${modelOutput} in model ${stepModel}`,
      );
    }
    declare(tensors, tensor, node(stepModel, batching, output.dataType, output.dims), ensemble);
  }
}

/**
 * The checks Triton runs on an ensemble once its composing models are loaded (core
 * `ValidateEnsembleConfig`, run from the repository's dependency check), against each step
 * model's *completed* config (after auto-complete and normalization):
 *
 * - a batching step model allows at least the ensemble's `max_batch_size`;
 * - every input_map key is an input of the step model, and every required input is mapped;
 * - every output_map key is an output of the step model;
 * - every ensemble tensor has one datatype and compatible shapes wherever it appears (the
 *   ensemble's own inputs/outputs, using their reshape when they have one, and each step
 *   model's inputs/outputs).
 *
 * Decoupled step models (any number of responses per request) are refused: infera's
 * ensembles pass exactly one response per step.
 *
 * @param modelOf the completed config of the model a step runs (the version it names, or the
 *   one serving requests for -1); the repository has checked that it is loaded.
 * @throws InvalidArgumentError with Triton's message for the first problem found.
 */
export function validateEnsembleModels(ensemble: ModelConfig, modelOf: (step: ModelEnsembling_Step) => ModelConfig): void {
  const scheduling = ensemble.schedulingChoice;
  if (scheduling.case !== 'ensembleScheduling') return;
  const name = ensemble.name;
  const batching = ensemble.maxBatchSize > 0;
  const tensors = new Map<string, TensorNode>();
  for (const io of [...ensemble.input, ...ensemble.output]) {
    tensors.set(io.name, node(name, batching, io.dataType, io.reshape !== undefined ? io.reshape.shape : io.dims));
  }
  for (const step of scheduling.value.step) {
    const model = modelOf(step);
    if (model.maxBatchSize !== 0 && model.maxBatchSize < ensemble.maxBatchSize) {
      throw new InvalidArgumentError(
        `ensemble ${name} allows maximum batch size ${ensemble.maxBatchSize}, but it contains model ${step.modelName} ` +
          `which only allows maximum batch size to be ${model.maxBatchSize}`,
      );
    }
    checkStep(name, step, model, tensors);
    if (model.modelTransactionPolicy?.decoupled === true) {
      throw new InvalidArgumentError(
        `in ensemble ${name}, step of model '${step.modelName}' is decoupled; infera ensembles do not support decoupled composing models`,
      );
    }
  }
}
