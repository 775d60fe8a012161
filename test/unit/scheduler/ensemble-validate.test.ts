/**
 * Ensemble config checks with Triton's messages: the data flow of the ensemble config on its
 * own (core ValidateEnsembleSchedulingConfig), and its steps against the composing models'
 * configs (core ValidateEnsembleConfig). Also the batch-dimension rule and the step limiter.
 */
import { create } from '@bufbuild/protobuf';
import { describe, expect, test } from 'vitest';
import { validateEnsembleModels } from '../../../src/config/ensemble-models-validate.js';
import { validateEnsembleScheduling } from '../../../src/config/ensemble-validate.js';
import { CancelledError } from '../../../src/errors/index.js';
import { DataType, ModelConfigSchema, type ModelConfig } from '../../../src/generated/model_config_pb.js';
import { reshapeForBatching } from '../../../src/scheduler/ensemble/batch-reshape.js';
import { StepLimiter } from '../../../src/scheduler/ensemble/step-limiter.js';

type Io = { name: string; type?: DataType; dims?: number[]; optional?: boolean };
type Step = { model: string; inputs: Record<string, string>; outputs: Record<string, string> };

const io = (t: Io) => ({ name: t.name, dataType: t.type ?? DataType.TYPE_FP32, dims: (t.dims ?? [4]).map(BigInt), optional: t.optional ?? false });

function ensemble(steps: Step[], inputs: Io[] = [{ name: 'IN' }], outputs: Io[] = [{ name: 'OUT' }], maxBatchSize = 4): ModelConfig {
  return create(ModelConfigSchema, {
    name: 'ens',
    platform: 'ensemble',
    maxBatchSize,
    input: inputs.map(io),
    output: outputs.map(io),
    schedulingChoice: {
      case: 'ensembleScheduling',
      value: { step: steps.map((s) => ({ modelName: s.model, modelVersion: -1n, inputMap: s.inputs, outputMap: s.outputs })) },
    },
  });
}

function model(name: string, inputs: Io[], outputs: Io[], maxBatchSize = 4, decoupled = false): ModelConfig {
  return create(ModelConfigSchema, {
    name,
    maxBatchSize,
    input: inputs.map(io),
    output: outputs.map(io),
    modelTransactionPolicy: { decoupled },
  });
}

const CHAIN: Step[] = [
  { model: 'a', inputs: { x: 'IN' }, outputs: { y: 'mid' } },
  { model: 'b', inputs: { x: 'mid' }, outputs: { y: 'OUT' } },
];

describe('validateEnsembleScheduling (the ensemble config by itself)', () => {
  test('a connected chain passes', () => {
    expect(() => validateEnsembleScheduling(ensemble(CHAIN))).not.toThrow();
  });

  test.each([
    ['no steps', ensemble([]), "must specify 'step' for ensemble 'ens'"],
    ['a step without model_name', ensemble([{ model: '', inputs: { x: 'IN' }, outputs: { y: 'OUT' } }]), "must specify 'model_name' in step 0 of ensemble 'ens'"],
    ['a step without input_map', ensemble([{ model: 'a', inputs: {}, outputs: { y: 'OUT' } }]), "must specify 'input_map' in step 0 of ensemble 'ens'"],
    ['a step without output_map', ensemble([{ model: 'a', inputs: { x: 'IN' }, outputs: {} }]), "must specify 'output_map' in step 0 of ensemble 'ens'"],
    [
      'a tensor written twice',
      ensemble([...CHAIN, { model: 'c', inputs: { x: 'IN' }, outputs: { y: 'mid' } }]),
      "ensemble tensor 'mid' can appear in an output map only once for ensemble 'ens' step 2",
    ],
    ['an input no step reads', ensemble(CHAIN, [{ name: 'IN' }, { name: 'EXTRA' }]), "ensemble input 'EXTRA' for ensemble ens' is not used"],
    ['an output no step writes', ensemble(CHAIN, [{ name: 'IN' }], [{ name: 'OUT' }, { name: 'OTHER' }]), "ensemble output 'OTHER' for ensemble ens' is not used"],
    [
      'an output computed from a tensor nothing writes',
      ensemble([{ model: 'a', inputs: { x: 'IN', z: 'ghost' }, outputs: { y: 'OUT' } }]),
      "output 'OUT' for ensemble 'ens' is not written: at least one of its depending tensors, 'ghost', is not connected",
    ],
    [
      'a step output nobody reads',
      ensemble([{ model: 'a', inputs: { x: 'IN' }, outputs: { y: 'OUT', z: 'dangling' } }]),
      "ensemble tensor 'dangling' is unused in ensemble 'ens'",
    ],
  ])('%s', (_what, config, message) => {
    expect(() => validateEnsembleScheduling(config)).toThrow(message);
  });

  test('steps reading what they write are reported with the cycle', () => {
    const config = ensemble([
      { model: 'a', inputs: { x: 'IN', z: 'back' }, outputs: { y: 'fwd', w: 'OUT' } },
      { model: 'b', inputs: { x: 'fwd' }, outputs: { y: 'back' } },
    ]);
    expect(() => validateEnsembleScheduling(config)).toThrow(
      /^output 'OUT' for ensemble 'ens' is not written: at least one of its depending tensors, '(back|fwd)', is not connected; the ensemble tensors form a cycle: (back -> fwd -> back|fwd -> back -> fwd)$/,
    );
  });

  test('ensembles have no instance groups, optimization or warmup, and need platform "ensemble"', () => {
    expect(() => validateEnsembleScheduling(create(ModelConfigSchema, { ...ensemble(CHAIN), instanceGroup: [{ count: 1 }] }))).toThrow(
      "instance group should not be specified for ensemble 'ens'",
    );
    expect(() => validateEnsembleScheduling(create(ModelConfigSchema, { ...ensemble(CHAIN), optimization: {} }))).toThrow(
      "optimization should not be specified for ensemble 'ens'",
    );
    expect(() => validateEnsembleScheduling(create(ModelConfigSchema, { ...ensemble(CHAIN), modelWarmup: [{ name: 'w' }] }))).toThrow(
      "model_warmup can not be specified for ensemble 'ens'",
    );
    expect(() => validateEnsembleScheduling(create(ModelConfigSchema, { ...ensemble(CHAIN), platform: 'onnxruntime_onnx' }))).toThrow(
      "ensemble scheduling cannot be set for model 'ens' whose platform is not ensemble",
    );
  });
});

