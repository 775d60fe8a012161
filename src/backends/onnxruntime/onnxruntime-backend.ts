import { Worker } from 'node:worker_threads';
import { errorFromCode, InternalError } from '../../errors/index.js';
import type { ModelConfig } from '../../generated/model_config_pb.js';
import type { AutoCompleteContext, AutoCompleteResult, Backend, InstanceOptions, ModelFileMetadata, ModelInstance } from '../backend.js';
import { BatchingInstance, batchingOptions } from '../batching-instance.js';
import { autoCompleteOnnxConfig } from './auto-complete-config.js';
import { OrtModelInstance } from './instance.js';
import type { FromWorker, MetadataWorkerData } from './messages.js';
import { validateOnnxConfigAgainstModel } from './validate-config.js';
import { firstReply, workerScriptUrl } from './worker-script.js';

/**
 * The `onnxruntime` backend: ONNX models run by onnxruntime-node, one worker thread and one
 * InferenceSession per instance (DESIGN "One request, end to end" step 4), because
 * onnxruntime-node loads and runs synchronously on the calling thread.
 */
export class OnnxRuntimeBackend implements Backend {
  readonly name = 'onnxruntime';

  /**
   * Reads a model's inputs and outputs (wire datatypes, full shapes, -1 for symbolic or
   * unknown dims) in a short-lived worker thread, so a large model's load (~100 ms for a
   * 10 MB one) does not block the event loop; the session is released before it replies.
   * @throws InvalidArgumentError when the file is missing or not a valid ONNX model (message
   *   names the file and gives ORT's reason), or has a non-tensor input or output;
   *   UnsupportedError for an element type with no wire datatype; InternalError when the
   *   worker thread fails.
   */
  async readModelMetadata(modelFile: string): Promise<ModelFileMetadata> {
    const data: MetadataWorkerData = { mode: 'metadata', modelFile };
    const worker = new Worker(workerScriptUrl(), { workerData: data });
    try {
      const reply = await firstReply<FromWorker>(worker, `reading ONNX model '${modelFile}'`);
      if (reply.kind === 'metadata') return reply.metadata;
      if (reply.kind === 'failed') throw errorFromCode(reply.error.code, reply.error.message);
      throw new InternalError(`reading ONNX model '${modelFile}': unexpected '${reply.kind}' message`);
    } finally {
      worker.on('error', () => undefined);
      // The worker released its session before replying; this only skips waiting for its exit.
      void worker.terminate();
    }
  }

  /**
   * Starts an instance: a worker thread whose session uses `intraOpThreads`, `interOpThreads`
   * (when > 0) and the CPU execution provider, or CUDA on device `gpu` for KIND_GPU. Resolves
   * once the session is loaded. The instance runs merged batches (BatchingInstance).
   * @throws UnsupportedError for KIND_GPU when onnxruntime-node has no usable CUDA execution
   *   provider here (message names the model and instance); InvalidArgumentError when the
   *   model file cannot be loaded (names the file); InternalError when the worker fails.
   */
  async createInstance(options: InstanceOptions): Promise<ModelInstance> {
    return new BatchingInstance(await OrtModelInstance.start(options), batchingOptions(options.config));
  }

  /** ORT backend `AutoCompleteConfig` from the model file's I/O: see autoCompleteOnnxConfig. */
  async autoCompleteConfig(config: ModelConfig, context: AutoCompleteContext): Promise<AutoCompleteResult> {
    return autoCompleteOnnxConfig(config, context.metadata, { defaultMaxBatchSize: context.defaultMaxBatchSize });
  }

  /** ORT backend `ValidateInputs`/`ValidateOutputs`: see validateOnnxConfigAgainstModel. */
  validateConfig(config: ModelConfig, metadata: ModelFileMetadata): void {
    validateOnnxConfigAgainstModel(config, metadata);
  }
}
