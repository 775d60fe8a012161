import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import ort from 'onnxruntime-node';
import { InvalidArgumentError, UnsupportedError } from '../../errors/index.js';
import { ortTypeToDatatype } from '../../infer/datatype.js';
import type { ModelFileMetadata, ModelTensorInfo } from '../backend.js';
import { gpuExecutionProviders } from './execution-accelerators.js';
import type { InstanceWorkerData } from './messages.js';

/**
 * Session creation and model I/O, on the ORT side of the worker boundary: only worker threads
 * import this module, because it loads onnxruntime-node's native binding.
 */

/**
 * ORT logs errors to stderr itself before throwing them; infera reports the same text in the
 * error it raises, so the session logs fatal messages only.
 */
const LOG_FATAL_ONLY = 4;

/**
 * Session options for one instance; KIND_GPU asks for the CUDA execution provider, behind
 * ORT's TensorRT provider when the config lists the `tensorrt` GPU accelerator.
 * @throws as `gpuExecutionProviders` for a bad or unavailable accelerator.
 */
export function instanceSessionOptions(d: InstanceWorkerData): ort.InferenceSession.SessionOptions {
  const what = `model '${d.modelName}' instance '${d.instanceName}'`;
  const options: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: d.intraOpThreads,
    executionProviders:
      d.kind === 'KIND_GPU'
        ? gpuExecutionProviders(d.gpuExecutionAccelerators, d.gpu, tensorrtExecutionProviderAvailable(), what)
        : ['cpu'],
    logSeverityLevel: LOG_FATAL_ONLY,
  };
  if (d.interOpThreads > 0) options.interOpNumThreads = d.interOpThreads;
  return options;
}

/**
 * Session options for reading I/O only: no graph optimisation (which does not change the
 * declared I/O) keeps the load of a large model short.
 */
export const METADATA_SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  graphOptimizationLevel: 'disabled',
  executionProviders: ['cpu'],
  logSeverityLevel: LOG_FATAL_ONLY,
};

/** Provider libraries of onnxruntime-node's CUDA EP, which npm does not bundle. */
const CUDA_PROVIDER_FILES: Readonly<Record<string, readonly string[]>> = {
  linux: ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'],
  win32: ['onnxruntime_providers_shared.dll', 'onnxruntime_providers_cuda.dll'],
};

/**
 * Whether onnxruntime-node can use the CUDA execution provider here. The binding lists the
 * providers it was compiled with (`listSupportedBackends`); `bundled: false` marks the ones
 * whose provider libraries only its postinstall downloads (skipped in this project), so those
 * count only when the libraries sit next to the binding. This does not prove a GPU exists:
 * session creation still fails on a machine without one.
 */
export function cudaExecutionProviderAvailable(): boolean {
  return providerAvailable('cuda', CUDA_PROVIDER_FILES);
}

/** Provider libraries of onnxruntime-node's TensorRT EP (it also needs TensorRT itself). */
const TENSORRT_PROVIDER_FILES: Readonly<Record<string, readonly string[]>> = {
  linux: ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_tensorrt.so'],
  win32: ['onnxruntime_providers_shared.dll', 'onnxruntime_providers_tensorrt.dll'],
};

/** As `cudaExecutionProviderAvailable`, for ORT's TensorRT execution provider. */
export function tensorrtExecutionProviderAvailable(): boolean {
  return providerAvailable('tensorrt', TENSORRT_PROVIDER_FILES);
}

function providerAvailable(name: string, providerFiles: Readonly<Record<string, readonly string[]>>): boolean {
  const provider = ort.listSupportedBackends().find((b) => b.name === name);
  if (provider === undefined) return false;
  if (provider.bundled) return true;
  const files = providerFiles[process.platform];
  if (files === undefined) return false;
  const binDir = join(
    dirname(createRequire(import.meta.url).resolve('onnxruntime-node')),
    '..',
    'bin',
    'napi-v6',
    process.platform,
    process.arch,
  );
  return files.every((f) => existsSync(join(binDir, f)));
}

/**
 * The session's inputs and outputs with wire datatypes; symbolic or unknown dims become -1.
 * @throws InvalidArgumentError for a non-tensor input or output (sequence, map), which the
 *   protocol cannot carry; UnsupportedError for an element type with no wire datatype.
 */
export function sessionMetadata(session: ort.InferenceSession, modelFile: string): ModelFileMetadata {
  const convert = (m: ort.InferenceSession.ValueMetadata, role: string): ModelTensorInfo => {
    if (!m.isTensor) {
      throw new InvalidArgumentError(
        `ONNX model '${modelFile}': ${role} '${m.name}' is not a tensor (sequence or map), which is not supported`,
      );
    }
    const datatype = ortTypeToDatatype(m.type);
    if (datatype === undefined) {
      throw new UnsupportedError(
        `ONNX model '${modelFile}': ${role} '${m.name}' has ONNX type ${m.type}, which has no wire datatype`,
      );
    }
    const shape = m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1));
    return { name: m.name, datatype, shape };
  };
  return {
    inputs: session.inputMetadata.map((m) => convert(m, 'input')),
    outputs: session.outputMetadata.map((m) => convert(m, 'output')),
  };
}
