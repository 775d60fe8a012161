/**
 * The pytorch backend's TypeScript side without libtorch: a load fails UNSUPPORTED saying how
 * to enable TorchScript, and the config checks Triton's PyTorch backend makes from the config
 * alone give its messages.
 */
import { create } from '@bufbuild/protobuf';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { PyTorchBackend } from '../../../../src/backends/pytorch/pytorch-backend.js';
import { InternalError, UnsupportedError } from '../../../../src/errors/index.js';
import { DataType, ModelConfigSchema, ModelInputSchema, ModelOutputSchema } from '../../../../src/generated/model_config_pb.js';
import { resetTorchModuleForTests, TORCH_NOT_AVAILABLE } from '../../../../src/native/torch-binding.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'infera-pt-'));
const file = path.join(dir, 'model.pt');
writeFileSync(file, 'not read');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function config(fields: { input?: [string, DataType][]; output?: [string, DataType][]; platform?: string } = {}) {
  return create(ModelConfigSchema, {
    name: 'm',
    backend: 'pytorch',
    platform: fields.platform ?? 'pytorch_libtorch',
    input: (fields.input ?? [['INPUT__0', DataType.TYPE_FP32]]).map(([name, dataType]) => create(ModelInputSchema, { name, dataType, dims: [2n] })),
    output: (fields.output ?? [['OUTPUT__0', DataType.TYPE_FP32]]).map(([name, dataType]) => create(ModelOutputSchema, { name, dataType, dims: [2n] })),
  });
}

describe('pytorch backend without the TorchScript module', () => {
  const saved = process.env.INFERA_TORCH_MODULE;
  afterEach(() => {
    if (saved === undefined) delete process.env.INFERA_TORCH_MODULE;
    else process.env.INFERA_TORCH_MODULE = saved;
    resetTorchModuleForTests();
  });

  test('loading a model fails UNSUPPORTED with how to enable it', async () => {
    process.env.INFERA_TORCH_MODULE = path.join(dir, 'missing', 'infera_torch.node');
    resetTorchModuleForTests();
    const backend = new PyTorchBackend();
    const err = await backend.readModelMetadata(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsupportedError);
    expect((err as Error).message).toContain(TORCH_NOT_AVAILABLE);
    expect((err as Error).message).toContain('apt-get install libtorch-dev');
    expect((err as Error).message).toContain('does not exist');
    await expect(
      backend.createInstance({ name: 'm_0', modelName: 'm', version: 1, modelFile: file, kind: 'KIND_CPU', intraOpThreads: 1, interOpThreads: 0, config: config() }),
    ).rejects.toThrow(UnsupportedError);
  });
});

describe('pytorch backend config checks', () => {
  const backend = new PyTorchBackend(() => {
    throw new Error('not used');
  });

  test("Triton's messages for a config without inputs or outputs (no auto-complete for TorchScript)", async () => {
    expect(() => backend.validateConfig(config({ input: [] }))).toThrow(
      new InternalError('model configuration must contain at least one input, none were specified.'),
    );
    expect(() => backend.validateConfig(config({ output: [] }))).toThrow(
      new InternalError('model configuration must contain at least one output, none were specified.'),
    );
    const completed = await backend.autoCompleteConfig(config({ input: [] }));
    expect(completed.config.input).toEqual([]);
    expect(completed.warnings).toEqual(["skipping model configuration auto-complete for 'm': not supported for pytorch backend"]);
  });

  test('datatypes libtorch lacks are refused as Triton refuses them, TYPE_STRING only as a 1-D List[str]; AOTI is not supported', () => {
    expect(() => backend.validateConfig(config({ input: [['INPUT__0', DataType.TYPE_UINT16]] }))).toThrow(
      new InternalError("unsupported datatype TYPE_UINT16 for input 'INPUT__0' for model 'm'"),
    );
    expect(() => backend.validateConfig(config({ output: [['OUTPUT__0', DataType.TYPE_BF16]] }))).toThrow(
      "unsupported datatype TYPE_BF16 for output 'OUTPUT__0' for model 'm'",
    );
    // TYPE_STRING is a List[str]: one dimension, batch included.
    expect(() => backend.validateConfig(config({ input: [['INPUT__0', DataType.TYPE_STRING]] }))).not.toThrow();
    const batched = config({ output: [['OUTPUT__0', DataType.TYPE_STRING]] });
    batched.maxBatchSize = 4;
    expect(() => backend.validateConfig(batched)).toThrow(
      new InternalError("Triton only supports 1 dimensional List of String as output for 'OUTPUT__0' for model 'm'"),
    );
    expect(() => backend.validateConfig(config({ platform: 'torch_aoti' }))).toThrow(/torch_aoti/);
    expect(() => backend.validateConfig(config())).not.toThrow();
  });
});
