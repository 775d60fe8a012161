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
 * - the decoupled data flow (Triton's decouple labels): every tensor carries the label of the
 *   decoupled step it descends from (0: none, the ensemble's inputs); a decoupled step's
 *   outputs get a new label, any other step's outputs the label of its inputs; a step whose
 *   inputs carry different labels, or ensemble outputs that do, are refused ("receives inputs
 *   originated from different decoupled models"), since their responses could never be paired.
 *
 * @param modelOf the completed config of the model a step runs (the version it names, or the
 *   one serving requests for -1); the repository has checked that it is loaded.
 * @returns whether the ensemble is decoupled (a step on its data flow is): Triton sets the
 *   ensemble's `model_transaction_policy.decoupled` to this, whatever its config says.
 * @throws InvalidArgumentError with Triton's message for the first problem found.
 */
export function validateEnsembleModels(ensemble: ModelConfig, modelOf: (step: ModelEnsembling_Step) => ModelConfig): { decoupled: boolean } {
  const scheduling = ensemble.schedulingChoice;
  if (scheduling.case !== 'ensembleScheduling') return { decoupled: false };
  const name = ensemble.name;
  const batching = ensemble.maxBatchSize > 0;
  const tensors = new Map<string, TensorNode>();
  for (const io of [...ensemble.input, ...ensemble.output]) {
    tensors.set(io.name, node(name, batching, io.dataType, io.reshape !== undefined ? io.reshape.shape : io.dims));
  }
  const decoupledSteps = new Set<ModelEnsembling_Step>();
  for (const step of scheduling.value.step) {
    const model = modelOf(step);
    if (model.maxBatchSize !== 0 && model.maxBatchSize < ensemble.maxBatchSize) {
      throw new InvalidArgumentError(
        `ensemble ${name} allows maximum batch size ${ensemble.maxBatchSize}, but it contains model ${step.modelName} ` +
          `which only allows maximum batch size to be ${model.maxBatchSize}`,
      );
    }
    checkStep(name, step, model, tensors);
    if (model.modelTransactionPolicy?.decoupled === true) decoupledSteps.add(step);
  }
  return { decoupled: decoupleLabels(ensemble, scheduling.value.step, decoupledSteps, tensors) > 0 };
}

/**
 * Triton's decouple-label walk over the data flow (core `ValidateEnsembleConfig`): labels the
 * tensors from the ensemble's inputs on, step by step as each step's inputs are labelled.
 * @returns how many decoupled steps the flow passes (0: the ensemble is not decoupled).
 * @throws InvalidArgumentError "in ensemble <e>, step of model '<m>' receives inputs originated
 *   from different decoupled models", `<m>` being the model Triton names: the one that first
 *   declared the step's output tensor (the ensemble itself for its outputs).
 */
function decoupleLabels(
  ensemble: ModelConfig,
  steps: readonly ModelEnsembling_Step[],
  decoupledSteps: ReadonlySet<ModelEnsembling_Step>,
  tensors: ReadonlyMap<string, TensorNode>,
): number {
  const name = ensemble.name;
  const labels = new Map<string, number>(ensemble.input.map((i) => [i.name, 0]));
  const mixed = (model: string): InvalidArgumentError =>
    new InvalidArgumentError(`in ensemble ${name}, step of model '${model}' receives inputs originated from different decoupled models`);
  let count = 0;
  const waiting = steps.filter((s) => Object.keys(s.inputMap).length > 0);
  for (let progress = true; progress; ) {
    progress = false;
    for (let i = 0; i < waiting.length; ) {
      const step = waiting[i]!;
      const inputs = Object.values(step.inputMap);
      if (!inputs.every((t) => labels.has(t))) {
        i++;
        continue;
      }
      waiting.splice(i, 1);
      progress = true;
      const label = labels.get(inputs[0]!)!;
      const outputs = Object.values(step.outputMap);
      if (inputs.some((t) => labels.get(t) !== label)) throw mixed(tensors.get(outputs[0] ?? '')?.model ?? step.modelName);
      const own = decoupledSteps.has(step) ? ++count : label;
      for (const t of outputs) if (!labels.has(t)) labels.set(t, own);
    }
  }
  const outputLabels = ensemble.output.flatMap((o) => (labels.has(o.name) ? [labels.get(o.name)!] : []));
  if (outputLabels.some((l) => l !== outputLabels[0])) throw mixed(name);
  return count;
}
