import { NotFoundError, UnavailableError } from '../../../src/errors/index.js';
import type { Datatype } from '../../../src/infer/datatype.js';
import { makeModelSpec } from '../../../src/infer/model-spec.js';
import type { CancelSignal } from '../../../src/infer/cancellation.js';
import type { InferenceRequest, InferenceResponse } from '../../../src/infer/tensor.js';
import { SharedMemoryManager, type ServerMemoryUsage, type SharedMemoryService } from '../../../src/memory/index.js';
import type {
  InferOptions,
  InferStreamOptions,
  LoadModelParameters,
  LogSettings,
  ModelIndexEntry,
  ModelMetadata,
  ReadyModel,
  ServerCore,
  ServerMetadata,
  TraceSettings,
} from '../../../src/server-types.js';

/**
 * The base of the protocol tests' fake cores: every `ServerCore` method, answering as a
 * server without models and without the optional extensions (Triton's texts for a build
 * without them, UNAVAILABLE). Fakes extend it and override what their tests need.
 *
 * - `model` is derived from `modelMetadata` and `modelConfigJson` (inputs, outputs,
 *   `max_batch_size`, `model_transaction_policy.decoupled`), so a fake that describes its
 *   models there gets a consistent `ReadyModel`.
 * - `inferStream` is a server whose models are all not decoupled: `infer`'s one response,
 *   marked final.
 * - `sharedMemory` is a registry with client shared memory disabled (Triton's default): no
 *   region exists, register and unregister are refused.
 * - the console's `modelControlMode` is 'none'; `metricsText` fails NOT_FOUND (no metrics).
 */
export class StubServerCore implements ServerCore {
  readonly #sharedMemory = new SharedMemoryManager({ allowClientShm: false });

  serverMetadata(): ServerMetadata {
    return { name: 'triton', version: '0.0.0', extensions: [] };
  }

  isLive(): boolean {
    return true;
  }

  isReady(): boolean {
    return true;
  }

  isModelReady(name: string): boolean {
    throw unknownModel(name);
  }

  modelMetadata(name: string, _version?: number): ModelMetadata {
    throw unknownModel(name);
  }

  modelConfigJson(name: string, _version?: number): Record<string, unknown> {
    throw unknownModel(name);
  }

  model(name: string, version?: number): ReadyModel {
    const metadata = this.modelMetadata(name, version);
    const config = this.modelConfigJson(name, version);
    const maxBatchSize = typeof config['max_batch_size'] === 'number' ? config['max_batch_size'] : 0;
    const tensor = (t: ModelMetadata['inputs'][number]) => ({
      name: t.name,
      datatype: t.datatype as Datatype,
      dims: maxBatchSize > 0 ? t.shape.slice(1) : [...t.shape],
      optional: false,
    });
    const policy = config['model_transaction_policy'] as { decoupled?: boolean } | undefined;
    return {
      name,
      version: version ?? 1,
      spec: makeModelSpec(name, version ?? 1, maxBatchSize, metadata.inputs.map(tensor), metadata.outputs.map(tensor)),
      decoupled: policy?.decoupled === true,
    };
  }

  infer(request: InferenceRequest, _signal?: CancelSignal, _options?: InferOptions): Promise<InferenceResponse> {
    return Promise.reject(unknownModel(request.modelName));
  }

  async *inferStream(
    request: InferenceRequest,
    signal?: CancelSignal,
    options?: InferStreamOptions,
  ): AsyncIterable<InferenceResponse> {
    const response = await this.infer(request, signal, options);
    yield { ...response, parameters: { ...response.parameters, triton_final_response: true } };
  }

  repositoryIndex(_ready?: boolean): ModelIndexEntry[] {
    throw new UnavailableError('the server does not support model repository index');
  }

  loadModel(_name: string, _parameters?: LoadModelParameters): Promise<void> {
    return Promise.reject(new UnavailableError('explicit model load / unload is not allowed if polling is enabled'));
  }

  unloadModel(_name: string, _options?: { unloadDependents?: boolean }): Promise<void> {
    return Promise.reject(new UnavailableError('explicit model load / unload is not allowed if polling is enabled'));
  }

  modelStatistics(_name?: string, _version?: number): { model_stats: Record<string, unknown>[] } {
    throw new UnavailableError('the server does not support model statistics');
  }

  logSettings(_update?: Partial<LogSettings>): LogSettings {
    throw new UnavailableError('the server does not support dynamic logging');
  }

  traceSettings(_model?: string, _update?: Record<string, string | string[] | null>): TraceSettings {
    throw new UnavailableError('the server does not support tracing');
  }

  sharedMemory(): SharedMemoryService {
    return this.#sharedMemory;
  }

  memoryPoolUsage(): ServerMemoryUsage {
    return { pinned: { totalBytes: 0, usedBytes: 0 }, cuda: new Map() };
  }

  modelControlMode(): 'none' | 'poll' | 'explicit' {
    return 'none';
  }

  /** No metrics: the console's /console/metrics answers 404. */
  metricsText(): Promise<string> {
    return Promise.reject(new NotFoundError('Not Found'));
  }
}

function unknownModel(name: string): NotFoundError {
  return new NotFoundError(`Request for unknown model: '${name}' is not found`);
}
