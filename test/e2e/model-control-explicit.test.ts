/**
 * Explicit model control through the real CLI and HTTP: the repository extension (index,
 * load, unload), config and `file:` overrides, the CVE-2023-31036 path checks (on the file
 * system), unload_dependents, readiness, and Triton's errors.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HttpClient } from '../../src/client/index.js';
import { addSubModel, identityModel, writeModel } from '../fixtures/onnx-models.js';
import { runUntilExit, startServer, type RunningServer } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-repo.js';

const ONE_INSTANCE = 'backend: "onnxruntime"\ninstance_group [ { kind: KIND_CPU count: 1 } ]\n';
const CONFIG_JSON = JSON.stringify({ backend: 'onnxruntime', max_batch_size: 2, instance_group: [{ kind: 'KIND_CPU', count: 1 }] });

const repo = tempDir();
// The server writes override folders under TMPDIR: a private one shows exactly what it wrote.
const serverTmp = tempDir('infera-server-tmp-');
let server: RunningServer;
let client: HttpClient;

beforeAll(async () => {
  writeModel(repo.dir, 'simple', addSubModel(), { config: ONE_INSTANCE });
  writeModel(repo.dir, 'ident', identityModel('FP32', ['batch', 4]), { config: ONE_INSTANCE });
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = serverTmp.dir;
  try {
    server = await startServer([
      '--model-repository', repo.dir,
      '--model-control-mode', 'explicit',
      '--load-model', 'simple',
      '--model-load-allow-file-override',
    ]);
  } finally {
    process.env.TMPDIR = previous;
  }
  client = new HttpClient({ url: server.url });
});

afterAll(async () => {
  await server?.stop();
  repo.cleanup();
  serverTmp.cleanup();
});

async function post(url: string, body?: unknown): Promise<{ status: number; text: string }> {
  const res = await fetch(`${server.url}${url}`, { method: 'POST', body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, text: await res.text() };
}

function errorOf(r: { text: string }): string {
  return (JSON.parse(r.text) as { error: string }).error;
}

async function inferIdent(model: string): Promise<number[]> {
  const res = await client.infer({ model, inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [1, 4], data: Float32Array.of(1, 2, 3, 4) }] });
  return Array.from(res.output('OUTPUT0').data as Float32Array);
}

describe('model control: explicit', () => {
  test('server metadata lists the repository extension', async () => {
    const { extensions } = (await client.serverMetadata()) as { extensions: string[] };
    expect(extensions).toContain('model_repository');
    expect(extensions).toContain('model_repository(unload_dependents)');
  });

  test('index: every folder, never-loaded models by name only; ready filter; a non-bool is 400', async () => {
    const all = await post('/v2/repository/index');
    expect(all.status).toBe(200);
    expect(JSON.parse(all.text)).toEqual([{ name: 'ident' }, { name: 'simple', version: '1', state: 'READY' }]);
    expect(await client.repositoryIndex({ ready: true })).toEqual([{ name: 'simple', version: '1', state: 'READY' }]);
    const bad = await post('/v2/repository/index', { ready: 'yes' });
    expect(bad.status).toBe(400);
    expect(errorOf(bad)).toBe("Invalid value for 'ready': expected a boolean");
    expect((await fetch(`${server.url}/v2/repository/index`)).status).toBe(405);
  });

  test('load, infer, config override, plain load reverts', async () => {
    await client.loadModel('ident');
    expect(await inferIdent('ident')).toEqual([1, 2, 3, 4]);
    expect((await client.modelConfig('ident')).max_batch_size).toBe(4);
    await client.loadModel('ident', { config: CONFIG_JSON });
    expect((await client.modelConfig('ident')).max_batch_size).toBe(2);
    await client.loadModel('ident');
    expect((await client.modelConfig('ident')).max_batch_size).toBe(4);
    expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(200);
  });

  test('file: override loads a model from the request into a temporary folder', async () => {
    const onnx = Buffer.from(identityModel('FP32', ['batch', 4])).toString('base64');
    const r = await post('/v2/repository/models/uploaded/load', { parameters: { config: CONFIG_JSON, 'file:5/model.onnx': onnx } });
    expect(r).toEqual({ status: 200, text: '' });
    expect(await inferIdent('uploaded')).toEqual([1, 2, 3, 4]);
    expect(await client.repositoryIndex({ ready: true })).toContainEqual({ name: 'uploaded', version: '5', state: 'READY' });
    expect(readdirSync(serverTmp.dir).filter((f) => f.startsWith('infera-model-'))).toHaveLength(1);
    await client.unloadModel('uploaded');
    expect(readdirSync(serverTmp.dir).filter((f) => f.startsWith('infera-model-'))).toHaveLength(0);
  });

  test('file:../../escape is refused with INVALID_ARG and nothing is written anywhere', async () => {
    const before = readdirSync(serverTmp.dir);
    for (const name of ['file:../../escape', 'file:../escape', 'file:1/../../../escape', 'file:/tmp/escape']) {
      const r = await post('/v2/repository/models/evil/load', { parameters: { config: CONFIG_JSON, [name]: 'cHduZWQ=' } });
      expect(r.status).toBe(400);
      expect(errorOf(r)).toMatch(/^failed to load 'evil', failed to poll from model repository: Invalid file parameter/);
    }
    expect(readdirSync(serverTmp.dir)).toEqual(before);
    for (const dir of [serverTmp.dir, path.dirname(serverTmp.dir), repo.dir, path.dirname(repo.dir)]) {
      expect(existsSync(path.join(dir, 'escape'))).toBe(false);
    }
    const noConfig = await post('/v2/repository/models/evil/load', { parameters: { 'file:1/model.onnx': 'AAAA' } });
    expect(noConfig.status).toBe(400);
    expect(errorOf(noConfig)).toContain("Load parameter 'config' must be specified for model file override");
  });

  test('a file: override that carries code (a JavaScript model) is refused without --model-load-allow-code-override', async () => {
    const before = readdirSync(serverTmp.dir);
    const config = JSON.stringify({ backend: 'javascript', max_batch_size: 0, input: [{ name: 'IN', data_type: 'TYPE_INT32', dims: [1] }], output: [{ name: 'OUT', data_type: 'TYPE_INT32', dims: [1] }] });
    const code = Buffer.from("import { writeFileSync } from 'node:fs'; writeFileSync('/tmp/pwned', 'x');").toString('base64');
    const r = await post('/v2/repository/models/js/load', { parameters: { config, 'file:1/model.mjs': code } });
    expect(r.status).toBe(501);
    expect(errorOf(r)).toMatch(/^failed to load 'js': file overrides that carry code \('file:1\/model.mjs'\) are disabled/);
    expect(readdirSync(serverTmp.dir)).toEqual(before);
    expect((await fetch(`${server.url}/v2/models/js/ready`)).status).not.toBe(200);
  });

  test("Triton's errors: unknown model, bad parameters, repository name", async () => {
    const unknown = await post('/v2/repository/models/nope/load');
    expect(unknown.status).toBe(500);
    expect(errorOf(unknown)).toBe("failed to load 'nope', failed to poll from model repository");
    const badConfig = await post('/v2/repository/models/ident/load', { parameters: { config: '{"max_batch_size": [' } });
    expect(badConfig.status).toBe(400);
    expect(errorOf(badConfig)).toContain('Invalid config override');
    const notString = await post('/v2/repository/models/ident/load', { parameters: { config: 1 } });
    expect(errorOf(notString)).toBe('attempt to access JSON non-string as string');
    const badUnload = await post('/v2/repository/models/ident/unload', { parameters: { unload_dependents: 'yes' } });
    expect(badUnload.status).toBe(400);
    expect(errorOf(badUnload)).toBe("Unable to parse 'unload_dependents': attempt to access JSON non-boolean as boolean");
    const repoName = await post('/v2/repository/r/models/ident/load');
    expect(repoName.status).toBe(501);
    // The server keeps serving.
    expect(await inferIdent('ident')).toEqual([1, 2, 3, 4]);
  });

  test('unload with unload_dependents: the model is unloaded and the server stays ready', async () => {
    const r = await post('/v2/repository/models/ident/unload', { parameters: { unload_dependents: true } });
    expect(r).toEqual({ status: 200, text: '' });
    expect((await client.repositoryIndex()).find((row) => row.name === 'ident')).toEqual({
      name: 'ident',
      version: '1',
      state: 'UNAVAILABLE',
      reason: 'unloaded',
    });
    expect(await client.isModelReady('ident')).toBe(false);
    expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(200);
    const infer = await fetch(`${server.url}/v2/models/ident/infer`, { method: 'POST', body: '{"inputs":[]}' });
    expect(infer.status).toBe(404);
  });
});

describe('model control flags', () => {
  test('a --load-model that is in no repository fails start-up (--exit-on-error)', async () => {
    const { code, output } = await runUntilExit(['--model-repository', repo.dir, '--model-control-mode', 'explicit', '--load-model', 'nope']);
    expect(code).toBe(1);
    expect(output).toContain("failed to load 'nope': model not found in any model repository");
  });

  test("tritonserver's flag checks", async () => {
    const loadWithoutExplicit = await runUntilExit(['--model-repository', repo.dir, '--load-model', 'simple']);
    expect(loadWithoutExplicit.code).toBe(1);
    expect(loadWithoutExplicit.output).toContain("Use of '--load-model' requires setting '--model-control-mode=explicit' as well.");
    const badMode = await runUntilExit(['--model-repository', repo.dir, '--model-control-mode', 'sometimes']);
    expect(badMode.code).toBe(1);
    expect(badMode.output).toContain('invalid argument for --model-control-mode');
  });

  test("--strict-model-config prints tritonserver's deprecation warnings", async () => {
    const deprecated = "Warning: '--strict-model-config' has been deprecated! Please use '--disable-auto-complete-config' instead.";
    const overriding = "Warning: Overriding deprecated '--strict-model-config' from False to True in favor of '--disable-auto-complete-config'!";
    // '--load-model' without explicit mode ends start-up right after the flags are read.
    const strict = await runUntilExit(['--model-repository', repo.dir, '--strict-model-config=true', '--load-model', 'simple']);
    expect(strict.code).toBe(1);
    expect(strict.output).toContain(deprecated);
    expect(strict.output).not.toContain(overriding);
    const both = await runUntilExit(['--model-repository', repo.dir, '--strict-model-config=false', '--disable-auto-complete-config', '--load-model', 'simple']);
    expect(both.output).toContain(deprecated);
    expect(both.output).toContain(overriding);
    const neither = await runUntilExit(['--model-repository', repo.dir, '--load-model', 'simple']);
    expect(neither.output).not.toContain(deprecated);
  });
});
