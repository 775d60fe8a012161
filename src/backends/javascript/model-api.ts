/**
 * The API a JavaScript model implements and sees (`backend: "javascript"`), for authors who
 * write their model in TypeScript: `import type { JavaScriptModel, ... } from 'infera'`.
 * Everything here is types only; a model file needs no runtime import from infera.
 *
 * The model is the class a `model.js` / `model.mjs` exports (default export, or a named export
 * `Model`; a CommonJS `module.exports = class ...` is the default export). One object of it is
 * made per instance, inside that instance's worker thread, and its methods are called as in
 * Triton's Python backend:
 *
 * ```js
 * export default class Model {
 *   static autoCompleteConfig(config) { config.addInput({ name: 'IN', data_type: 'TYPE_FP32', dims: [4] }); ... }
 *   async initialize(args) { ... }            // once per instance, before any request
 *   async execute(requests, context) {         // one response (or Error) per request
 *     return requests.map((r) => ({ outputs: { OUT: { data: r.inputs.IN.data, shape: r.inputs.IN.shape } } }));
 *   }
 *   async finalize() { ... }                   // once, when the model unloads
 * }
 * ```
 */
import type { Datatype } from '../../infer/datatype.js';

/** The typed arrays tensors use (BOOL is a Uint8Array of 0/1; FP16 and BF16 are Uint16Array bit patterns). */
export type TypedArray =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

/**
 * A tensor as a model sees it. `data` is a typed array whose type follows the datatype
 * (FP32 → Float32Array, INT64 → BigInt64Array, BOOL → Uint8Array, FP16/BF16 → Uint16Array, ...),
 * row-major, length = product of `shape`; BYTES tensors are an array of Buffers, one per
 * element.
 */
export interface ModelTensor {
  readonly name: string;
  readonly datatype: Datatype;
  /** Full shape, including the batch dimension when the model batches. */
  readonly shape: readonly number[];
  readonly data: TypedArray | Buffer[];
}

/** One inference request handed to `execute`. */
export interface ModelRequest {
  /**
   * The request id ('' when the client sent none). With `dynamic_batching` or
   * `sequence_batching` on a default (not decoupled) model, the batcher merges requests along
   * the batch dimension first: `execute` then gets one request per batch, with no id and no
   * parameters.
   */
  readonly id: string;
  /** Request parameters (KServe v2 `parameters`); see `id` for batched models. */
  readonly parameters: Readonly<Record<string, string | number | boolean>>;
  /** Inputs by name. */
  readonly inputs: Readonly<Record<string, ModelTensor>>;
  /** The outputs to return, in order; every one of them must be in the response. */
  readonly requestedOutputs: readonly string[];
  /**
   * The input named `name`.
   * @throws Error naming the model, the input and the inputs that exist, when it is absent
   *   (an `optional` input the client left out).
   */
  input(name: string): ModelTensor;
  /** True once the client gave up on this request (disconnect, cancelled stream). */
  readonly cancelled: boolean;
}

/**
 * One output of a response. `data` may be the typed array of the output's datatype, a plain
 * array of numbers/bigints/booleans (converted), or for BYTES an array of Buffers, Uint8Arrays
 * or strings (UTF-8). `shape` defaults to `[data.length]`. `datatype`, when given, must equal
 * the config's.
 *
 * Ownership: the ArrayBuffer behind a returned typed array may be moved (transferred) to the
 * server thread, after which it is detached here: do not return an array you keep using.
 */
export interface OutputTensorInit {
  data: TypedArray | Buffer[] | Uint8Array[] | string[] | number[] | bigint[] | boolean[];
  shape?: readonly number[];
  datatype?: Datatype;
}

/** A response: its outputs by name. */
export interface ModelResponse {
  outputs: Record<string, OutputTensorInit>;
}

/**
 * What a decoupled model (`model_transaction_policy { decoupled: true }`) returns per request:
 * - an async (or sync) iterable: each yielded value is one response, sent at once; the end of
 *   the iteration is the final flag. With an async generator, `return response` sends the last
 *   response together with the final flag (Triton's `send(response, FINAL)`); a bare `return`
 *   sends the final flag alone (Triton's `send(flags=FINAL)`). Zero yields = zero responses.
 * - a single ModelResponse: one response, final;
 * - `undefined`/`null`: no response, just the final flag;
 * - an Error (or a throw inside the iteration): an error response that ends the request.
 */
export type DecoupledResult = AsyncIterable<ModelResponse> | Iterable<ModelResponse> | ModelResponse | Error | null | undefined;

