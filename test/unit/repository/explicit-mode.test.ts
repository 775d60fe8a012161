/**
 * Explicit model control through the repository manager: start-up models, load, reload with a
 * config override and back, unload, the index, readiness, and the errors Triton gives.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { ModelRepositoryManager } from '../../../src/repository/model-repository-manager.js';
import { identityModel } from '../../fixtures/onnx-models.js';
import { tempDir } from '../../e2e/helpers/temp-repo.js';
import { configFile, createManager, infer, nextTick, writeIdentity } from './helpers.js';

const tmp = tempDir('infera-explicit-');
// Override folders go to os.tmpdir(): a private one lets the test see exactly what was written.
const privateTmp = tempDir('infera-tmpdir-');
process.env.TMPDIR = privateTmp.dir;
afterAll(() => {
  tmp.cleanup();
  privateTmp.cleanup();
});

let manager: ModelRepositoryManager | undefined;
afterEach(async () => {
  await manager?.unloadAll();
  manager = undefined;
});

let n = 0;
function repo(): string {
  const dir = path.join(tmp.dir, `r${n++}`);
  writeIdentity(dir, 'a', [1, 2]);
  writeIdentity(dir, 'b');
  return dir;
}

const CONFIG_JSON = JSON.stringify({ backend: 'onnxruntime', max_batch_size: 2, instance_group: [{ kind: 'KIND_CPU', count: 1 }] });

describe('explicit mode', () => {
  test('only the start-up models load; the others are listed by name only', async () => {
    manager = createManager(repo(), { controlMode: 'explicit', startupModels: ['a'] });
    await manager.loadAll();
    expect(manager.index()).toEqual([
      { name: 'a', version: '2', state: 'READY' },
      { name: 'b' },
    ]);
    expect(manager.index(true)).toEqual([{ name: 'a', version: '2', state: 'READY' }]);
    expect(manager.failures()).toEqual([]);
    expect(manager.allModelsReady()).toBe(true);
    expect(() => manager!.getReady('b')).toThrow("Request for unknown model: 'b' is not found");
  });

  test("'*' loads every model, and only alone", async () => {
    const dir = repo();
    expect(() => createManager(dir, { controlMode: 'explicit', startupModels: ['*', 'a'] })).toThrow(
      "Wildcard model name '*' must be the ONLY startup model if specified at all.",
    );
    manager = createManager(dir, { controlMode: 'explicit', startupModels: ['*'] });
    await manager.loadAll();
    expect(manager.index(true).map((r) => r.name)).toEqual(['a', 'b']);
  });

  test('a start-up model that is in no repository is a start-up failure', async () => {
    manager = createManager(repo(), { controlMode: 'explicit', startupModels: ['nope'] });
    await manager.loadAll();
    expect(manager.failures()).toEqual([{ name: 'nope', reason: 'model not found in any model repository' }]);
  });

  test('load, infer, unload; a second plain load of unchanged files does nothing', async () => {
    manager = createManager(repo(), { controlMode: 'explicit' });
    await manager.loadAll();
    await manager.load('b');
    const served = manager.getReady('b');
    expect(await infer(manager, 'b', [3, 4])).toEqual({ version: 1, output: [3, 4] });
    await manager.load('b');
    expect(manager.getReady('b')).toBe(served);

    await manager.unload('b');
    expect(manager.index().filter((r) => r.name === 'b')).toEqual([{ name: 'b', version: '1', state: 'UNAVAILABLE', reason: 'unloaded' }]);
    expect(() => manager!.getReady('b')).toThrow("Request for unknown model: 'b' has no available versions");
    expect(manager.allModelsReady()).toBe(true); // unloaded versions do not count (Triton)
    await manager.unload('never-loaded'); // a no-op, as in Triton
  });

  test('a config override reloads; the next plain load reverts to the files', async () => {
    const dir = repo();
    manager = createManager(dir, { controlMode: 'explicit', startupModels: ['b'] });
    await manager.loadAll();
    expect(manager.config('b').maxBatchSize).toBe(4); // auto-complete's default
    await manager.load('b', { config: CONFIG_JSON });
    expect(manager.config('b').maxBatchSize).toBe(2);
    await manager.load('b');
    expect(manager.config('b').maxBatchSize).toBe(4);
  });

  test('a changed model reloads on a plain load', async () => {
    const dir = repo();
    manager = createManager(dir, { controlMode: 'explicit', startupModels: ['b'] });
    await manager.loadAll();
    await nextTick();
    writeFileSync(configFile(dir, 'b'), 'backend: "onnxruntime"\nmax_batch_size: 3\ninstance_group [ { kind: KIND_CPU count: 1 } ]\n');
    await manager.load('b');
    expect(manager.config('b').maxBatchSize).toBe(3);
  });

  test("Triton's errors: mode, name, unknown model, bad override, failed version", async () => {
    const dir = repo();
    const none = createManager(dir);
    await none.loadAll();
    await expect(none.load('a')).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: 'explicit model load / unload is not allowed if polling is enabled',
    });
    await expect(none.unload('a')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await none.unloadAll();

    manager = createManager(dir, { controlMode: 'explicit' });
    await manager.loadAll();
    await expect(manager.load('../a')).rejects.toMatchObject({
      code: 'INVALID_ARG',
      message: "invalid model name '../a', model name must not contain path traversal characters",
    });
    await expect(manager.load('nope')).rejects.toMatchObject({
      code: 'INTERNAL',
      message: "failed to load 'nope', failed to poll from model repository",
    });
    await expect(manager.load('a', { config: '{"max_batch_size": "x"' })).rejects.toMatchObject({
      code: 'INVALID_ARG',
      message: expect.stringMatching(/^failed to load 'a', failed to poll from model repository: Invalid config override: /),
    });
    await expect(manager.load('a', { config: '{"name": "other"}' })).rejects.toMatchObject({
      code: 'INVALID_ARG',
      message: expect.stringContaining("unexpected directory name 'a' for model 'other'"),
    });
    await expect(manager.load('a', { files: new Map([['file:1/model.onnx', new Uint8Array(1)]]) })).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      message: expect.stringContaining('--model-load-allow-file-override'),
    });

    writeFileSync(path.join(dir, 'b', '1', 'model.onnx'), 'not an onnx model');
    await expect(manager.load('b')).rejects.toMatchObject({
      code: 'INVALID_ARG',
      message: expect.stringMatching(/^load failed for model 'b': version 1 is at UNAVAILABLE state: .+;\n$/),
    });
    expect(manager.index().find((r) => r.name === 'b')).toMatchObject({ version: '1', state: 'UNAVAILABLE' });
    expect(manager.allModelsReady()).toBe(false);
  });

  test('a failed reload keeps the old versions serving', async () => {
    const dir = repo();
    manager = createManager(dir, { controlMode: 'explicit', startupModels: ['a'] });
    await manager.loadAll();
    const served = manager.getReady('a');
    await nextTick();
    writeFileSync(path.join(dir, 'a', '2', 'model.onnx'), 'truncated');
    await expect(manager.load('a')).rejects.toMatchObject({ code: 'INVALID_ARG' });
    expect(manager.getReady('a')).toBe(served);
    expect(await infer(manager, 'a', [1, 2])).toEqual({ version: 2, output: [1, 2] });
  });

  test('--model-config-name picks configs/<name>.pbtxt where it exists', async () => {
    const dir = repo();
    mkdirSync(path.join(dir, 'a', 'configs'));
    writeFileSync(path.join(dir, 'a', 'configs', 'small.pbtxt'), 'backend: "onnxruntime"\nmax_batch_size: 1\ninstance_group [ { kind: KIND_CPU count: 1 } ]\n');
    manager = createManager(dir, { controlMode: 'explicit', startupModels: ['a', 'b'], modelConfigName: 'small' });
    await manager.loadAll();
    expect(manager.config('a').maxBatchSize).toBe(1);
    expect(manager.config('b').maxBatchSize).toBe(4);
  });
});

describe('ensemble dependencies', () => {
  const ENSEMBLE = `platform: "ensemble"
max_batch_size: 4
input [ { name: "IN" data_type: TYPE_INT32 dims: [ 2 ] } ]
output [ { name: "OUT" data_type: TYPE_INT32 dims: [ 2 ] } ]
ensemble_scheduling { step [ { model_name: "b" model_version: -1 input_map { key: "INPUT0" value: "IN" } output_map { key: "OUTPUT0" value: "OUT" } } ] }
`;

  function withEnsemble(): string {
    const dir = repo();
    mkdirSync(path.join(dir, 'ens', '1'), { recursive: true });
    writeFileSync(path.join(dir, 'ens', 'config.pbtxt'), ENSEMBLE);
    return dir;
  }

  test('loading an ensemble loads its composing models first', async () => {
    manager = createManager(withEnsemble(), { controlMode: 'explicit' });
    await manager.loadAll();
    // infera has no ensemble scheduler yet, so the ensemble itself fails, after 'b' loaded.
    await expect(manager.load('ens')).rejects.toMatchObject({ code: 'INVALID_ARG', message: expect.stringMatching(/^load failed for model 'ens'/) });
    expect(manager.index(true)).toEqual([{ name: 'b', version: '1', state: 'READY' }]);
    await manager.unload('ens');
    expect(manager.index(true)).toEqual([{ name: 'b', version: '1', state: 'READY' }]);
  });

  test('unload_dependents also unloads composing models loaded only for the ensemble', async () => {
    manager = createManager(withEnsemble(), { controlMode: 'explicit', startupModels: ['a'] });
    await manager.loadAll();
    await expect(manager.load('ens')).rejects.toMatchObject({ code: 'INVALID_ARG' });
    await manager.unload('ens', { unloadDependents: true });
    expect(manager.index(true)).toEqual([{ name: 'a', version: '2', state: 'READY' }]);
  });
});

describe('file overrides', () => {
  test('files and config load from a temporary folder that is removed on unload', async () => {
    manager = createManager(repo(), { controlMode: 'explicit', allowFileOverride: true });
    await manager.loadAll();
    const before = new Set(readdirSync(os.tmpdir()));
    await manager.load('fresh', {
      config: CONFIG_JSON,
      files: new Map([['file:3/model.onnx', identityModel('INT32', ['batch', 2])]]),
    });
    expect(await infer(manager, 'fresh', [7, 8])).toEqual({ version: 3, output: [7, 8] });
    const created = readdirSync(os.tmpdir()).filter((f) => !before.has(f) && f.startsWith('infera-model-'));
    expect(created).toHaveLength(1);
    expect(manager.index(true)).toContainEqual({ name: 'fresh', version: '3', state: 'READY' });
    await manager.unload('fresh');
    expect(existsSync(path.join(os.tmpdir(), created[0]!))).toBe(false);
  });

  test('paths that leave the model folder are refused and nothing is written', async () => {
    manager = createManager(repo(), { controlMode: 'explicit', allowFileOverride: true });
    await manager.loadAll();
    const before = new Set(readdirSync(os.tmpdir()));
    await expect(
      manager.load('evil', { config: CONFIG_JSON, files: new Map([['file:../../escape', new Uint8Array([1])]]) }),
    ).rejects.toMatchObject({ code: 'INVALID_ARG', message: expect.stringContaining('must stay within model directory') });
    await expect(manager.load('evil', { files: new Map([['file:1/model.onnx', new Uint8Array([1])]]) })).rejects.toMatchObject({
      code: 'INVALID_ARG',
      message: "failed to load 'evil', failed to poll from model repository: Load parameter 'config' must be specified for model file override",
    });
    expect(readdirSync(os.tmpdir()).filter((f) => !before.has(f))).toEqual([]);
    expect(existsSync(path.join(os.tmpdir(), 'escape'))).toBe(false);
    expect(existsSync(path.join(path.dirname(os.tmpdir()), 'escape'))).toBe(false);
  });

  test("a file the server cannot write is Triton's INTERNAL poll failure, without the server's paths", async () => {
    const lines: { level: number; msg: string }[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    manager = createManager(repo(), { controlMode: 'explicit', allowFileOverride: true, logger });
    await manager.loadAll();
    const before = new Set(readdirSync(os.tmpdir()));
    // One path component over NAME_MAX (255): the file system refuses it (ENAMETOOLONG).
    const long = `file:${'A'.repeat(256)}`;
    const err = await manager.load('long', { config: CONFIG_JSON, files: new Map([[long, new Uint8Array([1])]]) }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INTERNAL', message: "failed to load 'long', failed to poll from model repository" });
    expect(readdirSync(os.tmpdir()).filter((f) => !before.has(f))).toEqual([]);
    // The detail goes to the verbose log only; error lines never name the temporary folder.
    const errors = lines.filter((l) => l.level >= 50).map((l) => l.msg);
    expect(errors.some((m) => m.includes("failed to poll model 'long'"))).toBe(true);
    expect(errors.join('\n')).not.toContain(os.tmpdir());
    expect(lines.some((l) => l.level === 20 && l.msg.includes('ENAMETOOLONG'))).toBe(true);
  });
});

describe('file overrides that carry code', () => {
  const JS_CONFIG = JSON.stringify({
    backend: 'javascript',
    max_batch_size: 0,
    input: [{ name: 'IN', data_type: 'TYPE_INT32', dims: [2] }],
    output: [{ name: 'OUT', data_type: 'TYPE_INT32', dims: [2] }],
  });
  const JS_MODEL = new TextEncoder().encode(
    'export default class { execute(rs) { return rs.map((r) => ({ outputs: { OUT: r.inputs.IN } })); } }\n',
  );

  test('are refused without --model-load-allow-code-override, with nothing written', async () => {
    manager = createManager(repo(), { controlMode: 'explicit', allowFileOverride: true });
    await manager.loadAll();
    const before = new Set(readdirSync(os.tmpdir()));
    for (const [config, files] of [
      [JS_CONFIG, new Map([['file:1/model.mjs', JS_MODEL]])],
      // A code backend runs whatever file it is given, whatever its name.
      [JS_CONFIG, new Map([['file:1/weights.bin', JS_MODEL]])],
      // Without a backend in the config, the file name would pick the JavaScript backend.
      [CONFIG_JSON.replace('"backend":"onnxruntime",', ''), new Map([['file:1/model.cjs', JS_MODEL]])],
      [CONFIG_JSON, new Map([['file:1/model.onnx', identityModel('INT32', ['batch', 2])], ['file:1/helper.js', JS_MODEL]])],
    ] as const) {
      await expect(manager.load('code', { config, files: new Map(files) })).rejects.toMatchObject({
        code: 'UNSUPPORTED',
        message: expect.stringMatching(/^failed to load 'code': file overrides that carry code \('file:1\/.+'\) are disabled.*--model-load-allow-code-override=true/),
      });
    }
    expect(readdirSync(os.tmpdir()).filter((f) => !before.has(f))).toEqual([]);
    // A model file that is data still loads.
    await manager.load('data', { config: CONFIG_JSON, files: new Map([['file:1/model.onnx', identityModel('INT32', ['batch', 2])]]) });
    expect(manager.index(true)).toContainEqual({ name: 'data', version: '1', state: 'READY' });
  });

  test('load with --model-load-allow-code-override', async () => {
    manager = createManager(repo(), { controlMode: 'explicit', allowFileOverride: true, allowCodeOverride: true });
    await manager.loadAll();
    await manager.load('code', { config: JS_CONFIG, files: new Map([['file:1/model.mjs', JS_MODEL]]) });
    expect(manager.index(true)).toContainEqual({ name: 'code', version: '1', state: 'READY' });
    await manager.unload('code');
  });
});
