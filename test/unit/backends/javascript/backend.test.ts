/**
 * The javascript backend through the embedded InferenceServer: model lifecycle,
 * autoCompleteConfig, errors that fail only their own request, worker crashes with restart,
 * and BLS calls into an ONNX model. The worker runs from lib/ (build first).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { InferenceServer, InternalError, InvalidArgumentError, NotFoundError, type Tensor } from '../../../../src/index.js';
import { tempDir } from '../../../e2e/helpers/temp-repo.js';
import { writeJsModel } from '../../../fixtures/js-models/repo.js';
import { addSubModel, writeModel } from '../../../fixtures/onnx-models.js';

const tmp = tempDir('infera-js-');
const events = path.join(tmp.dir, 'events.jsonl');
let server: InferenceServer;

const int32 = (values: number[]): Uint8Array => new Uint8Array(Int32Array.from(values).buffer);
const fp32 = (values: number[]): Uint8Array => new Uint8Array(Float32Array.from(values).buffer);
const ints = (t: Tensor | undefined): number[] => Array.from(new Int32Array(t!.data.slice().buffer));
const floats = (t: Tensor | undefined): number[] => Array.from(new Float32Array(t!.data.slice().buffer));

beforeAll(async () => {
  const repo = path.join(tmp.dir, 'models');
  writeJsModel(
    repo,
    'lifecycle',
    'lifecycle.mjs',
    `backend: "javascript"
     input [{ name: "IN", data_type: TYPE_FP32, dims: [-1] }]
     output [{ name: "OUT", data_type: TYPE_FP32, dims: [-1] }]
     instance_group [{ count: 2, kind: KIND_CPU }]
     parameters { key: "events_file" value { string_value: "${events}" } }`,
  );
  writeJsModel(repo, 'auto_complete', 'auto_complete.mjs');
  writeJsModel(repo, 'auto_conflict', 'auto_complete.mjs', 'max_batch_size: 16');
  writeJsModel(
    repo,
    'faulty',
    'faulty.js',
    `input [{ name: "MODE", data_type: TYPE_INT32, dims: [1] }]
     output [{ name: "EXECUTIONS", data_type: TYPE_INT32, dims: [1] }]`,
  );
  writeModel(repo, 'simple', addSubModel(), { config: 'instance_group [{ count: 1, kind: KIND_CPU }]' });
  const blsConfig = (target: string): string => `
     backend: "javascript"
     max_batch_size: 4
     input [{ name: "A", data_type: TYPE_INT32, dims: [16] }, { name: "B", data_type: TYPE_INT32, dims: [16] }]
     output [{ name: "SUM", data_type: TYPE_INT32, dims: [16] }, { name: "DIFF", data_type: TYPE_INT32, dims: [16] },
             { name: "TOTAL", data_type: TYPE_INT32, dims: [2] }]
     parameters { key: "target" value { string_value: "${target}" } }`;
  writeJsModel(repo, 'bls', 'bls.mjs', blsConfig('simple'));
  writeJsModel(repo, 'bls_missing', 'bls.mjs', blsConfig('nope'));
  server = await InferenceServer.create({ modelRepositories: [repo], modelControlMode: 'explicit', loadModels: ['*'] });
}, 60_000);

afterAll(async () => {
  await server?.close();
  tmp.cleanup();
});

const readEvents = (): Record<string, unknown>[] =>
  readFileSync(events, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const faulty = (mode: number) =>
  server.infer({ modelName: 'faulty', inputs: [{ name: 'MODE', datatype: 'INT32', shape: [1], data: int32([mode]) }] });

describe('javascript backend', () => {
  test('loads every model, detected from model.js / model.mjs', () => {
    expect(server.failures().map((f) => f.name)).toEqual(['auto_conflict']);
    expect(server.modelMetadata('faulty').platform).toBe('javascript');
    expect(server.modelConfigJson('faulty')).toMatchObject({ backend: 'javascript', default_model_filename: 'model.js' });
    expect(server.modelConfigJson('lifecycle')).toMatchObject({ default_model_filename: 'model.mjs' });
  });

  test('initialize runs once per instance with the model arguments; execute sees request ids', async () => {
    const init = readEvents().filter((e) => e.event === 'initialize');
    expect(init).toHaveLength(2);
    expect(new Set(init.map((e) => e.instanceName)).size).toBe(2);
    expect(init[0]).toMatchObject({
      modelName: 'lifecycle',
      modelVersion: 1,
      instanceKind: 'KIND_CPU',
      modelDir: path.join(tmp.dir, 'models', 'lifecycle'),
      versionDir: path.join(tmp.dir, 'models', 'lifecycle', '1'),
      maxBatchSize: 0,
    });
    const res = await server.infer({
      id: 'req-7',
      modelName: 'lifecycle',
      inputs: [{ name: 'IN', datatype: 'FP32', shape: [3], data: fp32([1, 2.5, -3]) }],
    });
    expect(res.outputs[0]).toMatchObject({ name: 'OUT', datatype: 'FP32', shape: [3] });
    expect(floats(res.outputs[0])).toEqual([1, 2.5, -3]);
    expect(readEvents().filter((e) => e.event === 'execute')).toEqual([expect.objectContaining({ requests: 1, ids: ['req-7'] })]);
  });

  test('finalize runs on every instance when the model unloads', async () => {
    await server.unloadModel('lifecycle');
    expect(readEvents().filter((e) => e.event === 'finalize')).toHaveLength(2);
    expect(server.isModelReady('lifecycle')).toBe(false);
  });

  test('autoCompleteConfig completes a model that has no config.pbtxt', async () => {
    expect(server.modelConfigJson('auto_complete')).toMatchObject({
      max_batch_size: 8,
      input: [expect.objectContaining({ name: 'IN', data_type: 'TYPE_FP32', dims: [4] })],
      output: [expect.objectContaining({ name: 'OUT', data_type: 'TYPE_FP32', dims: [4] })],
      dynamic_batching: expect.any(Object),
    });
    const res = await server.infer({
      modelName: 'auto_complete',
      inputs: [{ name: 'IN', datatype: 'FP32', shape: [2, 4], data: fp32([1, 2, 3, 4, 5, 6, 7, 8]) }],
    });
    expect(res.outputs[0]!.shape).toEqual([2, 4]);
    expect(floats(res.outputs[0])).toEqual([2, 4, 6, 8, 10, 12, 14, 16]);
  });

  test('an autoCompleteConfig that conflicts with config.pbtxt fails the load with its message', () => {
    expect(server.failures()).toEqual([
      expect.objectContaining({
        name: 'auto_conflict',
        reason: expect.stringContaining(
          "configuration specified max_batch_size 16, but in auto-complete-config function for model 'auto_conflict' specified max_batch_size 8",
        ),
      }),
    ]);
  });

  test('a throw, a rejection or a bad response fails only that request, naming the model', async () => {
    await expect(faulty(1)).rejects.toThrow(InternalError);
    await expect(faulty(1)).rejects.toThrow(/model 'faulty'.*execute failed: Error: boom/);
    await expect(faulty(7)).rejects.toThrow(/model 'faulty'.*TypeError: rejected later/);
    await expect(faulty(5)).rejects.toThrow("model 'faulty': the response is missing output 'EXECUTIONS'");
    await expect(faulty(6)).rejects.toThrow(/output 'EXECUTIONS': INT32 data must be an Int32Array, got Float32Array/);
    // An Error the model returns keeps its message and Triton code.
    const returned = faulty(2);
    await expect(returned).rejects.toThrow(InvalidArgumentError);
    await expect(returned).rejects.toThrow('bad request, says the model');
    expect(ints((await faulty(0)).outputs[0])[0]).toBeGreaterThan(1);
  });

  test('a worker that exits fails only its request; the instance restarts and serves the next', async () => {
    const before = ints((await faulty(0)).outputs[0])[0]!;
    expect(before).toBeGreaterThan(0);
    // Queued behind the crash on the only instance: must run on the restarted one.
    const [crashed, next] = await Promise.allSettled([faulty(3), faulty(0)]);
    expect(crashed.status).toBe('rejected');
    expect(String((crashed as PromiseRejectedResult).reason)).toMatch(/model 'faulty'.*exited \(code 1\)/);
    expect(next.status).toBe('fulfilled');
    // initialize ran again: the execution counter started over.
    expect(ints((next as PromiseFulfilledResult<Awaited<ReturnType<typeof faulty>>>).value.outputs[0])).toEqual([1]);
  });

  test('an uncaught exception in the worker is a crash too, reported with its message', async () => {
    await expect(faulty(4)).rejects.toThrow(/model 'faulty'.*uncaught in a timer/);
    expect(ints((await faulty(0)).outputs[0])).toEqual([1]);
    expect(server.isModelReady('faulty')).toBe(true);
  });

  test('BLS: a JavaScript model calls the ONNX model and returns its outputs', async () => {
    const a = Array.from({ length: 16 }, (_, i) => i);
    const b = a.map((x) => 2 * x + 1);
    const res = await server.infer({
      modelName: 'bls',
      inputs: [
        { name: 'A', datatype: 'INT32', shape: [1, 16], data: int32(a) },
        { name: 'B', datatype: 'INT32', shape: [1, 16], data: int32(b) },
      ],
    });
    expect(res.outputs.map((o) => [o.name, o.shape])).toEqual([
      ['SUM', [1, 16]],
      ['DIFF', [1, 16]],
      ['TOTAL', [1, 2]],
    ]);
    expect(ints(res.outputs[0])).toEqual(a.map((x, i) => x + b[i]!));
    expect(ints(res.outputs[1])).toEqual(a.map((x, i) => x - b[i]!));
    expect(ints(res.outputs[2])).toEqual([a.reduce((s, x, i) => s + x + b[i]!, 0), 16]);
  });

  test('BLS errors reach the calling model with their code and message', async () => {
    const req = server.infer({
      modelName: 'bls_missing',
      inputs: [
        { name: 'A', datatype: 'INT32', shape: [1, 16], data: int32(new Array(16).fill(0)) },
        { name: 'B', datatype: 'INT32', shape: [1, 16], data: int32(new Array(16).fill(0)) },
      ],
    });
    await expect(req).rejects.toThrow(NotFoundError);
    await expect(req).rejects.toThrow(/model 'bls_missing'.*Request for unknown model: 'nope' is not found/);
  });
});
