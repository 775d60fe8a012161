import { readFile } from 'node:fs/promises';
import { TENSORRT_BACKEND } from '../../config/constants.js';
import { InternalError, UnsupportedError } from '../../errors/index.js';
import { isDatatype } from '../../infer/datatype.js';
import { awaitNative, loadNativeAddon, nativeAddonLoadError, type NativeAddon, type NativeTensorInfo } from '../../native/binding.js';
import type { ModelConfig } from '../../generated/model_config_pb.js';
import type { AutoCompleteContext, AutoCompleteResult, Backend, InstanceOptions, ModelFileMetadata, ModelInstance, ModelTensorInfo } from '../backend.js';
import { autoCompleteOnnxConfig } from '../onnxruntime/auto-complete-config.js';
import { validateOnnxConfigAgainstModel } from '../onnxruntime/validate-config.js';
import { BatchingInstance, batchingOptions } from '../batching-instance.js';
import { TensorRtModelInstance } from './tensorrt-instance.js';

/** The message Triton's issue asks for when TensorRT was not found at build time. */
export const TENSORRT_NOT_AVAILABLE = 'TensorRT is not available in this build';

/**
 * The `tensorrt` backend (`platform: tensorrt_plan`, `model.plan`): engines deserialized and
 * executed by the native core (native/core/tensorrt) with TensorRT 10's named-tensor API, one
 * execution context, CUDA stream and native thread per instance.
 *
 * It is compiled only where TensorRT was found at build time (ENABLE_TENSORRT); elsewhere
 * every load fails with UnsupportedError "TensorRT is not available in this build".
 */
export class TensorRtBackend implements Backend {
  readonly name = TENSORRT_BACKEND;
  readonly #addon: () => NativeAddon;

  /** @param addon the native addon, for tests; loaded on first use by default. */
  constructor(addon?: () => NativeAddon) {
    this.#addon = addon ?? loadNativeAddon;
  }

  /**
   * Deserializes the plan to read its I/O (names, wire datatypes, full shapes with -1 for
   * dynamic dimensions), then releases it.
   * @throws UnsupportedError TENSORRT_NOT_AVAILABLE without TensorRT in the build (or without
   *   the native addon: the message then adds why it did not load), or without a GPU;
   *   InvalidArgumentError when TensorRT refuses the plan; the file-system error for a missing
   *   file (ENOENT, which the loader reports as "model file not found").
   */
  async readModelMetadata(modelFile: string): Promise<ModelFileMetadata> {
    const addon = this.#requireTensorRt();
    const plan = await readFile(modelFile);
    const engine = await awaitNative(addon.TensorRtEngine.load(plan, 0));
    try {
      return { inputs: engine.inputs.map(toTensorInfo), outputs: engine.outputs.map(toTensorInfo) };
    } finally {
      engine.dispose();
    }
  }

  /**
   * Loads the plan on the instance's GPU (`options.gpu`, default 0) and creates its execution
   * context. Same errors as readModelMetadata.
   */
  async createInstance(options: InstanceOptions): Promise<ModelInstance> {
    const addon = this.#requireTensorRt();
    const plan = await readFile(options.modelFile);
    const engine = await awaitNative(addon.TensorRtEngine.load(plan, options.gpu ?? 0));
    return new BatchingInstance(TensorRtModelInstance.create(options, engine), batchingOptions(options.config));
  }

  /**
   * Completes the config from the engine's I/O with the ONNX Runtime backend's rules, as
   * infera has done since TensorRT models were added. Triton's TensorRT backend has its own
   * auto-complete, not yet matched here.
   */
  async autoCompleteConfig(config: ModelConfig, context: AutoCompleteContext): Promise<AutoCompleteResult> {
    return autoCompleteOnnxConfig(config, context.metadata, { defaultMaxBatchSize: context.defaultMaxBatchSize });
  }

  /**
   * Checks the config against the engine's I/O with the ONNX Runtime backend's rules and
   * messages; Triton's TensorRT backend validates with its own, not yet matched here.
   */
  validateConfig(config: ModelConfig, metadata: ModelFileMetadata): void {
    validateOnnxConfigAgainstModel(config, metadata);
  }

  #requireTensorRt(): NativeAddon {
    let addon: NativeAddon;
    try {
      addon = this.#addon();
    } catch (err) {
      const reason = nativeAddonLoadError()?.message ?? (err as Error).message;
      throw new UnsupportedError(`${TENSORRT_NOT_AVAILABLE} (the native addon did not load: ${reason})`);
    }
    if (!addon.buildInfo().tensorrt) throw new UnsupportedError(TENSORRT_NOT_AVAILABLE);
    return addon;
  }
}

function toTensorInfo(t: NativeTensorInfo): ModelTensorInfo {
  if (!isDatatype(t.datatype)) throw new InternalError(`TensorRT tensor '${t.name}' has unknown datatype '${t.datatype}'`);
  return { name: t.name, datatype: t.datatype, shape: [...t.shape] };
}
