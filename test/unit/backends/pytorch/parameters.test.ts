/** Triton's PyTorch parameters (its README "Parameters"), with its defaults and boolean parsing. */
import { create } from '@bufbuild/protobuf';
import { describe, expect, test } from 'vitest';
import { parsePyTorchParameters } from '../../../../src/backends/pytorch/parameters.js';
import { ModelConfigSchema, ModelParameterSchema } from '../../../../src/generated/model_config_pb.js';

function config(params: Record<string, string>) {
  return create(ModelConfigSchema, {
    name: 'm',
    parameters: Object.fromEntries(Object.entries(params).map(([k, v]) => [k, create(ModelParameterSchema, { stringValue: v })])),
  });
}

describe('parsePyTorchParameters', () => {
  test("absent parameters keep Triton's defaults and leave libtorch's JIT switches alone", () => {
    expect(parsePyTorchParameters(config({}))).toEqual({
      inferenceMode: true,
      optimizedExecution: true,
      jitExecutor: undefined,
      jitProfiling: undefined,
      tensorFuser: undefined,
      numThreads: undefined,
      numInteropThreads: undefined,
    });
  });

  test('every CPU parameter is read; booleans as Triton parses them', () => {
    expect(
      parsePyTorchParameters(
        config({
          INFERENCE_MODE: 'false',
          DISABLE_OPTIMIZED_EXECUTION: 'TRUE',
          ENABLE_JIT_EXECUTOR: 'off',
          ENABLE_JIT_PROFILING: '1',
          ENABLE_TENSOR_FUSER: 'no',
          NUM_THREADS: '3',
          INTER_OP_THREAD_COUNT: '2',
        }),
      ),
    ).toEqual({
      inferenceMode: false,
      optimizedExecution: false,
      jitExecutor: false,
      jitProfiling: true,
      tensorFuser: false,
      numThreads: 3,
      numInteropThreads: 2,
    });
    expect(parsePyTorchParameters(config({ INTRA_OP_THREAD_COUNT: '4', NUM_INTEROP_THREADS: '0' }))).toMatchObject({
      numThreads: 4,
      numInteropThreads: undefined,
    });
  });

  test('a value that does not parse names the model and parameter', () => {
    expect(() => parsePyTorchParameters(config({ INFERENCE_MODE: 'maybe' }))).toThrow(
      "model 'm': parameter 'INFERENCE_MODE': failed to convert 'maybe' to boolean value",
    );
    expect(() => parsePyTorchParameters(config({ NUM_THREADS: 'four' }))).toThrow(/parameter 'NUM_THREADS': failed to convert 'four' to integral number/);
    expect(() => parsePyTorchParameters(config({ DISABLE_CUDNN: 'x' }))).toThrow(/DISABLE_CUDNN/);
  });
});
