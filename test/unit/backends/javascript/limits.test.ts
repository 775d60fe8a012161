/**
 * The limits of a JavaScript model instance through the embedded InferenceServer: a V8 heap
 * limit (MAX_HEAP_MB), a limit on memory outside the heap (MAX_EXTERNAL_MB), an execution
 * time limit (EXECUTION_TIMEOUT_MS), and unload bounded by the exit timeout. Each failure
 * ends only its own requests; the instance restarts and the server keeps serving. The worker
 * runs from lib/ (build first).
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { InferenceServer, InternalError, UnavailableError, type Tensor } from '../../../../src/index.js';
import { tempDir } from '../../../e2e/helpers/temp-repo.js';
import { writeJsModel } from '../../../fixtures/js-models/repo.js';

const tmp = tempDir('infera-js-limits-');
let server: InferenceServer;

const runawayConfig = (parameters: Record<string, string>): string => `
  backend: "javascript"
  input [{ name: "MODE", data_type: TYPE_INT32, dims: [1] }]
  output [{ name: "EXECUTIONS", data_type: TYPE_INT32, dims: [1] }]
  instance_group [{ count: 1, kind: KIND_CPU }]
  ${Object.entries(parameters)
    .map(([k, v]) => `parameters { key: "${k}" value { string_value: "${v}" } }`)
    .join('\n')}`;

beforeAll(async () => {
  const repo = path.join(tmp.dir, 'models');
  writeJsModel(repo, 'heap', 'runaway.mjs', runawayConfig({ MAX_HEAP_MB: '64' }));
  writeJsModel(repo, 'external', 'runaway.mjs', runawayConfig({ MAX_EXTERNAL_MB: '64' }));
  writeJsModel(repo, 'timed', 'runaway.mjs', runawayConfig({ EXECUTION_TIMEOUT_MS: '300', hang_ms: '8000' }));
  // No execution limit: only unload's exit timeout can stop it.
  writeJsModel(repo, 'stuck', 'runaway.mjs', runawayConfig({ hang_ms: '10000' }));
  writeJsModel(repo, 'bystander', 'runaway.mjs', runawayConfig({}));
  // Triton's queue timeout: a request waiting behind a hung execution expires in the queue.
  writeJsModel(
    repo,
    'queued',
    'runaway.mjs',
    runawayConfig({ EXECUTION_TIMEOUT_MS: '3000' }).replace(
      'backend: "javascript"',
      `backend: "javascript"
       max_batch_size: 1
       dynamic_batching { default_queue_policy { default_timeout_microseconds: 10000000 allow_timeout_override: true } }`,
    ),
  );
  writeJsModel(repo, 'bad_limit', 'runaway.mjs', runawayConfig({ MAX_HEAP_MB: 'lots' }));
  server = await InferenceServer.create({ modelRepositories: [repo], modelControlMode: 'explicit', loadModels: ['*'], exitTimeoutSecs: 1 });
}, 60_000);

afterAll(async () => {
  await server?.close();
  tmp.cleanup();
}, 30_000);

const run = (model: string, mode: number) =>
  server.infer({ modelName: model, inputs: [{ name: 'MODE', datatype: 'INT32', shape: [1], data: new Uint8Array(Int32Array.from([mode]).buffer) }] });
const executions = (t: Tensor | undefined): number => new Int32Array(t!.data.slice().buffer)[0]!;
const reason = (r: PromiseSettledResult<unknown>): unknown => (r.status === 'rejected' ? r.reason : undefined);

describe('javascript instance limits', () => {
  test('a limit that is not a non-negative integer fails the load, naming the model and parameter', () => {
    const failure = server.failures().find((f) => f.name === 'bad_limit');
    expect(failure?.reason).toMatch(/model 'bad_limit': parameter 'MAX_HEAP_MB' must be a non-negative integer, got 'lots'/);
  });

  test('MAX_HEAP_MB: a model that grows its heap fails its request; the instance restarts; others serve', async () => {
    expect(executions((await run('heap', 0)).outputs[0])).toBe(1);
    const [grown, next] = await Promise.allSettled([run('heap', 1), run('heap', 0)]);
    expect(reason(grown)).toBeInstanceOf(InternalError);
    expect(String(reason(grown))).toMatch(/model 'heap' version 1 instance 'heap_0_0': .*JS heap out of memory \(MAX_HEAP_MB 64\); the instance is restarting/);
    // Queued behind the failure: served by the restarted instance (its count started over).
    expect(next.status).toBe('fulfilled');
    expect(executions((next as PromiseFulfilledResult<Awaited<ReturnType<typeof run>>>).value.outputs[0])).toBe(1);
    expect(executions((await run('bystander', 0)).outputs[0])).toBeGreaterThan(0);
    expect(server.isModelReady('heap')).toBe(true);
  }, 30_000);

  test('MAX_EXTERNAL_MB: a model that grows Buffers outside the heap is stopped and restarted', async () => {
    const [grown, next] = await Promise.allSettled([run('external', 2), run('external', 0)]);
    expect(reason(grown)).toBeInstanceOf(InternalError);
    expect(String(reason(grown))).toMatch(/model 'external' version 1 instance 'external_0_0': its memory outside the JavaScript heap \(\d+ MiB\) exceeded MAX_EXTERNAL_MB 64; the instance is restarting/);
    expect(next.status).toBe('fulfilled');
    expect(executions((next as PromiseFulfilledResult<Awaited<ReturnType<typeof run>>>).value.outputs[0])).toBe(1);
    expect(executions((await run('bystander', 0)).outputs[0])).toBeGreaterThan(0);
  }, 30_000);

  test.each([
    ['busy-looping', 3],
    ['never-resolving', 4],
  ])('EXECUTION_TIMEOUT_MS: a %s execute fails with the timeout error; the next request succeeds', async (_, mode) => {
    const [hung, next] = await Promise.allSettled([run('timed', mode), run('timed', 0)]);
    expect(reason(hung)).toBeInstanceOf(UnavailableError);
    expect(String(reason(hung))).toMatch(
      /model 'timed' version 1 instance 'timed_0_0': execute did not finish within EXECUTION_TIMEOUT_MS 300 ms; its worker thread was terminated and the instance is restarting/,
    );
    expect(next.status).toBe('fulfilled');
    expect(executions((next as PromiseFulfilledResult<Awaited<ReturnType<typeof run>>>).value.outputs[0])).toBe(1);
    expect(server.isModelReady('timed')).toBe(true);
  }, 30_000);

  test("the request timeout parameter (µs) expires a request queued behind a hung execution, as Triton's dynamic batcher does", async () => {
    const input = (mode: number) => [{ name: 'MODE', datatype: 'INT32' as const, shape: [1, 1], data: new Uint8Array(Int32Array.from([mode]).buffer) }];
    const hung = server.infer({ modelName: 'queued', inputs: input(4) }).then(
      () => 'served',
      (err: unknown) => err,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const queued = server.infer({ modelName: 'queued', inputs: input(0), parameters: { timeout: 50_000 } });
    await expect(queued).rejects.toThrow(UnavailableError);
    await expect(queued).rejects.toThrow(/^Request timeout expired$/);
    expect(String(await hung)).toMatch(/EXECUTION_TIMEOUT_MS 3000 ms/);
  }, 15_000);

  test.each([
    ['busy-looping', 3],
    ['never-resolving', 4],
  ])('unload of a %s model returns after the exit timeout, failing its requests; load works after', async (_, mode) => {
    expect(server.isModelReady('stuck')).toBe(true);
    // The hung execution, and a request queued behind it.
    const settled = Promise.allSettled([run('stuck', mode), run('stuck', 0)]);
    // Let the execution reach the worker before unloading.
    await new Promise((resolve) => setTimeout(resolve, 200));
    await server.unloadModel('stuck');
    const [h, q] = await settled;
    expect(reason(h)).toBeInstanceOf(UnavailableError);
    expect(String(reason(h))).toMatch(/model 'stuck' version 1 instance 'stuck_0_0': unloading did not finish within the exit timeout of 1 s; its worker thread was terminated/);
    expect(q.status).toBe('rejected');
    expect(server.repositoryIndex().find((e) => e.name === 'stuck')).toMatchObject({ state: 'UNAVAILABLE' });
    await server.loadModel('stuck');
    expect(executions((await run('stuck', 0)).outputs[0])).toBe(1);
  }, 8_000);
});
