import type { IncomingMessage, ServerResponse } from 'node:http';
import { CancelledError, HTTP_STATUS, InvalidArgumentError, toTritonError, type TritonError } from '../../errors/index.js';
import type { InferenceRequest, InferenceResponse } from '../../infer/tensor.js';
import type { ModelMetadata } from '../../server-types.js';
import { readJsonBodyOrAnswer } from './json-body.js';
import { decodeGenerateRequest } from './generate-request.js';
import { encodeGenerateResponse } from './generate-response.js';
import { METHOD_NOT_ALLOWED } from './handlers.js';
import type { InferContext } from './infer-handler.js';
import { SSE_HEADERS, writeEvent } from './infer-stream-handler.js';
import { parseJsonBody } from './json-parse.js';
import { parseModelVersion } from './numeric-headers.js';
import { sendError, sendErrorMessage, sendJsonText } from './response-writer.js';

/**
 * POST /v2/models/{m}[/versions/{v}]/generate and /generate_stream: Triton's generate
 * extension (docs/protocol/extension_generate.md; server `http_server.cc`, `HandleGenerate`
 * and `GenerateRequestClass`). The body maps onto the model's inputs and request parameters
 * (generate-request.ts); each response is a flat JSON object (generate-response.ts). Any
 * model may be asked, decoupled or not.
 *
 * Checked in Triton's order: method (405), version, the model lookup (its error, e.g. 400 for
 * an unknown model), then the Content-Encoding (only identity: anything else is 400
 * "Unsupported content-encoding, only 'identity' is supported."; responses are never
 * compressed either), then the body (at most `--http-max-input-size` bytes of JSON), then the
 * mapping, then the server's request validation. All of these are JSON error answers.
 *
 * `/generate` answers one JSON object. The model must produce exactly one response: when it
 * produces none or several (a decoupled model; an error after a response counts as one more),
 * the answer is `{"error":"generate expects model to produce exactly 1 response, use generate
 * stream for model that generates various number of responses"}` with the status of the first
 * response: 200, as Triton sends it.
 *
 * `/generate_stream` answers `text/event-stream; charset=utf-8`, one event
 * `data: <object>\n\n` per response, as they come; a bare final flag sends nothing (a model
 * with no response gets an empty 200 stream). A response that cannot be encoded, or a failure
 * after the first response, is an event `data: {"error":"..."}`; a failure is the last event.
 * The status is set by the first response: 200, or the error's status when that response
 * cannot be encoded. Unlike Triton, a model failure before any response is answered as a JSON
 * error (like a validation error) rather than as an event under the error's status: infera's
 * streaming API does not tell the two apart.
 *
 * A client that closes the connection cancels the request.
 *
 * @throws (rejects with) the errors before the first response, for the frontend to answer
 *   with HTTP_STATUS[code]; 405 and the over-size 400 are answered here.
 */
export function handleGenerate(
  ctx: InferContext,
  req: IncomingMessage,
  res: ServerResponse,
  model: string,
  versionText: string,
  streaming: boolean,
): Promise<void> | void {
  if (req.method !== 'POST') return sendErrorMessage(res, 405, METHOD_NOT_ALLOWED);
  const version = parseModelVersion(versionText);
  const metadata = ctx.core.modelMetadata(model, version);
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding !== '' && encoding !== 'identity') {
    throw new InvalidArgumentError(UNSUPPORTED_ENCODING);
  }
  return generate(ctx, req, res, metadata, version, streaming);
}

const UNSUPPORTED_ENCODING = "Unsupported content-encoding, only 'identity' is supported.";
const EXACTLY_ONE =
  'generate expects model to produce exactly 1 response, use generate stream for model that generates various number of responses';

async function generate(
  ctx: InferContext,
  req: IncomingMessage,
  res: ServerResponse,
  metadata: ModelMetadata,
  version: number | undefined,
  streaming: boolean,
): Promise<void> {
  const body = await readJsonBodyOrAnswer(req, res, ctx.maxInputSize);
  if (body === undefined) return;
  const root = parseJsonBody(body, 0, body.byteLength);
  const request = decodeGenerateRequest(root, metadata, {
    modelName: metadata.name,
    modelVersion: version,
    maxInputSize: ctx.maxInputSize,
  });

  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort(new CancelledError('the client closed the connection'));
  });
  const responses = inferResponses(ctx, request, controller.signal)[Symbol.asyncIterator]();
  try {
    if (streaming) await streamEvents(res, responses, controller.signal);
    else await answerOne(res, responses, controller.signal);
  } finally {
    await responses.return?.();
  }
}

/** Every response of the request: the core's stream (any model). */
function inferResponses(ctx: InferContext, request: InferenceRequest, signal: AbortSignal): AsyncIterable<InferenceResponse> {
  // The HTTP frontend never turns a bare final flag into a response, whatever the parameters
  // say. The tensors were decoded into buffers of this request alone, so they move, uncopied.
  return ctx.core.inferStream(request, signal, { emptyFinalResponse: false, transfer: true });
}

type Encoded = { json: string; error?: undefined } | { json?: undefined; error: TritonError };

function encode(response: InferenceResponse): Encoded {
  try {
    return { json: encodeGenerateResponse(response) };
  } catch (err) {
    return { error: toTritonError(err) };
  }
}

/** /generate: waits for the request to complete, then answers its one response. */
async function answerOne(res: ServerResponse, responses: AsyncIterator<InferenceResponse>, signal: AbortSignal): Promise<void> {
  let first: Encoded | undefined;
  let count = 0;
  try {
    for (let step = await responses.next(); step.done !== true; step = await responses.next()) {
      if (++count === 1) first = encode(step.value);
    }
  } catch (err) {
    // Before any response, the failure is the answer; after one, it is one response too many.
    if (count === 0) throw err;
    count++;
  }
  if (signal.aborted) return;
  const status = first?.error !== undefined ? HTTP_STATUS[first.error.code] : 200;
  if (count !== 1) return sendErrorMessage(res, status, EXACTLY_ONE);
  if (first!.error !== undefined) return sendError(res, first!.error);
  sendJsonText(res, 200, first!.json!);
}

/** /generate_stream: one event per response, written as it comes. */
async function streamEvents(res: ServerResponse, responses: AsyncIterator<InferenceResponse>, signal: AbortSignal): Promise<void> {
  // A failure here, before any response, is a JSON error answer.
  let step = await responses.next();
  let encoded = step.done === true ? undefined : encode(step.value);
  res.writeHead(encoded?.error !== undefined ? HTTP_STATUS[encoded.error.code] : 200, SSE_HEADERS);
  try {
    while (encoded !== undefined) {
      await writeEvent(res, encoded.json ?? errorJson(encoded.error!));
      if (signal.aborted) return;
      step = await responses.next();
      encoded = step.done === true ? undefined : encode(step.value);
    }
  } catch (err) {
    if (!signal.aborted) await writeEvent(res, errorJson(toTritonError(err)));
  } finally {
    res.end();
  }
}

function errorJson(err: TritonError): string {
  return JSON.stringify({ error: err.message });
}
