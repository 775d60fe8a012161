import { InvalidArgumentError, toTritonError, TRITON_ERROR_CODES, UnavailableError } from '../../errors/index.js';
import type { InferenceRequest, InferenceResponse } from '../../infer/tensor.js';
import type { CustomMetrics } from './custom-metrics.js';
import type { PythonBackendServices } from './services.js';
import { ShmObject, type ShmArena } from './shm-objects.js';
import { wireParameters, type WireRequest } from './request-wire.js';
import type { StubMessage, StubProcess } from './stub-process.js';
import { layoutBytes, readTensors, writeTensors } from './tensor-wire.js';

/** A BLS request as the stub sends it (stub.py `Stub.bls`): a request, and the model it is for. */
interface WireBlsRequest extends WireRequest {
  model_name: string;
  model_version: number;
}

/**
 * What a stub asks of the server besides answering requests: its output arena grown, BLS
 * requests run on other models, model management and custom metrics (stub.py `Stub.call`
 * and `Stub.bls`). One per instance; `freeAll` frees the shared-memory objects of BLS
 * responses the stub did not release (it died).
 */
export class StubCalls {
  readonly #label: string;
  readonly #services: PythonBackendServices;
  readonly #metrics: CustomMetrics;
  readonly #owner: object;
  readonly #blsObjects = new Map<string, ShmObject>();
  readonly #blsAborts = new Map<number, AbortController>();

  constructor(label: string, services: PythonBackendServices, metrics: CustomMetrics, owner: object) {
    this.#label = label;
    this.#services = services;
    this.#metrics = metrics;
    this.#owner = owner;
  }

  /**
   * Answers a `call` message with a `reply` carrying its result or error message.
   * `arenas`: the stub's output arenas (one per slot).
   */
  async onCall(stub: StubProcess, arenas: readonly ShmArena[], msg: StubMessage): Promise<void> {
    const args = (msg['args'] ?? {}) as Record<string, unknown>;
    let result: unknown = null;
    try {
      result = await this.#call(String(msg['method']), args, arenas);
    } catch (err) {
      stub.send({ op: 'reply', call: msg['call'], error: toTritonError(err).message });
      return;
    }
    stub.send({ op: 'reply', call: msg['call'], result: result ?? null });
  }

