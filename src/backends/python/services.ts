import type { Registry } from 'prom-client';
import type { InferenceRequest, InferenceResponse } from '../../infer/tensor.js';
import type { Logger } from '../../observability/logger.js';

/**
 * What Python models reach on the server through pb_utils: BLS (`InferenceRequest.exec`),
 * model management (`load_model`, `unload_model`, `is_model_ready`) and custom metrics.
 * Each missing service makes its calls fail UNAVAILABLE (a backend used outside a server).
 */
export interface PythonBackendServices {
  infer?: (request: InferenceRequest, signal?: AbortSignal) => Promise<InferenceResponse>;
  /** The responses of a request on any model, decoupled ones included (`exec(decoupled=True)`). */
  inferStream?: (request: InferenceRequest, signal?: AbortSignal) => AsyncIterable<InferenceResponse>;
  loadModel?: (name: string, parameters: { config?: string; files?: Map<string, Uint8Array> }) => Promise<void>;
  unloadModel?: (name: string, options: { unloadDependents?: boolean }) => Promise<void>;
  isModelReady?: (name: string, version?: number) => boolean;
  /** Where `pb_utils.MetricFamily` metrics are registered (the server's /metrics registry). */
  metrics?: Registry;
  logger?: Logger;
}
