import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { freeBuffer } from '../../memory/free-buffer.js';
import type { ReadyModel, ServerCore } from '../../server-types.js';
import { LazySharedMemory, type RequestRegions } from '../lazy-shared-memory.js';
import { BodyTooLargeError, discardRemainingBody, DRAIN_LIMIT_BYTES, DRAIN_LIMIT_MS, readBody } from './body-reader.js';
import {
  compressBody,
  decompressBody,
  decompressedTooLargeMessage,
  requestEncoding,
  responseEncoding,
  SUPPORTED_ENCODINGS_HEADER,
  UnsupportedEncodingError,
} from './compression.js';
import { METHOD_NOT_ALLOWED } from './handlers.js';
import { decodeInferRequest, type DecodedInferRequest } from './infer-request.js';
import { forwardHeaders, rawHeaderPairs } from '../header-forward.js';
import { encodeInferResponse, type EncodedInferResponse } from './infer-response.js';
import {
  INFER_HEADER_CONTENT_LENGTH,
  parseInferHeaderLength,
  parseModelVersion,
  peekInferHeaderLength,
} from './numeric-headers.js';
import { decodeRawRequest } from './raw-request.js';
import { modelForInfer } from './transaction-policy.js';
import { joinParts, sendError, sendErrorMessage, sendParts, type BodyPart } from './response-writer.js';

/**
 * POST /v2/models/{m}[/versions/{v}]/infer (reference §1.3, §1.4; Triton `HandleInfer`).
 *
 * As Triton (`CheckTransactionPolicy`), the model is looked up and a decoupled one refused
 * before the body is touched, so a request for an unknown model is answered with the model
 * error even when its body is also bad. That lookup is the request's only one: the model goes
 * with the decoded request to `core.infer`, and a raw binary request reads its input and
 * `max_batch_size` from it.
 */

export interface InferContext {
  core: ServerCore;
  /** `--http-max-input-size`: cap on the body, before and after decompression, in bytes. */
  maxInputSize: number;
  /** `--http-header-forward-pattern`: matching headers become string request parameters. */
  headerForwardPattern?: RegExp;
}

const USE_FLAG = 'Use --http-max-input-size to increase the limit.';

/**
 * Handles one infer request: decode, `core.infer`, encode, write.
 *
 * Answers errors itself only where the reply needs more than the error JSON: 501 "Unsupported
 * compression type" with `Accept-Encoding: gzip, deflate`, and the over-size 400 (see
 * `tooLargeMessage`), after which the rest of the body is read and dropped (up to 256 MiB or
 * 10 s, then the socket is destroyed) so that the connection survives.
 *
 * @throws (synchronously, before the body is read) 400 for a bad version string, the model
 *   lookup error, 501 for a decoupled model (transaction-policy.ts);
 * @throws (rejects with) everything else, for the frontend to answer with HTTP_STATUS[code]:
 *   400 for a malformed body (json-parse, infer-request, raw-request, numeric-headers,
 *   compression document the messages); whatever `core.infer` throws, unchanged; 400/500
 *   from response encoding.
 */
export function handleInfer(
  ctx: InferContext,
  req: IncomingMessage,
  res: ServerResponse,
  model: string,
  versionText: string,
): Promise<void> | void {
  if (req.method !== 'POST') return sendErrorMessage(res, 405, METHOD_NOT_ALLOWED);
  const version = parseModelVersion(versionText);
  return inferAndRespond(ctx, req, res, modelForInfer(ctx.core, model, version), version);
}

/** The one async step of an infer request: read and decode, infer, encode and write. */
async function inferAndRespond(
  ctx: InferContext,
  req: IncomingMessage,
  res: ServerResponse,
  model: ReadyModel,
  version: number | undefined,
): Promise<void> {
  // Holds the shared-memory regions the request names until its response is written.
  const shm = new LazySharedMemory(ctx.core);
  let body: Buffer | undefined;
  try {
    let decoded: DecodedInferRequest;
    try {
      body = await readRequestBody(req, ctx.maxInputSize);
      decoded = decodeBody(ctx, req, model, version, shm, body);
      if (ctx.headerForwardPattern !== undefined) forwardHeaders(decoded.request, rawHeaderPairs(req.rawHeaders), ctx.headerForwardPattern);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        sendErrorMessage(res, 400, tooLargeMessage(req, err, ctx.maxInputSize));
        discardRemainingBody(req, DRAIN_LIMIT_BYTES, DRAIN_LIMIT_MS);
        return;
      }
      if (err instanceof UnsupportedEncodingError) {
        return sendError(res, err, { 'Accept-Encoding': SUPPORTED_ENCODINGS_HEADER });
      }
      throw err;
    }

    const out = responseEncoding(req.headers['accept-encoding']);
    const response = await ctx.core.infer(decoded.request, undefined, { transfer: true, model });
    shm.writeOutputs(response.outputs);
    await sendInferResponse(res, encodeInferResponse(response, decoded.outputs, decoded.request.id, shm), out);
  } finally {
    shm.release();
    // The request's tensors were views of the body; the answer is written, nothing reads them.
    if (body !== undefined) freeBuffer(body);
  }
}