  async #call(method: string, args: Record<string, unknown>, arenas: readonly ShmArena[]): Promise<unknown> {
    const s = this.#services;
    const need = <T>(service: T | undefined, what: string): T => {
      if (service === undefined) throw new UnavailableError(`${this.#label}: ${what} is not available outside an InferenceServer`);
      return service;
    };
    switch (method) {
      case 'grow_arena': {
        // Every earlier message of the stub was read: the arena may be reused from its start.
        const arena = arenas.find((a) => a.current.key === args['key']);
        if (arena === undefined) throw new InvalidArgumentError(`${this.#label}: grow_arena: '${String(args['key'])}' is not one of the stub's output arenas`);
        const object = arena.ensure(Number(args['size']));
        return { key: object.key, size: object.byteSize };
      }
      case 'load_model': {
        const files = args['files'] as Record<string, string> | null;
        const params: { config?: string; files?: Map<string, Uint8Array> } = {};
        if (typeof args['config'] === 'string' && args['config'] !== '') params.config = args['config'];
        if (files) params.files = new Map(Object.entries(files).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))]));
        await need(s.loadModel, 'load_model')(String(args['model_name']), params);
        return null;
      }
      case 'unload_model':
        await need(s.unloadModel, 'unload_model')(String(args['model_name']), { unloadDependents: args['unload_dependents'] === true });
        return null;
      case 'is_model_ready': {
        const v = String(args['model_version'] ?? '');
        if (v !== '' && !/^\d+$/.test(v)) throw new InvalidArgumentError(`is_model_ready: model_version '${v}' is not a version number`);
        return need(s.isModelReady, 'is_model_ready')(String(args['model_name']), v === '' ? undefined : Number(v));
      }
      case 'metric_family':
        return this.#metrics.family(this.#owner, String(args['name']), String(args['description']), Number(args['kind']));
      case 'metric':
        return this.#metrics.metric(Number(args['family']), (args['labels'] ?? {}) as Record<string, string>, (args['buckets'] as number[] | null) ?? null);
      case 'metric_update':
        this.#metrics.update(Number(args['metric']), String(args['op']), Number(args['value']));
        return null;
      case 'metric_value':
        return this.#metrics.value(Number(args['metric']));
      default:
        throw new InvalidArgumentError(`${this.#label}: unknown stub call '${method}'`);
    }
  }

  /**
   * Runs a BLS request of the stub and sends its responses (`bls_response`, the last with
   * `final`); errors reach the model as the response's error, as in Triton.
   */
  async onBls(stub: StubProcess, arenas: readonly ShmArena[], msg: StubMessage): Promise<void> {
    const callId = Number(msg['call']);
    const wire = msg['request'] as WireBlsRequest;
    const decoupled = msg['decoupled'] === true;
    const abort = new AbortController();
    this.#blsAborts.set(callId, abort);
    let timer: NodeJS.Timeout | undefined;
    try {
      // The stub wrote the inputs into the output arena of the execution it was running.
      const key = wire.inputs[0]?.shm;
      const request = this.#request(wire, (arenas.find((a) => a.current.key === key) ?? arenas[0]!).current);
      if (wire.timeout > 0) {
        timer = setTimeout(() => abort.abort(new UnavailableError('Request timeout expired')), Math.max(1, Math.ceil(wire.timeout / 1000)));
      }
      const send = (response: InferenceResponse, final: boolean): void => this.#sendResponse(stub, callId, response, final);
      if (decoupled) {
        const stream = this.#need(this.#services.inferStream, 'exec(decoupled=True)')(request, abort.signal);
        for await (const response of stream) send(response, false);
        stub.send({ op: 'bls_response', call: callId, final: true });
      } else {
        const response = await raceAbort(this.#need(this.#services.infer, 'exec()')(request, abort.signal), abort.signal);
        send(response, true);
      }
    } catch (err) {
      const e = abort.signal.aborted && abort.signal.reason instanceof Error ? toTritonError(abort.signal.reason) : toTritonError(err);
      stub.send({ op: 'bls_response', call: callId, final: true, error: { code: TRITON_ERROR_CODES.indexOf(e.code), message: e.message } });
    } finally {
      clearTimeout(timer);
      this.#blsAborts.delete(callId);
    }
  }

  #need<T>(service: T | undefined, what: string): T {
    if (service === undefined) throw new UnavailableError(`${this.#label}: BLS ${what} is not available outside an InferenceServer`);
    return service;
  }

  #request(wire: WireBlsRequest, arena: ShmObject): InferenceRequest {
    const inputs = readTensors(arena, wire.inputs, `${this.#label}: BLS request to model '${wire.model_name}'`);
    const parameters = wireParameters(wire);
    const request: InferenceRequest = { modelName: wire.model_name, inputs };
    if (wire.model_version >= 0) request.modelVersion = wire.model_version;
    if (wire.id !== '') request.id = wire.id;
    if (Object.keys(parameters).length > 0) request.parameters = parameters;
    if (wire.outputs.length > 0) request.outputs = wire.outputs.map((name) => ({ name }));
    return request;
  }

  #sendResponse(stub: StubProcess, callId: number, response: InferenceResponse, final: boolean): void {
    const { triton_final_response: _final, ...parameters } = response.parameters ?? {};
    const message: StubMessage = { op: 'bls_response', call: callId, final, parameters };
    if (response.outputs.length > 0) {
      const object = new ShmObject(layoutBytes(response.outputs));
      this.#blsObjects.set(object.key, object);
      message['shm'] = object.key;
      message['outputs'] = writeTensors(object, response.outputs).wires;
    } else {
      message['outputs'] = [];
    }
    stub.send(message);
  }

  /** The stub copied a BLS response out of its object: free it. */
  release(key: string): void {
    this.#blsObjects.get(key)?.free();
    this.#blsObjects.delete(key);
  }

  /** `ResponseIterator.cancel()`: the BLS request is cancelled. */
  cancel(callId: number): void {
    this.#blsAborts.get(callId)?.abort();
  }

  /** The stub is gone: cancels its BLS requests and frees their objects. */
  freeAll(): void {
    for (const abort of this.#blsAborts.values()) abort.abort();
    for (const object of this.#blsObjects.values()) object.free();
    this.#blsObjects.clear();
  }
}

/** `promise`, or a rejection with the signal's reason once it aborts. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason instanceof Error ? signal.reason : new UnavailableError('BLS request cancelled'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
