import { InternalError } from '../errors/index.js';
import type { Tensor } from '../infer/tensor.js';
import type { ExecuteResult, ModelInstance } from './backend.js';
import type { InstanceRequest } from './request-instance.js';

/**
 * Runs one request on `instance` and resolves with its last response's outputs (a request
 * that expects exactly one response: warmup, tests, embedders).
 * @param inputs with the batch dimension first when the model batches; owned by the instance
 *   from here on (see InstanceRequest).
 * @param batchSize the request's batch size (dim 0 of its inputs), 1 when the model does not batch.
 * @throws (rejects) the request's error response, or the execution's error; InternalError
 *   naming the instance when it completed the request without a response.
 */
export function executeRequest(
  instance: ModelInstance,
  inputs: Tensor[],
  outputNames: string[],
  batchSize = 1,
): Promise<ExecuteResult> {
  return new Promise<ExecuteResult>((resolve, reject) => {
    let outputs: Tensor[] | undefined;
    let error: Error | undefined;
    const request: InstanceRequest = {
      inputs,
      outputNames,
      batchSize,
      respond: (o) => {
        if (o !== undefined) outputs = o;
      },
      fail: (e) => {
        error ??= e;
      },
    };
    instance.executeRequests([request]).then((timing) => {
      if (error !== undefined) reject(error);
      else if (outputs === undefined) reject(new InternalError(`instance '${instance.name}' completed the request without a response`));
      else resolve({ outputs, timing });
    }, reject);
  });
}
