import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listVersionDirs, resolveBackendFields } from '../../../src/config/index.js';
import { InvalidArgumentError } from '../../../src/errors/index.js';
import { ModelConfigSchema, type ModelConfig } from '../../../src/generated/model_config_pb.js';

let repo: string;

beforeEach(async () => {
  repo = await mkdtemp(path.join(tmpdir(), 'infera-config-'));
});
afterEach(async () => {
  await rm(repo, { recursive: true, force: true });
});

/** Creates `<repo>/<model>` with the given entries; a trailing "/" makes a directory. */
async function modelDir(model: string, entries: string[]): Promise<string> {
  const dir = path.join(repo, model);
  await mkdir(dir, { recursive: true });
  for (const entry of entries) {
    const p = path.join(dir, entry);
    if (entry.endsWith('/')) {
      await mkdir(p, { recursive: true });
    } else {
      await mkdir(path.dirname(p), { recursive: true });
      await writeFile(p, '');
    }
  }
  return dir;
}

const empty = (init: MessageInitShape<typeof ModelConfigSchema> = {}): ModelConfig => create(ModelConfigSchema, init);

describe('listVersionDirs', () => {
  it('keeps numeric directories without a leading zero, sorted numerically', async () => {
    const dir = await modelDir('m', ['10/', '2/', '0/', '01/', 'latest/', 'configs/', '3']);
    expect(await listVersionDirs(dir)).toEqual([2, 10]);
  });

  it('returns [] for a missing directory', async () => {
    expect(await listVersionDirs(path.join(repo, 'nope'))).toEqual([]);
  });
});

describe('resolveBackendFields', () => {
  it('detects ONNX Runtime from a model.onnx file and names the model after its directory', async () => {
    const dir = await modelDir('text_detection', ['1/model.onnx']);
    const c = await resolveBackendFields(empty(), dir);
    expect(c).toMatchObject({
      name: 'text_detection',
      backend: 'onnxruntime',
      platform: 'onnxruntime_onnx',
      defaultModelFilename: 'model.onnx',
    });
  });

  it('accepts model.onnx as a directory (external weights)', async () => {
    const dir = await modelDir('big', ['1/model.onnx/']);
    expect((await resolveBackendFields(empty(), dir)).backend).toBe('onnxruntime');
  });

  it('inspects only the lowest version directory', async () => {
    const dir = await modelDir('m', ['2/model.onnx', '10/model.plan', '01/model.py']);
    expect((await resolveBackendFields(empty(), dir)).backend).toBe('onnxruntime');
    const dir2 = await modelDir('n', ['3/model.plan', '12/model.onnx']);
    expect(await resolveBackendFields(empty(), dir2)).toMatchObject({
      backend: 'tensorrt',
      platform: 'tensorrt_plan',
      defaultModelFilename: 'model.plan',
    });
  });

  it('does not take a model.plan directory for TensorRT', async () => {
    const dir = await modelDir('m', ['1/model.plan/', '1/model.py']);
    expect((await resolveBackendFields(empty(), dir)).backend).toBe('python');
  });

  it('completes from the platform or the file name when no file is present', async () => {
    const dir = await modelDir('m', []);
    expect(await resolveBackendFields(empty({ platform: 'onnxruntime_onnx' }), dir)).toMatchObject({
      backend: 'onnxruntime',
      defaultModelFilename: 'model.onnx',
    });
    expect(await resolveBackendFields(empty({ backend: 'onnxruntime' }), dir)).toMatchObject({
      platform: 'onnxruntime_onnx',
      defaultModelFilename: 'model.onnx',
    });
    expect(await resolveBackendFields(empty({ defaultModelFilename: 'model.plan' }), dir)).toMatchObject({
      backend: 'tensorrt',
      platform: 'tensorrt_plan',
    });
    expect(await resolveBackendFields(empty({ platform: 'tensorrt_plan' }), dir)).toMatchObject({
      backend: 'tensorrt',
      defaultModelFilename: 'model.plan',
    });
  });

  it('keeps a custom file name for ONNX', async () => {
    const dir = await modelDir('m', ['1/det.onnx']);
    const c = await resolveBackendFields(empty({ backend: 'onnxruntime', defaultModelFilename: 'det.onnx' }), dir);
    expect(c).toMatchObject({ platform: 'onnxruntime_onnx', defaultModelFilename: 'det.onnx' });
  });

  it('detects TensorFlow, OpenVINO, PyTorch and Python files', async () => {
    const cases: Array<[string, Partial<ModelConfig>]> = [
      ['model.savedmodel/', { backend: 'tensorflow', platform: 'tensorflow_savedmodel', defaultModelFilename: 'model.savedmodel' }],
      ['model.graphdef', { backend: 'tensorflow', platform: 'tensorflow_graphdef', defaultModelFilename: 'model.graphdef' }],
      ['model.xml', { backend: 'openvino', platform: '', defaultModelFilename: 'model.xml' }],
      // Triton leaves the LibTorch file name to the PyTorch backend once the platform is known.
      ['model.pt', { backend: 'pytorch', platform: 'pytorch_libtorch', defaultModelFilename: '' }],
      ['model.pt2', { backend: 'pytorch', platform: 'torch_aoti', defaultModelFilename: 'model.pt2' }],
      ['model.py', { backend: 'python', platform: '', defaultModelFilename: 'model.py' }],
    ];
    for (const [i, [file, expected]] of cases.entries()) {
      const dir = await modelDir(`m${i}`, [`1/${file}`]);
      expect(await resolveBackendFields(empty(), dir), file).toMatchObject(expected);
    }
  });

  it('leaves an ensemble alone', async () => {
    const dir = await modelDir('ens', ['1/']);
    const c = await resolveBackendFields(empty({ platform: 'ensemble' }), dir);
    expect(c).toMatchObject({ name: 'ens', platform: 'ensemble', backend: '', defaultModelFilename: '' });
  });

  it('takes a custom backend from a <x>.<backend> directory name', async () => {
    const dir = await modelDir('model.identity', ['1/']);
    expect(await resolveBackendFields(empty(), dir)).toMatchObject({
      backend: 'identity',
      defaultModelFilename: 'model.identity',
    });
  });

  it('fails when nothing identifies the backend', async () => {
    const dir = await modelDir('mystery', ['1/weights.bin']);
    await expect(resolveBackendFields(empty(), dir)).rejects.toThrow(InvalidArgumentError);
    await expect(resolveBackendFields(empty(), dir)).rejects.toThrow(
      "Invalid model name: Could not determine backend for model 'mystery' with no backend in model configuration. Expected model name of the form 'model.<backend_name>'.",
    );
  });

  it('rejects a config name that differs from the directory name', async () => {
    const dir = await modelDir('text_detection', ['1/model.onnx']);
    await expect(resolveBackendFields(empty({ name: 'det' }), dir)).rejects.toThrow(
      "unexpected directory name 'text_detection' for model 'det', directory name must equal model name",
    );
  });

  it('does not modify its argument', async () => {
    const dir = await modelDir('m', ['1/model.onnx']);
    const original = empty();
    await resolveBackendFields(original, dir);
    expect(original.backend).toBe('');
    expect(original.name).toBe('');
  });
});
