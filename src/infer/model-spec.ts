import type { Datatype } from './datatype.js';

/**
 * What request validation needs of a model config, derived once at load time so the hot
 * path reads plain fields instead of walking the config message.
 */
export interface InputSpec {
  name: string;
  datatype: Datatype;
  /** Config dims without the batch dimension; -1 = variable. */
  dims: number[];
  /** `reshape.shape` when the config has one: the shape the model sees (without batch). */
  reshape?: number[];
  optional: boolean;
}

export interface OutputSpec {
  name: string;
  datatype: Datatype;
  dims: number[];
  /** Lines of the output's label file (classification extension), if it has one. */
  labels?: string[];
}

export interface ModelSpec {
  name: string;
  version: number;
  /** 0 = the model does not batch; otherwise requests carry a leading batch dimension. */
  maxBatchSize: number;
  inputs: InputSpec[];
  outputs: OutputSpec[];
  inputByName: ReadonlyMap<string, InputSpec>;
  outputByName: ReadonlyMap<string, OutputSpec>;
  /** Position of each input in `inputs` (config order), for placing request inputs. */
  inputIndex: ReadonlyMap<string, number>;
  /** How many of `inputs` are not optional. */
  requiredInputCount: number;
}

export function makeModelSpec(
  name: string,
  version: number,
  maxBatchSize: number,
  inputs: InputSpec[],
  outputs: OutputSpec[],
): ModelSpec {
  return {
    name,
    version,
    maxBatchSize,
    inputs,
    outputs,
    inputByName: new Map(inputs.map((i) => [i.name, i])),
    outputByName: new Map(outputs.map((o) => [o.name, o])),
    inputIndex: new Map(inputs.map((i, k) => [i.name, k])),
    requiredInputCount: inputs.filter((i) => !i.optional).length,
  };
}

/** Triton's `DimsListToString`: `[-1,3,48,192]`, no spaces. */
export function dimsToString(dims: readonly number[]): string {
  return `[${dims.join(',')}]`;
}
