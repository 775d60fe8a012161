import {
  CancelledError,
  InvalidArgumentError,
  NotFoundError,
  UnavailableError,
  UnsupportedError,
} from '../../../../src/errors/index.js';
import { CLIENT_SHM_DISABLED, type SharedMemoryLease, type SharedMemoryService } from '../../../../src/memory/index.js';
import type { InferenceRequest, InferenceResponse, Tensor } from '../../../../src/infer/tensor.js';
import type {
  LoadModelParameters,
  LogSettings,
  ModelIndexEntry,
  ModelMetadata,
  ReadyModel,
  ServerMetadata,
  TraceSettings,
} from '../../../../src/server-types.js';
import { StubServerCore } from '../stub-core.js';

/**
 * An in-memory ServerCore for the gRPC frontend tests.
 *
 * Models: `simple` (INT32 [-1,16] INPUT0, INPUT1 → OUTPUT0 = sum, OUTPUT1 = difference; version 1
 * ready, 2 unknown → NOT_FOUND, 3 not ready → UNAVAILABLE), `echo` (every input back as
 * OUT_<name>), `decoupled` (a decoupled model). Request parameters steer `infer`:
 * `delay_ms` (int) answers after that long, `fail` (string) throws InvalidArgumentError with
 * that message, `wait_abort` (bool) waits until the signal aborts and records it.
 */
export class FakeGrpcCore extends StubServerCore {
  ready = true;
  readonly requests: InferenceRequest[] = [];
  /** Reasons of the signals that aborted a `wait_abort` request. */
  readonly aborted: unknown[] = [];
  /** Resolves each time a `wait_abort` request starts waiting. */
  onWaiting: (() => void) | undefined;

  override serverMetadata(): ServerMetadata {
    return { name: 'triton', version: '0.1.0', extensions: ['classification', 'model_configuration'] };
  }

  override isLive(): boolean {
    return true;
  }

  override isReady(): boolean {
    return this.ready;
  }

  override isModelReady(name: string, version?: number): boolean {
    this.lookup(name, undefined);
    return version === undefined || version === 1;
  }

  override modelMetadata(name: string, version?: number): ModelMetadata {
    this.lookup(name, version);
    return {
      name,
      versions: ['1'],
      platform: 'fake',
      inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [-1, 16] }],
      outputs: [{ name: 'OUTPUT0', datatype: 'INT32', shape: [-1, 16] }],
    };
  }

  override modelConfigJson(name: string, version?: number): Record<string, unknown> {
    this.lookup(name, version);
    return {
      name,
      platform: '',
      backend: 'onnxruntime',
      max_batch_size: 8,
      input: [{ name: 'INPUT0', data_type: 'TYPE_INT32', dims: [16] }],
      instance_group: [{ kind: 'KIND_CPU', count: 2 }],
    };
  }

  override model(name: string, version?: number): ReadyModel {
    return { ...super.model(name, version), decoupled: name === 'decoupled' };
  }

  override async infer(request: InferenceRequest, signal?: AbortSignal): Promise<InferenceResponse> {
    this.lookup(request.modelName, request.modelVersion);
    this.requests.push(request);
    const p = request.parameters ?? {};
    if (typeof p['delay_ms'] === 'number') await new Promise((r) => setTimeout(r, p['delay_ms'] as number));
    if (typeof p['fail'] === 'string') throw new InvalidArgumentError(p['fail']);
    if (p['wait_abort'] === true) {
      await new Promise<void>((resolve) => {
        signal?.addEventListener('abort', () => resolve(), { once: true });
        this.onWaiting?.();
      });
      this.aborted.push(signal?.reason);
      throw signal?.reason ?? new CancelledError('aborted');
    }
    let outputs: Tensor[];
    if (request.modelName === 'simple') {
      const a = int32(request.inputs[0]!);
      const b = int32(request.inputs[1]!);
      const shape = request.inputs[0]!.shape;
      outputs = [
        { name: 'OUTPUT0', datatype: 'INT32', shape, data: bytes(a.map((v, i) => v + b[i]!)) },
        { name: 'OUTPUT1', datatype: 'INT32', shape, data: bytes(a.map((v, i) => v - b[i]!)) },
      ];
    } else {
      outputs = request.inputs.map((t) => ({ ...t, name: `OUT_${t.name}` }));
    }
    if (request.outputs !== undefined && request.outputs.length > 0) {
      outputs = request.outputs.map((o) => {
        const t = outputs.find((x) => x.name === o.name);
        if (t === undefined)
          throw new InvalidArgumentError(`unexpected inference output '${o.name}' for model '${request.modelName}'`);
        return t;
      });
    }
    const response: InferenceResponse = { modelName: request.modelName, modelVersion: '1', outputs };
    if (request.id !== undefined) response.id = request.id;
    if (p['echo'] !== undefined) response.parameters = { echo: p['echo'], count: 3, ratio: 0.5 };
    return response;
  }

  private lookup(name: string, version: number | undefined): void {
    if (!['simple', 'echo', 'decoupled'].includes(name)) {
      throw new NotFoundError(`Request for unknown model: '${name}' is not found`);
    }
    if (version === 2) throw new NotFoundError(`Request for unknown model: '${name}' version 2 is not found`);
    if (version === 3)
      throw new UnavailableError(`Request for unknown model: '${name}' version 3 is not at ready state`);
  }
}

