/**
 * Ensembles and model control (explicit mode), as Triton specifies it (reference §8): loading
 * an ensemble loads its composing models first; unloading a composing model takes the
 * ensemble with it; `unload_dependents` also unloads the composing models that were loaded
 * only for the ensemble; a step naming a version that is not loaded keeps the ensemble out.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { InferenceServer } from '../../../src/index.js';
import { tempDir } from '../../e2e/helpers/temp-repo.js';
import { diamondConfig, ensembleConfig, int32, int32Values, writeComposingModels, writeEnsemble } from './ensemble-fixtures.js';

const tmp = tempDir('infera-ensemble-ctl-');
let server: InferenceServer;

const ready = () =>
  server
    .repositoryIndex(true)
    .map((r) => r.name)
    .sort();

function diamondRequest() {
  return server.infer({
    modelName: 'diamond',
    inputs: [
      { name: 'IN0', datatype: 'INT32', shape: [1, 16], data: int32(new Array(16).fill(5)) },
      { name: 'IN1', datatype: 'INT32', shape: [1, 16], data: int32(new Array(16).fill(1)) },
    ],
  });
}

beforeAll(async () => {
  writeComposingModels(tmp.dir);
  writeEnsemble(tmp.dir, 'diamond', diamondConfig());
  writeEnsemble(
    tmp.dir,
    'pinned',
    ensembleConfig(
      'pinned',
      `max_batch_size: 4
input [ { name: "IN" data_type: TYPE_INT32 dims: [ 16 ] } ]
output [ { name: "OUT" data_type: TYPE_INT32 dims: [ 16 ] } ]`,
      [{ model: 'ident_a', version: 2, inputs: { INPUT0: 'IN' }, outputs: { OUTPUT0: 'OUT' } }],
    ),
  );
  server = await InferenceServer.create({ modelRepositories: [tmp.dir], modelControlMode: 'explicit', cpuCount: 2 });
}, 60_000);

afterAll(async () => {
  await server?.close();
  tmp.cleanup();
});

describe('ensembles under explicit model control', () => {
  test('loading an ensemble loads its composing models first', async () => {
    expect(ready()).toEqual([]);
    await server.loadModel('diamond');
    expect(ready()).toEqual(['add_sub', 'diamond', 'ident_a', 'ident_b']);
    expect(int32Values((await diamondRequest()).outputs[0]!.data)[0]).toBe(10);
  });

  test('unload_dependents unloads the composing models loaded only for the ensemble', async () => {
    await server.loadModel('ident_a'); // now loaded by name: it stays
    await server.unloadModel('diamond', { unloadDependents: true });
    expect(ready()).toEqual(['ident_a']);
  });

  test('without unload_dependents the composing models stay', async () => {
    await server.loadModel('diamond');
    await server.unloadModel('diamond');
    expect(ready()).toEqual(['add_sub', 'ident_a', 'ident_b']);
  });

  test('unloading a composing model unloads the ensemble that depends on it', async () => {
    await server.loadModel('diamond');
    await server.unloadModel('ident_b');
    expect(ready()).toEqual(['add_sub', 'ident_a']);
    await expect(diamondRequest()).rejects.toThrow("Request for unknown model: 'diamond' has no available versions");
  });

  test('a request in flight finishes its later steps while its ensemble and composing models unload', async () => {
    await server.loadModel('diamond');
    const inflight = diamondRequest();
    const unloading = server.unloadModel('diamond', { unloadDependents: true });
    expect(int32Values((await inflight).outputs[1]!.data)[0]).toBe(2);
    await unloading;
    expect(ready()).toEqual(['ident_a']);
  });

  test('a composing model reloaded into a config the ensemble no longer fits unloads the ensemble, with the reason', async () => {
    await server.loadModel('diamond');
    const config = JSON.stringify({ backend: 'onnxruntime', max_batch_size: 2, instance_group: [{ kind: 'KIND_CPU', count: 1 }] });
    await server.loadModel('ident_b', { config });
    const reason = 'ensemble diamond allows maximum batch size 4, but it contains model ident_b which only allows maximum batch size to be 2';
    expect(server.repositoryIndex().find((r) => r.name === 'diamond')).toMatchObject({ state: 'UNAVAILABLE', reason });
    await server.loadModel('ident_b'); // back to the files
    await server.loadModel('diamond');
    expect(int32Values((await diamondRequest()).outputs[0]!.data)[0]).toBe(10);
    await server.unloadModel('diamond', { unloadDependents: true });
  });

  test('a step naming a version that is not loaded keeps the ensemble from loading', async () => {
    await expect(server.loadModel('pinned')).rejects.toThrow(
      "load failed for model 'pinned': ensemble 'pinned' depends on 'ident_a' whose required version 2 is not loaded.",
    );
    expect(() => server.isModelReady('pinned')).toThrow("Request for unknown model: 'pinned' is not found");
  });

  test('an ensemble whose composing model is not in any repository is refused', async () => {
    writeEnsemble(
      tmp.dir,
      'orphan',
      ensembleConfig(
        'orphan',
        `max_batch_size: 4
input [ { name: "IN" data_type: TYPE_INT32 dims: [ 16 ] } ]
output [ { name: "OUT" data_type: TYPE_INT32 dims: [ 16 ] } ]`,
        [{ model: 'gone', inputs: { INPUT0: 'IN' }, outputs: { OUTPUT0: 'OUT' } }],
      ),
    );
    await expect(server.loadModel('orphan')).rejects.toThrow(
      "load failed for model 'orphan': ensemble orphan contains models that are not available or ambiguous: gone",
    );
    expect(server.repositoryIndex().find((r) => r.name === 'orphan')).toMatchObject({
      state: 'UNAVAILABLE',
      reason: 'ensemble orphan contains models that are not available or ambiguous: gone',
    });
  });
});
