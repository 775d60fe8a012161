import type { IncomingMessage } from 'node:http';
import { InvalidArgumentError } from '../../errors/index.js';
import { freeBuffer } from '../../memory/free-buffer.js';
import { receiveBudgetOf } from './receive-budget.js';

/**
 * Reads a request body into one exclusively owned buffer (see owned-buffer.ts for why), with
 * a single copy per received chunk: with a Content-Length the buffer is allocated up front and
 * chunks are copied into place; a chunked body is collected and copied once at the end.
 * `Buffer.concat` is avoided on purpose: small results would land in Node's shared pool.
 *
 * Each received chunk is freed as soon as it has been copied (Node's HTTP parser hands every
 * chunk over in an ArrayBuffer of its own, and this reader is its only consumer): left to the
 * GC, the chunks of large bodies count as external memory, and V8 answers that with a full
 * mark-compact several times a second under load.
 */

/** The body is over the limit; nothing more is stored. `declared` is the Content-Length, if any. */
export class BodyTooLargeError extends Error {
  constructor(
    readonly received: number,
    readonly declared: number | undefined,
  ) {
    super(`request body exceeds the size limit (${declared ?? received} bytes)`);
  }
}

/**
 * Triton's `kMaxChunkedChunks` (server `http_server.cc`): a chunked body may come in at most
 * this many non-empty chunks, so that a stream of tiny chunks cannot pile up per-chunk overhead.
 */
export const MAX_CHUNKED_CHUNKS = 1 << 16;

/**
 * A chunked body came in too many pieces: 400 with Triton's text, and the connection is closed
 * after the answer (as Triton does).
 */
export class TooManyChunksError extends InvalidArgumentError {
  constructor() {
    super(`Chunked request body exceeds maximum of ${MAX_CHUNKED_CHUNKS} non-empty chunks. Send fewer or larger HTTP chunks.`);
  }
}

/** The client went away before the body was complete; there is nobody to answer. */
export class RequestAbortedError extends Error {
  constructor(options?: ErrorOptions) {
    super('request aborted by the client', options);
  }
}

/**
 * @param limit the most bytes accepted
 * @returns the body (length 0 when there is none)
 * @rejects BodyTooLargeError at once when Content-Length exceeds `limit`, or as soon as a
 *   chunked body does (the rest of the stream is then discarded as it arrives);
 *   RequestAbortedError when the connection closes or the stream fails first (Node reports a
 *   client that leaves mid-body as an ECONNRESET "aborted" stream error);
 *   UnavailableError (503) when the request's receive budget (receive-budget.ts) cannot hold
 *   the body: at once for a Content-Length body, at the chunk that passes it for a chunked one;
 *   TooManyChunksError (400) when a chunked body arrives in more than MAX_CHUNKED_CHUNKS
 *   pieces. Node does not expose chunk boundaries: each non-empty piece its parser delivers
 *   counts, which is one per chunk, or a few for a large chunk split across socket reads.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const header = req.headers['content-length'];
  const budget = receiveBudgetOf(req);
  if (header !== undefined) {
    const length = Number(header);
    if (length > limit) return Promise.reject(new BodyTooLargeError(0, length));
    if (length === 0 || req.complete) return readBodyUncounted(req, length);
    try {
      budget?.reserve(length);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return readBodyUncounted(req, length, budget === undefined ? undefined : () => budget.release(length));
  }
  if (req.headers['transfer-encoding'] === undefined) return Promise.resolve(Buffer.allocUnsafeSlow(0));

  let reserved = 0;
  const chunks: Buffer[] = [];
  return collect(req, (chunk, offset) => {
    if (offset + chunk.byteLength > limit) throw new BodyTooLargeError(offset + chunk.byteLength, undefined);
    if (chunk.byteLength > 0 && chunks.length >= MAX_CHUNKED_CHUNKS) throw new TooManyChunksError();
    if (budget !== undefined && !req.complete) {
      budget.reserve(chunk.byteLength);
      reserved += chunk.byteLength;
    }
    chunks.push(chunk);
    return true;
  }, (total) => {
    const body = Buffer.allocUnsafeSlow(total);
    let offset = 0;
    for (const c of chunks) {
      body.set(c, offset);
      offset += c.byteLength;
      freeBuffer(c);
    }
    return body;
  }, () => budget?.release(reserved));
}

/**
 * A Content-Length body of `length` bytes, allocated up front. When the read fails (the client
 * left or was timed out) the buffer is freed at once: an idle server may not collect garbage
 * for a long time, and abandoned bodies would hold their memory until it does.
 * @param settled called when the read ends, either way (returns the body's receive budget)
 */
