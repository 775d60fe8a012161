import type { Datatype } from './infer/datatype.js';
import type { CancelSignal } from './infer/cancellation.js';
import type { ModelSpec } from './infer/model-spec.js';
import type { InferenceRequest, InferenceResponse } from './infer/tensor.js';
import type { ServerMemoryUsage, SharedMemoryService } from './memory/index.js';
import type { LogSettings } from './observability/log-control.js';
import type { LoadModelParameters } from './repository/load-parameters.js';
import type { ModelIndexEntry } from './repository/model-index.js';

// Defined with the layer that owns them; re-exported for the protocols and the public API.
export type { LogSettings } from './observability/log-control.js';
export type { LoadModelParameters } from './repository/load-parameters.js';
export type { ModelIndexEntry, ModelReadyState } from './repository/model-index.js';

/** Model metadata in the KServe v2 shape (reference §1.2, gRPC ModelMetadataResponse). */
export interface TensorMetadata {
  name: string;
  datatype: Datatype;
  /** `[-1, ...dims]` when the model batches (max_batch_size >= 1), else the config dims. */
  shape: number[];
}

export interface ModelMetadata {
  name: string;
  /** Ready versions as strings, or just the requested version. */
  versions: string[];
  /** config.platform, or config.backend when platform is empty. */
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
}

export interface ServerMetadata {
  /** `--id`, default "triton". */
  name: string;
  version: string;
  /** Only the extensions infera implements (reference §1.2). */
  extensions: string[];
}

/** Trace settings: every value is a string or a list of strings (reference §1.5 trace). */
export type TraceSettings = Record<string, string | string[]>;

/**
 * A READY model version as `ServerCore.model` looked it up for a request: what a protocol
 * reads before it decodes (the transaction policy, the raw binary request's input and
 * `max_batch_size`). Passed back in `InferOptions.model`, it spares the request a second
 * lookup; a version that stopped serving meanwhile is looked up again.
 */
export interface ReadyModel {
  readonly name: string;
  readonly version: number;
  /** Inputs, outputs and `max_batch_size`, as request validation reads them. */
  readonly spec: ModelSpec;
  /** `model_transaction_policy.decoupled`: responses only by streaming. */
  readonly decoupled: boolean;
}

/** Options of `ServerCore.inferStream`. */
export interface InferStreamOptions {
  /**
   * Send a decoupled model's bare final flag as an empty response (gRPC's request parameter
   * `triton_enable_empty_final_response`). Default: that parameter of the request, when it
   * is `true` (embedded callers may set it; the protocols pass what they decoded).
   */
  emptyFinalResponse?: boolean;
  /** As `InferOptions.transfer`: move the input buffers instead of copying them (detaching the caller's). */
  transfer?: boolean;
  /** As `InferOptions.model`. */
  model?: ReadyModel;
}

/** Options of `infer`. */
export interface InferOptions {
  /**
   * Move the input tensors' ArrayBuffers to the model instance's worker thread instead of
   * copying them: zero-copy, but the caller's buffers may be detached (length 0) afterwards,
   * and any typed array viewing them then reads as empty (an ONNX instance running on the main
   * thread reads them in place and moves nothing). Default false: infer copies what it would
   * move and never detaches, empties or changes the caller's arrays. The protocol frontends
   * pass true for the request bodies they own.
   */
  transfer?: boolean;
  /** The request's model as `ServerCore.model` returned it: the request is not looked up again. */
  model?: ReadyModel;
}

/**
 * What the protocol layers (HTTP, gRPC) need from the server: the narrow facade that Triton's
 * frontends reach through `tritonserver.h`. Every method that can fail throws a TritonError
 * whose code the protocol maps (errors/status-map.ts). Every method is required: a protocol
 * never asks whether one exists.
 */