describe('validateEnsembleModels (steps against the composing models)', () => {
  const models: Record<string, ModelConfig> = {
    a: model('a', [{ name: 'x' }], [{ name: 'y' }]),
    b: model('b', [{ name: 'x' }], [{ name: 'y' }]),
  };
  const check = (config: ModelConfig, m: Record<string, ModelConfig> = models) =>
    () => validateEnsembleModels(config, (s) => m[s.modelName]!);

  test('matching models pass', () => {
    expect(check(ensemble(CHAIN))).not.toThrow();
  });

  test('mapping names the step model does not have', () => {
    expect(check(ensemble([{ model: 'a', inputs: { nope: 'IN' }, outputs: { y: 'OUT' } }]))).toThrow(
      'in ensemble ens, ensemble tensor IN is mapping to non-existing input nope in model a',
    );
    expect(check(ensemble([{ model: 'a', inputs: { x: 'IN' }, outputs: { nope: 'OUT' } }]))).toThrow(
      'in ensemble ens, ensemble tensor OUT is mapped from non-existing output nope in model a',
    );
  });

  test('an unmapped required input is refused; an optional one may stay unmapped', () => {
    const two = { ...models, a: model('a', [{ name: 'x' }, { name: 'extra' }], [{ name: 'y' }]) };
    expect(check(ensemble(CHAIN), two)).toThrow('in ensemble ens, input extra in model a is not mapped to any ensemble tensors');
    const optional = { ...models, a: model('a', [{ name: 'x' }, { name: 'extra', optional: true }], [{ name: 'y' }]) };
    expect(check(ensemble(CHAIN), optional)).not.toThrow();
  });

  test('datatype and shape must agree wherever a tensor appears', () => {
    const int = { ...models, b: model('b', [{ name: 'x', type: DataType.TYPE_INT32 }], [{ name: 'y' }]) };
    expect(check(ensemble(CHAIN), int)).toThrow(
      'in ensemble ens, ensemble tensor mid: inconsistent data type: TYPE_FP32 is inferred from model a while TYPE_INT32 is inferred from model b',
    );
    const wide = { ...models, b: model('b', [{ name: 'x', dims: [8] }], [{ name: 'y' }]) };
    expect(check(ensemble(CHAIN), wide)).toThrow(
      'in ensemble ens, ensemble tensor mid: inconsistent shape: [-1,4] is inferred from model a while [-1,8] is inferred from model b',
    );
    // -1 matches anything; a non-batching [-1,4] matches a batching [4].
    const loose = { ...models, b: model('b', [{ name: 'x', dims: [-1] }], [{ name: 'y' }]) };
    expect(check(ensemble(CHAIN), loose)).not.toThrow();
    const flat = { ...models, b: model('b', [{ name: 'x', dims: [-1, 4] }], [{ name: 'y', dims: [-1, 4] }], 0) };
    expect(check(ensemble(CHAIN), flat)).not.toThrow();
  });

  test('a batching step model must allow the ensemble max_batch_size', () => {
    const small = { ...models, b: model('b', [{ name: 'x' }], [{ name: 'y' }], 2) };
    expect(check(ensemble(CHAIN), small)).toThrow(
      'ensemble ens allows maximum batch size 4, but it contains model b which only allows maximum batch size to be 2',
    );
  });

  test('a decoupled step model makes the ensemble decoupled (Triton sets its transaction policy)', () => {
    expect(validateEnsembleModels(ensemble(CHAIN), (s) => models[s.modelName]!)).toEqual({ decoupled: false });
    const dec = { ...models, a: model('a', [{ name: 'x' }], [{ name: 'y' }], 4, true) };
    expect(validateEnsembleModels(ensemble(CHAIN), (s) => dec[s.modelName]!)).toEqual({ decoupled: true });
  });

  test('a step whose inputs descend from different decoupled steps (or from one and the request) is refused', () => {
    const dec = { ...models, a: model('a', [{ name: 'x' }], [{ name: 'y' }], 4, true), j: model('j', [{ name: 'x' }, { name: 'z' }], [{ name: 'y' }]) };
    // IN → a (decoupled) → mid; j reads mid and IN, which a's responses cannot be paired with.
    const mixed: Step[] = [CHAIN[0]!, { model: 'j', inputs: { x: 'mid', z: 'IN' }, outputs: { y: 'joined' } }, { model: 'b', inputs: { x: 'joined' }, outputs: { y: 'OUT' } }];
    // Triton names the model that first declared the step's output tensor.
    expect(check(ensemble(mixed), dec)).toThrow("in ensemble ens, step of model 'j' receives inputs originated from different decoupled models");
    // Ensemble outputs too: OUT from a's responses, OUT2 from the request's one.
    const split: Step[] = [CHAIN[0]!, { model: 'b', inputs: { x: 'IN' }, outputs: { y: 'OUT2' } }, { model: 'b', inputs: { x: 'mid' }, outputs: { y: 'OUT' } }];
    expect(check(ensemble(split, [{ name: 'IN' }], [{ name: 'OUT' }, { name: 'OUT2' }]), dec)).toThrow(
      "in ensemble ens, step of model 'ens' receives inputs originated from different decoupled models",
    );
  });
});

