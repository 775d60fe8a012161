import { stat } from 'node:fs/promises';
import path from 'node:path';
import { JAVASCRIPT_BACKEND } from '../../config/backend-fields.js';
import { modelConfigFromJson, modelConfigToJson } from '../../config/config-json.js';
import { InternalError, InvalidArgumentError, toTritonError } from '../../errors/index.js';
import { DataType, type ModelConfig } from '../../generated/model_config_pb.js';
import { configTypeToDatatype } from '../../infer/datatype.js';
import type { Logger } from '../../observability/logger.js';
import type { AutoCompleteContext, AutoCompleteResult, Backend, InstanceOptions, ModelFileMetadata, ModelInstance } from '../backend.js';
import { instanceLimits } from './instance-limits.js';
import { JavaScriptInstance, type BlsHandler } from './instance.js';
import type { InstanceWorkerData, OutputRule } from './messages.js';
import { startWorker } from './worker-spawn.js';

export { JAVASCRIPT_BACKEND };

/** What the JavaScript backend needs from the server it runs in. */
export interface JavaScriptBackendServices {
  /** Runs a BLS request (`context.infer` in a model); without it BLS calls fail UNAVAILABLE. */
  infer?: BlsHandler;
  /** Where instance crashes and restarts are logged. */
  logger?: Logger;
}

/**
 * The `javascript` backend: a model is a class exported by `model.js` / `model.mjs` (see
 * model-api.ts), one worker thread per instance (instance.ts). There is nothing to read from
 * a model file ahead of time: its inputs and outputs come from the config, completed by the
 * class's own `autoCompleteConfig` (autoCompleteJavaScriptConfig).
 */
export class JavaScriptBackend implements Backend {
  readonly name = JAVASCRIPT_BACKEND;
  readonly #services: JavaScriptBackendServices;

  constructor(services: JavaScriptBackendServices = {}) {
    this.#services = services;
  }

  /**
   * Checks the model file exists; a script declares no I/O of its own, so the lists are empty.
   * @throws the file-system error (ENOENT for a missing file, which the loader reports).
   */
  async readModelMetadata(modelFile: string): Promise<ModelFileMetadata> {
    await stat(modelFile);
    return { inputs: [], outputs: [] };
  }

  /**
   * Starts one instance: a worker thread (with the config's MAX_HEAP_MB, MAX_EXTERNAL_MB and
   * EXECUTION_TIMEOUT_MS, instance-limits.ts), the module imported, `initialize` called.
   * @throws InternalError when `options.config` is missing (the loader always passes it);
   *   InvalidArgumentError for a limit that is not a non-negative integer; otherwise as
   *   JavaScriptInstance.start.
   */
  async createInstance(options: InstanceOptions): Promise<ModelInstance> {
    const config = options.config;
    if (config === undefined) {
      throw new InternalError(`model '${options.modelName}': the javascript backend needs the model config to start an instance`);
    }
    return JavaScriptInstance.start(instanceWorkerData(options, config), this.#services.infer, this.#services.logger);
  }

  /** The model class's own `autoCompleteConfig`: see autoCompleteJavaScriptConfig. */
  async autoCompleteConfig(config: ModelConfig, context: AutoCompleteContext): Promise<AutoCompleteResult> {
    return { config: await autoCompleteJavaScriptConfig(config, context.modelFile), warnings: [] };
  }
}

function instanceWorkerData(options: InstanceOptions, config: ModelConfig): InstanceWorkerData {
  const versionDir = path.dirname(options.modelFile);
  const outputs: OutputRule[] = config.output.map((o) => ({
    name: o.name,
    // Validation already refused outputs without a wire datatype.
    datatype: configTypeToDatatype(DataType[o.dataType] ?? '') ?? 'BYTES',
    dims: o.dims.map(Number),
  }));
  return {
    mode: 'instance',
    modelFile: options.modelFile,
    init: {
      modelName: options.modelName,
      modelVersion: options.version,
      modelConfig: modelConfigToJson(config) as Record<string, unknown>,
      modelDir: path.dirname(versionDir),
      versionDir,
      instanceName: options.name,
      instanceKind: options.kind,
      instanceDeviceId: options.gpu ?? 0,
    },
    decoupled: config.modelTransactionPolicy?.decoupled === true,
    maxBatchSize: config.maxBatchSize,
    outputs,
    limits: instanceLimits(config),
  };
}

/**
 * Auto-complete step 2 for JavaScript models (reference §4, as Triton's Python backend does
 * it): imports the model in a short-lived worker thread and, when its class has a static
 * `autoCompleteConfig`, lets it set max_batch_size, inputs, outputs, dynamic batching and
 * the transaction policy on the config as Triton's JSON. Runs before normalization; skipped
 * (by the loader) with `--disable-auto-complete-config`.
 * @returns the completed config (a new message).
 * @throws InvalidArgumentError naming the model when the module cannot be loaded, the hook
 *   throws (its message kept), or what it produced is not a valid config.
 */
export async function autoCompleteJavaScriptConfig(config: ModelConfig, modelFile: string): Promise<ModelConfig> {
  const json = modelConfigToJson(config) as Record<string, unknown>;
  const { worker, reply } = await startWorker({ mode: 'autocomplete', modelFile, config: json }, `auto-completing model '${config.name}'`);
  worker.on('error', () => undefined);
  // The hook ran and replied; the module may still hold timers, which must not keep it alive.
  void worker.terminate();
  if (reply.kind !== 'autocompleted') throw new InternalError(`auto-completing model '${config.name}': unexpected '${reply.kind}' message`);
  try {
    return modelConfigFromJson(reply.config as Parameters<typeof modelConfigFromJson>[0]);
  } catch (err) {
    throw new InvalidArgumentError(
      `model '${config.name}': autoCompleteConfig produced an invalid configuration: ${toTritonError(err).message}`,
    );
  }
}