export interface ServerCore {
  serverMetadata(): ServerMetadata;
  /** The process is up and not exiting. */
  isLive(): boolean;
  /** Triton readiness (reference §8), including `--strict-readiness`. */
  isReady(): boolean;
  /**
   * Whether the version (or, with no version, any version) is READY. The frontends answer a
   * false with the `modelMetadata` lookup error, as Triton's ModelIsReady goes through GetModel.
   * @throws NotFoundError "Request for unknown model: '<m>' is not found" for an unknown model.
   */
  isModelReady(name: string, version?: number): boolean;
  /**
   * @throws NotFoundError unknown model, unknown version or no READY version (404);
   *   UnavailableError version not ready (503) — core `ModelRepositoryManager::GetModel`.
   */
  modelMetadata(name: string, version?: number): ModelMetadata;
  /**
   * The model config as Triton prints it in JSON: snake_case names, defaults printed, enums as
   * strings, int64 as numbers (reference §1.5). Same errors as modelMetadata.
   */
  modelConfigJson(name: string, version?: number): Record<string, unknown>;
  /**
   * Validates the request against the model config, queues it on the model's scheduler and
   * resolves with the response. Output tensors come in the order requested.
   * @throws InvalidArgumentError bad input (names the model, tensor and what was expected);
   *   NotFoundError / UnavailableError as modelMetadata; UnavailableError when stopping;
   *   UnsupportedError for a decoupled model (use inferStream).
   */
  infer(request: InferenceRequest, signal?: CancelSignal, options?: InferOptions): Promise<InferenceResponse>;

  /**
   * The READY version a request for `name` (and `version`) goes to, for the protocol to read
   * its transaction policy (HTTP infer and gRPC ModelInfer refuse decoupled models) and
   * inputs, and to hand back in `InferOptions.model`. Same lookup errors as modelMetadata.
   */
  model(name: string, version?: number): ReadyModel;
  /**
   * A request's responses as they come (gRPC ModelStreamInfer, HTTP infer_stream): each has
   * the parameter `triton_final_response` (true on the last); a decoupled model may send
   * zero, one or many, and its bare final flag arrives as an empty response only when asked
   * for (`options.emptyFinalResponse`; reference §2.3). Errors are thrown from the iteration
   * (validation ones before any response). Ending the iteration early, or aborting `signal`,
   * cancels the request.
   */
  inferStream(request: InferenceRequest, signal?: CancelSignal, options?: InferStreamOptions): AsyncIterable<InferenceResponse>;

  // --- model repository extension (reference §1.5, §8) ---
  /** Index rows; `ready` true lists only READY versions. */
  repositoryIndex(ready?: boolean): ModelIndexEntry[];
  /**
   * Loads or reloads a model (explicit mode).
   * @throws UnsupportedError/UnavailableError in modes that forbid it (Triton's messages),
   *   InvalidArgumentError for a bad config override or file path, and the load failure.
   */
  loadModel(name: string, parameters?: LoadModelParameters): Promise<void>;
  /** Unloads a model (and, with unloadDependents, the models that depend on it). */
  unloadModel(name: string, options?: { unloadDependents?: boolean }): Promise<void>;

  // --- statistics extension (reference §7) ---
  /** `{ model_stats: [...] }` for one model/version or (no name) every model. */
  modelStatistics(name?: string, version?: number): { model_stats: Record<string, unknown>[] };

  // --- logging and trace extensions ---
  logSettings(update?: Partial<LogSettings>): LogSettings;
  /** Global settings, or a model's with `model`; `update` values null revert to global. */
  traceSettings(model?: string, update?: Record<string, string | string[] | null>): TraceSettings;

  // --- system / CUDA shared-memory extensions (reference §1.5, §2.1) ---
  /**
   * The registry of client shared-memory regions: register/unregister/status for both
   * protocols, and `acquire` for requests whose tensors live in a region (use
   * `RequestSharedMemory` from src/memory to hold and release a request's leases).
   */
  sharedMemory(): SharedMemoryService;
  /** Pinned (and CUDA) pool totals in bytes, for the `nv_pinned_memory_pool_*` gauges. */
  memoryPoolUsage(): ServerMemoryUsage;

  // --- infera's web console (protocol/http/console-handler.ts) ---
  /** `--model-control-mode`: the console offers load/unload only in 'explicit'. */
  modelControlMode(): 'none' | 'poll' | 'explicit';
  /** The Prometheus text exposition the metrics endpoint serves (same registry, same numbers). */
  metricsText(): Promise<string>;
}
