import type { Datatype } from './infer/datatype.js';
import type { InferenceRequest, InferenceResponse } from './infer/tensor.js';

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

/** State of one model version, Triton's ModelReadyState names. */
export type ModelReadyState = 'UNKNOWN' | 'READY' | 'UNAVAILABLE' | 'LOADING' | 'UNLOADING';

export interface ModelIndexEntry {
  name: string;
  version?: string;
  state?: ModelReadyState;
  reason?: string;
}

/** Parameters of a repository load request (reference §1.5, §8 "Explicit load"). */
export interface LoadModelParameters {
  /** A ModelConfig as JSON text, used instead of config.pbtxt. */
  config?: string;
  /** `file:<version>/<path>` overrides: path → content. Requires `config`. */
  files?: Map<string, Uint8Array>;
}

/** A logging extension settings object (reference §1.5 logging). */
export interface LogSettings {
  log_file: string;
  log_info: boolean;
  log_warning: boolean;
  log_error: boolean;
  log_verbose_level: number;
  log_format: string;
}

/** Trace settings: every value is a string or a list of strings (reference §1.5 trace). */
export type TraceSettings = Record<string, string | string[]>;

/**
 * What the protocol layers (HTTP, gRPC) need from the server: the narrow facade that Triton's
 * frontends reach through `tritonserver.h`. Every method that can fail throws a TritonError
 * whose code the protocol maps (errors/status-map.ts).
 */
export interface ServerCore {
  serverMetadata(): ServerMetadata;
  /** The process is up and not exiting. */
  isLive(): boolean;
  /** Triton readiness (reference §8), including `--strict-readiness`. */
  isReady(): boolean;
  /**
   * Whether the version (or, with no version, any version) is READY.
   * @throws InvalidArgumentError "Request for unknown model: '<m>' is not found" for an unknown model.
   */
  isModelReady(name: string, version?: number): boolean;
  /**
   * @throws InvalidArgumentError unknown model (400); NotFoundError unknown version (404);
   *   UnavailableError version not ready (503).
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
   *   NotFoundError / UnavailableError as modelMetadata; UnavailableError when stopping.
   */
  infer(request: InferenceRequest, signal?: AbortSignal): Promise<InferenceResponse>;

  /** True when the model's transaction policy is decoupled (HTTP infer refuses it). */
  isDecoupled?(name: string, version?: number): boolean;

  // --- model repository extension (reference §1.5, §8) ---
  /** Index rows; `ready` true lists only READY versions. */
  repositoryIndex?(ready?: boolean): ModelIndexEntry[];
  /**
   * Loads or reloads a model (explicit mode).
   * @throws UnsupportedError/UnavailableError in modes that forbid it (Triton's messages),
   *   InvalidArgumentError for a bad config override or file path, and the load failure.
   */
  loadModel?(name: string, parameters?: LoadModelParameters): Promise<void>;
  /** Unloads a model (and, with unloadDependents, the models that depend on it). */
  unloadModel?(name: string, options?: { unloadDependents?: boolean }): Promise<void>;

  // --- statistics extension (reference §7) ---
  /** `{ model_stats: [...] }` for one model/version or (no name) every model. */
  modelStatistics?(name?: string, version?: number): { model_stats: Record<string, unknown>[] };

  // --- logging and trace extensions ---
  logSettings?(update?: Partial<LogSettings>): LogSettings;
  /** Global settings, or a model's with `model`; `update` values null revert to global. */
  traceSettings?(model?: string, update?: Record<string, string | string[] | null>): TraceSettings;
}
