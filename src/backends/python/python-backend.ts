import { stat } from 'node:fs/promises';
import path from 'node:path';
import { PYTHON_BACKEND } from '../../config/constants.js';
import { modelConfigFromJson, modelConfigToJson } from '../../config/config-json.js';
import { InternalError, InvalidArgumentError, toTritonError } from '../../errors/index.js';
import type { ModelConfig } from '../../generated/model_config_pb.js';
import type { AutoCompleteContext, AutoCompleteResult, Backend, InstanceOptions, ModelFileMetadata, ModelInstance } from '../backend.js';
import { executionTimeoutMs } from '../execution-watchdog.js';
import { CustomMetrics } from './custom-metrics.js';
import { PYTHON_PIPELINE_DEPTH, PythonInstance } from './instance.js';
import { resolveEnvironment } from './environment.js';
import type { PythonBackendServices } from './services.js';
import { runAutoCompleteStub } from './auto-complete.js';

/**
 * Triton's `python` backend: a model is `<version>/model.py` (or the config's
 * `default_model_filename`) defining `class TritonPythonModel`, run unchanged. Each instance
 * is a stub process (instance.ts) with infera's `triton_python_backend_utils` (python/), the
 * interpreter `python3` from PATH or the model's EXECUTION_ENV_PATH (environment.ts).
 */
export class PythonBackend implements Backend {
  readonly name = PYTHON_BACKEND;
  readonly #services: PythonBackendServices;
  readonly #metrics: CustomMetrics;

  constructor(services: PythonBackendServices = {}) {
    this.#services = services;
    this.#metrics = new CustomMetrics(services.metrics);
  }

  /** Checks the file exists; a script declares no I/O of its own. @throws ENOENT */
  async readModelMetadata(modelFile: string): Promise<ModelFileMetadata> {
    await stat(modelFile);
    return { inputs: [], outputs: [] };
  }

  /**
   * Triton's auto-complete for Python models: a short-lived stub imports model.py and calls
   * the class's static `auto_complete_config(pb_utils.ModelConfig)` when it has one.
   * @throws InvalidArgumentError naming the model with the Python error (traceback
   *   included), or when the result is not a valid config.
   */
  async autoCompleteConfig(config: ModelConfig, context: AutoCompleteContext): Promise<AutoCompleteResult> {
    const env = await resolveEnvironment(config, path.dirname(path.dirname(context.modelFile)));
    const json = modelConfigToJson(config) as Record<string, unknown>;
    const completed = await runAutoCompleteStub(env, context.modelFile, config.name, json, this.#services.logger);
    try {
      return { config: modelConfigFromJson(completed as Parameters<typeof modelConfigFromJson>[0]), warnings: [] };
    } catch (err) {
      throw new InvalidArgumentError(`model '${config.name}': auto_complete_config produced an invalid configuration: ${toTritonError(err).message}`);
    }
  }

  /**
   * Starts one instance's stub and runs the model's `initialize`.
   * @throws as PythonInstance.start; InternalError without `options.config`.
   */
  async createInstance(options: InstanceOptions): Promise<ModelInstance> {
    const config = options.config;
    if (config === undefined) throw new InternalError(`model '${options.modelName}': the python backend needs the model config to start an instance`);
    const versionDir = path.dirname(options.modelFile);
    const modelDir = path.dirname(versionDir);
    const env = await resolveEnvironment(config, modelDir);
    return PythonInstance.start({
      label: `model '${options.modelName}' version ${options.version} instance '${options.name}'`,
      modelFile: options.modelFile,
      python: env.python,
      env: env.env,
      args: {
        model_config: JSON.stringify(modelConfigToJson(config)),
        model_instance_kind: options.kind === 'KIND_GPU' ? 'GPU' : 'CPU',
        model_instance_name: options.name,
        model_instance_device_id: String(options.gpu ?? 0),
        model_repository: modelDir,
        model_version: String(options.version),
        model_name: options.modelName,
      },
      decoupled: config.modelTransactionPolicy?.decoupled === true,
      maxBatchSize: config.maxBatchSize,
      executionTimeoutMs: executionTimeoutMs(config),
      // Only the default scheduler hands an instance several executions at once.
      slots: config.schedulingChoice.case === undefined ? PYTHON_PIPELINE_DEPTH : 1,
      services: this.#services,
      metrics: this.#metrics,
      logger: this.#services.logger,
    });
  }
}
