import type { IncomingMessage } from 'node:http';
import { InvalidArgumentError } from '../../errors/index.js';
import { BodyTooLargeError, discardRemainingBody, readBody } from './body-reader.js';
import { parseJsonBody } from './json-parse.js';

/** After an over-size settings body, at most this much more is read and dropped. */
const DRAIN_LIMIT_BYTES = 1024 * 1024;
const DRAIN_LIMIT_MS = 5_000;

/**
 * Reads the JSON object of a settings update (logging, trace; Triton
 * `EVRequestToJsonAllowsEmpty`): an empty body is an empty object.
 * @throws InvalidArgumentError (400) for a body over `maxInputSize` bytes ("request JSON size
 *   of <n> bytes exceeds the maximum allowed input size of <max> bytes"), for JSON that does
 *   not parse (RapidJSON's message, see json-parse.ts), and for a document that is not an
 *   object ("the request body must be a JSON object", infera's wording: Triton has none).
 */
export async function readSettingsBody(req: IncomingMessage, maxInputSize: number): Promise<Record<string, unknown>> {
  let body: Buffer;
  try {
    body = await readBody(req, maxInputSize);
  } catch (err) {
    if (!(err instanceof BodyTooLargeError)) throw err;
    discardRemainingBody(req, DRAIN_LIMIT_BYTES, DRAIN_LIMIT_MS);
    throw new InvalidArgumentError(
      `request JSON size of ${err.declared ?? err.received} bytes exceeds the maximum allowed input size of ${maxInputSize} bytes`,
    );
  }
  if (body.byteLength === 0) return {};
  const parsed = parseJsonBody(body, 0, body.byteLength);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InvalidArgumentError('the request body must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}
