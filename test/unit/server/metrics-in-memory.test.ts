/**
 * Metrics scrapes and statistics calls read the server's in-memory model state, never the
 * model repository on disk: they keep answering when the repository folder is gone.
 */
import { existsSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { InferenceServer } from '../../../src/index.js';
import { addSubModel, writeModel } from '../../fixtures/onnx-models.js';
import { tempDir } from '../../e2e/helpers/temp-repo.js';

const tmp = tempDir();
let server: InferenceServer;

beforeAll(async () => {
  writeModel(tmp.dir, 'simple', addSubModel());
  server = await InferenceServer.create({ modelRepositories: [tmp.dir], cpuCount: 1 });
  const int32 = (values: number[]) => new Uint8Array(Int32Array.from(values).buffer);
  await server.infer({
    modelName: 'simple',
    inputs: [
      { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: int32(new Array(16).fill(1)) },
      { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: int32(new Array(16).fill(2)) },
    ],
  });
});

afterAll(async () => {
  await server?.close();
  tmp.cleanup();
});

test('with the repository folder removed, /metrics and statistics still report the loaded model', async () => {
  rmSync(tmp.dir, { recursive: true, force: true });
  expect(existsSync(tmp.dir)).toBe(false);
  const text = await server.metrics.text();
  expect(text).toMatch(/^nv_inference_request_success\{model="simple",version="1"\} 1$/m);
  const stats = server.modelStatistics().model_stats;
  expect(stats.map((s) => [s['name'], s['version'], s['inference_count']])).toEqual([['simple', '1', 1]]);
  expect(server.modelStatistics('simple', 1).model_stats).toHaveLength(1);
});
