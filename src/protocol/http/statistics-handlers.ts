import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServerCore } from '../../server-types.js';
import { METHOD_NOT_ALLOWED } from './handlers.js';
import { parseModelVersion } from './numeric-headers.js';
import { sendErrorMessage, sendJsonText } from './response-writer.js';

/**
 * GET /v2/models/stats and GET /v2/models/{m}[/versions/{v}]/stats (reference §1.5, §7;
 * Triton `HandleModelStats`): `{"model_stats":[...]}` as the core renders it. `model` is ''
 * for every model.
 *
 * @throws InvalidArgumentError (400) for a version that does not fit an int64 and whatever
 *   `core.modelStatistics` throws (400 for a model or version that is not available).
 */
export function handleModelStatistics(
  core: ServerCore,
  req: IncomingMessage,
  res: ServerResponse,
  model: string,
  version: string,
): void {
  if (req.method !== 'GET') return sendErrorMessage(res, 405, METHOD_NOT_ALLOWED);
  const stats = core.modelStatistics(model, parseModelVersion(version));
  sendJsonText(res, 200, JSON.stringify(stats));
}
