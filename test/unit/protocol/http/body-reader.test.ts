import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BodyTooLargeError, readBody } from '../../../../src/protocol/http/body-reader.js';

// The reader frees every received chunk once it is copied; these tests check that the body
// comes out whole anyway, over a real socket, where bodies above 64 KiB arrive in several chunks.

let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** Serves one reader; the response is a fingerprint (length and rolling sum) of what it read. */
async function startReader(limit: number): Promise<number> {
  server = createServer((req, res) => {
    readBody(req, limit).then(
      (body) => res.end(JSON.stringify(fingerprint(body))),
      (err: Error) => {
        res.statusCode = err instanceof BodyTooLargeError ? 413 : 400;
        res.end(err.message);
      },
    );
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server!.address() as AddressInfo).port;
}

function post(port: number, body: Buffer, chunked: boolean): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': body.byteLength };
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString('utf8') }));
    });
    req.on('error', reject);
    if (chunked) {
      // Several writes so the body really arrives as several chunks.
      for (let o = 0; o < body.byteLength; o += 50_000) req.write(body.subarray(o, o + 50_000));
      req.end();
    } else {
      req.end(body);
    }
  });
}

function fingerprint(body: Buffer): { length: number; sum: number } {
  let sum = 0;
  for (const b of body) sum = (sum * 31 + b) >>> 0;
  return { length: body.byteLength, sum };
}

describe('readBody', () => {
  const body = Buffer.alloc(300_000);
  for (let i = 0; i < body.byteLength; i++) body[i] = (i * 7 + (i >> 9)) & 0xff;

  it.each([false, true])('reads a multi-chunk body whole (chunked transfer: %s), twice on one port', async (chunked) => {
    const port = await startReader(1 << 20);
    for (let i = 0; i < 2; i++) {
      const res = await post(port, body, chunked);
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text)).toEqual(fingerprint(body));
    }
  });

  it('rejects a chunked body over the limit with BodyTooLargeError', async () => {
    const port = await startReader(100_000);
    const res = await post(port, body, true);
    expect(res.status).toBe(413);
    expect(res.text).toMatch(/exceeds the size limit/);
  });
});
