import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { httpServerOptions } from './node-server-options.js';
import type { AddressInfo } from 'node:net';
import { TritonError, UnavailableError } from '../../errors/index.js';
import type { ServerCore } from '../../server-types.js';
import { abandonBodyRead, RequestAbortedError, TooManyChunksError } from './body-reader.js';
import { attachReceiveBudget, ReceiveBudget, ReceiveBudgetError } from './receive-budget.js';
import { handleGenerate } from './generate-handler.js';
import { errorDetail } from './json-fields.js';
import { handleHealth, handleModelConfig, handleModelMetadata, handleModelReady, handleServerMetadata } from './handlers.js';
import { handleInfer, type InferContext } from './infer-handler.js';
import { handleInferStream } from './infer-stream-handler.js';
import { sendError, sendErrorMessage } from './response-writer.js';
import { parseRoute, type Route } from './router.js';
import { handleRepository } from './repository-handlers.js';
import { handleLogging } from './logging-handlers.js';
import { restrictionError, type RestrictedApis } from './restricted-api.js';
import { handleModelStatistics } from './statistics-handlers.js';
import { handleTraceSetting } from './trace-handlers.js';
import { handleSharedMemory } from './shared-memory-handlers.js';
import { handleApiDocs } from './api-docs-handler.js';
import { handleConsole } from './console-handler.js';

/** The pino subset the frontend logs through. */
export interface HttpLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface HttpFrontendOptions {
  /** Interface to bind, e.g. "0.0.0.0" (Triton's default) or "127.0.0.1". */
  address: string;
  /** TCP port; 0 picks a free one (see `listen()`'s result). */
  port: number;
  /** `--http-max-input-size` in bytes (Triton's default 64 MiB, 1 << 26). */
  maxInputSize?: number;
  logger?: HttpLogger;
  /**
   * `--http-restricted-api`: API groups that need a header; a request without it gets 403
   * (reference §1.1, restricted-api.ts).
   */
  restrictedApis?: RestrictedApis;
  /** `--http-header-forward-pattern`, compiled (header-forward.ts). */
  headerForwardPattern?: RegExp;
  /**
   * `--http-request-timeout-secs` in ms: the whole request (headers and body) must arrive
   * within it, else Node answers 408 and closes the connection; 0 = no limit. Time spent on
   * the inference after the request arrived does not count. Default 300 s.
   */
  requestTimeoutMs?: number;
  /**
   * `--http-idle-timeout-secs` in ms: a request whose body stops arriving for this long is
   * answered 408 and its connection closed; 0 = no limit. Default 30 s.
   */
  idleTimeoutMs?: number;
  /**
   * `--http-max-receiving-size` in bytes: total memory held by request bodies still being
   * received, across connections (receive-budget.ts); 0 = no cap. Default 8 × maxInputSize.
   */
  maxReceivingSize?: number;
  /**
   * The receive budget to charge instead of one of `maxReceivingSize` of its own: the one the
   * protocol threads share with this frontend (threaded-frontends.ts), so that the cap holds
   * across all of them.
   */
  receiveBudget?: ReceiveBudget;
  /**
   * `--allow-console`: serve the browser UIs, the web console at `/console/` and Swagger UI at
   * `/v2/docs/` (both in the `metadata` API group); when false they are 404 like any unknown
   * URL. `/v2/openapi.json` is served either way. Default true.
   */
  console?: boolean;
}

export interface HttpFrontend {
  /**
   * Starts listening. Resolves with the bound address and port.
   * @throws UnavailableError "Socket '<address>:<port>' already in use" (Triton's wording) when
   *   the port is taken; other listen errors as Node raises them.
   */
  listen(): Promise<{ address: string; port: number }>;
  /**
   * Stops accepting connections, lets in-flight requests finish (their responses say
   * `Connection: close`, idle keep-alive connections are closed at once), and after
   * `timeoutMs` destroys whatever sockets remain. Resolves when the server is closed; later
   * calls return the same promise.
   */
  close(options: { timeoutMs: number }): Promise<void>;
  /** Requests being handled now (read, decode, inference or write in progress). */
  readonly inFlight: number;
}

/** Triton's `HTTP_DEFAULT_MAX_INPUT_SIZE` (server `common.h`). */
export const DEFAULT_MAX_INPUT_SIZE = 1 << 26;

/** Node's own default for `requestTimeout`: ample for a 64 MiB body over a slow link. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 300_000;
/** A client uploading a body sends something at least this often, or it is dropped. */
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
/** Bodies being received at once may hold this many times `--http-max-input-size`. */
export const DEFAULT_RECEIVING_SIZE_FACTOR = 8;

/**
 * The KServe v2 HTTP/REST frontend (reference §1) over `node:http`, calling only `ServerCore`.
 * Routing, status codes and bodies follow Triton's `http_server.cc`; see the handler modules
 * for each endpoint. A TritonError is answered `{"error": message}` with HTTP_STATUS[code];
 * anything else thrown is answered 500 with its message. Both INTERNAL errors and non-Triton
 * errors are logged at error level, the rest at debug.
 */
