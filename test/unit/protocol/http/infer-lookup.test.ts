/**
 * An HTTP infer looks its model up once, before the body is read (Triton's
 * `CheckTransactionPolicy`), and hands that model to the core with the request; a raw binary
 * request reads its input and `max_batch_size` from the same lookup, without rendering the
 * model config.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { InferenceServer } from '../../../../src/index.js';
import { createHttpFrontend, type HttpFrontend } from '../../../../src/protocol/http/index.js';
import { ModelRepositoryManager } from '../../../../src/repository/model-repository-manager.js';
import { addSubModel, identityModel, writeModel } from '../../../fixtures/onnx-models.js';
import { tempDir } from '../../../e2e/helpers/temp-repo.js';

const tmp = tempDir();
let engine: InferenceServer;
let frontend: HttpFrontend;
let base: string;

beforeAll(async () => {
  writeModel(tmp.dir, 'simple', addSubModel());
  writeModel(tmp.dir, 'raw', identityModel('FP32', ['batch', 4]), {
    config: 'max_batch_size: 8\ninstance_group [ { kind: KIND_CPU, count: 1 } ]',
  });
  engine = await InferenceServer.create({ modelRepositories: [tmp.dir], cpuCount: 1 });
  frontend = createHttpFrontend(engine, { address: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(await frontend.listen()).port}`;
});

afterAll(async () => {
  await frontend?.close({ timeoutMs: 1000 });
  await engine?.close();
  tmp.cleanup();
});

afterEach(() => {
  vi.restoreAllMocks();
});

function spies() {
  return {
    lookups: vi.spyOn(ModelRepositoryManager.prototype, 'getReady'),
    metadata: vi.spyOn(InferenceServer.prototype, 'modelMetadata'),
    config: vi.spyOn(InferenceServer.prototype, 'modelConfigJson'),
  };
}

describe('HTTP infer: one model lookup', () => {
  test('a JSON request: one lookup for the transaction policy and the inference', async () => {
    const s = spies();
    const res = await fetch(`${base}/v2/models/simple/infer`, {
      method: 'POST',
      body: JSON.stringify({
        inputs: [
          { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: Array.from({ length: 16 }, (_, i) => i) },
          { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: new Array(16).fill(1) },
        ],
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { outputs: { name: string; data: number[] }[] };
    expect(body.outputs.find((o) => o.name === 'OUTPUT0')!.data).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    expect(s.lookups).toHaveBeenCalledTimes(1);
  });

  test('a raw binary request: the batch dimension from the same lookup, no config rendered', async () => {
    const s = spies();
    const res = await fetch(`${base}/v2/models/raw/infer`, {
      method: 'POST',
      headers: { 'Inference-Header-Content-Length': '0' },
      body: Buffer.from(Float32Array.of(1, 2, 3, 4).buffer),
    });
    expect(res.status).toBe(200);
    const headerLength = Number(res.headers.get('inference-header-content-length'));
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(JSON.parse(bytes.subarray(0, headerLength).toString())).toMatchObject({
      model_name: 'raw',
      outputs: [{ name: 'OUTPUT0', datatype: 'FP32', shape: [1, 4] }],
    });
    expect(s.lookups).toHaveBeenCalledTimes(1);
    expect(s.config).not.toHaveBeenCalled();
    expect(s.metadata).not.toHaveBeenCalled();
  });

  test('an unknown model is answered before the body is read, as Triton', async () => {
    const res = await fetch(`${base}/v2/models/nope/infer`, { method: 'POST', body: 'not json' });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: "Request for unknown model: 'nope' is not found" });
  });
});
