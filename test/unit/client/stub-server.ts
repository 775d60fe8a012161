import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the stub saw of one request. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** What the stub answers: status, headers and a body (a string, bytes, or JSON to stringify). */
export interface CannedResponse {
  status?: number;
  headers?: Record<string, string>;
  body?: string | Uint8Array | object;
  /** Answer only after this many milliseconds (for timeouts). */
  delayMs?: number;
}

export interface StubServer {
  url: string;
  requests: SeenRequest[];
  /** Sets how the next requests are answered. */
  respond(handler: (req: SeenRequest) => CannedResponse): void;
  close(): Promise<void>;
}

/** A `node:http` server on an ephemeral port that records requests and returns canned answers. */
export async function startStub(): Promise<StubServer> {
  const requests: SeenRequest[] = [];
  let handler: (req: SeenRequest) => CannedResponse = () => ({ status: 200 });
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      requests.push(seen);
      const answer = handler(seen);
      let body: Buffer;
      const headers = { ...answer.headers };
      if (answer.body === undefined) body = Buffer.alloc(0);
      else if (typeof answer.body === 'string') body = Buffer.from(answer.body);
      else if (answer.body instanceof Uint8Array) body = Buffer.from(answer.body);
      else {
        body = Buffer.from(JSON.stringify(answer.body));
        headers['content-type'] ??= 'application/json';
      }
      const send = () => {
        res.writeHead(answer.status ?? 200, { ...headers, 'content-length': String(body.byteLength) });
        res.end(body);
      };
      if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    respond(h) {
      handler = h;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** Splits a binary-extension body into its JSON header and the bytes after it. */
export function splitBody(seen: SeenRequest): { json: any; binary: Buffer } {
  const header = seen.headers['inference-header-content-length'];
  const n = header === undefined ? seen.body.byteLength : Number(header);
  return { json: JSON.parse(seen.body.subarray(0, n).toString('utf8')), binary: seen.body.subarray(n) };
}

/** Builds a binary-extension response body: JSON header then the tensors, with its headers. */
export function binaryResponse(json: object, tensors: Uint8Array[]): CannedResponse {
  const head = Buffer.from(JSON.stringify(json));
  return {
    headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(head.byteLength) },
    body: Buffer.concat([head, ...tensors]),
  };
}
