import type { IncomingMessage } from 'node:http';
import { UnsupportedError } from '../../errors/index.js';
import type { ServerCore } from '../../server-types.js';
import { parseModelVersion } from './numeric-headers.js';

/** Triton's answer to `/infer` on a decoupled model (http_server.cc `CheckTransactionPolicy`). */
export const HTTP_DECOUPLED_MESSAGE = "HTTP end point doesn't support models with decoupled transaction policy";

/**
 * Triton's `CheckTransactionPolicy` for `POST .../infer`: after the method and the version
 * string, before the body is read, a decoupled model is refused. Other methods are left to
 * the infer handler's 405.
 * @throws UnsupportedError (501) with Triton's message for a decoupled model; the version
 *   error (400) or the model lookup error (400/404/503) first, as Triton.
 */
export function refuseDecoupledInfer(core: ServerCore, req: IncomingMessage, model: string, versionText: string): void {
  if (req.method !== 'POST') return;
  if (core.isDecoupled(model, parseModelVersion(versionText))) throw new UnsupportedError(HTTP_DECOUPLED_MESSAGE);
}