/**
 * An in-memory SharedMemoryService: system regions are plain byte arrays keyed by name (the
 * `key` is only recorded); CUDA registration is refused as on a machine without a GPU.
 */
export class FakeSharedMemory implements SharedMemoryService {
  readonly regions = new Map<string, { key: string; offset: number; bytes: Uint8Array }>();
  /** Leases handed out and not yet released. */
  held = 0;

  constructor(readonly allowClientShm = true) {}

  systemStatus(name?: string) {
    if (name !== undefined && !this.regions.has(name))
      throw new NotFoundError(`Unable to find system shared memory region: '${name}'`);
    return [...this.regions]
      .filter(([n]) => name === undefined || n === name)
      .map(([n, r]) => ({ name: n, key: r.key, offset: r.offset, byte_size: r.bytes.byteLength }));
  }

  registerSystem(name: string, key: string, offset: number, byteSize: number): void {
    if (!this.allowClientShm) throw new UnsupportedError(CLIENT_SHM_DISABLED);
    this.regions.set(name, { key, offset, bytes: new Uint8Array(byteSize) });
  }

  unregisterSystem(name?: string): void {
    if (!this.allowClientShm) throw new UnsupportedError(CLIENT_SHM_DISABLED);
    if (name === undefined) this.regions.clear();
    else this.regions.delete(name);
  }

  cudaStatus(name?: string) {
    if (name !== undefined) throw new NotFoundError(`Unable to find cuda shared memory region: '${name}'`);
    return [];
  }

  registerCuda(name: string): void {
    throw new UnsupportedError(`failed to register CUDA shared memory region: '${name}', GPUs not supported: no GPU`);
  }

  unregisterCuda(): void {}

  acquire(region: string, offset: number, byteSize: number): SharedMemoryLease {
    const r = this.regions.get(region);
    if (r === undefined) throw new NotFoundError(`Unable to find shared memory region: '${region}'`);
    if (offset + byteSize > r.bytes.byteLength) {
      throw new InvalidArgumentError(`Invalid offset + byte size for shared memory region: '${region}'`);
    }
    this.held++;
    let released = false;
    const view = r.bytes.subarray(offset, offset + byteSize);
    return {
      region,
      kind: 'system',
      offset,
      byteSize,
      read: () => view,
      write: (data: Uint8Array) => view.set(data),
      release: () => {
        if (!released) this.held--;
        released = true;
      },
    };
  }
}

/** A FakeGrpcCore that also implements every extension method, recording the calls. */
export class FakeExtendedCore extends FakeGrpcCore {
  readonly calls: unknown[][] = [];
  log: LogSettings = {
    log_file: '',
    log_info: true,
    log_warning: true,
    log_error: true,
    log_verbose_level: 0,
    log_format: 'default',
  };

  readonly shm = new FakeSharedMemory();

  override sharedMemory(): SharedMemoryService {
    return this.shm;
  }

  override repositoryIndex(ready?: boolean): ModelIndexEntry[] {
    this.calls.push(['repositoryIndex', ready]);
    return [{ name: 'simple', version: '1', state: 'READY' }, { name: 'never_loaded' }];
  }

  override async loadModel(name: string, parameters?: LoadModelParameters): Promise<void> {
    this.calls.push(['loadModel', name, parameters]);
  }

  override async unloadModel(name: string, options?: { unloadDependents?: boolean }): Promise<void> {
    this.calls.push(['unloadModel', name, options]);
  }

  override modelStatistics(name?: string, version?: number): { model_stats: Record<string, unknown>[] } {
    this.calls.push(['modelStatistics', name, version]);
    const duration = (count: number, ns: number) => ({ count, ns });
    return {
      model_stats: [
        {
          name: name ?? 'simple',
          version: '1',
          last_inference: 1700000000000,
          inference_count: 12,
          execution_count: 4,
          inference_stats: { success: duration(12, 5_000_000), fail: duration(1, 100), queue: duration(12, 300.5) },
          batch_stats: [{ batch_size: 3, compute_infer: duration(4, 4000) }],
          memory_usage: [],
          response_stats: {},
        },
      ],
    };
  }

  override logSettings(update?: Partial<LogSettings>): LogSettings {
    this.calls.push(['logSettings', update]);
    this.log = { ...this.log, ...update };
    return this.log;
  }

  override traceSettings(model?: string, update?: Record<string, string | string[] | null>): TraceSettings {
    this.calls.push(['traceSettings', model, update]);
    return {
      trace_level: ['OFF'],
      trace_rate: '1000',
      trace_count: '-1',
      log_frequency: '0',
      trace_file: '',
      trace_mode: 'triton',
    };
  }
}

function int32(t: Tensor): Int32Array {
  const copy = new Uint8Array(t.data);
  return new Int32Array(copy.buffer, 0, copy.byteLength / 4);
}

function bytes(a: Int32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
