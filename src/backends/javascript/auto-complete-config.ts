import type { AutoCompleteConfig, AutoCompleteTensor } from './model-api.js';

type Json = Record<string, unknown>;
type TensorJson = { name: string; data_type?: string; dims?: number[]; optional?: boolean };

/**
 * The object a model's static `autoCompleteConfig` works on: Triton Python backend's
 * `pb_utils.ModelConfig` (auto_complete_config), over the config as Triton's JSON. The
 * checks and their messages are the Python backend's, so a model ported from Python fails
 * the same way. Runs in a short-lived worker thread at load time.
 */
export class AutoCompleteModelConfig implements AutoCompleteConfig {
  readonly #config: Json;

  /** @param config Triton's JSON of the config so far; `input`/`output` are created when absent. */
  constructor(config: Json) {
    this.#config = config;
    this.#config['input'] ??= [];
    this.#config['output'] ??= [];
    this.#config['max_batch_size'] ??= 0;
  }

  get #name(): string {
    return String(this.#config['name'] ?? '');
  }

  asDict(): Json {
    return this.#config;
  }

  /** @throws Error when the config already has a larger max_batch_size (Python backend's message). */
  setMaxBatchSize(maxBatchSize: number): void {
    const current = Number(this.#config['max_batch_size'] ?? 0);
    if (current > maxBatchSize) {
      throw new Error(
        `configuration specified max_batch_size ${current}, but in auto-complete-config function for model '${this.#name}' specified max_batch_size ${maxBatchSize}`,
      );
    }
    this.#config['max_batch_size'] = maxBatchSize;
  }

  /** @throws Error when sequence or ensemble scheduling is configured. */
  setDynamicBatching(): void {
    const other = 'sequence_batching' in this.#config ? 'sequence_batching' : 'ensemble_scheduling' in this.#config ? 'ensemble_scheduling' : undefined;
    if (other !== undefined) {
      throw new Error(
        `Configuration specified scheduling_choice as '${other}', but auto-complete-config function for model '${this.#name}' tries to set scheduling_choice as 'dynamic_batching'`,
      );
    }
    this.#config['dynamic_batching'] ??= {};
  }

  addInput(input: AutoCompleteTensor): void {
    this.#addTensor('input', input, ['name', 'data_type', 'dims', 'optional']);
  }

  addOutput(output: Omit<AutoCompleteTensor, 'optional'>): void {
    this.#addTensor('output', output, ['name', 'data_type', 'dims']);
  }

  /** @throws Error for keys other than `decoupled`, or when `decoupled` is already set otherwise. */
  setModelTransactionPolicy(policy: { decoupled?: boolean }): void {
    for (const key of Object.keys(policy)) {
      if (key !== 'decoupled') {
        throw new Error(`model transaction property in auto-complete-config function for model '${this.#name}' contains property other than 'decoupled'.`);
      }
    }
    const current = (this.#config['model_transaction_policy'] ??= {}) as Json;
    if (policy.decoupled === undefined) return;
    if ('decoupled' in current && current['decoupled'] !== policy.decoupled) {
      throw new Error(
        `trying to change decoupled property in auto-complete-config for model '${this.#name}', which is already set to '${pythonBool(current['decoupled'])}'.`,
      );
    }
    current['decoupled'] = policy.decoupled;
  }

  #addTensor(kind: 'input' | 'output', tensor: TensorJson, allowed: string[]): void {
    const model = this.#name;
    const listed = allowed.map((k) => `'${k}'`);
    const allowedText = `${listed.slice(0, -1).join(', ')} and ${listed.at(-1)}`;
    for (const key of Object.keys(tensor)) {
      if (!allowed.includes(key)) {
        throw new Error(`${kind} '${tensor.name}' in auto-complete-config function for model '${model}' contains property other than ${allowedText}.`);
      }
    }
    if (tensor.name === undefined) throw new Error(`${kind} in auto-complete-config function for model '${model}' is missing 'name' property.`);
    for (const key of ['data_type', 'dims'] as const) {
      if (tensor[key] === undefined) {
        throw new Error(`${kind} '${tensor.name}' in auto-complete-config function for model '${model}' is missing '${key}' property.`);
      }
    }
    const list = this.#config[kind] as TensorJson[];
    const existing = list.find((t) => t.name === tensor.name);
    if (existing === undefined) {
      list.push({ ...tensor, dims: [...tensor.dims!] });
      return;
    }
    const existingType = existing.data_type ?? 'TYPE_INVALID';
    if (existingType !== 'TYPE_INVALID' && existingType !== tensor.data_type) {
      throw new Error(
        `unable to load model '${model}', configuration expects datatype ${existingType} for ${kind} '${tensor.name}', model provides ${tensor.data_type}`,
      );
    }
    const existingDims = existing.dims ?? [];
    if (existingDims.length > 0 && !sameDims(existingDims, tensor.dims!)) {
      throw new Error(
        `model '${model}', tensor '${tensor.name}': the model expects dims ${pythonList(tensor.dims!)} but the model configuration specifies dims ${pythonList(existingDims)}`,
      );
    }
    if (kind === 'input' && existing.optional !== undefined && tensor.optional !== undefined && existing.optional !== tensor.optional) {
      throw new Error(
        `model '${model}', tensor '${tensor.name}': the model expects optional ${pythonBool(tensor.optional)} but the model configuration specifies optional ${pythonBool(existing.optional)}`,
      );
    }
    existing.data_type = tensor.data_type;
    existing.dims = [...tensor.dims!];
    if (tensor.optional !== undefined) existing.optional = tensor.optional;
  }
}

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => Number(d) === Number(b[i]));
}

/** Python's str() of a list and a bool, which the Python backend's messages print. */
function pythonList(dims: readonly number[]): string {
  return `[${dims.join(', ')}]`;
}

function pythonBool(v: unknown): string {
  return v ? 'True' : 'False';
}
