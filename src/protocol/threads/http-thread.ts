import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { InferenceRequest } from '../../infer/tensor.js';
import { forwardHeaders, rawHeaderPairs } from '../header-forward.js';
import { readBody } from '../http/body-reader.js';
import { DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_MAX_INPUT_SIZE, DEFAULT_RECEIVING_SIZE_FACTOR, DEFAULT_REQUEST_TIMEOUT_MS, admitRequest, answerFailure } from '../http/frontend.js';
import { httpServerOptions } from '../http/node-server-options.js';
import { decodeInferRequest, type DecodedInferRequest } from '../http/infer-request.js';
import { sendInferResponse } from '../http/infer-handler.js';
import { encodeInferResponse } from '../http/infer-response.js';
import { INFER_HEADER_CONTENT_LENGTH, parseInferHeaderLength, parseModelVersion } from '../http/numeric-headers.js';
import { ReceiveBudget } from '../http/receive-budget.js';
import { responseEncoding } from '../http/compression.js';
import { restrictionError } from '../http/restricted-api.js';
import { parseRoute, type Route } from '../http/router.js';
import { HttpForwarder } from './http-forward.js';
import { NeedsCoreThread, NO_REGIONS } from './no-regions.js';
import type { RemoteInfer } from './remote-infer.js';
import type { HttpThreadConfig, ThreadLogger } from './thread-config.js';
import { listenOnFd, type ThreadServer } from './thread-server.js';

/**
 * A protocol thread's HTTP server: it serves `POST /v2/models/{m}[/versions/{v}]/infer` with a
 * JSON or binary-extension body itself (receive, decode, validate the wire form, encode),
 * handing only the decoded request to the core thread (`RemoteInfer`); everything else goes
 * to the core thread's frontend unchanged (`HttpForwarder`), so every other route, and every
 * malformed infer request, is answered exactly as in-thread.
 *
 * `--http-max-receiving-size` caps the bodies all threads and the core thread's frontend receive
 * together: their budgets share one counter (`config.receiveCounter`).
 */
export function startHttpThreadServer(fd: number, config: HttpThreadConfig, remote: RemoteInfer, logger?: ThreadLogger): ThreadServer {
  const maxInputSize = config.maxInputSize ?? DEFAULT_MAX_INPUT_SIZE;
  const idleTimeoutMs = config.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const budget = new ReceiveBudget(config.maxReceivingSize ?? DEFAULT_RECEIVING_SIZE_FACTOR * maxInputSize, config.receiveCounter);
  const restricted = config.restrictedApis ?? new Map();
  const forwarder = new HttpForwarder(config.corePort);

  const fastInfer = async (req: IncomingMessage, res: ServerResponse, model: string, version: number | undefined): Promise<void> => {
    const body = await readBody(req, maxInputSize);
    let decoded: DecodedInferRequest;
    try {
      const headerLength = parseInferHeaderLength(headerValue(req, INFER_HEADER_CONTENT_LENGTH), body.byteLength);
      if (headerLength === 0) throw new NeedsCoreThread(); // raw binary: needs the model's metadata
      decoded = decodeInferRequest(body, headerLength, { modelName: model, modelVersion: version, maxInputSize, sharedMemory: NO_REGIONS });
    } catch {
      // The core thread's frontend gives the exact answer (the model lookup first, as Triton).
      forwarder.forward(req, res, body);
      return;
    }
    const request: InferenceRequest = decoded.request;
    if (config.headerForwardPattern !== undefined) forwardHeaders(request, rawHeaderPairs(req.rawHeaders), config.headerForwardPattern);
    const out = responseEncoding(req.headers['accept-encoding']);
    const owned = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength ? (body.buffer as ArrayBuffer) : undefined;
    const response = await remote.infer(request, { refuseDecoupled: 'http', owned });
    await sendInferResponse(res, encodeInferResponse(response, decoded.outputs, request.id, NO_REGIONS), out);
  };

  /** Whether this thread serves the request itself; else it goes to the core thread whole. */
  const servesItself = (req: IncomingMessage, route: Route | null): route is Route & { kind: 'model' } =>
    route !== null &&
    route.kind === 'model' &&
    route.action === 'infer' &&
    req.method === 'POST' &&
    req.headers['content-length'] !== undefined &&
    Number(req.headers['content-length']) <= maxInputSize &&
    req.headers['content-encoding'] === undefined &&
    versionOf(route.version) !== null &&
    restrictionError(restricted, route, req) === undefined;

  const onRequest = (req: IncomingMessage, res: ServerResponse, expectsContinue = false): void => {
    tracker.started(res);
    const route = parseRoute(req.url ?? '');
    if (!servesItself(req, route)) {
      // The core thread's frontend also answers `Expect: 100-continue` (or refuses the body).
      forwarder.forward(req, res, undefined, expectsContinue);
      res.once('close', () => tracker.finished(res));
      return;
    }
    if (expectsContinue) res.writeContinue();
    admitRequest(req, res, budget, idleTimeoutMs, logger);
    fastInfer(req, res, route.model, versionOf(route.version) ?? undefined).then(
      () => tracker.finished(res),
      (err: unknown) => {
        answerFailure(res, err, logger);
        tracker.finished(res);
      },
    );
  };

  const server = createServer(httpServerOptions(config.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS), onRequest);
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => onRequest(req, res, true));
  const tracker = listenOnFd(server, fd, () => forwarder.close(), logger);
  return tracker;
}

/** The URL's version, or null when it does not parse (forwarded: the core answers the 400). */
function versionOf(text: string): number | undefined | null {
  try {
    return parseModelVersion(text);
  } catch {
    return null;
  }
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
