/**
 * How a TorchScript forward is called under the sequence batcher (Triton's PyTorch backend,
 * src/pt/model_instance_state.cc): control inputs and state inputs/outputs are placed by their
 * `<name>__<index>` names and counted in the inputs forward must take; state needs the config's
 * inputs and outputs to follow `<name>__<index>` too. Triton's messages, without libtorch.
 */
import { describe, expect, test } from 'vitest';
import { runPlan } from '../../../../src/backends/pytorch/run-plan.js';
import { normalizeModelConfig, parseModelConfigText } from '../../../../src/config/index.js';
import { InternalError, InvalidArgumentError } from '../../../../src/errors/index.js';
import type { NativeTorchModule } from '../../../../src/native/torch-binding.js';

const module = (...args: string[]): NativeTorchModule => ({
  arguments: args.map((name) => ({ name, type: 'Tensor' })),
  dictInput: false,
  execute: () => Promise.reject(new Error('not run')),
  dispose: () => undefined,
});

const config = (sequence: string, input = 'INPUT__0', output = 'OUTPUT__0') =>
  normalizeModelConfig(
    parseModelConfigText(
      `name: "acc"\nbackend: "pytorch"\nmax_batch_size: 4\n` +
        `input [{ name: "${input}" data_type: TYPE_FP32 dims: [1] }]\noutput [{ name: "${output}" data_type: TYPE_FP32 dims: [1] }]\n` +
        `sequence_batching { ${sequence} }`,
      'config.pbtxt',
    ),
    { gpuCount: 0 },
  );

const START = (name: string) => `control_input [{ name: "${name}" control [{ kind: CONTROL_SEQUENCE_START fp32_false_true: [0, 1] }] }]`;
const STATE = (input: string, output: string) =>
  `state [{ input_name: "${input}" output_name: "${output}" data_type: TYPE_FP32 dims: [1] initial_state { data_type: TYPE_FP32 dims: [1] zero_data: true name: "z" } }]`;

describe('runPlan under the sequence batcher', () => {
  test('controls and states take the forward arguments their names give; state outputs the returned values', () => {
    const plan = runPlan(config(`${START('START__2')} ${STATE('STATE__1', 'STATE__1')}`), module('x', 's', 'start'), 'L');
    expect(plan.inputs.map((i) => i.name)).toEqual(['INPUT__0', 'STATE__1', 'START__2']);
    expect(plan.outputs.get('STATE__1')).toEqual({ name: 'STATE__1', datatype: 'FP32', index: 1 });
  });

  test('forward must take the controls and states too', () => {
    expect(() => runPlan(config(START('START__1')), module('x'), 'L')).toThrow(
      new InvalidArgumentError("unable to load model 'acc', configuration expects 2 inputs, model provides 1"),
    );
  });

  test('a control input must follow <name>__<index>', () => {
    expect(() => runPlan(config(START('START')), module('x', 'start'), 'L')).toThrow(
      new InternalError("input 'START' does not follow <name>__<index> naming convention."),
    );
  });

  test('state needs <name>__<index> for the config inputs and outputs, and for the state names', () => {
    // Config inputs named as forward's arguments: the inputs map by name, which state does not allow.
    expect(() => runPlan(config(STATE('STATE__1', 'STATE__1'), 'x'), module('x', 'state'), 'L')).toThrow(
      "PyTorch model 'acc' is using sequence batching with state but not all inputs and outputs follow the <name>__<index> naming convention. ",
    );
    expect(() => runPlan(config(STATE('STATE__1', 'STATE__1'), 'INPUT__0', 'out'), module('x', 'state'), 'L')).toThrow(
      'not all inputs and outputs follow',
    );
    expect(() => runPlan(config(STATE('STATE__1', 'STATE_OUT')), module('x', 'state'), 'L')).toThrow(
      "PyTorch model 'acc' is using sequence batching with state but state 'STATE_OUT' does not follow the <name>__<index> naming convention. ",
    );
  });

  test('two tensors on one forward argument are refused, naming both', () => {
    expect(() => runPlan(config(START('START__0')), module('x', 'start'), 'L')).toThrow(
      "model 'acc': inputs 'INPUT__0' and 'START__0' both refer to forward argument 0",
    );
  });
});
