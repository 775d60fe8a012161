import type { ModelConfig } from '../generated/model_config_pb.js';
import type { Datatype } from '../infer/datatype.js';
import type { Tensor } from '../infer/tensor.js';
import type { ComputeTiming } from '../infer/compute-timing.js';
import type { InstanceRequest } from './request-instance.js';

/** One input or output as the model file declares it; -1 marks a variable dimension. */
export interface ModelTensorInfo {
  name: string;
  datatype: Datatype;
  /** Full model shape including any batch dimension. */
  shape: number[];
}

/** Inputs and outputs read from a model file, for auto-complete and load-time validation. */
export interface ModelFileMetadata {
  inputs: ModelTensorInfo[];
  outputs: ModelTensorInfo[];
}

/** Where and how one model instance runs (one entry of the normalized instance groups). */
export interface InstanceOptions {
  /** Triton's instance name: `<group name>_<index>`, e.g. "text_detection_0". */
  name: string;
  modelName: string;
  version: number;
  /** Absolute path of the model file (e.g. `<repo>/<model>/1/model.onnx`). */
  modelFile: string;
  kind: 'KIND_CPU' | 'KIND_GPU';
  /** GPU device id for KIND_GPU. */
  gpu?: number;
  /** Threads for one operator (ORT intra-op); already resolved, >= 1. */
  intraOpThreads: number;
  /** Threads across operators (ORT inter-op); 0 = runtime default. */
  interOpThreads: number;
  /**
   * `optimization.execution_accelerators.gpu_execution_accelerator` of the config (reference
   * §3.3), passed for KIND_GPU instances: e.g. `{ name: 'tensorrt', parameters: {
   * precision_mode: 'FP16' } }` asks ONNX Runtime for its TensorRT execution provider.
   */
  gpuExecutionAccelerators?: { name: string; parameters: Record<string, string> }[];
  /**
   * The version's complete (normalized, validated) config, for backends that need more of it
   * than the fields above: the javascript backend hands it to the model's `initialize` and
   * checks responses against its outputs.
   */
  config?: ModelConfig;
}

/** The outputs of one merged-batch execution, in `outputNames` order, and its timing. */
export interface ExecuteResult {
  outputs: Tensor[];
  timing: ComputeTiming;
}

/**
 * A running model instance: the one contract every backend's instances implement (Triton's
 * `TRITONBACKEND_ModelInstanceExecute`, which gets a list of requests). Schedulers hand an
 * instance the requests of one execution; one instance runs one execution at a time (calls
 * made while one runs wait, in call order).
 *
 * A backend whose runtime computes one merged batch (inputs with a batch dimension → outputs)
 * implements `BatchRunner` instead and wraps it in `BatchingInstance` (batching-instance.ts),
 * which concatenates the requests, runs once and splits the outputs back per request. A
 * backend that answers requests itself (zero, one or many responses each: the javascript
 * backend, a Python stub process) implements this interface directly: each request gets
 * exactly one `respond(..., true)` or one `fail`, even when its thread or process dies, and
 * `decoupled` is true when it may respond more than once.
 */
export interface ModelInstance {
  readonly name: string;
  /**
   * Whether the instance can answer a request zero, one or many times (a model with
   * `model_transaction_policy { decoupled: true }`); absent = exactly one response per request.
   */
  readonly decoupled?: boolean;
  /**
   * How many executions the default scheduler may hand this instance before the first one
   * ends (absent: 1). An instance deeper than 1 runs them one at a time in call order, as
   * Triton's instance thread would, and reports the time each waited behind the others as
   * `ComputeTiming.waitNs`; what it gains is one thread hop per group of executions instead of
   * one per execution. A request handed over this way can no longer be cancelled while it
   * waits (it left the scheduler's queue).
   */
  readonly pipelineDepth?: number;
  /**
   * Executes `requests` together: every request gets its responses through `respond`, ending
   * with `final`, or one `fail`. Ownership of the requests' inputs passes to the instance
   * (InstanceRequest).
   *
   * Resolves with the compute split (ns) of the execution once every request is complete.
   * Rejects only when the execution as a whole failed before any request was answered (the
   * runtime rejected the batch, the instance is closed, its thread died): the caller then fails
   * every request with that error, and no execution is counted. Errors: InvalidArgumentError
   * when the runtime rejects the inputs; InternalError when the runtime fails;
   * UnavailableError after close() or terminate().
   */
  executeRequests(requests: InstanceRequest[]): Promise<ComputeTiming>;
  /** Releases the runtime; waits for an execution in progress. */
  close(): Promise<void>;
  /**
   * Ends the instance without waiting (an unload that ran past the exit timeout): the
   * execution in flight and any queued fail with UnavailableError naming the instance and
   * `reason`, the thread or process running the model is killed, later calls fail
   * UNAVAILABLE. Optional: a runtime that cannot be interrupted (ONNX Runtime's native run)
   * has none, and its execution finishes in the background.
   */
  terminate?(reason: string): Promise<void>;
  /**
   * Whether the instance can serve right now, for the model readiness endpoints (optional;
   * absent: ready while loaded). A Python instance is not ready while its stub process is
   * down and restarting, or when the model's own `is_ready()` said False.
   */
  isReady?(): boolean;
}

