/**
 * Model repository behaviour through the real CLI: config errors with file and line,
 * --exit-on-error, readiness, auto-complete, version policies, model-name safety, and
 * graceful shutdown.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HttpClient } from '../../src/client/index.js';
import { addSubModel, identityModel, writeModel } from '../fixtures/onnx-models.js';
import { runUntilExit, startServer, type RunningServer } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-repo.js';

const ADD_SUB_CONFIG = `
name: "simple"
backend: "onnxruntime"
max_batch_size: 8
input [
  { name: "INPUT0" data_type: TYPE_INT32 dims: [ 16 ] },
  { name: "INPUT1" data_type: TYPE_INT32 dims: [ 16 ] }
]
output [
  { name: "OUTPUT0" data_type: TYPE_INT32 dims: [ 16 ] },
  { name: "OUTPUT1" data_type: TYPE_INT32 dims: [ 16 ] }
]
instance_group [ { kind: KIND_CPU count: 1 } ]
`;

const BROKEN_CONFIG = `name: "broken"
backend: "onnxruntime"
max_batch_size: eight
`;

const WRONG_TYPE_CONFIG = ADD_SUB_CONFIG.replace('name: "simple"', 'name: "wrong_type"').replaceAll('TYPE_INT32', 'TYPE_FP32');

function makeRepo(dir: string, opts: { broken?: boolean; wrongType?: boolean } = {}): void {
  writeModel(dir, 'simple', addSubModel(), { config: ADD_SUB_CONFIG });
  // No config.pbtxt: auto-complete derives it from the model.
  writeModel(dir, 'auto', identityModel('FP32', ['batch', 4]));
  writeModel(dir, 'versioned', identityModel('INT32', ['batch', 2]), {
    versions: [1, 2, 3, 10],
    config: 'version_policy: { latest: { num_versions: 2 } }',
  });
  writeModel(dir, 'specific', identityModel('INT32', ['batch', 2]), {
    versions: [1, 2, 3],
    config: 'version_policy: { specific: { versions: [1, 3] } }',
  });
  if (opts.broken) writeModel(dir, 'broken', identityModel('FP32', [4]), { config: BROKEN_CONFIG });
  if (opts.wrongType) writeModel(dir, 'wrong_type', addSubModel(), { config: WRONG_TYPE_CONFIG });
}

describe('start-up failures', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  test('a config that does not parse stops start-up with exit code 1, naming file, line and reason', async () => {
    const repo = path.join(tmp.dir, 'a');
    makeRepo(repo, { broken: true });
    const { code, output } = await runUntilExit(['--model-repository', repo]);
    expect(code).toBe(1);
    expect(output).toContain(`${path.join(repo, 'broken', 'config.pbtxt')}:3:`);
    expect(output).toMatch(/max_batch_size/);
  });

  test('a config that contradicts the model names both sides', async () => {
    const repo = path.join(tmp.dir, 'b');
    makeRepo(repo, { wrongType: true });
    const { code, output } = await runUntilExit(['--model-repository', repo]);
    expect(code).toBe(1);
    expect(output).toMatch(/wrong_type/);
    expect(output).toMatch(/TYPE_FP32/);
    expect(output).toMatch(/TYPE_INT32/);
  });

  test('a missing config with auto-complete disabled is an error', async () => {
    const repo = path.join(tmp.dir, 'c');
    writeModel(repo, 'auto', identityModel('FP32', ['batch', 4]));
    const { code, output } = await runUntilExit(['--model-repository', repo, '--disable-auto-complete-config']);
    expect(code).toBe(1);
    expect(output).toMatch(/config\.pbtxt.*missing/);
  });
});

describe('serving a repository with --exit-on-error=false', () => {
  const tmp = tempDir();
  const outside = tempDir('infera-outside-');
  let server: RunningServer;
  let client: HttpClient;

  beforeAll(async () => {
    makeRepo(tmp.dir, { broken: true });
    writeModel(outside.dir, 'escaped', identityModel('FP32', ['batch', 4]));
    symlinkSync(path.join(outside.dir, 'escaped'), path.join(tmp.dir, 'escaped'));
    mkdirSync(path.join(tmp.dir, 'no_versions'));
    writeFileSync(path.join(tmp.dir, 'no_versions', 'config.pbtxt'), 'backend: "onnxruntime"');
    server = await startServer(['--model-repository', tmp.dir, '--exit-on-error=false']);
    client = new HttpClient({ url: server.url });
  });

  afterAll(async () => {
    await server?.stop();
    tmp.cleanup();
    outside.cleanup();
  });

  test('the other models load; the failed ones are in the model table with their reason', () => {
    const table = server.logs.map((l) => String(l.msg)).find((m) => m.includes('| Model'));
    expect(table).toBeDefined();
    expect(table).toMatch(/\| simple\s+\| 1\s+\| READY/);
    expect(table).toMatch(/\| broken\s+\| -\s+\| UNAVAILABLE: .*config\.pbtxt:3/);
    expect(table).toMatch(/\| escaped\s+\| -\s+\| UNAVAILABLE: .*leaves the model repository/);
    expect(table).toMatch(/\| no_versions\s+\| -\s+\| UNAVAILABLE: at least one version/);
  });

  test('strict readiness: the server is not ready, the good models are', async () => {
    const ready = await fetch(`${server.url}/v2/health/ready`);
    expect(ready.status).toBe(400);
    expect(await client.isServerLive()).toBe(true);
    expect(await client.isModelReady('simple')).toBe(true);
    expect(await client.isModelReady('broken')).toBe(false);
  });

  test('a model that failed to load answers infer with an error', async () => {
    const res = await fetch(`${server.url}/v2/models/broken/infer`, { method: 'POST', body: '{"inputs":[]}' });
    expect(res.status).toBe(404);
    // Its config did not parse, so the model lifecycle never knew it (Triton's GetModel).
    expect(((await res.json()) as { error: string }).error).toBe("Request for unknown model: 'broken' is not found");
  });

  test('simple (add/sub INT32) infers over JSON and binary', async () => {
    const a = Int32Array.from({ length: 16 }, (_, i) => i);
    const b = Int32Array.from({ length: 16 }, () => 1);
    for (const binary of [false, true]) {
      const res = await client.infer({
        model: 'simple',
        inputs: [
          { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: a },
          { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: b },
        ],
        binary,
        binaryOutputs: binary,
      });
      expect(Array.from(res.output('OUTPUT0').data as Int32Array)).toEqual(Array.from(a, (x) => x + 1));
      expect(Array.from(res.output('OUTPUT1').data as Int32Array)).toEqual(Array.from(a, (x) => x - 1));
    }
  });

  test('a subset of outputs can be requested', async () => {
    const a = new Int32Array(16).fill(3);
    const res = await client.infer({
      model: 'simple',
      inputs: [
        { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: a },
        { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: a },
      ],
      outputs: [{ name: 'OUTPUT1' }],
    });
    expect(res.outputs.map((o) => o.name)).toEqual(['OUTPUT1']);
  });

  test('auto-complete derives the config as Triton does for ONNX', async () => {
    const config = await client.modelConfig('auto');
    expect(config).toMatchObject({
      name: 'auto',
      platform: 'onnxruntime_onnx',
      backend: 'onnxruntime',
      max_batch_size: 4,
      input: [{ name: 'INPUT0', data_type: 'TYPE_FP32', dims: [4] }],
      output: [{ name: 'OUTPUT0', data_type: 'TYPE_FP32', dims: [4] }],
      instance_group: [{ name: 'auto', kind: 'KIND_CPU', count: 2 }],
    });
    expect(config.dynamic_batching).toBeDefined();
  });

  test('version policies: latest 2 and specific', async () => {
    expect((await client.modelMetadata('versioned')).versions).toEqual(['3', '10']);
    expect((await client.modelMetadata('specific')).versions).toEqual(['1', '3']);
    const res = await fetch(`${server.url}/v2/models/versioned/versions/1`);
    expect(res.status).toBe(404);
    const infer = await client.infer({
      model: 'specific',
      version: 3,
      inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [1, 2], data: Int32Array.of(5, 6) }],
    });
    expect(infer.modelVersion).toBe('3');
    const latest = await client.infer({ model: 'versioned', inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [1, 2], data: Int32Array.of(1, 2) }] });
    expect(latest.modelVersion).toBe('10');
  });
});

describe('readiness and shutdown', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  test('--strict-readiness=false: ready although a model failed', async () => {
    makeRepo(tmp.dir, { broken: true });
    const server = await startServer(['--model-repository', tmp.dir, '--exit-on-error=false', '--strict-readiness=false']);
    try {
      expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(200);
    } finally {
      expect(await server.stop('SIGINT')).toBe(0);
    }
  });
});
