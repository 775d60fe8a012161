/**
 * Instance groups: startVersion creates `count` instances per KIND_CPU group, named
 * `<group>_<index>` as Triton names them, and the schedulers run batches on them in parallel.
 */
import { create } from '@bufbuild/protobuf';
import { describe, expect, test } from 'vitest';
import type { Backend, InstanceOptions, ModelInstance } from '../../../src/backends/backend.js';
import { BatchingInstance, batchingOptions } from '../../../src/backends/batching-instance.js';
import { normalizeModelConfig } from '../../../src/config/index.js';
import { ModelInstanceGroupSchema, ModelInstanceGroup_Kind } from '../../../src/generated/model_config_pb.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { startVersion } from '../../../src/repository/model-loader.js';
import { ModelVersion } from '../../../src/repository/model-version.js';
import { FakeInstance, fp32Config, payload, tick } from './dynamic-fakes.js';

class FakeBackend implements Backend {
  readonly name = 'onnxruntime';
  readonly created: InstanceOptions[] = [];
  readonly instances: FakeInstance[] = [];
  async readModelMetadata(): Promise<never> {
    throw new Error('not used');
  }
  async createInstance(options: InstanceOptions): Promise<ModelInstance> {
    this.created.push(options);
    const inst = new FakeInstance(options.name, { hold: true });
    this.instances.push(inst);
    return new BatchingInstance(inst, batchingOptions(options.config));
  }
}

async function load(dynamic: Record<string, unknown> | undefined, groups: { name?: string; count: number }[]) {
  let config = fp32Config({ maxBatchSize: 4, dynamic });
  config.backend = 'onnxruntime';
  config.instanceGroup = groups.map((g) => create(ModelInstanceGroupSchema, { ...g, kind: ModelInstanceGroup_Kind.CPU }));
  config = normalizeModelConfig(config, { gpuCount: 0 });
  const mv = new ModelVersion('fake', 1);
  mv.config = config;
  const backend = new FakeBackend();
  await startVersion(mv, '/nonexistent', backend, 1, silentLogger());
  return { mv, backend };
}

describe('instance groups', () => {
  test('count instances per KIND_CPU group, named <group>_<index>', async () => {
    const { mv, backend } = await load(undefined, [{ name: 'cpu_group', count: 3 }, { count: 1 }]);
    expect(mv.scheduler).toBeDefined();
    expect(backend.created.map((o) => [o.name, o.kind])).toEqual([
      ['cpu_group_0', 'KIND_CPU'],
      ['cpu_group_1', 'KIND_CPU'],
      ['cpu_group_2', 'KIND_CPU'],
      ['fake_1_0', 'KIND_CPU'],
    ]);
    expect(mv.instances.map((i) => i.name)).toEqual(['cpu_group_0', 'cpu_group_1', 'cpu_group_2', 'fake_1_0']);
  });

  for (const [label, dynamic] of [
    ['default scheduler', undefined],
    ['dynamic batcher', { preferredBatchSize: [1] }],
  ] as const) {
    test(`${label}: each batch goes to a free instance, all instances run at once`, async () => {
      const { mv, backend } = await load(dynamic, [{ name: 'g', count: 3 }]);
      const results = [0, 1, 2, 3].map((v) => mv.scheduler!.enqueue(payload(v)));
      await tick();
      // Three requests run, one on each instance; the fourth waits for a free one.
      expect(backend.instances.map((i) => i.running)).toEqual([1, 1, 1]);
      expect(mv.scheduler!.inflightCount).toBe(3);
      expect(mv.scheduler!.pendingCount).toBe(1);
      backend.instances[1]!.release();
      await tick();
      expect(backend.instances[1]!.batches).toHaveLength(2);
      for (const i of backend.instances) while (i.held > 0) i.release();
      await tick();
      for (const i of backend.instances) while (i.held > 0) i.release();
      await Promise.all(results);
    });
  }
});
