import { request as httpRequest } from 'node:http';
import type { HttpFrontend, HttpFrontendOptions } from '../../../../src/protocol/http/index.js';
import { createThreadedHttpFrontend } from '../../../../src/protocol/threads/threaded-frontends.js';
import { FakeCore } from './fake-core.js';

export interface Started {
  core: FakeCore;
  frontend: HttpFrontend;
  base: string;
  port: number;
}

/**
 * Protocol threads the frontends under test get: INFERA_TEST_THREAD_COUNT (default 0, in-thread),
 * so that the same tests cover `--http-thread-count 0` and the threaded frontends.
 */
export const TEST_THREAD_COUNT = Number(process.env['INFERA_TEST_THREAD_COUNT'] ?? 0);

/** Starts the real frontend on an ephemeral localhost port. Close it in afterEach. */
export async function start(options: Partial<HttpFrontendOptions> = {}, core = new FakeCore()): Promise<Started> {
  const frontend = createThreadedHttpFrontend(core, { address: '127.0.0.1', port: 0, threadCount: TEST_THREAD_COUNT, ...options });
  const { port } = await frontend.listen();
  return { core, frontend, base: `http://127.0.0.1:${port}`, port };
}

/** Splits a binary infer response body into its JSON header and the bytes after it. */
export function splitBinary(body: Buffer, headerLength: number): { json: any; rest: Buffer } {
  return { json: JSON.parse(body.subarray(0, headerLength).toString('utf8')), rest: body.subarray(headerLength) };
}

/** Length-prefixed BYTES encoding of strings. */
export function bytesTensor(...items: string[]): Buffer {
  const parts = items.map((s) => Buffer.from(s, 'utf8'));
  const out = Buffer.alloc(parts.reduce((a, p) => a + 4 + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.writeUInt32LE(p.length, o);
    p.copy(out, o + 4);
    o += 4 + p.length;
  }
  return out;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/**
 * A request through node:http with full control of headers (fetch forbids some, such as
 * Content-Length, and adds Accept-Encoding on its own).
 */
export function rawRequest(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string | number> = {},
  body?: Uint8Array | string,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

/** The message and Triton error code `fn` throws; fails the test when it throws nothing. */
export function errorOf(fn: () => unknown): { message: string; code: string } {
  try {
    fn();
  } catch (err) {
    return { message: (err as Error).message, code: (err as { code: string }).code };
  }
  throw new Error('no error');
}
