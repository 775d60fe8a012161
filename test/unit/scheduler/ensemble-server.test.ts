/**
 * Ensembles in the embedded server, on real ONNX Runtime models: a diamond-shaped DAG, a
 * tensor read by two steps, a failing step named in the error, statistics, and the load-time
 * checks (missing model, cycle, datatype and shape mismatches) with Triton's messages.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { InferenceServer } from '../../../src/index.js';
import { tempDir } from '../../e2e/helpers/temp-repo.js';
import {
  diamondConfig,
  ensembleConfig,
  int32,
  int32Values,
  INT32_PAIR_IO,
  writeComposingModels,
  writeEnsemble,
} from './ensemble-fixtures.js';

const tmp = tempDir('infera-ensemble-');
let server: InferenceServer;

const range = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));

beforeAll(async () => {
  const repo = tmp.dir;
  writeComposingModels(repo);
  writeEnsemble(repo, 'diamond', diamondConfig());
  // IN is read by two steps (and big enough that the first reader's instance may move it).
  writeEnsemble(
    repo,
    'fanout',
    ensembleConfig(
      'fanout',
      `max_batch_size: 4
input [ { name: "IN" data_type: TYPE_FP32 dims: [ 4096 ] } ]
output [ { name: "A" data_type: TYPE_FP32 dims: [ 4096 ] }, { name: "B" data_type: TYPE_FP32 dims: [ 4096 ] } ]`,
      [
        { model: 'big_ident', inputs: { INPUT0: 'IN' }, outputs: { OUTPUT0: 'A' } },
        { model: 'big_ident', inputs: { INPUT0: 'IN' }, outputs: { OUTPUT0: 'B' } },
      ],
    ),
  );
  // Variable dims pass the load-time check; a request of 8 values then fails in ident_a.
  writeEnsemble(
    repo,
    'loose',
    ensembleConfig(
      'loose',
      `max_batch_size: 4
input [ { name: "IN" data_type: TYPE_INT32 dims: [ -1 ] } ]
output [ { name: "OUT" data_type: TYPE_INT32 dims: [ -1 ] } ]`,
      [{ model: 'ident_a', inputs: { INPUT0: 'IN' }, outputs: { OUTPUT0: 'OUT' } }],
    ),
  );
  writeEnsemble(
    repo,
    'missing_step',
    ensembleConfig('missing_step', INT32_PAIR_IO, [
      { model: 'no_such_model', inputs: { INPUT0: 'IN0', INPUT1: 'IN1' }, outputs: { OUTPUT0: 'OUT_SUM', OUTPUT1: 'OUT_DIFF' } },
    ]),
  );
  // Two steps feeding each other: neither can ever run.
  writeEnsemble(
    repo,
    'cyclic',
    ensembleConfig(
      'cyclic',
      `max_batch_size: 4
input [ { name: "IN" data_type: TYPE_INT32 dims: [ 16 ] } ]
output [ { name: "OUT" data_type: TYPE_INT32 dims: [ 16 ] } ]`,
      [
        { model: 'add_sub', inputs: { INPUT0: 'IN', INPUT1: 'y' }, outputs: { OUTPUT0: 'x', OUTPUT1: 'OUT' } },
        { model: 'ident_a', inputs: { INPUT0: 'x' }, outputs: { OUTPUT0: 'y' } },
      ],
    ),
  );
  writeEnsemble(
    repo,
    'wrong_type',
    ensembleConfig(
      'wrong_type',
      `max_batch_size: 4
input [ { name: "IN" data_type: TYPE_FP32 dims: [ 16 ] } ]
output [ { name: "OUT" data_type: TYPE_INT32 dims: [ 16 ] } ]`,
      [{ model: 'ident_a', inputs: { INPUT0: 'IN' }, outputs: { OUTPUT0: 'OUT' } }],
    ),
  );
  writeEnsemble(
    repo,
    'wrong_shape',
    ensembleConfig(
      'wrong_shape',
      `max_batch_size: 4
input [ { name: "IN" data_type: TYPE_INT32 dims: [ 8 ] } ]
output [ { name: "OUT" data_type: TYPE_INT32 dims: [ 16 ] } ]`,
      [{ model: 'ident_a', inputs: { INPUT0: 'IN' }, outputs: { OUTPUT0: 'OUT' } }],
    ),
  );
  server = await InferenceServer.create({ modelRepositories: [repo], cpuCount: 2 });
}, 60_000);

afterAll(async () => {
  await server?.close();
  tmp.cleanup();
});

function reasonOf(name: string): string | undefined {
  return server.repositoryIndex().find((r) => r.name === name)?.reason;
}

describe('ensemble scheduling', () => {
  test('a diamond-shaped DAG runs end to end', async () => {
    const a = range(32, (i) => i);
    const b = range(32, (i) => 100 - i);
    const res = await server.infer({
      id: 'd1',
      modelName: 'diamond',
      inputs: [
        { name: 'IN0', datatype: 'INT32', shape: [2, 16], data: int32(a) },
        { name: 'IN1', datatype: 'INT32', shape: [2, 16], data: int32(b) },
      ],
    });
    expect(res).toMatchObject({ id: 'd1', modelName: 'diamond', modelVersion: '1' });
    expect(res.outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual([
      ['OUT_SUM', 'INT32', [2, 16]],
      ['OUT_DIFF', 'INT32', [2, 16]],
    ]);
    expect(int32Values(res.outputs[0]!.data)).toEqual(a.map((x) => 2 * x));
    expect(int32Values(res.outputs[1]!.data)).toEqual(b.map((x) => 2 * x));
  });

  test('requested outputs come back in the order asked for', async () => {
    const res = await server.infer({
      modelName: 'diamond',
      inputs: [
        { name: 'IN0', datatype: 'INT32', shape: [1, 16], data: int32(range(16, () => 3)) },
        { name: 'IN1', datatype: 'INT32', shape: [1, 16], data: int32(range(16, () => 1)) },
      ],
      outputs: [{ name: 'OUT_DIFF' }],
    });
    expect(res.outputs.map((o) => o.name)).toEqual(['OUT_DIFF']);
    expect(int32Values(res.outputs[0]!.data)).toEqual(range(16, () => 2));
  });

  test('concurrent requests each get their own results', async () => {
    const runs = range(12, (k) =>
      server
        .infer({
          modelName: 'diamond',
          inputs: [
            { name: 'IN0', datatype: 'INT32', shape: [1, 16], data: int32(range(16, () => k)) },
            { name: 'IN1', datatype: 'INT32', shape: [1, 16], data: int32(range(16, () => 100 - k)) },
          ],
        })
        .then((r) => [int32Values(r.outputs[0]!.data)[0], int32Values(r.outputs[1]!.data)[0]]),
    );
    expect(await Promise.all(runs)).toEqual(range(12, (k) => [2 * k, 200 - 2 * k]));
  });

  test('a tensor read by two steps reaches both intact', async () => {
    const values = Float32Array.from(range(2 * 4096, (i) => i * 0.5));
    // The server owns request buffers once queued (it may move them to a worker): send a copy.
    const res = await server.infer({
      modelName: 'fanout',
      inputs: [{ name: 'IN', datatype: 'FP32', shape: [2, 4096], data: new Uint8Array(values.slice().buffer) }],
    });
    for (const out of res.outputs) {
      expect(out.shape).toEqual([2, 4096]);
      expect(new Float32Array(out.data.slice().buffer)).toEqual(values);
    }
  });

  test('a failing step fails the request with the step named, and the ensemble keeps serving', async () => {
    await expect(
      server.infer({ modelName: 'loose', inputs: [{ name: 'IN', datatype: 'INT32', shape: [1, 8], data: int32(range(8, (i) => i)) }] }),
    ).rejects.toThrow(
      "in ensemble 'loose', step 0 (model 'ident_a'): [request id: <id_unknown>] unexpected shape for input 'INPUT0' for model 'ident_a'. Expected [-1,16], got [1,8].",
    );
    const ok = await server.infer({
      modelName: 'loose',
      inputs: [{ name: 'IN', datatype: 'INT32', shape: [1, 16], data: int32(range(16, (i) => i)) }],
    });
    expect(int32Values(ok.outputs[0]!.data)).toEqual(range(16, (i) => i));
  });

  test('metadata and config come from the ensemble config', () => {
    expect(server.modelMetadata('diamond')).toMatchObject({
      platform: 'ensemble',
      inputs: [
        { name: 'IN0', datatype: 'INT32', shape: [-1, 16] },
        { name: 'IN1', datatype: 'INT32', shape: [-1, 16] },
      ],
    });
    const config = server.modelConfigJson('diamond');
    expect(config).toMatchObject({ platform: 'ensemble', backend: '', instance_group: [] });
    expect((config.ensemble_scheduling as { step: unknown[] }).step).toHaveLength(4);
    // Triton's ensemble check sets the transaction policy from the composing models (none
    // decoupled here), so the ensemble's config always has one.
    expect(config.model_transaction_policy).toEqual({ decoupled: false });
  });

  test('statistics: one execution per ensemble request; composing failures count as OTHER', () => {
    const stats = server.modelStatistics('loose').model_stats[0] as {
      inference_stats: { success: { count: number }; fail: { count: number } };
      execution_count: number;
    };
    expect(stats.inference_stats.success.count).toBe(1);
    // The failed step request and the failed ensemble request (Triton's metrics note).
    expect(stats.inference_stats.fail.count).toBe(2);
    const ident = server.modelStatistics('ident_a').model_stats[0] as { inference_stats: { success: { count: number } } };
    expect(ident.inference_stats.success.count).toBeGreaterThan(0);
  });
});

describe('ensemble load-time checks', () => {
  test('a step naming a model no repository has leaves the ensemble UNAVAILABLE', () => {
    // It never reached the model lifecycle: unknown to lookups, as in Triton.
    expect(() => server.isModelReady('missing_step')).toThrow("Request for unknown model: 'missing_step' is not found");
    expect(reasonOf('missing_step')).toBe('ensemble missing_step contains models that are not available or ambiguous: no_such_model');
  });

  test('steps that feed each other are refused, naming the cycle', () => {
    // Its config fails before the model lifecycle knows it: unknown to lookups, as in Triton.
    expect(() => server.isModelReady('cyclic')).toThrow("Request for unknown model: 'cyclic' is not found");
    expect(reasonOf('cyclic')).toMatch(/^output 'OUT' for ensemble 'cyclic' is not written: at least one of its depending tensors, '[xy]', is not connected/);
    expect(reasonOf('cyclic')).toMatch(/the ensemble tensors form a cycle: (x -> y -> x|y -> x -> y)/);
  });

  test('datatype and shape mismatches are refused with Triton\'s messages', () => {
    expect(reasonOf('wrong_type')).toBe(
      'in ensemble wrong_type, ensemble tensor IN: inconsistent data type: TYPE_FP32 is inferred from model wrong_type while TYPE_INT32 is inferred from model ident_a',
    );
    expect(reasonOf('wrong_shape')).toBe(
      'in ensemble wrong_shape, ensemble tensor IN: inconsistent shape: [-1,8] is inferred from model wrong_shape while [-1,16] is inferred from model ident_a',
    );
  });

  test('the models that did load still serve', () => {
    expect(server.isModelReady('diamond')).toBe(true);
    // Strict readiness covers the models the lifecycle knows (Triton's IsReady); every failure
    // here came before that (a config or dependency error), so the server is ready.
    expect(server.isReady()).toBe(true);
  });
});
