import type { ModelConfig } from '../generated/model_config_pb.js';
import type { ComputeTiming } from '../infer/compute-timing.js';
import type { Tensor } from '../infer/tensor.js';
import type { BatchRunner, ExecuteResult, ModelInstance } from './backend.js';
import { batchInputs, planOutputs, splitOutputs } from './batch-io.js';
import type { InstanceRequest } from './request-instance.js';
import { ZERO_TIMING } from './request-instance.js';

const NONE: ReadonlySet<string> = new Set();

/** How a model batches, as the adapter needs it. */
export interface BatchingOptions {
  /** The config's `max_batch_size`; 0: the model does not batch, requests run one by one. */
  maxBatchSize: number;
  /**
   * Inputs with `allow_ragged_batch` (batching models only): the merged batch holds them
   * flattened to one dimension, as Triton's ONNX Runtime backend feeds a ragged input.
   */
  ragged?: ReadonlySet<string>;
}

/** The batching options of a model config (none given: the model does not batch). */
export function batchingOptions(config: ModelConfig | undefined): BatchingOptions {
  if (config === undefined || config.maxBatchSize <= 0) return { maxBatchSize: 0 };
  return { maxBatchSize: config.maxBatchSize, ragged: new Set(config.input.filter((i) => i.allowRaggedBatch).map((i) => i.name)) };
}

/**
 * Turns a merged-batch runtime (`BatchRunner`: inputs with a batch dimension → outputs) into
 * the instance contract (`ModelInstance.executeRequests`), as Triton's ONNX Runtime and
 * TensorRT backends do inside their `ModelInstanceExecute`:
 *
 * - batching model: the requests' inputs are concatenated along dimension 0 in request order
 *   (`gatherBatch`: one owned copy per input; a single request passes through uncopied), each
 *   ragged input flattened to `[total elements]`; the batch computes the union of the
 *   requested outputs; each output is split back along dimension 0 by the requests' batch
 *   sizes (views, no copy) and each request gets its outputs, in its own order, as one final
 *   response. Requests must agree on input names and non-batch dimensions (the dynamic and
 *   sequence batchers only group such requests).
 * - model without batching: each request runs on its own, in order (one request: as one batch).
 *
 * Errors: when the runner rejects (the whole batch failed) `executeRequests` rejects with its
 * error and answers nobody: the scheduler fails the requests and counts no execution. When
 * the outputs cannot be split (a batch dimension that does not match; InternalError), every
 * request gets that error through `fail` and the execution still counts. The requests'
 * `signal`s are not watched: a merged batch runs to its end.
 */
export class BatchingInstance implements ModelInstance {
  readonly #options: BatchingOptions;
  /**
   * The runner's `terminate`, absent when it has none: the version's unload then leaves an
   * execution that cannot be interrupted to finish in the background instead of waiting on it.
   */
  readonly terminate?: (reason: string) => Promise<void>;

  /** @param runner owned from here on: `close`/`terminate` go to it. */
  constructor(
    readonly runner: BatchRunner,
    options: BatchingOptions,
  ) {
    this.#options = options;
    if (runner.terminate !== undefined) this.terminate = (reason) => runner.terminate!(reason);
  }

  get name(): string {
    return this.runner.name;
  }

  /** The runner's (ModelInstance.pipelineDepth). */
  get pipelineDepth(): number | undefined {
    return this.runner.pipelineDepth;
  }

  executeRequests(requests: InstanceRequest[]): Promise<ComputeTiming> {
    const batching = this.#options.maxBatchSize > 0;
    // One request is its own batch: nothing to gather or split (unless a ragged input needs
    // flattening), and the hot path of an unbatched model pays for nothing else.
    if (requests.length === 1 && !(batching && (this.#options.ragged?.size ?? 0) > 0)) return this.#runOne(requests[0]!);
    if (requests.length === 0) return Promise.resolve(ZERO_TIMING);
    if (batching) return this.#runBatch(requests);
    return this.#runEach(requests);
  }

  async #runEach(requests: InstanceRequest[]): Promise<ComputeTiming> {
    // Schedulers give a model without batching one request per execution; an embedder may
    // give more: each runs on its own and a failure answers only its request.
    const total = { ...ZERO_TIMING };
    for (const r of requests) {
      try {
        const timing = await this.#runOne(r);
        total.inputNs += timing.inputNs;
        total.inferNs += timing.inferNs;
        total.outputNs += timing.outputNs;
      } catch (err) {
        r.fail(err as Error);
      }
    }
    return total;
  }

  #runOne(request: InstanceRequest): Promise<ComputeTiming> {
    const inputs = request.inputs;
    // The runner owns the inputs now (it may transfer them).
    request.inputs = [];
    let run: Promise<ExecuteResult>;
    try {
      run = this.runner.execute(inputs, request.outputNames);
    } catch (err) {
      return Promise.reject(err);
    }
    // One reaction, no async function: this is every unbatched request's path.
    return run.then(({ outputs, timing }) => {
      request.respond(outputs, true);
      return timing;
    });
  }

  async #runBatch(requests: InstanceRequest[]): Promise<ComputeTiming> {
    const plan = planOutputs(requests.map((r) => r.outputNames));
    const batchSizes = requests.map((r) => r.batchSize);
    const inputs = batchInputs(requests, this.#options.ragged ?? NONE);
    // The runner owns the inputs now (it may transfer them).
    for (const r of requests) r.inputs = [];
    const { outputs, timing }: ExecuteResult = await this.runner.execute(inputs, plan.names);
    let split: Tensor[][];
    try {
      split = splitOutputs(outputs, batchSizes, plan);
    } catch (err) {
      for (const r of requests) r.fail(err as Error);
      return timing;
    }
    requests.forEach((r, k) => r.respond(split[k]!, true));
    return timing;
  }

  close(): Promise<void> {
    return this.runner.close();
  }
}