/** A tensor given to a BLS call: `data` as in OutputTensorInit; `datatype` is required. */
export interface BlsTensor {
  name: string;
  datatype: Datatype;
  shape: readonly number[];
  data: OutputTensorInit['data'];
}

/** A BLS request: which model to run and with what. */
export interface BlsRequest {
  model: string;
  /** A version number; absent = the model's highest READY version. */
  version?: number;
  inputs: BlsTensor[];
  /** Outputs to return; absent = all of the model's outputs. */
  outputs?: string[];
  id?: string;
  parameters?: Record<string, string | number | boolean>;
}

/** What a BLS call resolves with. */
export interface BlsResponse {
  modelName: string;
  modelVersion: string;
  outputs: Record<string, ModelTensor>;
}

/** The second argument of `execute`. */
export interface ExecuteContext {
  /**
   * Business logic scripting: runs a request on any loaded model (through the server's
   * scheduler, so batching and statistics apply) and resolves with its outputs. The input
   * arrays are copied, so the caller may keep using them.
   * @throws Error with `code` (Triton's: 'INVALID_ARG', 'NOT_FOUND', 'UNAVAILABLE', ...) and the
   *   server's message when the request fails.
   */
  infer(request: BlsRequest): Promise<BlsResponse>;
  readonly modelName: string;
  readonly modelVersion: number;
  readonly instanceName: string;
}

/** The argument of `initialize` (Triton Python backend's `args`, with JavaScript names and types). */
export interface InitializeArgs {
  modelName: string;
  modelVersion: number;
  /** The complete model config, as Triton prints it in JSON (snake_case, defaults printed). */
  modelConfig: Record<string, unknown>;
  /** The model's folder (Triton's `model_repository` arg), e.g. `/models/preprocess`. */
  modelDir: string;
  /** The version folder holding the model file, e.g. `/models/preprocess/1`. */
  versionDir: string;
  /** Triton's instance name `<group>_<index>`, e.g. "preprocess_0". */
  instanceName: string;
  instanceKind: 'KIND_CPU' | 'KIND_GPU';
  instanceDeviceId: number;
}

/** A tensor entry given to `addInput` / `addOutput` (Triton's dict keys). */
export interface AutoCompleteTensor {
  name: string;
  /** Config enum name, e.g. "TYPE_FP32", "TYPE_STRING". */
  data_type: string;
  dims: number[];
  /** Inputs only. */
  optional?: boolean;
}

/**
 * The object `autoCompleteConfig` receives (Triton Python backend's `pb_utils.ModelConfig`).
 * The method throws (failing the load) on conflicts, with Triton's messages.
 */
export interface AutoCompleteConfig {
  /** The config so far, as Triton's JSON (read it; change it through the methods). */
  asDict(): Record<string, unknown>;
  /** @throws when the config already has a larger non-zero max_batch_size */
  setMaxBatchSize(maxBatchSize: number): void;
  /** Adds `dynamic_batching {}` unless present. @throws when another scheduler is configured */
  setDynamicBatching(): void;
  /** Adds (or completes) an input. @throws on unknown keys or a conflict with the config */
  addInput(input: AutoCompleteTensor): void;
  addOutput(output: Omit<AutoCompleteTensor, 'optional'>): void;
  /** @throws on unknown keys, or when the config already sets another `decoupled` */
  setModelTransactionPolicy(policy: { decoupled?: boolean }): void;
}

/** The instance side of a JavaScript model. Only `execute` is required. */
export interface JavaScriptModel {
  initialize?(args: InitializeArgs): void | Promise<void>;
  /**
   * Runs a batch of requests. Default models return one ModelResponse (or an Error, which
   * fails only that request) per request, in order. Decoupled models return one
   * DecoupledResult per request. A throw or rejection fails every request of the call.
   */
  execute(
    requests: ModelRequest[],
    context: ExecuteContext,
  ): (ModelResponse | Error)[] | Promise<(ModelResponse | Error)[]> | DecoupledResult[] | Promise<DecoupledResult[]>;
  finalize?(): void | Promise<void>;
}

/** What a model file exports. */
export interface JavaScriptModelClass {
  new (): JavaScriptModel;
  /** Runs once at load, before normalization, unless auto-complete is disabled; a throw fails the load. */
  autoCompleteConfig?(config: AutoCompleteConfig): void | AutoCompleteConfig | Promise<void | AutoCompleteConfig>;
}
