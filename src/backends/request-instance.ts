import type { ComputeTiming } from '../infer/compute-timing.js';
import type { InferParameters, Tensor } from '../infer/tensor.js';

/**
 * One request as an instance receives it (Triton's backend API: the `TRITONBACKEND_Request`
 * that `TRITONBACKEND_ModelInstanceExecute` gets in its list, with its response factory). The
 * instance answers it through `respond` and `fail`; the scheduler that built it owns what
 * happens to the answers.
 *
 * Ownership: once handed to `ModelInstance.executeRequests` the instance owns `inputs` and may
 * transfer (detach) the ArrayBuffers behind them; nobody reads them afterwards. Output tensors
 * passed to `respond` belong to the receiver (they may be views into a buffer that other
 * requests of the same execution also view: read, never write or transfer them).
 */
export interface InstanceRequest {
  /**
   * Validated inputs. When the model batches (`max_batch_size` > 0) each carries the batch
   * dimension first, `[batchSize, ...dims]`; otherwise the model's own shape.
   */
  inputs: Tensor[];
  /** Outputs to compute; each response carries them in this order. */
  outputNames: string[];
  /** Batch size of this request (1 when the model does not batch). */
  batchSize: number;
  /** The client's request id ('' or absent when none). */
  id?: string;
  /** The client's request parameters. */
  parameters?: InferParameters;
  /**
   * Aborted when the client gave up. A decoupled instance stops producing responses for it;
   * an instance that computes a merged batch may ignore it (the batch runs to its end).
   */
  signal?: AbortSignal;
  /**
   * A response (outputs in `outputNames` order), or, with `outputs` undefined, the final flag
   * alone (Triton `TRITONSERVER_RESPONSE_COMPLETE_FINAL` with no response). After `final` the
   * request is complete and neither method is called again. `parameters`: the response's own
   * parameters (Triton's `TRITONBACKEND_ResponseSet*Parameter`, e.g. a Python model's
   * `InferenceResponse(parameters=...)`), sent to the client in the response's `parameters`.
   */
  respond(outputs: Tensor[] | undefined, final: boolean, parameters?: InferParameters): void;
  /** An error response; it completes the request. */
  fail(error: Error): void;
}

/** No compute time: the timing of an execution that ran nothing. */
export const ZERO_TIMING: Readonly<ComputeTiming> = { inputNs: 0, inferNs: 0, outputNs: 0 };