function readBodyUncounted(req: IncomingMessage, length: number, settled?: () => void): Promise<Buffer> {
  const body = Buffer.allocUnsafeSlow(length);
  if (length === 0) return Promise.resolve(body);
  const read = collect(req, (chunk, offset) => {
    // llhttp never delivers more than Content-Length, but a bad peer must not overflow us.
    if (offset + chunk.byteLength > length) return false;
    body.set(chunk, offset);
    freeBuffer(chunk);
    return true;
  }, (total) => (total === length ? body : undefined), settled);
  read.catch(() => freeBuffer(body));
  return read;
}

/** How to end the body read in progress of a request (its `collect`), for `abandonBodyRead`. */
const reads = new WeakMap<IncomingMessage, () => void>();

/**
 * Ends `req`'s body read now, as if the client had left: the read rejects with
 * RequestAbortedError, and its share of the receive budget is returned before this returns
 * (its buffer is freed a moment later). The idle timeout calls it before answering 408: the
 * budget is back before the connection closes, not when the socket's close is reported a turn
 * later, by which time the client may have sent its next body to another protocol thread.
 */
export function abandonBodyRead(req: IncomingMessage): void {
  reads.get(req)?.();
}

/**
 * Drives the stream: `onChunk` stores (and may free) a chunk at `offset` (false or a throw
 * stops reading); `finish` turns the byte total into the body, or undefined when it came up
 * short; `onSettled` runs when the read ends, either way, before the promise settles.
 */
function collect(
  req: IncomingMessage,
  onChunk: (chunk: Buffer, offset: number) => boolean,
  finish: (total: number) => Buffer | undefined,
  onSettled?: () => void,
): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    let total = 0;
    let settled = false;
    const settle = (err: Error | undefined, body?: Buffer): void => {
      if (settled) return;
      settled = true;
      reads.delete(req);
      req.removeListener('data', onData);
      req.removeListener('end', onEnd);
      req.removeListener('close', onClose);
      onSettled?.();
      if (err === undefined) resolve(body!);
      else reject(err);
    };
    const onData = (chunk: Buffer): void => {
      // Read before onChunk, which may free the chunk.
      const length = chunk.byteLength;
      try {
        if (!onChunk(chunk, total)) {
          settle(new RequestAbortedError());
          return;
        }
      } catch (err) {
        settle(err as Error);
        return;
      }
      total += length;
    };
    const onEnd = (): void => {
      const body = finish(total);
      settle(body === undefined ? new RequestAbortedError() : undefined, body);
    };
    const onError = (err: Error): void => settle(new RequestAbortedError({ cause: err }));
    const onClose = (): void => settle(new RequestAbortedError());
    req.on('data', onData);
    req.on('end', onEnd);
    // 'error' stays attached: a late stream error must not become an uncaught exception.
    req.on('error', onError);
    req.on('close', onClose);
    reads.set(req, onClose);
  });
}

/** After an over-size answer, at most this much more of a request body is read and dropped... */
export const DRAIN_LIMIT_BYTES = 256 * 1024 * 1024;
/** ...and for at most this long, ms. */
export const DRAIN_LIMIT_MS = 10_000;

/**
 * After an early answer (body too large), reads and drops the rest of the body so the
 * connection can serve the next request, but destroys the socket once more than `maxBytes`
 * arrive or `maxMs` pass: a client must not make us swallow an unbounded upload. The answer
 * has been written before this runs, so the client can read it before any reset.
 */
export function discardRemainingBody(req: IncomingMessage, maxBytes: number, maxMs: number): void {
  if (req.complete) return;
  let seen = 0;
  const timer = setTimeout(() => req.socket.destroy(), maxMs);
  timer.unref();
  const stop = (): void => clearTimeout(timer);
  req.on('data', (chunk: Buffer) => {
    seen += chunk.byteLength;
    if (seen > maxBytes) {
      stop();
      req.socket.destroy();
    }
  });
  req.once('end', stop);
  req.once('close', stop);
  req.resume();
}
