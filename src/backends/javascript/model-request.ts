import type { InferParameters } from '../../infer/tensor.js';
import type { WireRequest } from './messages.js';
import type { ModelRequest, ModelTensor } from './model-api.js';
import { toModelTensor } from './tensor-convert.js';

/**
 * A request as `execute` sees it (model-api.ts `ModelRequest`), built from the wire form in
 * the worker: inputs become typed arrays (views over the transferred bytes) or Buffers.
 */
export class WorkerRequest implements ModelRequest {
  readonly id: string;
  readonly parameters: Readonly<InferParameters>;
  readonly inputs: Readonly<Record<string, ModelTensor>>;
  readonly requestedOutputs: readonly string[];
  /** Batch size the scheduler validated (1 when the model does not batch). */
  readonly batchSize: number;
  cancelled = false;
  readonly #modelName: string;

  /** @throws InvalidArgumentError for a BYTES input whose length prefixes are broken. */
  constructor(wire: WireRequest, modelName: string) {
    this.#modelName = modelName;
    this.id = wire.id;
    this.parameters = Object.freeze({ ...wire.parameters });
    this.requestedOutputs = Object.freeze([...wire.outputNames]);
    this.batchSize = wire.batchSize;
    const inputs = Object.create(null) as Record<string, ModelTensor>;
    for (const t of wire.inputs) inputs[t.name] = toModelTensor(t, `input '${t.name}' for model '${modelName}'`);
    this.inputs = Object.freeze(inputs);
  }

  /** @throws Error naming the model, the input and the inputs present when it is absent. */
  input(name: string): ModelTensor {
    const t = this.inputs[name];
    if (t === undefined) {
      throw new Error(`model '${this.#modelName}': the request has no input '${name}' (it has: ${Object.keys(this.inputs).join(', ') || 'none'})`);
    }
    return t;
  }
}