export function createHttpFrontend(core: ServerCore, options: HttpFrontendOptions): HttpFrontend {
  const maxInputSize = options.maxInputSize ?? DEFAULT_MAX_INPUT_SIZE;
  const restrictedApis: RestrictedApis = options.restrictedApis ?? new Map();
  const browserUis = options.console ?? true;
  const logger = options.logger;
  const inferContext: InferContext = { core, maxInputSize, headerForwardPattern: options.headerForwardPattern };
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const budget = options.receiveBudget ?? new ReceiveBudget(options.maxReceivingSize ?? DEFAULT_RECEIVING_SIZE_FACTOR * maxInputSize);
  let inFlight = 0;
  let closing = false;
  let closed: Promise<void> | undefined;
  let drained: (() => void) | undefined;
  // Responses still pending after their handler returned (infer): on close they must learn to
  // say `Connection: close`. Synchronous handlers finish before close can run.
  const pendingResponses = new Set<ServerResponse>();

  const fail = (res: ServerResponse, err: unknown): void => answerFailure(res, err, logger);

  const finished = (): void => {
    inFlight--;
    if (inFlight === 0 && drained !== undefined) drained();
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    inFlight++;
    if (closing) res.shouldKeepAlive = false;
    admitRequest(req, res, budget, idleTimeoutMs, logger);
    let pending: Promise<void> | void = undefined;
    try {
      pending = dispatch(core, inferContext, req, res, restrictedApis, browserUis);
    } catch (err) {
      fail(res, err);
    }
    if (pending === undefined) {
      finished();
      return;
    }
    pendingResponses.add(res);
    pending.then(
      () => {
        pendingResponses.delete(res);
        finished();
      },
      (err: unknown) => {
        fail(res, err);
        pendingResponses.delete(res);
        finished();
      },
    );
  };

  const shutDown = async (timeoutMs: number): Promise<void> => {
    closing = true;
    for (const res of pendingResponses) if (!res.headersSent) res.shouldKeepAlive = false;
    const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    if (inFlight > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        drained = resolve;
        timer = setTimeout(resolve, timeoutMs);
      });
      clearTimeout(timer);
      drained = undefined;
    }
    server.closeAllConnections();
    await serverClosed;
  };

  const server: Server = createServer(httpServerOptions(requestTimeoutMs), onRequest);
  // A body over the limit is refused before the client sends it; anything else is invited.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (Number(req.headers['content-length']) > maxInputSize) res.shouldKeepAlive = false;
    else res.writeContinue();
    onRequest(req, res);
  });

  return {
    get inFlight() {
      return inFlight;
    },

    listen() {
      return new Promise((resolve, reject) => {
        const onError = (err: NodeJS.ErrnoException): void => {
          reject(
            err.code === 'EADDRINUSE'
              ? new UnavailableError(`Socket '${options.address}:${options.port}' already in use`, { cause: err })
              : err,
          );
        };
        server.once('error', onError);
        server.listen({ host: options.address, port: options.port, backlog: 1024 }, () => {
          server.removeListener('error', onError);
          server.on('error', (err) => logger?.error({ err }, 'HTTP server error'));
          const bound = server.address() as AddressInfo;
          resolve({ address: bound.address, port: bound.port });
        });
      });
    },

    close({ timeoutMs }) {
      closed ??= shutDown(timeoutMs);
      return closed;
    },
  };
}

/**
 * What every request gets before its handler runs, in the frontend and in a mounted handler
 * alike: its body reads are charged to `budget` (receive-budget.ts), and a body that stops
 * arriving for `idleTimeoutMs` (0 = never) is answered 408 (`watchIdleBody`).
 */
export function admitRequest(
  req: IncomingMessage,
  res: ServerResponse,
  budget: ReceiveBudget,
  idleTimeoutMs: number,
  logger: HttpLogger | undefined,
): void {
  attachReceiveBudget(req, budget);
  if (idleTimeoutMs > 0 && !req.complete) watchIdleBody(req, res, idleTimeoutMs, logger);
}

/**
 * Answers 408 and closes the connection when `req`'s body stops arriving for `timeoutMs`
 * (socket inactivity while the body is incomplete). When the answer has already gone out
 * (an early error while the rest of the body is drained) the socket is destroyed instead.
 * Once the body is complete the socket's timer is cleared, so that a long inference is not
 * cut short; Node re-arms it with the keep-alive timeout after the response.
 */
function watchIdleBody(req: IncomingMessage, res: ServerResponse, timeoutMs: number, logger: HttpLogger | undefined): void {
  req.setTimeout(timeoutMs, () => {
    if (req.complete) return;
    logger?.debug({ url: req.url }, 'HTTP request body idle too long; closing the connection');
    // req.destroy(), not the socket's: once a response has finished, Node no longer aborts the
    // request when its socket closes, and the body read (with its memory and its share of the
    // receive budget) would wait forever.
    if (res.headersSent) {
      req.destroy();
      return;
    }
    res.shouldKeepAlive = false;
    abandonBodyRead(req);
    sendErrorMessage(
      res,
      408,
      `request body not received: no data for ${timeoutMs / 1000} s. Use --http-idle-timeout-secs to increase the limit.`,
    );
    // Whatever the client still sends is not read; the handler's read ends with the request.
    res.once('finish', () => req.destroy());
  });
  req.once('end', () => {
    if (!res.writableFinished) req.socket?.setTimeout(0);
  });
}

