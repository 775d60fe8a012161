import type { InferParameters, Tensor } from '../infer/tensor.js';
import type { ModelInstance } from './backend.js';
import type { ComputeTiming } from '../infer/compute-timing.js';

/**
 * One whole request handed to an instance that takes requests rather than merged batches
 * (Triton's backend API: `TRITONBACKEND_ModelInstanceExecute` gets a list of requests, each
 * with its own response factory). The instance answers through `respond` / `fail`.
 */
export interface InstanceRequest {
  /** Validated inputs, with the batch dimension when the model batches. */
  inputs: Tensor[];
  /** Outputs to compute; each response carries them in this order. */
  outputNames: string[];
  /** Batch size of this request (1 when the model does not batch). */
  batchSize: number;
  /** The client's request id ('' or absent when none). */
  id?: string;
  /** The client's request parameters. */
  parameters?: InferParameters;
  /** Aborted when the client gave up; the instance stops producing responses for it. */
  signal?: AbortSignal;
  /**
   * A response (outputs in `outputNames` order), or, with `outputs` undefined, the final flag
   * alone (Triton `TRITONSERVER_RESPONSE_COMPLETE_FINAL` with no response). After `final` the
   * request is complete and neither method is called again.
   */
  respond(outputs: Tensor[] | undefined, final: boolean): void;
  /** An error response; it completes the request. */
  fail(error: Error): void;
}

/**
 * A model instance that executes whole requests, which decoupled models need (zero, one or
 * many responses per request) and which lets a model see request ids and parameters.
 * It also implements `ModelInstance.execute` for merged batches (dynamic and sequence
 * batchers, warmup).
 */
export interface RequestInstance extends ModelInstance {
  /**
   * Executes the requests together (one model `execute` call). Resolves, with the compute
   * split of the execution in ns, once every request got its final response or its error;
   * never rejects: failures reach the requests through `fail`.
   */
  executeRequests(requests: InstanceRequest[]): Promise<ComputeTiming>;
}

export function isRequestInstance(instance: ModelInstance): instance is RequestInstance {
  return typeof (instance as Partial<RequestInstance>).executeRequests === 'function';
}
