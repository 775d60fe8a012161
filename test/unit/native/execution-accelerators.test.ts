/**
 * `optimization.execution_accelerators.gpu_execution_accelerator` for ONNX Runtime KIND_GPU
 * instances: Triton's names and messages, and a clear error where the provider is missing.
 */
import { describe, expect, test } from 'vitest';
import { gpuExecutionProviders } from '../../../src/backends/onnxruntime/execution-accelerators.js';
import { InvalidArgumentError, UnsupportedError } from '../../../src/errors/index.js';

const what = "model 'm' instance 'm_0'";

describe('gpuExecutionProviders', () => {
  test('CUDA alone without accelerators; TensorRT first, CUDA behind it, with one', () => {
    expect(gpuExecutionProviders([], 1, false, what)).toEqual([{ name: 'cuda', deviceId: 1 }]);
    expect(gpuExecutionProviders([{ name: 'tensorrt', parameters: { precision_mode: 'FP32' } }], 0, true, what)).toEqual([
      { name: 'tensorrt', deviceId: 0 },
      { name: 'cuda', deviceId: 0 },
    ]);
  });

  test("Triton's refusals", () => {
    expect(() => gpuExecutionProviders([{ name: 'openvino', parameters: {} }], 0, true, what)).toThrow(
      new InvalidArgumentError("unknown Execution Accelerator 'openvino' is requested"),
    );
    expect(() => gpuExecutionProviders([{ name: 'tensorrt', parameters: { precision_mode: 'FP8' } }], 0, true, what)).toThrow(
      new InvalidArgumentError("unsupported precision mode 'FP8' is requested"),
    );
  });

  test('a clear load error where the TensorRT provider or an option is unavailable', () => {
    expect(() => gpuExecutionProviders([{ name: 'tensorrt', parameters: {} }], 0, false, what)).toThrow(
      /^model 'm' instance 'm_0' asks for the 'tensorrt' GPU execution accelerator, but onnxruntime-node's TensorRT execution provider is not installed/,
    );
    expect(() => gpuExecutionProviders([{ name: 'tensorrt', parameters: { precision_mode: 'FP16' } }], 0, true, what)).toThrow(UnsupportedError);
  });
});