describe('reshapeForBatching (Triton ReshapeTensorDims)', () => {
  test('only adapts when exactly one side batches', () => {
    expect(reshapeForBatching([4], true, 2, [2, 4])).toEqual([2, 4]);
    expect(reshapeForBatching([4], true, 0, [4])).toEqual([1, 4]);
    expect(reshapeForBatching([4], true, 0, [3, 4])).toEqual([3, 4]);
    expect(reshapeForBatching([4], false, 1, [1, 4])).toEqual([4]);
    expect(reshapeForBatching([-1, 4], false, 1, [1, 4])).toEqual([1, 4]);
    expect(reshapeForBatching([4], false, 2, [2, 4])).toEqual([2, 4]);
  });
});

describe('StepLimiter (max_inflight_requests)', () => {
  test('0 means no limit', async () => {
    const l = new StepLimiter(0);
    await Promise.all([l.acquire(), l.acquire(), l.acquire()]);
  });

  test('waiters go in arrival order; a cancelled waiter holds nothing', async () => {
    const l = new StepLimiter(1);
    await l.acquire();
    const order: number[] = [];
    const abort = new AbortController();
    const second = l.acquire(abort.signal).then(() => order.push(2));
    const third = l.acquire().then(() => order.push(3));
    abort.abort();
    await expect(second).rejects.toBeInstanceOf(CancelledError);
    l.release();
    await third;
    expect(order).toEqual([3]);
    expect(l.inflight).toBe(1);
  });

  test('a waiter that waited too long goes ahead and reports it', async () => {
    const overdue: number[] = [];
    const l = new StepLimiter(1, (n) => overdue.push(n), 5);
    await l.acquire();
    await l.acquire();
    expect(overdue).toEqual([1]);
    expect(l.inflight).toBe(2);
  });
});
