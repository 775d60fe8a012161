import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Http1Connection } from '../../../src/perf/load/http1-connection.js';
import type { RequestTiming } from '../../../src/perf/load/request-timing.js';

let server: http.Server;
let port: number;
const seen: { url: string; body: string; headers: http.IncomingHttpHeaders }[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ url: req.url!, body: Buffer.concat(chunks).toString(), headers: req.headers });
      if (req.url === '/chunked') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('a'.repeat(70_000));
        setTimeout(() => res.end('tail'), 5);
      } else if (req.url === '/error') {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'bad input' }));
      } else if (req.url === '/close') {
        res.writeHead(200, { connection: 'close', 'content-length': 2 });
        res.end('ok');
      } else {
        res.writeHead(200, { 'content-length': 5 });
        res.end('hello');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const timing = (): RequestTiming => ({ start: 0, sent: 0, firstByte: 0, end: 0 });
const clock = (() => {
  let t = 0;
  return () => ++t;
})();
const req = (path: string, body: string) => [Buffer.from(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`), Buffer.from(body)];

describe('perf HTTP/1.1 connection', () => {
  it('sends requests back to back on one keep-alive connection and times them', async () => {
    const c = await Http1Connection.connect('127.0.0.1', port);
    for (const body of ['one', 'two']) {
      const t = timing();
      expect(await c.request(req('/ok', body), t, clock)).toEqual({ status: 200 });
      expect(t.start).toBeLessThan(t.firstByte);
      expect(t.firstByte).toBeLessThanOrEqual(t.end);
      expect(t.sent).toBeGreaterThan(0);
    }
    expect(seen.slice(-2).map((s) => s.body)).toEqual(['one', 'two']);
    expect(c.reusable).toBe(true);
    c.close();
  });

  it('reads chunked bodies across packets and keeps the body of an error', async () => {
    const c = await Http1Connection.connect('127.0.0.1', port);
    expect(await c.request(req('/chunked', 'x'), timing(), clock)).toEqual({ status: 200 });
    const error = await c.request(req('/error', 'x'), timing(), clock);
    expect(error.status).toBe(400);
    expect(JSON.parse(error.body!.toString())).toEqual({ error: 'bad input' });
    expect(await c.request(req('/ok', 'y'), timing(), clock)).toEqual({ status: 200 });
    c.close();
  });

  it('stops reusing a connection the server closes, and reports unreachable servers', async () => {
    const c = await Http1Connection.connect('127.0.0.1', port);
    expect((await c.request(req('/close', 'x'), timing(), clock)).status).toBe(200);
    expect(c.reusable).toBe(false);
    c.close();
    await expect(Http1Connection.connect('127.0.0.1', 1)).rejects.toThrow(/^127\.0\.0\.1:1: connect ECONNREFUSED/);
  });
});
