import { UnavailableError } from '../errors/index.js';

/**
 * The error a scheduler gives a request enqueued after the server began to stop (UNAVAILABLE:
 * HTTP 503 / gRPC UNAVAILABLE), worded as Triton's schedulers word it, with the model named.
 * @param modelLabel the model as messages name it ('name' or 'name' version n)
 */
export function stoppingError(modelLabel: string): UnavailableError {
  return new UnavailableError(`Server is stopping, scheduler for model '${modelLabel}' has stopped accepting new inference requests`);
}
