/**
 * The pieces of the javascript backend that run inside a model's worker, tested directly:
 * tensor conversions, response checks, the autoCompleteConfig helper (Triton Python backend's
 * rules and messages) and finding the model class in a module.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { AutoCompleteModelConfig } from '../../../../src/backends/javascript/auto-complete-config.js';
import { loadModelClass } from '../../../../src/backends/javascript/model-module.js';
import { responseToTensors, type ResponseRules } from '../../../../src/backends/javascript/response-outputs.js';
import { dataToBytes, toModelTensor } from '../../../../src/backends/javascript/tensor-convert.js';
import { create } from '@bufbuild/protobuf';
import { resolveBackendFields } from '../../../../src/config/backend-fields.js';
import { InvalidArgumentError } from '../../../../src/errors/index.js';
import { ModelConfigSchema } from '../../../../src/generated/model_config_pb.js';
import { encodeBytesElements } from '../../../../src/infer/bytes-codec.js';
import { tempDir } from '../../../e2e/helpers/temp-repo.js';

const tmp = tempDir('infera-js-api-');
afterAll(() => tmp.cleanup());

describe('tensor conversion', () => {
  test('inputs become typed-array views, copied only when misaligned', () => {
    const bytes = new Uint8Array(Float32Array.of(1.5, -2).buffer);
    const view = toModelTensor({ name: 'x', datatype: 'FP32', shape: [2], data: bytes }, 'x');
    expect(view.data).toBeInstanceOf(Float32Array);
    expect((view.data as Float32Array).buffer).toBe(bytes.buffer);
    const shifted = new Uint8Array(9);
    shifted.set(bytes, 1);
    const copied = toModelTensor({ name: 'x', datatype: 'FP32', shape: [2], data: shifted.subarray(1) }, 'x');
    expect(Array.from(copied.data as Float32Array)).toEqual([1.5, -2]);
    const int64 = toModelTensor({ name: 'i', datatype: 'INT64', shape: [1], data: new Uint8Array(BigInt64Array.of(-5n).buffer) }, 'i');
    expect(Array.from(int64.data as BigInt64Array)).toEqual([-5n]);
  });

  test('BYTES inputs become Buffers over the received bytes', () => {
    const t = toModelTensor({ name: 's', datatype: 'BYTES', shape: [2], data: encodeBytesElements(['ab', 'ünï']) }, 's');
    expect((t.data as Buffer[]).map((b) => b.toString('utf8'))).toEqual(['ab', 'ünï']);
  });

  test('outputs: typed arrays are viewed, plain arrays converted, mismatches explained', () => {
    const f = Float32Array.of(3);
    expect((dataToBytes(f, 'FP32') as Uint8Array).buffer).toBe(f.buffer);
    expect(Array.from(new Int32Array((dataToBytes([1, 2], 'INT32') as Uint8Array).slice().buffer))).toEqual([1, 2]);
    expect(Array.from(new BigUint64Array((dataToBytes([7], 'UINT64') as Uint8Array).slice().buffer))).toEqual([7n]);
    expect(Array.from(dataToBytes([true, false], 'BOOL') as Uint8Array)).toEqual([1, 0]);
    expect(dataToBytes(['a', Buffer.from('b')], 'BYTES')).toEqual(encodeBytesElements(['a', 'b']));
    expect(dataToBytes(Int32Array.of(1), 'FP32')).toBe('FP32 data must be a Float32Array, got Int32Array');
    expect(dataToBytes(['x'] as unknown as number[], 'FP32')).toBe('FP32 data: cannot convert array elements (string is not a number)');
    expect(dataToBytes([1] as unknown as string[], 'BYTES')).toBe(
      'BYTES data must be an array of Buffers, Uint8Arrays or strings, got an element of type number',
    );
  });
});

describe('response checks', () => {
  const rules: ResponseRules = {
    model: 'm',
    maxBatchSize: 4,
    outputs: new Map([
      ['A', { name: 'A', datatype: 'FP32', dims: [2] }],
      ['B', { name: 'B', datatype: 'INT32', dims: [-1] }],
    ]),
  };
  const check = (response: unknown, names = ['A'], batch?: number) => () => responseToTensors(response, names, rules, batch);

  test('returns the requested outputs in order as bytes with their shapes', () => {
    const out = responseToTensors({ outputs: { B: { data: [1, 2, 3], shape: [1, 3] }, A: { data: [1, 2], shape: [1, 2] } } }, ['B', 'A'], rules, 1);
    expect(out.map((t) => [t.name, t.datatype, t.shape])).toEqual([
      ['B', 'INT32', [1, 3]],
      ['A', 'FP32', [1, 2]],
    ]);
  });

  test('names the model and output and says what was expected', () => {
    expect(check({ outputs: {} })).toThrow("model 'm': the response is missing output 'A'");
    expect(check({ outputs: { A: { data: [1, 2], shape: [1, 2] }, C: { data: [] } } })).toThrow(
      "model 'm': the response has output 'C', which the model configuration does not declare (declared: A, B)",
    );
    expect(check({ outputs: { A: { data: [1, 2, 3], shape: [1, 3] } } })).toThrow(
      "model 'm', output 'A': shape [1,3] does not match the configuration's [-1,2] (batch dimension first)",
    );
    expect(check({ outputs: { A: { data: [1, 2], shape: [2, 2] } } })).toThrow(
      "model 'm', output 'A': shape [2,2] has 4 elements, but the data has 2",
    );
    expect(check({ outputs: { A: { data: [1, 2, 3, 4], shape: [2, 2] } } }, ['A'], 1)).toThrow(
      "model 'm', output 'A': the batch dimension is 2, but the request has batch size 1",
    );
    expect(check({ outputs: { A: { data: [1, 2], shape: [1, 2], datatype: 'FP64' } } })).toThrow(
      "model 'm', output 'A': the configuration declares datatype FP32, the response gives FP64",
    );
    expect(check(42)).toThrow("model 'm': a response must be an object { outputs: { <name>: { data, shape } } } (or an Error), got number");
  });
});

describe('autoCompleteConfig helper (Triton Python backend rules)', () => {
  const config = () =>
    new AutoCompleteModelConfig({
      name: 'm',
      max_batch_size: 4,
      input: [{ name: 'IN', data_type: 'TYPE_FP32', dims: [3], optional: false }],
      output: [],
    });

  test('adds tensors, completes existing ones and sets the scheduler and policy', () => {
    const c = config();
    c.addInput({ name: 'IN', data_type: 'TYPE_FP32', dims: [3] });
    c.addInput({ name: 'IN2', data_type: 'TYPE_INT64', dims: [-1], optional: true });
    c.addOutput({ name: 'OUT', data_type: 'TYPE_STRING', dims: [1] });
    c.setMaxBatchSize(8);
    c.setDynamicBatching();
    c.setModelTransactionPolicy({ decoupled: true });
    expect(c.asDict()).toEqual({
      name: 'm',
      max_batch_size: 8,
      input: [
        { name: 'IN', data_type: 'TYPE_FP32', dims: [3], optional: false },
        { name: 'IN2', data_type: 'TYPE_INT64', dims: [-1], optional: true },
      ],
      output: [{ name: 'OUT', data_type: 'TYPE_STRING', dims: [1] }],
      dynamic_batching: {},
      model_transaction_policy: { decoupled: true },
    });
  });

  test('conflicts fail with the Python backend\'s messages', () => {
    expect(() => config().setMaxBatchSize(2)).toThrow(
      "configuration specified max_batch_size 4, but in auto-complete-config function for model 'm' specified max_batch_size 2",
    );
    expect(() => config().addInput({ name: 'IN', data_type: 'TYPE_INT32', dims: [3] })).toThrow(
      "unable to load model 'm', configuration expects datatype TYPE_FP32 for input 'IN', model provides TYPE_INT32",
    );
    expect(() => config().addInput({ name: 'IN', data_type: 'TYPE_FP32', dims: [4] })).toThrow(
      "model 'm', tensor 'IN': the model expects dims [4] but the model configuration specifies dims [3]",
    );
    expect(() => config().addOutput({ name: 'O', data_type: 'TYPE_FP32', dims: [1], optional: true } as never)).toThrow(
      "output 'O' in auto-complete-config function for model 'm' contains property other than 'name', 'data_type' and 'dims'.",
    );
    expect(() => config().addInput({ name: 'X', dims: [1] } as never)).toThrow(
      "input 'X' in auto-complete-config function for model 'm' is missing 'data_type' property.",
    );
    const seq = new AutoCompleteModelConfig({ name: 'm', sequence_batching: {} });
    expect(() => seq.setDynamicBatching()).toThrow(
      "Configuration specified scheduling_choice as 'sequence_batching', but auto-complete-config function for model 'm' tries to set scheduling_choice as 'dynamic_batching'",
    );
    const decoupled = new AutoCompleteModelConfig({ name: 'm', model_transaction_policy: { decoupled: false } });
    expect(() => decoupled.setModelTransactionPolicy({ decoupled: true })).toThrow(
      "trying to change decoupled property in auto-complete-config for model 'm', which is already set to 'False'.",
    );
  });
});

describe('finding the model class', () => {
  const write = (name: string, source: string): string => {
    const file = path.join(tmp.dir, name);
    writeFileSync(file, source);
    return file;
  };

  test('default export, named export Model, CommonJS module.exports', async () => {
    const def = await loadModelClass(write('a.mjs', 'export default class { execute() {} }'), 'a');
    const named = await loadModelClass(write('b.mjs', 'export class Model { execute() {} }'), 'b');
    const cjs = await loadModelClass(write('c.cjs', 'module.exports = class { execute() {} };'), 'c');
    for (const cls of [def, named, cjs]) expect(typeof cls.prototype.execute).toBe('function');
  });

  test('a module without a model class, or one that fails to import, is a load error naming the model', async () => {
    await expect(loadModelClass(write('d.mjs', 'export const x = 1;'), 'd')).rejects.toThrow(InvalidArgumentError);
    await expect(loadModelClass(write('e.mjs', 'export const x = 1;'), 'e')).rejects.toThrow(
      /^model 'e': '.*e\.mjs' must export a model class with an execute\(requests\) method/,
    );
    await expect(loadModelClass(write('f.mjs', 'throw new Error("top-level");'), 'f')).rejects.toThrow(
      /^model 'f': failed to load '.*f\.mjs': Error: top-level$/,
    );
  });
});

describe('backend detection (auto-complete step 1)', () => {
  const detect = async (name: string, files: string[], config: { backend?: string; defaultModelFilename?: string } = {}) => {
    const dir = path.join(tmp.dir, 'repo', name);
    mkdirSync(path.join(dir, '1'), { recursive: true });
    for (const f of files) writeFileSync(path.join(dir, '1', f), '');
    const c = await resolveBackendFields(create(ModelConfigSchema, config), dir);
    return [c.backend, c.platform, c.defaultModelFilename];
  };

  test('model.js or model.mjs selects the javascript backend; model.js wins when both exist', async () => {
    expect(await detect('a', ['model.mjs'])).toEqual(['javascript', '', 'model.mjs']);
    expect(await detect('b', ['model.js', 'model.mjs'])).toEqual(['javascript', '', 'model.js']);
    expect(await detect('c', ['model.mjs'], { backend: 'javascript' })).toEqual(['javascript', '', 'model.mjs']);
    expect(await detect('d', [], { defaultModelFilename: 'model.mjs' })).toEqual(['javascript', '', 'model.mjs']);
  });

  test('Triton\'s own rules come first', async () => {
    expect(await detect('e', ['model.onnx', 'model.js'])).toEqual(['onnxruntime', 'onnxruntime_onnx', 'model.onnx']);
    expect(await detect('f', ['model.py', 'model.js'])).toEqual(['python', '', 'model.py']);
  });
});
