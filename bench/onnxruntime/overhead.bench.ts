import ort from 'onnxruntime-node';
import { afterAll, bench, describe } from 'vitest';
import { OnnxRuntimeBackend } from '../../src/backends/onnxruntime/index.js';
import { CLS_MODEL, fp32Tensor, instanceOptions, pseudoRandomFloats } from '../../test/unit/backends/onnxruntime/helpers.js';
import { executeRequest } from '../../src/backends/execute-request.js';

/**
 * Per-execute overhead of the worker-thread instance against onnxruntime-node in-process, cls
 * model at batch 1, one intra-op thread each. Not a test (vitest run ignores *.bench.ts):
 *   npx tsc -p tsconfig.json && npx vitest bench --run bench/onnxruntime/overhead.bench.ts
 * Both sides copy the 110 KB input once per call, as a server would when it owns the body.
 */

const SHAPE = [1, 3, 48, 192];
const input = pseudoRandomFloats(3 * 48 * 192);
const session = await ort.InferenceSession.create(CLS_MODEL, { intraOpNumThreads: 1, executionProviders: ['cpu'] });
const instance = await new OnnxRuntimeBackend().createInstance(instanceOptions('cls', CLS_MODEL));
afterAll(async () => {
  await instance.close();
  await session.release();
});

describe('cls batch 1', () => {
  bench('in-process session.run', async () => {
    await session.run({ x: new ort.Tensor('float32', input.slice(), SHAPE) });
  }, { time: 3000, warmupTime: 500 });

  bench('worker instance execute', async () => {
    await executeRequest(instance, [fp32Tensor('x', SHAPE, input)], ['softmax_0.tmp_0']);
  }, { time: 3000, warmupTime: 500 });
});
