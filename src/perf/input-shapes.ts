import { dimsWithoutBatch, type ModelInfo } from './model-info.js';

/**
 * Request shapes for `infera perf`: the batch size (`-b`) in front for batching models, and the
 * variable dimensions filled from `--shape NAME:d1,d2,...` (dimensions without the batch
 * dimension, as perf_analyzer takes them).
 */

/**
 * Parses repeated `--shape` values.
 * @returns input name → dims (without the batch dimension)
 * @throws Error naming the value and the expected form, e.g.
 *   "--shape 'x:3,a': dimension 'a' is not a whole number ≥ 0 (expected NAME:d1,d2,...)"
 */
export function parseShapeFlags(values: readonly string[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const value of values) {
    const colon = value.lastIndexOf(':');
    if (colon <= 0 || colon === value.length - 1) {
      throw new Error(`--shape '${value}': expected NAME:d1,d2,... (e.g. --shape IMAGE:3,224,224)`);
    }
    const dims = value
      .slice(colon + 1)
      .split(',')
      .map((d) => {
        const n = Number(d);
        if (d.trim() === '' || !Number.isInteger(n) || n < 0) {
          throw new Error(`--shape '${value}': dimension '${d}' is not a whole number ≥ 0 (expected NAME:d1,d2,...)`);
        }
        return n;
      });
    out.set(value.slice(0, colon), dims);
  }
  return out;
}

/**
 * The dims (without batch) of every input: the model's, with `--shape` filling variable
 * dimensions. A `--shape` for a fixed-shape input must agree with it.
 * @param requireFixed false keeps -1 for dimensions that input data files give per entry
 * @throws Error when `--shape` names no input of the model, disagrees with a fixed dimension,
 *   has the wrong rank, or (with `requireFixed`) a variable dimension is left without a `--shape`
 */
export function resolveInputDims(
  model: ModelInfo,
  shapes: ReadonlyMap<string, number[]>,
  requireFixed = true,
): Map<string, number[]> {
  for (const name of shapes.keys()) {
    if (!model.inputs.some((i) => i.name === name)) {
      throw new Error(
        `--shape names '${name}', which is not an input of model '${model.name}' (inputs: ${model.inputs.map((i) => i.name).join(', ')})`,
      );
    }
  }
  const out = new Map<string, number[]>();
  for (const input of model.inputs) {
    const dims = dimsWithoutBatch(model, input);
    const given = shapes.get(input.name);
    if (given !== undefined) {
      if (given.length !== dims.length) {
        throw new Error(
          `--shape ${input.name}:${given.join(',')} has ${given.length} dimensions; input '${input.name}' of model '${model.name}' has ${dims.length} ([${dims.join(',')}], without the batch dimension)`,
        );
      }
      dims.forEach((d, i) => {
        if (d !== -1 && d !== given[i]) {
          throw new Error(
            `--shape ${input.name}:${given.join(',')} disagrees with input '${input.name}' of model '${model.name}': dimension ${i} is fixed at ${d}`,
          );
        }
      });
      out.set(input.name, [...given]);
    } else if (requireFixed && dims.includes(-1)) {
      throw new Error(
        `input '${input.name}' of model '${model.name}' has variable dimensions [${dims.join(',')}]; give its shape with --shape ${input.name}:<d1,d2,...> (without the batch dimension)`,
      );
    } else {
      out.set(input.name, dims);
    }
  }
  return out;
}

/**
 * The full request shape of a tensor: `[batchSize, ...dims]` for a batching model, `dims`
 * otherwise.
 */
export function requestShape(model: ModelInfo, dims: readonly number[], batchSize: number): number[] {
  return model.maxBatchSize > 0 ? [batchSize, ...dims] : [...dims];
}

/**
 * Checks `-b` against the model, with perf_analyzer's rules and messages.
 * @throws Error "can not specify batch size > 1 as the model does not support batching" for a
 *   non-batching model, "can not specify batch size > 1 when using a sequence model", and (the
 *   server would refuse it anyway) a batch above max_batch_size
 */
export function checkBatchSize(model: ModelInfo, batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`-b/--batch-size must be a whole number ≥ 1, got ${batchSize}`);
  if (batchSize === 1) return;
  if (model.maxBatchSize === 0) throw new Error('can not specify batch size > 1 as the model does not support batching');
  if (model.sequence) throw new Error('can not specify batch size > 1 when using a sequence model');
  if (batchSize > model.maxBatchSize) {
    throw new Error(`-b ${batchSize} exceeds max_batch_size ${model.maxBatchSize} of model '${model.name}'`);
  }
}
