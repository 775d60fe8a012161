/**
 * Model paging in the embedded engine (server.ts, server-paging.ts): requests page models in,
 * and `model()` — the lookup the protocols make before a request's body — answers for a model
 * that is not loaded with a provisional handle instead of the "unknown model" error.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { InferenceServer, NotFoundError } from '../../../src/index.js';
import { identityModel, writeModel } from '../../fixtures/onnx-models.js';
import { tempDir } from '../../e2e/helpers/temp-repo.js';

const tmp = tempDir();
let server: InferenceServer;
const ONE = 'backend: "onnxruntime"\ninstance_group [ { kind: KIND_CPU count: 1 } ]\n';
const int32 = (values: number[]) => new Uint8Array(Int32Array.from(values).buffer);
const request = (model: string) => ({ modelName: model, inputs: [{ name: 'INPUT0', datatype: 'INT32' as const, shape: [1, 2], data: int32([3, 4]) }] });

beforeAll(async () => {
  for (const name of ['a', 'b']) writeModel(tmp.dir, name, identityModel('INT32', ['batch', 2]), { config: ONE });
  server = await InferenceServer.create({ modelRepositories: [tmp.dir], modelControlMode: 'explicit', modelMemoryBudgetBytes: 2 ** 40 });
});

afterAll(async () => {
  await server.close();
  tmp.cleanup();
});

describe('model paging in the embedded engine', () => {
  test('model() of a model never loaded is a provisional handle; of an unknown one, the lookup error', () => {
    const handle = server.model('a');
    expect(handle).toMatchObject({ name: 'a', version: -1, decoupled: false });
    expect(handle.spec.inputs).toEqual([]);
    expect(() => server.model('nowhere')).toThrow(NotFoundError);
    expect(() => server.model('nowhere')).toThrow("Request for unknown model: 'nowhere' is not found");
  });

  test('infer with that handle pages the model in and answers', async () => {
    const res = await server.infer(request('a'), undefined, { model: server.model('a') });
    expect(Array.from(new Int32Array(res.outputs[0]!.data.slice().buffer))).toEqual([3, 4]);
    expect(server.isModelReady('a')).toBe(true);
    expect(server.repositoryIndex().find((r) => r.name === 'a')?.paging).toMatchObject({ loads: 1, evictions: 0, instances: 1, pinned: false });
    expect(server.modelStatistics('a').model_stats[0]!.memory_usage).toEqual([{ type: 'CPU', id: 0, byte_size: expect.any(Number) }]);
  });

  test('a stream pages its model in too', async () => {
    const responses = [];
    for await (const r of server.inferStream(request('b'))) responses.push(r);
    expect(responses).toHaveLength(1);
    expect(server.isModelReady('b')).toBe(true);
  });

  test('after an unload, model() gives the last version\'s spec', async () => {
    await server.unloadModel('b');
    expect(server.isModelReady('b')).toBe(false);
    const handle = server.model('b');
    expect(handle).toMatchObject({ name: 'b', version: 1, decoupled: false });
    expect(handle.spec.inputs.map((i) => i.name)).toEqual(['INPUT0']);
    const res = await server.infer(request('b'), undefined, { model: handle });
    expect(res.modelVersion).toBe('1');
  });
});
