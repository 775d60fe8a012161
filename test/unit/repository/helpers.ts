/** Shared set-up for the repository manager tests: real ONNX Runtime backend, tiny models. */
import path from 'node:path';
import { BackendRegistry } from '../../../src/backends/registry.js';
import { validateRequest } from '../../../src/infer/request-validation.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { ModelRepositoryManager, type RepositoryManagerOptions } from '../../../src/repository/model-repository-manager.js';
import { identityModel, writeModel } from '../../fixtures/onnx-models.js';

/** One CPU instance keeps each load to a single worker thread. */
export const ONE_INSTANCE = 'backend: "onnxruntime"\ninstance_group [ { kind: KIND_CPU count: 1 } ]\n';

/** An INT32 [batch, 2] identity model with one instance, in the given versions. */
export function writeIdentity(repo: string, name: string, versions = [1], extraConfig = ''): string {
  return writeModel(repo, name, identityModel('INT32', ['batch', 2]), { versions, config: ONE_INSTANCE + extraConfig });
}

/**
 * Waits past the file-system clock tick (coarse kernel timestamps advance every 1–10 ms), so
 * that a write made next is newer than everything the last load read, as a poll requires.
 */
export function nextTick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 20));
}

export function configFile(repo: string, name: string): string {
  return path.join(repo, name, 'config.pbtxt');
}

export function createManager(repo: string, opts: Partial<RepositoryManagerOptions> = {}): ModelRepositoryManager {
  return new ModelRepositoryManager({
    repositories: [repo],
    loadThreadCount: 2,
    cpuCount: 2,
    autoComplete: true,
    defaultMaxBatchSize: 4,
    gpuCount: 0,
    backends: new BackendRegistry(),
    logger: silentLogger(),
    ...opts,
  });
}

/** Runs one request through the version the manager serves; resolves with that version and the output. */
export async function infer(manager: ModelRepositoryManager, name: string, values: [number, number], version?: number): Promise<{ version: number; output: number[] }> {
  const mv = manager.getReady(name, version);
  const data = new Uint8Array(Int32Array.from(values).buffer);
  const request = { modelName: name, modelVersion: version, inputs: [{ name: 'INPUT0', datatype: 'INT32' as const, shape: [1, 2], data }] };
  const validated = validateRequest(request, mv.spec!);
  const result = await mv.scheduler!.enqueue({ ...validated, request });
  const out = result.outputs[0]!.data;
  return { version: mv.version, output: Array.from(new Int32Array(out.slice().buffer)) };
}
