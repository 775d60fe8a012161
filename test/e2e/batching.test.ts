/**
 * Dynamic batching, the response cache and warmup through the real CLI: concurrent clients
 * on a batching `simple` model each get their own sums and differences back while the
 * statistics show that requests shared executions; `--cache-config` serves repeats from the
 * cache; a bad `--cache-config` stops start-up.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HttpClient } from '../../src/client/index.js';
import { addSubModel, writeModel } from '../fixtures/onnx-models.js';
import { runUntilExit, startServer, type RunningServer } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-repo.js';

const simpleConfig = (name: string, extra: string) => `
name: "${name}"
backend: "onnxruntime"
max_batch_size: 8
input [
  { name: "INPUT0", data_type: TYPE_INT32, dims: [ 16 ] },
  { name: "INPUT1", data_type: TYPE_INT32, dims: [ 16 ] }
]
output [
  { name: "OUTPUT0", data_type: TYPE_INT32, dims: [ 16 ] },
  { name: "OUTPUT1", data_type: TYPE_INT32, dims: [ 16 ] }
]
instance_group [ { kind: KIND_CPU, count: 1 } ]
${extra}
`;

const tmp = tempDir();
let server: RunningServer;
let client: HttpClient;

beforeAll(async () => {
  writeModel(tmp.dir, 'batched', addSubModel(), {
    config: simpleConfig(
      'batched',
      `dynamic_batching { preferred_batch_size: [ 4, 8 ] max_queue_delay_microseconds: 20000 }
       model_warmup [ { name: "zeros" batch_size: 8 inputs [
         { key: "INPUT0" value { data_type: TYPE_INT32 dims: [ 16 ] zero_data: true } },
         { key: "INPUT1" value { data_type: TYPE_INT32 dims: [ 16 ] zero_data: true } } ] } ]`,
    ),
  });
  writeModel(tmp.dir, 'cached', addSubModel(), { config: simpleConfig('cached', 'response_cache { enable: true }') });
  server = await startServer(['--model-repository', tmp.dir, '--cache-config', 'local,size=1048576']);
  client = new HttpClient({ url: server.url });
});

afterAll(async () => {
  await server?.stop();
  tmp.cleanup();
});

interface Stats {
  inference_count: number;
  execution_count: number;
  inference_stats: { success: { count: number }; cache_hit: { count: number } };
}

async function stats(model: string): Promise<Stats> {
  const res = await fetch(`${server.url}/v2/models/${model}/stats`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { model_stats: Stats[] }).model_stats[0]!;
}

function inputs(k: number, rows = 1) {
  const a = Int32Array.from({ length: 16 * rows }, (_, i) => k * 1000 + i);
  const b = Int32Array.from({ length: 16 * rows }, (_, i) => k - i);
  return {
    a,
    b,
    inputs: [
      { name: 'INPUT0', datatype: 'INT32' as const, shape: [rows, 16], data: a },
      { name: 'INPUT1', datatype: 'INT32' as const, shape: [rows, 16], data: b },
    ],
  };
}

describe('dynamic batching through the CLI', () => {
  test('concurrent clients each get their own results; requests share executions', async () => {
    const before = await stats('batched');
    const N = 48;
    const results = await Promise.all(
      Array.from({ length: N }, async (_, k) => {
        const rows = 1 + (k % 3);
        const req = inputs(k, rows);
        const res = await client.infer({ model: 'batched', id: `r${k}`, inputs: req.inputs });
        return { k, rows, req, res };
      }),
    );
    for (const { k, rows, req, res } of results) {
      expect(res.id).toBe(`r${k}`);
      const sum = res.output('OUTPUT0');
      const diff = res.output('OUTPUT1');
      expect(sum.shape).toEqual([rows, 16]);
      expect(Array.from(sum.data as Int32Array)).toEqual(Array.from(req.a, (v, i) => v + req.b[i]!));
      expect(Array.from(diff.data as Int32Array)).toEqual(Array.from(req.a, (v, i) => v - req.b[i]!));
    }
    const after = await stats('batched');
    const inferences = after.inference_count - before.inference_count;
    const executions = after.execution_count - before.execution_count;
    expect(inferences).toBe(results.reduce((n, r) => n + r.rows, 0));
    expect(executions).toBeLessThan(N);
  });

  test('a repeated request is answered from the response cache', async () => {
    const req = inputs(7);
    const first = await client.infer({ model: 'cached', inputs: req.inputs });
    const second = await client.infer({ model: 'cached', inputs: req.inputs });
    expect(Array.from(second.output('OUTPUT0').data as Int32Array)).toEqual(Array.from(first.output('OUTPUT0').data as Int32Array));
    const s = await stats('cached');
    expect(s.execution_count).toBe(1);
    expect(s.inference_stats.success.count).toBe(2);
    expect(s.inference_stats.cache_hit.count).toBe(1);
  });

  test('a malformed --cache-config stops start-up with the reason', async () => {
    const exited = await runUntilExit(['--model-repository', tmp.dir, '--cache-config', 'size=5']);
    expect(exited.code).toBe(1);
    expect(exited.output).toContain('No cache specified. --cache-config option format is <cache name>,<setting>=<value>. Got size=5');
  });
});