/** The body, decompressed when it says it is compressed. @throws UnsupportedEncodingError at once */
function readRequestBody(req: IncomingMessage, maxInputSize: number): Promise<Buffer> {
  const encoding = requestEncoding(req.headers['content-encoding']);
  const body = readBody(req, maxInputSize);
  return encoding === 'identity' ? body : body.then((b) => decompressBody(b, maxInputSize));
}

function decodeBody(
  ctx: InferContext,
  req: IncomingMessage,
  model: ReadyModel,
  version: number | undefined,
  shm: RequestRegions,
  body: Buffer,
): DecodedInferRequest {
  const headerLength = parseInferHeaderLength(headerValue(req, INFER_HEADER_CONTENT_LENGTH), body.byteLength);
  if (headerLength !== 0) {
    return decodeInferRequest(body, headerLength, {
      modelName: model.name,
      modelVersion: version,
      maxInputSize: ctx.maxInputSize,
      sharedMemory: shm,
    });
  }
  return decodeRawRequest(body, model.spec, { modelName: model.name, modelVersion: version });
}

/**
 * Writes an encoded infer response: 200, compressed with `encoding` when it is not identity
 * (uncompressed when compression fails, as Triton). Shared with the protocol threads.
 */
export function sendInferResponse(res: ServerResponse, encoded: EncodedInferResponse, encoding: 'identity' | 'gzip' | 'deflate'): Promise<void> | void {
  if (encoding === 'identity') return sendEncoded(res, encoded);
  return sendCompressed(res, encoded, encoding);
}

/** 200 with the encoded response, uncompressed: JSON, or a JSON header then binary outputs. */
function sendEncoded(res: ServerResponse, encoded: EncodedInferResponse): void {
  if (encoded.binary.length === 0) {
    return sendParts(res, 200, { 'Content-Type': 'application/json' }, encoded.json, encoded.byteLength);
  }
  const headers: OutgoingHttpHeaders = {
    'Content-Type': 'application/octet-stream',
    'Inference-Header-Content-Length': encoded.jsonByteLength,
  };
  sendParts(res, 200, headers, [...encoded.json, ...encoded.binary], encoded.byteLength);
}

/** 200 with the encoded response compressed; uncompressed when compression fails, as Triton. */
async function sendCompressed(res: ServerResponse, encoded: EncodedInferResponse, encoding: 'gzip' | 'deflate'): Promise<void> {
  const binary = encoded.binary.length > 0;
  const headers: OutgoingHttpHeaders = { 'Content-Type': binary ? 'application/octet-stream' : 'application/json' };
  if (binary) headers['Inference-Header-Content-Length'] = encoded.jsonByteLength;
  const parts: BodyPart[] = [...encoded.json, ...encoded.binary];
  const compressed = await compressBody(joinParts(parts, encoded.byteLength), encoding);
  if (compressed === undefined) return sendParts(res, 200, headers, parts, encoded.byteLength);
  headers['Content-Encoding'] = encoding;
  sendParts(res, 200, headers, [compressed], compressed.byteLength);
}

/**
 * Triton has no single body limit; it checks sizes where it reads them. The message is the one
 * Triton gives for the same body: decompressed size for a compressed body, the raw-input check
 * for a raw request, the JSON-size check when the body is (or its header is) JSON; infera also
 * caps binary bodies, which Triton does not, with a message in the same words.
 */
function tooLargeMessage(req: IncomingMessage, err: BodyTooLargeError, max: number): string {
  const encoding = req.headers['content-encoding'];
  if (encoding === 'gzip' || encoding === 'deflate') return decompressedTooLargeMessage(max);
  const size = err.declared ?? err.received;
  const headerLength = peekInferHeaderLength(headerValue(req, INFER_HEADER_CONTENT_LENGTH));
  if (headerLength === 0) {
    return `Raw input has a byte_size (${size} bytes) that exceeds the maximum allowed value of ${max} bytes. ${USE_FLAG}`;
  }
  if (headerLength === undefined || headerLength > max) {
    const jsonSize = headerLength ?? size;
    return `request JSON size of ${jsonSize} bytes exceeds the maximum allowed input size of ${max} bytes. ${USE_FLAG}`;
  }
  return `request body size of ${size} bytes exceeds the maximum allowed input size of ${max} bytes. ${USE_FLAG}`;
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
