/**
 * gRPC ModelInfer and ModelStreamInfer look each request's model up once: the transaction
 * policy is read from the model the core hands back, which goes with the request to
 * `core.infer` instead of a second lookup.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { InferenceServer } from '../../../../src/index.js';
import { ModelRepositoryManager } from '../../../../src/repository/model-repository-manager.js';
import { addSubModel, writeModel } from '../../../fixtures/onnx-models.js';
import { tempDir } from '../../../e2e/helpers/temp-repo.js';
import { collect, simple, start, stopAll, type Running } from './grpc-harness.js';

const tmp = tempDir();
let engine: InferenceServer;
let r: Running;

beforeAll(async () => {
  writeModel(tmp.dir, 'simple', addSubModel());
  engine = await InferenceServer.create({ modelRepositories: [tmp.dir], cpuCount: 1 });
  r = await start(engine);
});

afterAll(async () => {
  await stopAll();
  await engine?.close();
  tmp.cleanup();
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('gRPC inference: one model lookup per request', () => {
  test('ModelInfer', async () => {
    const lookups = vi.spyOn(ModelRepositoryManager.prototype, 'getReady');
    const result = await r.client.infer(simple('one'));
    expect([...(result.output('OUTPUT0').data as Int32Array)]).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    expect(lookups).toHaveBeenCalledTimes(1);
  });

  test('ModelStreamInfer', async () => {
    const lookups = vi.spyOn(ModelRepositoryManager.prototype, 'getReady');
    const s = r.client.stream();
    s.send(simple('a'));
    s.send(simple('b'));
    s.end();
    const items = await collect(s);
    expect(items.map((i) => [i.id, i.error])).toEqual([
      ['a', undefined],
      ['b', undefined],
    ]);
    expect(lookups).toHaveBeenCalledTimes(2);
  });
});
