import { constants as bufferConstants } from 'node:buffer';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { InvalidArgumentError, UnsupportedError } from '../../errors/index.js';
import { ownedBuffer } from './owned-buffer.js';

/**
 * Content-Encoding in and out for infer requests (reference §1.1; Triton
 * `GetRequestCompressionType`, `DecompressBuffer`, `CompressionTypeUsed`, `DataCompressor`).
 */

export type Encoding = 'identity' | 'gzip' | 'deflate';

/** Sent with the 501 for an unsupported request encoding, as Triton does. */
export const SUPPORTED_ENCODINGS_HEADER = 'gzip, deflate';

/** The 501 for a request Content-Encoding other than gzip/deflate/identity. */
export class UnsupportedEncodingError extends UnsupportedError {
  constructor() {
    super('Unsupported compression type');
  }
}

/**
 * The encoding of a request body. Case-sensitive exact match like Triton: "gzip", "deflate",
 * "identity" or empty/absent.
 * @throws UnsupportedEncodingError (501) "Unsupported compression type" for anything else; the
 *   caller adds `Accept-Encoding: gzip, deflate` (SUPPORTED_ENCODINGS_HEADER) to that response.
 */
export function requestEncoding(contentEncoding: string | undefined): Encoding {
  if (contentEncoding === undefined || contentEncoding === '' || contentEncoding === 'identity') return 'identity';
  if (contentEncoding === 'gzip' || contentEncoding === 'deflate') return contentEncoding;
  throw new UnsupportedEncodingError();
}

const unzip = promisify(zlib.unzip);
const MAX_BUFFER_LENGTH = bufferConstants.MAX_LENGTH;
const gzip = promisify(zlib.gzip);
const deflate = promisify(zlib.deflate);

/**
 * Inflates a gzip or zlib body (zlib detects which, as Triton's `inflateInit2(15 | 32)` does, so
 * the two names are interchangeable) on the libuv thread pool.
 *
 * @param maxSize bytes the output may reach (`--http-max-input-size`)
 * @returns an exclusively owned buffer (never a slice of zlib's or Node's pooled memory)
 * @throws InvalidArgumentError (400): "nothing to be decompressed" for an empty body;
 *   "Decompressed data size exceeds the maximum allowed value of N bytes. Use
 *   --http-max-input-size to increase the limit." past `maxSize`; "unable to decompress the
 *   request body: <zlib message>" for corrupt data (Triton silently keeps what inflated; a
 *   truncated stream is accepted here too, as there).
 */
export async function decompressBody(body: Uint8Array, maxSize: number): Promise<Buffer> {
  if (body.byteLength === 0) throw new InvalidArgumentError('nothing to be decompressed');
  try {
    const maxOutputLength = Math.min(Math.max(1, maxSize), MAX_BUFFER_LENGTH);
    const out = await unzip(body, { maxOutputLength, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    return ownedBuffer(out);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new InvalidArgumentError(decompressedTooLargeMessage(maxSize));
    }
    throw new InvalidArgumentError(`unable to decompress the request body: ${(err as Error).message}`);
  }
}

export function decompressedTooLargeMessage(maxSize: number): string {
  return (
    `Decompressed data size exceeds the maximum allowed value of ${maxSize} bytes. ` +
    'Use --http-max-input-size to increase the limit.'
  );
}

/**
 * The response encoding for an `Accept-Encoding` value, parsed exactly as Triton's
 * `CompressionTypeUsed`: comma-separated entries, leading spaces skipped, an optional ";q=" with
 * a weight read like `std::stod` (entries whose weight does not parse are skipped); the
 * highest strictly positive weight among identity/gzip/deflate wins, first one on ties; names
 * are case-sensitive and must not carry trailing spaces. Default identity.
 */
export function responseEncoding(acceptEncoding: string | undefined): Encoding {
  if (acceptEncoding === undefined || acceptEncoding === '') return 'identity';
  let best: Encoding = 'identity';
  let bestWeight = 0;
  for (const entry of acceptEncoding.split(',')) {
    let start = 0;
    while (start < entry.length && entry.charCodeAt(start) === 32) start++;
    if (start === entry.length) continue;
    const q = entry.indexOf(';q=');
    if (q >= 0 && start >= q) continue;
    const type = q < 0 ? entry.slice(start) : entry.slice(start, q);
    let weight = 1;
    if (q >= 0) {
      weight = parseFloat(entry.slice(q + 3));
      if (Number.isNaN(weight) || !Number.isFinite(weight)) continue;
    }
    if ((type === 'identity' || type === 'gzip' || type === 'deflate') && weight > bestWeight) {
      best = type;
      bestWeight = weight;
    }
  }
  return best;
}

/**
 * Compresses a response body (gzip framing, or zlib framing for "deflate", as Triton's
 * `deflateInit2(..., 15 | 16, ...)` / `deflateInit`). Returns undefined when compression fails,
 * in which case the body goes out uncompressed, as in Triton.
 */
export async function compressBody(body: Uint8Array, encoding: 'gzip' | 'deflate'): Promise<Buffer | undefined> {
  if (body.byteLength === 0) return undefined;
  try {
    return await (encoding === 'gzip' ? gzip(body) : deflate(body));
  } catch {
    return undefined;
  }
}
