import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServerCore } from '../../server-types.js';
import {
  admitRequest,
  answerFailure,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_INPUT_SIZE,
  DEFAULT_RECEIVING_SIZE_FACTOR,
  dispatch,
  isBrowserUi,
  type HttpFrontendOptions,
} from './frontend.js';
import type { InferContext } from './infer-handler.js';
import { ReceiveBudget } from './receive-budget.js';
import { parseRoute } from './router.js';

/**
 * Options of `createHttpHandler`: the frontend's that apply per request (the host server's own
 * settings govern its sockets, keep-alive and request timeout).
 */
export type HttpHandlerOptions = Pick<
  HttpFrontendOptions,
  'maxInputSize' | 'logger' | 'restrictedApis' | 'headerForwardPattern' | 'idleTimeoutMs' | 'maxReceivingSize' | 'console'
>;

/**
 * A request listener for a server the application already runs: `(req, res, next?)`, as
 * `node:http`'s `createServer`, Express/Connect middleware and Fastify's raw objects take it.
 * It also says, without reading the request, whether it serves a request (`handles`).
 */
export interface HttpHandler {
  (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): void;
  /** Whether the URL (path relative to the mount point) is one of the KServe v2 routes. */
  handles(req: IncomingMessage): boolean;
}

/**
 * The KServe v2 HTTP/REST routes of `core` (the same handlers as `createHttpFrontend`,
 * reference §1) as a handler to mount in an existing HTTP server. A URL outside the KServe v2
 * surface is passed to `next()` when given (Express/Connect), else answered 404 as Triton
 * does. The handler reads the request body itself: mount it before any body parser (Express's
 * `express.json()`, Fastify's content-type parsers — use an `onRequest` hook there, see
 * README "Embedding"). Paths are matched relative to the mount point (`req.url`), so
 * `app.use('/triton', handler)` serves `/triton/v2/...`.
 *
 * The host server owns the listening socket, keep-alive and shutdown; `InferenceServer.close()`
 * stops new inference requests (503) while the host server keeps running.
 */
export function createHttpHandler(core: ServerCore, options: HttpHandlerOptions = {}): HttpHandler {
  const maxInputSize = options.maxInputSize ?? DEFAULT_MAX_INPUT_SIZE;
  const inferContext: InferContext = { core, maxInputSize, headerForwardPattern: options.headerForwardPattern };
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const budget = new ReceiveBudget(options.maxReceivingSize ?? DEFAULT_RECEIVING_SIZE_FACTOR * maxInputSize);
  const restrictedApis = options.restrictedApis ?? new Map();
  const logger = options.logger;
  const browserUis = options.console ?? true;
  const handles = (req: IncomingMessage): boolean => {
    const route = parseRoute(req.url ?? '');
    return route !== null && (browserUis || !isBrowserUi(route));
  };
  const handler = (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): void => {
    if (next !== undefined && !handles(req)) {
      next();
      return;
    }
    admitRequest(req, res, budget, idleTimeoutMs, logger);
    try {
      const pending = dispatch(core, inferContext, req, res, restrictedApis, browserUis);
      pending?.catch((err: unknown) => answerFailure(res, err, logger));
    } catch (err) {
      answerFailure(res, err, logger);
    }
  };
  return Object.assign(handler, { handles });
}
