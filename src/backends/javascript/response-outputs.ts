import { InternalError } from '../../errors/index.js';
import { elementCount } from '../../infer/datatype.js';
import type { Tensor } from '../../infer/tensor.js';
import type { OutputRule } from './messages.js';
import type { OutputTensorInit } from './model-api.js';
import { dataToBytes } from './tensor-convert.js';

/** What responses of one model are checked against. */
export interface ResponseRules {
  model: string;
  maxBatchSize: number;
  outputs: ReadonlyMap<string, OutputRule>;
}

/**
 * Converts one response a JavaScript model returned into the server's tensors, in
 * `outputNames` order, checking it against the model config: every requested output must be
 * there, every output must be declared, with the declared datatype and a shape that matches
 * the config dims (with the batch dimension first when the model batches, equal to the
 * request's batch size when `batchSize` is given) and the data's length.
 * @throws InternalError naming the model and the output, saying what was expected.
 */
export function responseToTensors(
  response: unknown,
  outputNames: readonly string[],
  rules: ResponseRules,
  batchSize: number | undefined,
): Tensor[] {
  const outputs = (response as { outputs?: unknown } | null)?.outputs;
  if (typeof response !== 'object' || response === null || typeof outputs !== 'object' || outputs === null) {
    throw new InternalError(
      `model '${rules.model}': a response must be an object { outputs: { <name>: { data, shape } } } (or an Error), got ${describeValue(response)}`,
    );
  }
  const given = outputs as Record<string, OutputTensorInit | undefined>;
  for (const name of Object.keys(given)) {
    if (!rules.outputs.has(name)) {
      throw new InternalError(
        `model '${rules.model}': the response has output '${name}', which the model configuration does not declare (declared: ${[...rules.outputs.keys()].join(', ')})`,
      );
    }
  }
  return outputNames.map((name) => {
    const init = given[name];
    if (init === undefined) throw new InternalError(`model '${rules.model}': the response is missing output '${name}'`);
    return outputTensor(name, init, rules.outputs.get(name)!, rules, batchSize);
  });
}

function outputTensor(name: string, init: OutputTensorInit, rule: OutputRule, rules: ResponseRules, batchSize: number | undefined): Tensor {
  const what = `model '${rules.model}', output '${name}'`;
  if (typeof init !== 'object' || init === null || !('data' in init)) {
    throw new InternalError(`${what}: expected { data, shape }, got ${describeValue(init)}`);
  }
  if (init.datatype !== undefined && init.datatype !== rule.datatype) {
    throw new InternalError(`${what}: the configuration declares datatype ${rule.datatype}, the response gives ${init.datatype}`);
  }
  const bytes = dataToBytes(init.data, rule.datatype);
  if (typeof bytes === 'string') throw new InternalError(`${what}: ${bytes}`);
  const count = init.data.length;
  const shape = init.shape === undefined ? [count] : [...init.shape];
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new InternalError(`${what}: shape [${shape.join(',')}] must be non-negative integers`);
  }
  if (elementCount(shape) !== count) {
    throw new InternalError(`${what}: shape [${shape.join(',')}] has ${elementCount(shape)} elements, but the data has ${count}`);
  }
  const expected = rules.maxBatchSize > 0 ? [-1, ...rule.dims] : rule.dims;
  const fits = shape.length === expected.length && expected.every((d, i) => d === -1 || d === shape[i]);
  if (!fits) {
    throw new InternalError(
      `${what}: shape [${shape.join(',')}] does not match the configuration's [${expected.join(',')}]${rules.maxBatchSize > 0 ? ' (batch dimension first)' : ''}`,
    );
  }
  if (rules.maxBatchSize > 0 && batchSize !== undefined && shape[0] !== batchSize) {
    throw new InternalError(`${what}: the batch dimension is ${shape[0]}, but the request has batch size ${batchSize}`);
  }
  return { name, datatype: rule.datatype, shape, data: bytes };
}

/** A short description of a value for error messages. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (v instanceof Error) return `an Error (${v.message})`;
  if (typeof v === 'object') return `an object with keys [${Object.keys(v).join(', ')}]`;
  return typeof v;
}
