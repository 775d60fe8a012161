/**
 * Ensembles through the real CLI (explicit model control): a diamond-shaped ensemble over
 * HTTP (binary and JSON) and gRPC, a failing step named in the error with Triton's status,
 * failure metrics with reason OTHER, and unload_dependents over the repository API.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GrpcClient, HttpClient, InferaClientError } from '../../src/client/index.js';
import { diamondConfig, ensembleConfig, writeComposingModels, writeEnsemble } from '../unit/scheduler/ensemble-fixtures.js';
import { startServer, type RunningServer } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-repo.js';

const tmp = tempDir('infera-e2e-ensemble-');
let server: RunningServer;
let http: HttpClient;
let grpc: GrpcClient;

const IN0 = Int32Array.from({ length: 16 }, (_, i) => i);
const IN1 = Int32Array.from({ length: 16 }, (_, i) => 50 - i);

const diamondInputs = () => [
  { name: 'IN0', datatype: 'INT32' as const, shape: [1, 16], data: IN0 },
  { name: 'IN1', datatype: 'INT32' as const, shape: [1, 16], data: IN1 },
];

beforeAll(async () => {
  writeComposingModels(tmp.dir);
  writeEnsemble(tmp.dir, 'diamond', diamondConfig());
  writeEnsemble(
    tmp.dir,
    'loose',
    ensembleConfig(
      'loose',
      `max_batch_size: 4
input [ { name: "IN" data_type: TYPE_INT32 dims: [ -1 ] } ]
output [ { name: "OUT" data_type: TYPE_INT32 dims: [ -1 ] } ]`,
      [{ model: 'ident_a', inputs: { INPUT0: 'IN' }, outputs: { OUTPUT0: 'OUT' } }],
    ),
  );
  server = await startServer([
    '--model-repository',
    tmp.dir,
    '--model-control-mode',
    'explicit',
    '--load-model',
    'diamond',
    '--load-model',
    'loose',
  ]);
  http = new HttpClient({ url: server.url });
  grpc = new GrpcClient({ url: server.grpcUrl! });
}, 60_000);

afterAll(async () => {
  grpc?.close();
  await server?.stop();
  tmp.cleanup();
});

describe('ensemble over the wire', () => {
  test('HTTP, binary and JSON', async () => {
    for (const binary of [true, false]) {
      const res = await http.infer({ model: 'diamond', inputs: diamondInputs(), binary, binaryOutputs: binary });
      expect(res.modelName).toBe('diamond');
      expect(Array.from(res.output('OUT_SUM').data as Int32Array)).toEqual(Array.from(IN0, (x) => 2 * x));
      expect(Array.from(res.output('OUT_DIFF').data as Int32Array)).toEqual(Array.from(IN1, (x) => 2 * x));
    }
  });

  test('gRPC', async () => {
    const res = await grpc.infer({ model: 'diamond', inputs: diamondInputs(), outputs: [{ name: 'OUT_DIFF' }] });
    expect(res.outputs.map((o) => o.name)).toEqual(['OUT_DIFF']);
    expect(Array.from(res.output('OUT_DIFF').data as Int32Array)).toEqual(Array.from(IN1, (x) => 2 * x));
  });

  test('a failing step: 400 naming the step, counted as OTHER for the ensemble', async () => {
    const err = await http
      .infer({ model: 'loose', inputs: [{ name: 'IN', datatype: 'INT32', shape: [1, 3], data: [1, 2, 3] }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InferaClientError);
    expect((err as InferaClientError).status).toBe(400);
    expect((err as Error).message).toContain("in ensemble 'loose', step 0 (model 'ident_a'): ");
    expect((err as Error).message).toContain("unexpected shape for input 'INPUT0' for model 'ident_a'");
    const metrics = await (await fetch(`${server.metricsUrl}/metrics`)).text();
    expect(metrics).toMatch(/nv_inference_request_failure\{model="loose",version="1",reason="OTHER"\} 2/);
    expect(metrics).toMatch(/nv_inference_request_success\{model="diamond",version="1"\} [1-9]/);
  });

  test('unload_dependents over the repository API', async () => {
    await http.unloadModel('diamond', { unloadDependents: true });
    const ready = (await http.repositoryIndex({ ready: true })).map((r) => r.name).sort();
    // ident_a stays: the ensemble 'loose' still uses it.
    expect(ready).toEqual(['ident_a', 'loose']);
  });
});
