import { CancelledError, UnavailableError } from '../errors/index.js';

/**
 * The error a scheduler gives a request enqueued after the server began to stop (UNAVAILABLE:
 * HTTP 503 / gRPC UNAVAILABLE), worded as Triton's schedulers word it, with the model named.
 * @param modelLabel the model as messages name it ('name' or 'name' version n)
 */
export function stoppingError(modelLabel: string): UnavailableError {
  return new UnavailableError(`Server is stopping, scheduler for model '${modelLabel}' has stopped accepting new inference requests`);
}

/**
 * The error of a request whose client gave up (disconnect, cancelled call, deadline) before
 * it reached an instance: CANCELLED (gRPC CANCELLED; HTTP 499 is never seen by the client).
 */
export function requestCancelledError(): CancelledError {
  return new CancelledError('Request was cancelled');
}

/**
 * The error of a sequence request dropped because its client gave up or its sequence was
 * cancelled (the sequence batcher answers every request still queued behind a cancelled one):
 * CANCELLED. Triton sends the bare CANCELLED status; the message is this project's.
 */
export function sequenceRequestCancelledError(): CancelledError {
  return new CancelledError('inference request cancelled');
}
