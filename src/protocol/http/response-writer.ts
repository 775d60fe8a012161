import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { HTTP_STATUS, type TritonError } from '../../errors/index.js';

/**
 * Writing responses with as few copies and syscalls as possible. Every error body is
 * `{"error":"<message>"}` as `application/json` (reference §1.1; Triton `EVBufferAddErrorJson`).
 */

const JSON_TYPE = 'application/json';

/** Below this size the parts of a body are copied into one buffer and written at once. */
const COALESCE_LIMIT = 16 * 1024;

/** 200 or 400 with an empty body: the health and model-ready answers (reference §1.2). */
export function sendEmpty(res: ServerResponse, status: number): void {
  res.writeHead(status, { 'Content-Length': 0 });
  res.end();
}

/** A JSON document already serialised to text. */
export function sendJsonText(res: ServerResponse, status: number, text: string): void {
  // A string body goes out in one write with the header text; no intermediate Buffer.
  res.writeHead(status, { 'Content-Type': JSON_TYPE, 'Content-Length': Buffer.byteLength(text, 'utf8') });
  res.end(text);
}

/** `{"error": message}` with an explicit status (404, 405 and Triton's other literal answers). */
export function sendErrorMessage(
  res: ServerResponse,
  status: number,
  message: string,
  headers?: OutgoingHttpHeaders,
): void {
  if (res.headersSent) {
    // Nothing sensible can follow a started body; drop the connection instead of lying.
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: message });
  res.writeHead(status, { ...headers, 'Content-Type': JSON_TYPE, 'Content-Length': Buffer.byteLength(body, 'utf8') });
  res.end(body);
}

/** A TritonError, with the status `HTTP_STATUS` gives its code. */
export function sendError(res: ServerResponse, err: TritonError, headers?: OutgoingHttpHeaders): void {
  sendErrorMessage(res, HTTP_STATUS[err.code], err.message, headers);
}

/** A body part: text (UTF-8) or bytes written as the view they are. */
export type BodyPart = string | Uint8Array;

/**
 * A body made of several parts (an infer response: JSON text, then binary tensors). A single
 * part is handed to `end` as is; small bodies are coalesced into one buffer; large ones are
 * written part by part under cork, so each tensor goes to the socket without a copy.
 *
 * @param byteLength the sum of the parts' UTF-8/byte lengths
 */
export function sendParts(
  res: ServerResponse,
  status: number,
  headers: OutgoingHttpHeaders,
  parts: readonly BodyPart[],
  byteLength: number,
): void {
  headers['Content-Length'] = byteLength;
  res.writeHead(status, headers);
  if (parts.length === 1) {
    res.end(parts[0]);
    return;
  }
  if (byteLength <= COALESCE_LIMIT) {
    res.end(joinParts(parts, byteLength));
    return;
  }
  res.cork();
  for (const p of parts) res.write(p);
  res.end();
  res.uncork();
}

/** The parts as one buffer (for small bodies and for compression). */
export function joinParts(parts: readonly BodyPart[], byteLength: number): Buffer {
  const body = Buffer.allocUnsafe(byteLength);
  let offset = 0;
  for (const p of parts) {
    if (typeof p === 'string') {
      offset += body.write(p, offset, 'utf8');
    } else {
      body.set(p, offset);
      offset += p.byteLength;
    }
  }
  return body;
}
