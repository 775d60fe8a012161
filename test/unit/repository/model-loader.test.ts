import { clone } from '@bufbuild/protobuf';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AutoCompleteContext, Backend, ModelFileMetadata } from '../../../src/backends/backend.js';
import type { BackendRegistry } from '../../../src/backends/registry.js';
import { parseModelConfigText, type ModelConfig } from '../../../src/config/index.js';
import { InvalidArgumentError } from '../../../src/errors/index.js';
import { DataType, ModelConfigSchema } from '../../../src/generated/model_config_pb.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { resolveVersion, type LoaderOptions } from '../../../src/repository/model-loader.js';
import { ModelVersion } from '../../../src/repository/model-version.js';

// The config says FP32 [2]; the model file (as the fake backend reads it) says INT64 [3]. Only
// the backend may judge that: the loader knows no backend's rules.
const CONFIG = `name: "m"
backend: "custom"
input [ { name: "x" data_type: TYPE_FP32 dims: [ 2 ] } ]
output [ { name: "y" data_type: TYPE_FP32 dims: [ 2 ] } ]
`;
const METADATA: ModelFileMetadata = {
  inputs: [{ name: 'x', datatype: 'INT64', shape: [3] }],
  outputs: [{ name: 'y', datatype: 'INT64', shape: [3] }],
};

function fakeBackend(hooks: Pick<Backend, 'autoCompleteConfig' | 'validateConfig'> = {}): Backend {
  return {
    name: 'custom',
    readModelMetadata: async () => METADATA,
    createInstance: () => Promise.reject(new Error('not used')),
    ...hooks,
  };
}

describe('resolveVersion: the backend owns auto-complete and file validation', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'infera-loader-'));
    mkdirSync(path.join(dir, '1'));
    writeFileSync(path.join(dir, '1', 'model.bin'), '');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function options(backend: Backend, autoComplete = true): LoaderOptions {
    const backends = { get: () => backend } as unknown as BackendRegistry;
    return { autoComplete, defaultMaxBatchSize: 4, gpuCount: 0, backends, logger: silentLogger() };
  }

  async function resolve(backend: Backend, autoComplete = true): Promise<ModelVersion> {
    const base = parseModelConfigText(CONFIG, 'config.pbtxt');
    base.defaultModelFilename = 'model.bin';
    const mv = new ModelVersion('m', 1);
    await resolveVersion(mv, dir, base, options(backend, autoComplete));
    return mv;
  }

  it('applies no ONNX rules to a backend without hooks', async () => {
    const mv = await resolve(fakeBackend());
    expect(mv.config!.input[0]!.dataType).toBe(DataType.TYPE_FP32);
  });

  it("calls the backend's autoCompleteConfig with the model file and metadata, and uses the config it returns", async () => {
    const autoCompleteConfig = vi.fn(async (config: ModelConfig, _context: AutoCompleteContext) => {
      const completed = clone(ModelConfigSchema, config);
      completed.maxBatchSize = 2;
      return { config: completed, warnings: [] };
    });
    const mv = await resolve(fakeBackend({ autoCompleteConfig }));
    expect(autoCompleteConfig).toHaveBeenCalledOnce();
    expect(autoCompleteConfig.mock.calls[0]![1]).toEqual({ modelFile: path.join(dir, '1', 'model.bin'), metadata: METADATA, defaultMaxBatchSize: 4 });
    expect(mv.config!.maxBatchSize).toBe(2);
  });

  it('skips autoCompleteConfig when auto-complete is disabled', async () => {
    const autoCompleteConfig = vi.fn();
    await resolve(fakeBackend({ autoCompleteConfig }), false);
    expect(autoCompleteConfig).not.toHaveBeenCalled();
  });

  it("runs the backend's validateConfig on the normalized config, and fails the load with its error", async () => {
    const validateConfig = vi.fn((config: ModelConfig, metadata: ModelFileMetadata) => {
      expect(metadata).toBe(METADATA);
      // Normalization ran first: the instance groups are filled in.
      expect(config.instanceGroup.length).toBeGreaterThan(0);
      throw new InvalidArgumentError("model 'm': rejected by the backend");
    });
    await expect(resolve(fakeBackend({ validateConfig }))).rejects.toThrow("model 'm': rejected by the backend");
    expect(validateConfig).toHaveBeenCalledOnce();
  });
});
