/**
 * model_warmup: samples built from zero, random or file data run on every instance before the
 * version may become READY; a sample that cannot be built or fails makes the load fail.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { create } from '@bufbuild/protobuf';
import { ModelWarmupSchema } from '../../../src/generated/model_config_pb.js';
import { InferenceServer } from '../../../src/index.js';
import { silentLogger } from '../../../src/observability/logger.js';
import type { BatchRunner } from '../../../src/backends/backend.js';
import { BatchingInstance, batchingOptions } from '../../../src/backends/batching-instance.js';
import type { ModelConfig } from '../../../src/generated/model_config_pb.js';
import type { Logger } from '../../../src/observability/logger.js';
import { warmupInstances as warmupOnInstances } from '../../../src/repository/warmup.js';

/** warmupInstances on fake runners, each wrapped as a backend wraps its runtime. */
function warmupInstances(config: ModelConfig, dir: string, runners: BatchRunner[], logger: Logger): Promise<void> {
  return warmupOnInstances(config, dir, runners.map((r) => new BatchingInstance(r, batchingOptions(config))), logger);
}
import { identityModel, writeModel } from '../../fixtures/onnx-models.js';
import { tempDir } from '../../e2e/helpers/temp-repo.js';
import { FakeInstance, fp32Config } from '../scheduler/dynamic-fakes.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** A FP32 [4] model config with the given model_warmup entries. */
function withWarmup(warmup: Record<string, unknown>[], maxBatchSize = 8) {
  const config = fp32Config({ maxBatchSize });
  config.modelWarmup = warmup.map((w) => create(ModelWarmupSchema, w as never));
  return config;
}

const zeroSample = (extra: Record<string, unknown> = {}) => ({
  name: 'zeros',
  batchSize: 2,
  count: 3,
  inputs: { INPUT0: { dataType: 11, dims: [4n], inputDataType: { case: 'zeroData', value: true } } },
  ...extra,
});

describe('warmupInstances', () => {
  test('every instance runs each sample count times as one batch; batch_size 0 is skipped', async () => {
    const instances = [new FakeInstance('m_0'), new FakeInstance('m_1')];
    const random = {
      name: 'random',
      batchSize: 1,
      inputs: { INPUT0: { dataType: 11, dims: [4n], inputDataType: { case: 'randomData', value: true } } },
    };
    await warmupInstances(withWarmup([zeroSample(), random, { ...random, name: 'skipped', batchSize: 0 }]), tmp.dir, instances, silentLogger());
    for (const inst of instances) {
      expect(inst.batches.map((b) => b.shapes[0])).toEqual([[2, 4], [2, 4], [2, 4], [1, 4]]);
      expect(inst.batches[0]!.firstValues).toEqual([0, 0]);
      expect(inst.batches[0]!.outputNames).toEqual(['OUTPUT0']);
    }
  });

  test('a model without batching runs batch_size requests one by one, without a batch dimension', async () => {
    const inst = new FakeInstance('m_0');
    await warmupInstances(withWarmup([zeroSample({ count: 1 })], 0), tmp.dir, [inst], silentLogger());
    expect(inst.batches.map((b) => b.shapes[0])).toEqual([[4], [4]]);
  });

  test('input_data_file is read from <model>/warmup/, must hold enough bytes and stay inside', async () => {
    const dir = path.join(tmp.dir, 'filemodel');
    mkdirSync(path.join(dir, 'warmup'), { recursive: true });
    writeFileSync(path.join(dir, 'warmup', 'input0.bin'), Buffer.from(Float32Array.of(7, 8, 9, 10, 99).buffer));
    writeFileSync(path.join(dir, 'warmup', 'short.bin'), Buffer.alloc(8));
    writeFileSync(path.join(dir, 'secret.bin'), Buffer.alloc(64));
    const fileSample = (file: string) =>
      withWarmup([{ name: 'file', batchSize: 1, inputs: { INPUT0: { dataType: 11, dims: [4n], inputDataType: { case: 'inputDataFile', value: file } } } }]);
    const inst = new FakeInstance('m_0');
    await warmupInstances(fileSample('input0.bin'), dir, [inst], silentLogger());
    expect(inst.batches[0]!.firstValues).toEqual([7]);

    await expect(warmupInstances(fileSample('short.bin'), dir, [inst], silentLogger())).rejects.toThrow(
      'warmup setting expects 16 bytes, but the data provided from short.binonly has 8 bytes',
    );
    await expect(warmupInstances(fileSample('../secret.bin'), dir, [inst], silentLogger())).rejects.toThrow(/resolves outside/);
    await expect(warmupInstances(fileSample('missing.bin'), dir, [inst], silentLogger())).rejects.toThrow(/unable to read warmup data file/);
  });

  test('variable dimensions, a missing data source and failing executions are load errors', async () => {
    const inst = new FakeInstance('m_0');
    const variable = zeroSample({ inputs: { INPUT0: { dataType: 11, dims: [-1n], inputDataType: { case: 'zeroData', value: true } } } });
    await expect(warmupInstances(withWarmup([variable]), tmp.dir, [inst], silentLogger())).rejects.toThrow(
      "warmup setting expects all variable-size dimensions are specified for input 'INPUT0'",
    );
    const noSource = zeroSample({ inputs: { INPUT0: { dataType: 11, dims: [4n] } } });
    await expect(warmupInstances(withWarmup([noSource]), tmp.dir, [inst], silentLogger())).rejects.toThrow(
      "warmup setting expects input 'INPUT0' to have input_data_type set",
    );
    inst.failWith = new Error('bad input');
    await expect(warmupInstances(withWarmup([zeroSample()]), tmp.dir, [inst], silentLogger())).rejects.toThrow(
      "failed to run warmup sample 'zeros': bad input; ",
    );
  });
});

describe('warmup through the server (onnxruntime)', () => {
  const config = (name: string, input: string) => `
name: "${name}"
backend: "onnxruntime"
max_batch_size: 4
input [ { name: "INPUT0", data_type: TYPE_FP32, dims: [ 4 ] } ]
output [ { name: "OUTPUT0", data_type: TYPE_FP32, dims: [ 4 ] } ]
instance_group [ { kind: KIND_CPU, count: 2 } ]
model_warmup [ { name: "w" batch_size: 4 count: 2 inputs { key: "${input}" value { data_type: TYPE_FP32 dims: [ 4 ] random_data: true } } } ]
`;

  test('a model whose warmup runs becomes READY; one whose warmup fails is UNAVAILABLE with the reason', async () => {
    const repo = tempDir();
    try {
      writeModel(repo.dir, 'good', identityModel('FP32', ['batch', 4]), { config: config('good', 'INPUT0') });
      writeModel(repo.dir, 'bad', identityModel('FP32', ['batch', 4]), { config: config('bad', 'NOPE') });
      const server = await InferenceServer.create({ modelRepositories: [repo.dir], cpuCount: 1 });
      try {
        expect(server.isModelReady('good')).toBe(true);
        expect(server.isModelReady('bad')).toBe(false);
        const failure = server.failures().find((f) => f.name === 'bad');
        expect(failure?.reason).toMatch(/^failed to run warmup sample 'w': model 'bad': .*INPUT0/);
      } finally {
        await server.close();
      }
    } finally {
      repo.cleanup();
    }
  });
});
