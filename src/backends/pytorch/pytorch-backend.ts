import { stat } from 'node:fs/promises';
import path from 'node:path';
import { PYTORCH_AOTI_PLATFORM, PYTORCH_BACKEND, PYTORCH_LIBTORCH_FILENAME } from '../../config/constants.js';
import { InternalError, UnsupportedError } from '../../errors/index.js';
import type { ModelConfig } from '../../generated/model_config_pb.js';
import { awaitNative } from '../../native/binding.js';
import { loadTorchModule, type NativeTorchAddon } from '../../native/torch-binding.js';
import type { AutoCompleteContext, AutoCompleteResult, Backend, InstanceOptions, ModelFileMetadata, ModelInstance } from '../backend.js';
import { BatchingInstance, batchingOptions } from '../batching-instance.js';
import { parsePyTorchParameters } from './parameters.js';
import { PyTorchModelInstance } from './pytorch-instance.js';
import { runPlan, torchDatatype } from './run-plan.js';

/**
 * The `pytorch` backend for TorchScript models (`platform: pytorch_libtorch`, `<version>/
 * model.pt`), run by libtorch from C++ (native/core/torch) in infera's separate TorchScript
 * module, loaded on first use (native/torch-binding.ts). Without that module every load fails
 * UNSUPPORTED with how to enable it. As in Triton's PyTorch backend:
 *
 * - the config is never auto-completed (TorchScript keeps no I/O shapes): a warning is logged
 *   and the config must list every input and output;
 * - names map to forward's arguments and returned values as io-mapping.ts says;
 * - batching is along dim 0 of every input and output (`max_batch_size` > 0);
 * - each instance loads its own module and runs on its own native thread (KIND_CPU; KIND_GPU
 *   needs a CUDA libtorch).
 */
export class PyTorchBackend implements Backend {
  readonly name = PYTORCH_BACKEND;
  readonly #addon: () => NativeTorchAddon;

  /** @param addon the TorchScript module, for tests; loaded on first use by default. */
  constructor(addon?: () => NativeTorchAddon) {
    this.#addon = addon ?? loadTorchModule;
  }

  /**
   * TorchScript files carry no I/O description Triton uses, so nothing is read: the file must
   * exist, and the TorchScript module must be there to run it.
   * @throws UnsupportedError (torch-binding.ts TORCH_NOT_AVAILABLE) without the module; the
   *   file-system error for a missing file (ENOENT: "model file not found").
   */
  async readModelMetadata(modelFile: string): Promise<ModelFileMetadata> {
    this.#addon();
    await torchScriptFile(modelFile);
    return { inputs: [], outputs: [] };
  }

  /**
   * Triton's PyTorch backend does not auto-complete; it logs this warning and leaves the
   * config as written.
   */
  async autoCompleteConfig(config: ModelConfig): Promise<AutoCompleteResult> {
    return {
      config,
      warnings: [`skipping model configuration auto-complete for '${config.name}': not supported for pytorch backend`],
    };
  }

  /**
   * The checks Triton's PyTorch backend makes from the config alone when an instance starts
   * (`ValidateInputs` / `ValidateOutputs`), with its messages, made here once per load.
   * @throws InternalError "model configuration must contain at least one input, none were
   *   specified." (same for outputs), "unsupported datatype TYPE_X for input 'n' for model
   *   'm'" and, for a TYPE_STRING (List[str]) tensor of more than one dimension, "Triton only
   *   supports 1 dimensional List of String as input for 'n' for model 'm'", "unsupported
   *   datatype TYPE_X for input state 'n' for model 'm'"; UnsupportedError for `torch_aoti`
   *   (model.pt2) and `batch_input`, which infera does not run yet;
   *   InvalidArgumentError for a parameter that does not parse.
   */
  validateConfig(config: ModelConfig, _metadata?: ModelFileMetadata): void {
    const model = config.name;
    if (config.platform === PYTORCH_AOTI_PLATFORM) {
      throw new UnsupportedError(`model '${model}': platform '${PYTORCH_AOTI_PLATFORM}' (AOT Inductor, model.pt2) is not supported by infera; export a TorchScript model.pt instead`);
    }
    if (config.input.length === 0) throw new InternalError('model configuration must contain at least one input, none were specified.');
    if (config.output.length === 0) throw new InternalError('model configuration must contain at least one output, none were specified.');
    for (const [kind, list] of [['input', config.input], ['output', config.output]] as const) {
      for (const io of list) {
        if (torchDatatype(io.dataType, kind, io.name, model) !== 'BYTES') continue;
        // A TYPE_STRING tensor is a TorchScript List[str]: one dimension, batch included.
        const dims = io.reshape?.shape ?? io.dims;
        if (dims.length + (config.maxBatchSize > 0 ? 1 : 0) > 1) {
          throw new InternalError(`Triton only supports 1 dimensional List of String as ${kind} for '${io.name}' for model '${model}'`);
        }
      }
    }
    const seq = config.schedulingChoice.case === 'sequenceBatching' ? config.schedulingChoice.value : undefined;
    for (const state of seq?.state ?? []) torchDatatype(state.dataType, 'input state', state.inputName, model);
    if (config.batchInput.length > 0) throw new UnsupportedError(`model '${model}': batch_input is not supported by infera's pytorch backend yet`);
    parsePyTorchParameters(config);
  }

  /**
   * Loads the module on the instance's device, checks forward against the config (Triton's
   * input count rule and message) and maps names to positions.
   * @throws UnsupportedError without the TorchScript module, or for KIND_GPU without a CUDA
   *   libtorch; InternalError "failed to load model 'm': ..." for a file that is not
   *   TorchScript; InvalidArgumentError "unable to load model 'm', configuration expects N
   *   inputs, model provides M" and for names that map outside forward's arguments.
   */
  async createInstance(options: InstanceOptions): Promise<ModelInstance> {
    const addon = this.#addon();
    const config = options.config;
    if (config === undefined) throw new InternalError(`model '${options.modelName}': the pytorch backend needs the model config`);
    const params = parsePyTorchParameters(config);
    const module = await awaitNative(
      addon.TorchModule.load(await torchScriptFile(options.modelFile), {
        modelName: options.modelName,
        device: options.kind === 'KIND_GPU' ? (options.gpu ?? 0) : -1,
        inferenceMode: params.inferenceMode,
        optimizedExecution: params.optimizedExecution,
        jitExecutor: params.jitExecutor,
        jitProfiling: params.jitProfiling,
        tensorFuser: params.tensorFuser,
        numThreads: params.numThreads ?? options.intraOpThreads,
        numInteropThreads: params.numInteropThreads ?? 0,
      }),
    );
    try {
      const plan = runPlan(config, module, `model '${options.modelName}' version ${options.version} instance '${options.name}'`);
      return new BatchingInstance(new PyTorchModelInstance(options.name, module, plan), batchingOptions(config));
    } catch (err) {
      module.dispose();
      throw err;
    }
  }
}

/**
 * The file to load. Triton's core leaves `default_model_filename` empty when the config names
 * the platform `pytorch_libtorch`, and the PyTorch backend then reads `model.pt`: here the
 * loader's path is the version folder itself.
 * @throws the file-system error (ENOENT) when the file is missing.
 */
async function torchScriptFile(modelFile: string): Promise<string> {
  const file = (await stat(modelFile)).isDirectory() ? path.join(modelFile, PYTORCH_LIBTORCH_FILENAME) : modelFile;
  await stat(file);
  return file;
}
