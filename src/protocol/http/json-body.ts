import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyTooLargeError, discardRemainingBody, DRAIN_LIMIT_BYTES, DRAIN_LIMIT_MS, readBody } from './body-reader.js';
import { sendErrorMessage } from './response-writer.js';

/**
 * Reads a JSON request body (model load/unload, repository index, generate) of at most
 * `maxInputSize` bytes. Over that, answers 400 with Triton's `EVRequestToJson` text ("request
 * JSON size of <n> bytes exceeds the maximum allowed input size of <max> bytes. Use
 * --http-max-input-size to increase the limit."), drops what is left of the body (bounded by
 * `DRAIN_LIMIT_*`) and resolves `undefined`: the caller has nothing more to answer.
 * @throws what `readBody` throws for anything but an over-size body (an aborted request,
 *   too many chunks, an idle body).
 */
export async function readJsonBodyOrAnswer(
  req: IncomingMessage,
  res: ServerResponse,
  maxInputSize: number,
): Promise<Buffer | undefined> {
  try {
    return await readBody(req, maxInputSize);
  } catch (err) {
    if (!(err instanceof BodyTooLargeError)) throw err;
    sendErrorMessage(
      res,
      400,
      `request JSON size of ${err.declared ?? err.received} bytes exceeds the maximum allowed input size of ` +
        `${maxInputSize} bytes. Use --http-max-input-size to increase the limit.`,
    );
    discardRemainingBody(req, DRAIN_LIMIT_BYTES, DRAIN_LIMIT_MS);
    return undefined;
  }
}
