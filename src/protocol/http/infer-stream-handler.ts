import type { IncomingMessage, ServerResponse } from 'node:http';
import { CancelledError, InvalidArgumentError, toTritonError } from '../../errors/index.js';
import type { InferenceResponse } from '../../infer/tensor.js';
import { RequestSharedMemory } from '../../memory/index.js';
import { BodyTooLargeError, discardRemainingBody, DRAIN_LIMIT_BYTES, DRAIN_LIMIT_MS, readBody } from './body-reader.js';
import { decompressBody, requestEncoding } from './compression.js';
import { METHOD_NOT_ALLOWED } from './handlers.js';
import type { InferContext } from './infer-handler.js';
import { decodeInferRequest, type DecodedInferRequest } from './infer-request.js';
import { forwardHeaders, rawHeaderPairs } from '../header-forward.js';
import { encodeInferResponse } from './infer-response.js';
import { INFER_HEADER_CONTENT_LENGTH, parseInferHeaderLength, parseModelVersion } from './numeric-headers.js';
import { OutputFormat } from './output-format.js';
import { sendErrorMessage } from './response-writer.js';

/**
 * POST /v2/models/{m}[/versions/{v}]/infer_stream: a KServe v2 infer request (the `/infer`
 * JSON body, binary input tensors allowed) answered as Server-Sent Events, one event per
 * response: `data: <KServe v2 JSON response>\n\n`, each with the parameter
 * `triton_final_response`. A decoupled model streams its zero, one or many responses; any
 * other model sends one event. The end of the event stream is the end of the request, so a
 * bare final flag sends nothing (the body's `parameters` may not hold `triton_` keys, as on
 * `/infer`). Triton has no such endpoint: its HTTP `/infer` refuses decoupled models (501),
 * and `generate_stream` takes the generate extension's body instead.
 *
 * A failure before the first response (bad body, unknown model, bad input) is a normal JSON
 * error answer with its status; after it, the error is sent as a last event
 * `data: {"error":"<message>"}` and the stream ends. A client that closes the connection
 * cancels the request. Outputs are always JSON (an event is text): asking for `binary_data`
 * outputs is refused with 400.
 */

export const SSE_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache',
  // Proxies such as nginx buffer responses unless told not to, which would hold events back.
  'X-Accel-Buffering': 'no',
};

/**
 * @throws (rejects with) errors for the frontend to answer as JSON, before any event: 405 is
 *   answered here; 400 for a bad version, body or binary output request; the model and
 *   validation errors of `core.inferStream`.
 */
export async function handleInferStream(
  ctx: InferContext,
  req: IncomingMessage,
  res: ServerResponse,
  model: string,
  versionText: string,
): Promise<void> {
  if (req.method !== 'POST') return sendErrorMessage(res, 405, METHOD_NOT_ALLOWED);
  const version = parseModelVersion(versionText);
  const core = ctx.core;
  const shm = new RequestSharedMemory(core.sharedMemory());
  try {
    let decoded: DecodedInferRequest;
    try {
      decoded = await decodeStreamBody(ctx, req, model, version, shm);
    } catch (err) {
      if (!(err instanceof BodyTooLargeError)) throw err;
      sendErrorMessage(res, 400, `request body size exceeds the maximum allowed input size of ${ctx.maxInputSize} bytes. Use --http-max-input-size to increase the limit.`);
      discardRemainingBody(req, DRAIN_LIMIT_BYTES, DRAIN_LIMIT_MS);
      return;
    }
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort(new CancelledError('the client closed the connection'));
    });
    const stream = core.inferStream(decoded.request, controller.signal, { transfer: true })[Symbol.asyncIterator]();
    // The first step decides between a JSON error answer and a 200 event stream.
    let step = await stream.next();
    res.writeHead(200, SSE_HEADERS);
    const json = new OutputFormat(false);
    try {
      while (step.done !== true) {
        await writeEvent(res, eventJson(step.value, json, decoded.request.id, shm));
        if (controller.signal.aborted) break;
        step = await stream.next();
      }
    } catch (err) {
      if (!controller.signal.aborted) await writeEvent(res, JSON.stringify({ error: toTritonError(err).message }));
    } finally {
      await stream.return?.();
      res.end();
    }
  } finally {
    shm.release();
  }
}

function eventJson(response: InferenceResponse, format: OutputFormat, requestId: string | undefined, shm: RequestSharedMemory): string[] {
  shm.writeOutputs(response.outputs);
  return encodeInferResponse(response, format, requestId, shm).json;
}

async function decodeStreamBody(
  ctx: InferContext,
  req: IncomingMessage,
  model: string,
  version: number | undefined,
  shm: RequestSharedMemory,
): Promise<DecodedInferRequest> {
  const encoding = requestEncoding(req.headers['content-encoding']);
  let body = await readBody(req, ctx.maxInputSize);
  if (encoding !== 'identity') body = await decompressBody(body, ctx.maxInputSize);
  const header = req.headers[INFER_HEADER_CONTENT_LENGTH];
  const headerLength = parseInferHeaderLength(Array.isArray(header) ? header[0] : header, body.byteLength);
  if (headerLength === 0) {
    // Validates the model first, so an unknown model is reported as such.
    ctx.core.modelMetadata(model, version);
    throw new InvalidArgumentError(`infer_stream needs a JSON request body for model '${model}' (raw binary requests are not supported)`);
  }
  const decoded = decodeInferRequest(body, headerLength, { modelName: model, modelVersion: version, maxInputSize: ctx.maxInputSize, sharedMemory: shm });
  if (ctx.headerForwardPattern !== undefined) forwardHeaders(decoded.request, rawHeaderPairs(req.rawHeaders), ctx.headerForwardPattern);
  const binary = decoded.outputs.defaultBinary || (decoded.request.outputs ?? []).some((o) => decoded.outputs.isBinary(o.name));
  if (binary) {
    throw new InvalidArgumentError(
      `infer_stream sends JSON events: binary_data outputs are not supported (model '${model}'); leave binary_data and binary_data_output unset`,
    );
  }
  return decoded;
}

/**
 * Writes one event (its JSON as one string, or as pieces, see `EncodedInferResponse.json`),
 * waiting while the socket's buffer is full (a slow reader), unless it closed.
 */
export function writeEvent(res: ServerResponse, json: string | readonly string[]): Promise<void> {
  let flushed: boolean;
  if (typeof json === 'string' || json.length === 1) {
    flushed = res.write(`data: ${typeof json === 'string' ? json : json[0]}\n\n`);
  } else {
    res.cork();
    res.write('data: ');
    for (const part of json) res.write(part);
    flushed = res.write('\n\n');
    res.uncork();
  }
  if (flushed || res.destroyed) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
