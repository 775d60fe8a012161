import { UnsupportedError } from '../../errors/index.js';
import type { ReadyModel, ServerCore } from '../../server-types.js';

/** Triton's answer to `/infer` on a decoupled model (http_server.cc `CheckTransactionPolicy`). */
export const HTTP_DECOUPLED_MESSAGE = "HTTP end point doesn't support models with decoupled transaction policy";

/**
 * Triton's `CheckTransactionPolicy` for `POST .../infer`, before the body is read: the model
 * lookup, then a decoupled model is refused. The model it returns goes with the request to
 * `core.infer`, which then looks nothing up again.
 * @throws the model lookup error (400/404/503); UnsupportedError (501) with Triton's message
 *   for a decoupled model.
 */
export function modelForInfer(core: ServerCore, model: string, version: number | undefined): ReadyModel {
  const ready = core.model(model, version);
  if (ready.decoupled) throw new UnsupportedError(HTTP_DECOUPLED_MESSAGE);
  return ready;
}
