/**
 * Model lookup errors, codes and messages as core `ModelLifeCycle::GetModel` prefixed by
 * `ModelRepositoryManager::GetModel` give them (no model namespacing): NOT_FOUND for a model
 * the lifecycle does not know, for no READY version and for an unknown version; UNAVAILABLE
 * for a version that is not READY.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import type { ModelRepositoryManager } from '../../../src/repository/model-repository-manager.js';
import { tempDir } from '../../e2e/helpers/temp-repo.js';
import { createManager, ONE_INSTANCE, writeIdentity } from './helpers.js';

const tmp = tempDir('infera-lookup-');
afterAll(() => tmp.cleanup());

let manager: ModelRepositoryManager | undefined;
afterEach(async () => {
  await manager?.unloadAll();
  manager = undefined;
});

function lookupError(name: string, version?: number): { code: string; message: string } {
  try {
    manager!.getReady(name, version);
  } catch (err) {
    const e = err as { code: string; message: string };
    return { code: e.code, message: e.message };
  }
  throw new Error(`${name} is served`);
}

describe('model lookup', () => {
  test("Triton's codes and messages for every lookup failure", async () => {
    const repo = path.join(tmp.dir, 'r');
    writeIdentity(repo, 'two', [1, 2], 'version_policy: { all: {} }\n');
    // A config that does not parse: the model never reaches the model lifecycle.
    mkdirSync(path.join(repo, 'bad_config', '1'), { recursive: true });
    writeFileSync(path.join(repo, 'bad_config', 'config.pbtxt'), 'max_batch_size: [\n');
    // A good config without version folders: the lifecycle knows it, with no version.
    mkdirSync(path.join(repo, 'no_versions'), { recursive: true });
    writeFileSync(path.join(repo, 'no_versions', 'config.pbtxt'), ONE_INSTANCE);
    manager = createManager(repo, { controlMode: 'explicit', startupModels: ['*'] });
    await manager.loadAll();
    expect([...new Set(manager.failures().map((f) => f.name))].sort()).toEqual(['bad_config', 'no_versions']);

    expect(lookupError('nope')).toEqual({ code: 'NOT_FOUND', message: "Request for unknown model: 'nope' is not found" });
    expect(lookupError('bad_config')).toEqual({ code: 'NOT_FOUND', message: "Request for unknown model: 'bad_config' is not found" });
    expect(lookupError('no_versions')).toEqual({ code: 'NOT_FOUND', message: "Request for unknown model: 'no_versions' has no available versions" });
    expect(lookupError('two', 7)).toEqual({ code: 'NOT_FOUND', message: "Request for unknown model: 'two' version 7 is not found" });

    await manager.unload('two');
    expect(lookupError('two')).toEqual({ code: 'NOT_FOUND', message: "Request for unknown model: 'two' has no available versions" });
    expect(lookupError('two', 1)).toEqual({ code: 'UNAVAILABLE', message: "Request for unknown model: 'two' version 1 is not at ready state" });
    expect(() => manager!.entry('nope')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });
});
