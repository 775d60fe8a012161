/**
 * The request pipeline (src/server-pipeline.ts) through the embedded server: unary and
 * streamed requests take the same steps (trace, cache, statistics), whichever model answers.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { InferenceServer } from '../../../src/index.js';
import type { InferenceRequest, InferenceResponse } from '../../../src/infer/tensor.js';
import { TRACE_TENSORS, TRACE_TIMESTAMPS } from '../../../src/observability/trace-setting.js';
import { REPEAT_CONFIG, writeJsModel } from '../../fixtures/js-models/repo.js';
import { identityModel, writeModel } from '../../fixtures/onnx-models.js';
import { tempDir } from '../../e2e/helpers/temp-repo.js';

const CACHED_CONFIG = `
name: "cached"
backend: "onnxruntime"
max_batch_size: 4
input [ { name: "INPUT0", data_type: TYPE_FP32, dims: [ 4 ] } ]
output [ { name: "OUTPUT0", data_type: TYPE_FP32, dims: [ 4 ] } ]
instance_group [ { kind: KIND_CPU, count: 1 } ]
dynamic_batching { }
response_cache { enable: true }
`;

const tmp = tempDir();
const traceDir = tempDir();
const traceFile = path.join(traceDir.dir, 'trace.json');
let server: InferenceServer;

beforeAll(async () => {
  writeJsModel(tmp.dir, 'repeat', 'repeat.mjs', REPEAT_CONFIG);
  writeModel(tmp.dir, 'cached', identityModel('FP32', ['batch', 4]), { config: CACHED_CONFIG });
  server = await InferenceServer.create({
    modelRepositories: [tmp.dir],
    cpuCount: 1,
    responseCacheByteSize: 1 << 20,
    // Every request traced, each trace in its own `<file>.<n>` as soon as it ends.
    trace: { level: TRACE_TIMESTAMPS | TRACE_TENSORS, rate: 1, count: -1, logFrequency: 1, file: traceFile },
  });
  expect(server.failures()).toEqual([]);
});

afterAll(async () => {
  await server?.close();
  tmp.cleanup();
  traceDir.cleanup();
});

type TraceObject = { id: number; model_name?: string; request_id?: string; timestamps?: { name: string }[]; activity?: string };

/** The trace of the request with `requestId`, once its file is written. */
async function traceOf(requestId: string): Promise<TraceObject[]> {
  for (let i = 0; i < 200; i++) {
    for (const name of existsSync(traceDir.dir) ? readdirSync(traceDir.dir) : []) {
      const objects = parsed(readFileSync(path.join(traceDir.dir, name), 'utf8'));
      if (objects?.some((o) => o.request_id === requestId)) return objects;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no trace of request '${requestId}'`);
}

/** A trace file's objects; undefined while it is still being written (or is the main file's opening). */
function parsed(text: string): TraceObject[] | undefined {
  try {
    return JSON.parse(text) as TraceObject[];
  } catch {
    return undefined;
  }
}

const stampNames = (objects: TraceObject[]) => objects.filter((o) => o.timestamps !== undefined).map((o) => o.timestamps![0]!.name);
const activities = (objects: TraceObject[]) => objects.filter((o) => o.activity !== undefined).map((o) => o.activity);

async function collect(responses: AsyncIterable<InferenceResponse>): Promise<InferenceResponse[]> {
  const out: InferenceResponse[] = [];
  for await (const r of responses) out.push(r);
  return out;
}

function stats(model: string) {
  const s = server.modelStatistics(model).model_stats[0] as unknown as {
    execution_count: number;
    inference_stats: { success: { count: number }; fail: { count: number }; cache_hit: { count: number } };
  };
  return { executions: s.execution_count, success: s.inference_stats.success.count, fail: s.inference_stats.fail.count, hits: s.inference_stats.cache_hit.count };
}

const repeat = (id: string, count: number, mode = 'flag'): InferenceRequest => ({
  modelName: 'repeat',
  id,
  inputs: [{ name: 'COUNT', datatype: 'INT32', shape: [1], data: new Uint8Array(Int32Array.of(count).buffer) }],
  parameters: { mode },
});

const cached = (id: string): InferenceRequest => ({
  modelName: 'cached',
  id,
  inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [1, 4], data: new Uint8Array(Float32Array.of(1, 2, 3, 4).buffer) }],
});

describe('streamed requests take the whole pipeline', () => {
  test("a decoupled model's streamed request is traced: every response's outputs, then its timestamps", async () => {
    const responses = await collect(server.inferStream(repeat('stream-traced', 3)));
    expect(responses.map((r) => r.parameters?.triton_final_response)).toEqual([false, false, false]);
    const trace = await traceOf('stream-traced');
    expect(trace[0]).toMatchObject({ model_name: 'repeat', request_id: 'stream-traced' });
    expect(stampNames(trace)).toEqual([
      'REQUEST_START',
      'QUEUE_START',
      'COMPUTE_START',
      'COMPUTE_INPUT_END',
      'COMPUTE_OUTPUT_START',
      'COMPUTE_END',
      'REQUEST_END',
    ]);
    expect(activities(trace)).toEqual(['TENSOR_QUEUE_INPUT', ...Array(3).fill('TENSOR_BACKEND_OUTPUT')]);
  });

  test("a decoupled model's failed stream is counted as a BACKEND failure and its trace ends", async () => {
    const before = stats('repeat');
    await expect(collect(server.inferStream(repeat('stream-failed', 2, 'error')))).rejects.toThrow('failed after 2 responses');
    expect(stats('repeat').fail).toBe(before.fail + 1);
    const trace = await traceOf('stream-failed');
    expect(stampNames(trace)).toEqual(['REQUEST_START', 'REQUEST_END']);
  });

  test('a streamed request to a model that is not decoupled is traced and cached like a unary one', async () => {
    const first = await collect(server.inferStream(cached('stream-miss')));
    const second = await collect(server.inferStream(cached('stream-hit')));
    for (const responses of [first, second]) {
      expect(responses).toHaveLength(1);
      expect(responses[0]).toMatchObject({ id: expect.any(String), parameters: { triton_final_response: true } });
    }
    expect([...new Float32Array(second[0]!.outputs[0]!.data.slice().buffer)]).toEqual([1, 2, 3, 4]);
    expect(stats('cached')).toMatchObject({ executions: 1, success: 2, hits: 1 });
    expect(stampNames(await traceOf('stream-miss'))).toContain('COMPUTE_START');
    // A hit skips the scheduler: its trace has the request's start and end only.
    expect(stampNames(await traceOf('stream-hit'))).toEqual(['REQUEST_START', 'REQUEST_END']);
  });

  test('unary infer of a decoupled model is refused before anything is counted or traced', async () => {
    const before = stats('repeat');
    await expect(server.infer(repeat('unary-decoupled', 1))).rejects.toThrow(
      "model 'repeat' is decoupled: its responses can only be streamed (inferStream, gRPC ModelStreamInfer, HTTP infer_stream)",
    );
    expect(stats('repeat')).toEqual(before);
    await expect(traceOf('unary-decoupled')).rejects.toThrow('no trace');
  });
});

describe('ServerCore.model', () => {
  test('hands out one ReadyModel per version, which infer takes instead of a lookup', async () => {
    const model = server.model('cached');
    expect(model).toMatchObject({ name: 'cached', version: 1, decoupled: false, spec: { maxBatchSize: 4 } });
    expect(server.model('cached', 1)).toBe(model);
    expect(server.model('repeat').decoupled).toBe(true);
    const response = await server.infer(cached('with-model'), undefined, { model });
    expect(response).toMatchObject({ modelName: 'cached', modelVersion: '1', id: 'with-model' });
  });
});
