import { afterAll, bench, describe } from 'vitest';
import { executeRequest } from '../../src/backends/execute-request.js';
import { OnnxRuntimeBackend } from '../../src/backends/onnxruntime/index.js';
import { DET_MODEL, fp32Tensor, instanceOptions, pseudoRandomFloats } from '../../test/unit/backends/onnxruntime/helpers.js';

/**
 * Two instances of one model run in parallel (each on its own worker thread): one run on one
 * instance against one run on each of two instances at once, detection model at 320×320, one
 * intra-op thread each. On an idle machine with ≥ 2 cores the pair takes about as long as the
 * single run (ratio of the two means near 1; 2 would mean the runs were serialised). Not a test:
 *   npx vitest bench --run bench/onnxruntime/parallel-instances.bench.ts
 */

const backend = new OnnxRuntimeBackend();
const OUT = 'sigmoid_0.tmp_0';
const data = pseudoRandomFloats(3 * 320 * 320);
const input = () => [fp32Tensor('x', [1, 3, 320, 320], data)];
const a = await backend.createInstance(instanceOptions('det', DET_MODEL, { name: 'det_0_0' }));
const b = await backend.createInstance(instanceOptions('det', DET_MODEL, { name: 'det_0_1' }));
afterAll(async () => {
  await Promise.all([a.close(), b.close()]);
});

describe('det 320×320, one intra-op thread per instance', () => {
  bench('one instance, one run', async () => {
    await executeRequest(a, input(), [OUT]);
  }, { time: 3000, warmupTime: 500 });

  bench('two instances, one run each at once', async () => {
    await Promise.all([executeRequest(a, input(), [OUT]), executeRequest(b, input(), [OUT])]);
  }, { time: 3000, warmupTime: 500 });
});
