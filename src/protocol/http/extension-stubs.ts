import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServerCore } from '../../server-types.js';
import { METHOD_NOT_ALLOWED } from './handlers.js';
import { sendErrorMessage, sendJsonText } from './response-writer.js';
import type { Route } from './router.js';

/**
 * Answers for the Triton extension endpoints infera does not implement yet. Each route still
 * matches (Triton's regexes know it, so 404 would be wrong) and checks its method; then it
 * answers the way Triton answers when the feature is absent:
 *
 * - system/CUDA shared memory: Triton's default `--allow-client-shm=false` behaviour: status
 *   lists no regions (`[]`, or 404 for a named one), register/unregister answer 501
 *   (`kClientShmDisabledErrorStr`).
 *
 * The repository extension has its own handlers (repository-handlers.ts); so do statistics,
 * logging, trace and generate (statistics-handlers.ts, logging-handlers.ts, trace-handlers.ts,
 * generate-handler.ts).
 */

const SHM_DISABLED = "Client shared memory is disabled. Start the server with '--allow-client-shm=true' to enable.";

export function handleExtensionStub(core: ServerCore, req: IncomingMessage, res: ServerResponse, route: Route): void {
  const method = req.method;
  switch (route.kind) {
    case 'shared-memory':
      if (method !== (route.action === 'status' ? 'GET' : 'POST')) {
        return sendErrorMessage(res, 405, METHOD_NOT_ALLOWED);
      }
      if (route.action !== 'status') return sendErrorMessage(res, 501, SHM_DISABLED);
      if (route.region === '') return sendJsonText(res, 200, '[]');
      return sendErrorMessage(
        res,
        404,
        `Unable to find ${route.memory === 'cuda' ? 'cuda' : 'system'} shared memory region: '${route.region}'`,
      );
    default:
      return sendErrorMessage(res, 404, 'Not Found');
  }
}