/**
 * Answers a request whose handler threw: nothing for a client that left mid-body, the
 * TritonError's status and `{"error": message}` (closing the connection where the rest of
 * the body is not worth reading), else 500 with the message. INTERNAL and non-Triton errors
 * are logged at error level, the rest at debug or warn.
 */
export function answerFailure(res: ServerResponse, err: unknown, logger: HttpLogger | undefined): void {
  if (err instanceof RequestAbortedError) {
    // The client left before sending its whole body: nobody to answer.
    logger?.debug({ err }, 'HTTP request aborted by the client');
    res.destroy();
    return;
  }
  if (err instanceof ReceiveBudgetError) {
    // The unread body is not worth receiving just to drop it: close after the answer.
    logger?.warn({ err }, 'HTTP request refused: request bodies being received hold too much memory');
    res.shouldKeepAlive = false;
    sendError(res, err);
    return;
  }
  if (err instanceof TooManyChunksError) {
    // As Triton: answer, then close rather than read the rest of the stream.
    logger?.debug({ err }, 'HTTP request failed');
    res.shouldKeepAlive = false;
    sendError(res, err);
    return;
  }
  if (err instanceof TritonError) {
    // Client mistakes and model states are routine; INTERNAL means a server-side fault.
    // `detail`: what a Triton-exact message leaves out (the tensor, counts), for --log-verbose.
    // In the message, since the text log formats print only the message and err's.
    const detail = errorDetail(err);
    const msg = detail === undefined ? 'HTTP request failed' : `HTTP request failed (${detail})`;
    if (err.code === 'INTERNAL') logger?.error({ err }, msg);
    else logger?.debug({ err }, msg);
    sendError(res, err);
    return;
  }
  logger?.error({ err }, 'HTTP request failed with an unexpected error');
  sendErrorMessage(res, 500, err instanceof Error ? err.message : String(err));
}

/** The console and Swagger UI, which `--allow-console false` turns off. */
export function isBrowserUi(route: Route): boolean {
  return route.kind === 'console' || route.kind === 'api-docs';
}

/**
 * Routes one request to its handler (`parseRoute`), answering 404 for a URL outside the
 * KServe v2 surface (and for the browser UIs when `browserUis` is false, `--allow-console
 * false`) and 403 for a restricted API without its header. Returns the handler's promise when
 * it answers asynchronously; a rejection or throw is for `answerFailure`.
 */
export function dispatch(
  core: ServerCore,
  inferContext: InferContext,
  req: IncomingMessage,
  res: ServerResponse,
  restrictedApis: RestrictedApis,
  browserUis = true,
): Promise<void> | void {
  const route = parseRoute(req.url ?? '');
  if (route === null || (!browserUis && isBrowserUi(route))) return sendErrorMessage(res, 404, 'Not Found');
  const restricted = restrictionError(restrictedApis, route, req);
  if (restricted !== undefined) return sendErrorMessage(res, 403, restricted);
  switch (route.kind) {
    case 'health':
      return handleHealth(core, req, res, route.probe);
    case 'server-metadata':
      return handleServerMetadata(core, req, res);
    case 'model':
      switch (route.action) {
        case 'infer':
          return handleInfer(inferContext, req, res, route.model, route.version);
        case 'infer_stream':
          return handleInferStream(inferContext, req, res, route.model, route.version);
        case 'generate':
        case 'generate_stream':
          return handleGenerate(inferContext, req, res, route.model, route.version, route.action === 'generate_stream');
        case 'metadata':
          return handleModelMetadata(core, req, res, route.model, route.version);
        case 'ready':
          return handleModelReady(core, req, res, route.model, route.version);
        case 'config':
          return handleModelConfig(core, req, res, route.model, route.version);
        case 'stats':
          return handleModelStatistics(core, req, res, route.model, route.version);
        default:
          return sendErrorMessage(res, 404, 'Not Found');
      }
    case 'repository-index':
    case 'repository-control':
      return handleRepository(inferContext, req, res, route);
    case 'stats-all':
      return handleModelStatistics(core, req, res, '', '');
    case 'logging':
      return handleLogging(core, req, res, inferContext.maxInputSize);
    case 'trace':
      return handleTraceSetting(core, req, res, route.model, inferContext.maxInputSize);
    case 'shared-memory':
      return handleSharedMemory(core, req, res, route, inferContext.maxInputSize);
    case 'openapi':
    case 'api-docs':
      return handleApiDocs(req, res, route);
    case 'console':
      return handleConsole(core, req, res, route);
    default:
      return sendErrorMessage(res, 404, 'Not Found');
  }
}
