import {
  InvalidArgumentError,
  NotFoundError,
  UnavailableError,
} from '../../../../src/errors/index.js';
import type { InferenceRequest, InferenceResponse, Tensor } from '../../../../src/infer/tensor.js';
import type { ModelMetadata, ServerMetadata } from '../../../../src/server-types.js';
import { StubServerCore } from '../stub-core.js';

/**
 * An in-memory ServerCore for the HTTP frontend tests. Models:
 * - simple: INT32 [-1,16] INPUT0 + INPUT1 -> OUTPUT0 (sum), OUTPUT1 (difference); batching;
 *   version 1 ready, version 2 unknown (404), version 3 not ready (503).
 * - echo: any inputs -> outputs named OUT_<input>, same datatype/shape/bytes; a requested
 *   output with `classification` comes back as BYTES [n] "value:index" strings.
 * - raw_fp32 (FP32 [-1,4], batching), raw_var (FP32 [-1], not batching), raw_bytes (BYTES [1]),
 *   raw_2var (FP16 [-1,-1]): single-input models for raw binary requests; all echo as "y".
 * - boom: infer throws a plain Error.
 */

interface FakeModel {
  metadata: ModelMetadata;
  config: Record<string, unknown>;
  infer(request: InferenceRequest): Tensor[];
}

function echoOutputs(request: InferenceRequest, rename: (n: string) => string): Tensor[] {
  return request.inputs.map((t) => ({ ...t, name: rename(t.name) }));
}

function model(
  name: string,
  inputs: ModelMetadata['inputs'],
  outputs: ModelMetadata['outputs'],
  maxBatchSize: number,
  infer: FakeModel['infer'],
): FakeModel {
  return {
    metadata: { name, versions: ['1'], platform: 'fake', inputs, outputs },
    config: {
      name,
      platform: '',
      backend: 'fake',
      max_batch_size: maxBatchSize,
      input: inputs.map((t) => ({ name: t.name, data_type: `TYPE_${t.datatype}`, dims: maxBatchSize > 0 ? t.shape.slice(1) : t.shape })),
    },
    infer,
  };
}

const MODELS: Record<string, FakeModel> = {
  simple: model(
    'simple',
    [
      { name: 'INPUT0', datatype: 'INT32', shape: [-1, 16] },
      { name: 'INPUT1', datatype: 'INT32', shape: [-1, 16] },
    ],
    [
      { name: 'OUTPUT0', datatype: 'INT32', shape: [-1, 16] },
      { name: 'OUTPUT1', datatype: 'INT32', shape: [-1, 16] },
    ],
    8,
    (request) => {
      const a = int32(request.inputs.find((t) => t.name === 'INPUT0')!);
      const b = int32(request.inputs.find((t) => t.name === 'INPUT1')!);
      const sum = new Int32Array(a.length);
      const diff = new Int32Array(a.length);
      for (let i = 0; i < a.length; i++) {
        sum[i] = a[i]! + b[i]!;
        diff[i] = a[i]! - b[i]!;
      }
      const shape = request.inputs[0]!.shape;
      return [
        { name: 'OUTPUT0', datatype: 'INT32', shape, data: new Uint8Array(sum.buffer) },
        { name: 'OUTPUT1', datatype: 'INT32', shape, data: new Uint8Array(diff.buffer) },
      ];
    },
  ),
  echo: model('echo', [], [], 0, (request) => echoOutputs(request, (n) => `OUT_${n}`)),
  raw_fp32: model('raw_fp32', [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }], [{ name: 'y', datatype: 'FP32', shape: [-1, 4] }], 8, (r) =>
    echoOutputs(r, () => 'y'),
  ),
  raw_var: model('raw_var', [{ name: 'x', datatype: 'FP32', shape: [-1] }], [{ name: 'y', datatype: 'FP32', shape: [-1] }], 0, (r) =>
    echoOutputs(r, () => 'y'),
  ),
  raw_bytes: model('raw_bytes', [{ name: 'x', datatype: 'BYTES', shape: [1] }], [{ name: 'y', datatype: 'BYTES', shape: [1] }], 0, (r) =>
    echoOutputs(r, () => 'y'),
  ),
  raw_2var: model('raw_2var', [{ name: 'x', datatype: 'FP16', shape: [-1, -1] }], [{ name: 'y', datatype: 'FP16', shape: [-1, -1] }], 0, (r) =>
    echoOutputs(r, () => 'y'),
  ),
  boom: model('boom', [], [], 0, () => {
    throw new Error('kaboom');
  }),
};

function int32(t: Tensor): Int32Array {
  const copy = t.data.slice();
  return new Int32Array(copy.buffer, 0, copy.byteLength / 4);
}

export class FakeCore extends StubServerCore {
  live = true;
  ready = true;
  /** Every request `infer` received, in order. */
  readonly requests: InferenceRequest[] = [];
  /** When set, infer waits for this promise before answering (for in-flight tests). */
  gate: Promise<void> | undefined;

  override serverMetadata(): ServerMetadata {
    return { name: 'triton', version: '2.73.0', extensions: ['classification', 'binary_tensor_data'] };
  }

  override isLive(): boolean {
    return this.live;
  }

  override isReady(): boolean {
    return this.ready;
  }

  override isModelReady(name: string, version?: number): boolean {
    this.lookup(name, undefined);
    if (version === 3) return false;
    if (version !== undefined && version !== 1) return false;
    return true;
  }

  override modelMetadata(name: string, version?: number): ModelMetadata {
    const m = this.lookup(name, version);
    return version === undefined ? m.metadata : { ...m.metadata, versions: [String(version)] };
  }

  override modelConfigJson(name: string, version?: number): Record<string, unknown> {
    return this.lookup(name, version).config;
  }

  override async infer(request: InferenceRequest): Promise<InferenceResponse> {
    const m = this.lookup(request.modelName, request.modelVersion);
    this.requests.push(request);
    if (this.gate !== undefined) await this.gate;
    let outputs = m.infer(request);
    if (request.outputs !== undefined && request.outputs.length > 0) {
      outputs = request.outputs.map((o) => {
        const t = outputs.find((x) => x.name === o.name);
        if (t === undefined) throw new InvalidArgumentError(`unexpected inference output '${o.name}' for model '${request.modelName}'`);
        return o.classification ? classify(t, o.classification) : t;
      });
    }
    const response: InferenceResponse = { modelName: request.modelName, modelVersion: '1', outputs };
    if (request.id !== undefined) response.id = request.id;
    if (request.parameters?.['echo_parameter'] !== undefined) response.parameters = { echoed: request.parameters['echo_parameter'] };
    return response;
  }

  private lookup(name: string, version: number | undefined): FakeModel {
    const m = MODELS[name];
    if (m === undefined) throw new NotFoundError(`Request for unknown model: '${name}' is not found`);
    if (version === 2) throw new NotFoundError(`Request for unknown model: '${name}' version 2 is not found`);
    if (version === 3) throw new UnavailableError(`Request for unknown model: '${name}' version 3 is not at ready state`);
    return m;
  }
}

/** A stand-in for the core's top-N: "<value>:<index>" for the first n elements. */
function classify(t: Tensor, n: number): Tensor {
  const strings = Array.from({ length: n }, (_, i) => `${t.data[i]}:${i}`);
  const parts = strings.map((s) => Buffer.from(s));
  const out = Buffer.alloc(parts.reduce((a, p) => a + 4 + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.writeUInt32LE(p.length, o);
    p.copy(out, o + 4);
    o += 4 + p.length;
  }
  return { name: t.name, datatype: 'BYTES', shape: [n], data: new Uint8Array(out) };
}
