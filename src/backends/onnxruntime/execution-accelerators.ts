import type ort from 'onnxruntime-node';
import { InvalidArgumentError, UnsupportedError } from '../../errors/index.js';

/**
 * The `optimization.execution_accelerators.gpu_execution_accelerator` entries of a KIND_GPU
 * ONNX model, mapped to onnxruntime-node execution providers as Triton's onnxruntime backend
 * maps them (`onnxruntime.cc`, CreateSession): `tensorrt` puts ORT's TensorRT provider first,
 * with the CUDA provider behind it for the nodes TensorRT does not take; any other name is
 * refused. With no accelerator the CUDA provider runs alone.
 */

export interface GpuAccelerator {
  name: string;
  parameters: Record<string, string>;
}

/** Precision modes Triton accepts for the TensorRT accelerator. */
const PRECISION_MODES = new Set(['FP32', 'FP16', 'BF16', 'INT8']);

/**
 * @param accelerators the config's entries, in order
 * @param device the instance's GPU
 * @param tensorrtAvailable whether onnxruntime-node can use its TensorRT provider here
 * @param what names the model and instance in messages
 * @throws InvalidArgumentError "unknown Execution Accelerator '<name>' is requested" and
 *   "unsupported precision mode '<m>' is requested" (Triton's messages); UnsupportedError when
 *   `tensorrt` is asked for but its provider library (or TensorRT) is not installed, or for a
 *   parameter other than `precision_mode: FP32`, since onnxruntime-node's TensorRT provider
 *   takes no options but the device.
 */
export function gpuExecutionProviders(
  accelerators: readonly GpuAccelerator[],
  device: number,
  tensorrtAvailable: boolean,
  what: string,
): ort.InferenceSession.ExecutionProviderConfig[] {
  const providers: ort.InferenceSession.ExecutionProviderConfig[] = [];
  for (const a of accelerators) {
    if (a.name !== 'tensorrt') throw new InvalidArgumentError(`unknown Execution Accelerator '${a.name}' is requested`);
    for (const [key, value] of Object.entries(a.parameters)) {
      if (key === 'precision_mode') {
        if (!PRECISION_MODES.has(value)) throw new InvalidArgumentError(`unsupported precision mode '${value}' is requested`);
        if (value === 'FP32') continue;
      }
      throw new UnsupportedError(
        `${what}: the TensorRT execution accelerator parameter '${key}' = '${value}' cannot be applied: ` +
          "onnxruntime-node's TensorRT provider takes no options but the device",
      );
    }
    if (!tensorrtAvailable) {
      throw new UnsupportedError(
        `${what} asks for the 'tensorrt' GPU execution accelerator, but onnxruntime-node's TensorRT execution ` +
          'provider is not installed on this machine (libonnxruntime_providers_tensorrt.so and TensorRT); ' +
          'remove the accelerator from the config to run on the CUDA provider',
      );
    }
    if (providers.length === 0) providers.push({ name: 'tensorrt', deviceId: device });
  }
  providers.push({ name: 'cuda', deviceId: device });
  return providers;
}