/**
 * A runtime that computes one merged batch, which `BatchingInstance` turns into a
 * ModelInstance (ONNX Runtime, TensorRT, libtorch). `execute` runs one batch: the inputs
 * already carry the batch dimension when the model batches; it returns every output named in
 * `outputNames`, in that order, batch dimension first. Calls run one at a time, in call order.
 * Ownership: after `execute` is called the runner may transfer (detach) the ArrayBuffers
 * behind the input tensors; the caller must not read them again. The returned outputs belong
 * to the caller. A backend's `createInstance` then returns
 * `new BatchingInstance(runner, batchingOptions(options.config))`.
 */
export interface BatchRunner {
  readonly name: string;
  /**
   * @throws InvalidArgumentError when the runtime rejects the inputs; InternalError when the
   *   runtime fails; UnavailableError after close().
   */
  execute(inputs: Tensor[], outputNames: string[]): Promise<ExecuteResult>;
  /** As ModelInstance.pipelineDepth: how many `execute` calls may be outstanding usefully. */
  readonly pipelineDepth?: number;
  /** As ModelInstance.close. */
  close(): Promise<void>;
  /** As ModelInstance.terminate. */
  terminate?(reason: string): Promise<void>;
}

/** What a backend's auto-complete hook is given about the version being loaded. */
export interface AutoCompleteContext {
  /** Absolute path of the version's model file. */
  modelFile: string;
  /** What `readModelMetadata` read from it. */
  metadata: ModelFileMetadata;
  /** The ORT backend config `default-max-batch-size` (reference §4); default 4. */
  defaultMaxBatchSize?: number;
}

/** The result of auto-complete step 2. */
export interface AutoCompleteResult {
  /** The completed copy; the argument is not modified. */
  config: ModelConfig;
  /** Messages Triton logs at WARNING level (e.g. max_batch_size was autofilled). */
  warnings: string[];
}

/**
 * A backend (reference §3.2 `backend`): reads model files and creates instances. As in
 * Triton, where each backend's `TRITONBACKEND_ModelInitialize` completes and checks the
 * config, the config steps that depend on the model file belong to the backend: the model
 * loader calls the optional hooks and knows no backend by name.
 */
export interface Backend {
  /** Triton's backend name, e.g. "onnxruntime". */
  readonly name: string;
  /** Reads the I/O of a model file without keeping it loaded. */
  readModelMetadata(modelFile: string): Promise<ModelFileMetadata>;
  /**
   * Auto-complete step 2 (reference §4), after the backend fields are resolved and before
   * normalization; the loader skips it with `--disable-auto-complete-config`. Absent: the
   * config is used as written.
   * @throws InvalidArgumentError naming the model when the config cannot be completed.
   */
  autoCompleteConfig?(config: ModelConfig, context: AutoCompleteContext): Promise<AutoCompleteResult>;
  /**
   * Load-time validation of the normalized, generically validated config against the model
   * file's I/O. Absent: nothing in the file is checked.
   * @throws InvalidArgumentError saying what the model expects and what the config says.
   */
  validateConfig?(config: ModelConfig, metadata: ModelFileMetadata): void;
  /** Loads the model file into a new instance (worker thread, session). */
  createInstance(options: InstanceOptions): Promise<ModelInstance>;
}
