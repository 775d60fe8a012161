import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UnavailableError } from '../errors/index.js';

/** Where the exposition text comes from (ServerMetrics). */
export interface MetricsSource {
  text(): Promise<string>;
}

/** Where the metrics listener binds, and where its errors go. */
export interface MetricsServiceOptions {
  /** `--metrics-address` (defaults to `--http-address` in the CLI). */
  address: string;
  /** `--metrics-port` (8002); 0 picks a free port. */
  port: number;
  onError?: (err: unknown) => void;
}

/** The running metrics listener. */
export interface MetricsService {
  /**
   * @returns the bound address and port.
   * @throws UnavailableError "Socket '<address>:<port>' already in use" when the port is taken.
   */
  listen(): Promise<{ address: string; port: number }>;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

const CONTENT_TYPE = 'text/plain; charset=utf-8';

/**
 * The metrics listener (reference §1.1, §6; server `HTTPMetricsServer::Handle`): a separate
 * HTTP server with one endpoint. As in Triton, a method other than GET is 405
 * `{"error":"Method Not Allowed"}`; `GET /metrics` answers the Prometheus text; any other GET
 * path answers 200 with an empty `text/plain` body (Triton only fills the body on an exact
 * `/metrics` match).
 */
export function createMetricsService(source: MetricsSource, options: MetricsServiceOptions): MetricsService {
  const server: Server = createServer({ requireHostHeader: false }, (req, res) => {
    if (req.method !== 'GET') {
      const body = JSON.stringify({ error: 'Method Not Allowed' });
      res.writeHead(405, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    const q = (req.url ?? '').indexOf('?');
    const path = q < 0 ? req.url : req.url!.slice(0, q);
    if (path !== '/metrics') {
      res.writeHead(200, { 'Content-Type': CONTENT_TYPE, 'Content-Length': 0 });
      res.end();
      return;
    }
    source.text().then(
      (text) => {
        res.writeHead(200, { 'Content-Type': CONTENT_TYPE, 'Content-Length': Buffer.byteLength(text) });
        res.end(text);
      },
      (err: unknown) => {
        options.onError?.(err);
        const body = JSON.stringify({ error: err instanceof Error ? err.message : String(err) });
        res.writeHead(500, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
        res.end(body);
      },
    );
  });

  return {
    listen() {
      return new Promise((resolve, reject) => {
        const onError = (err: NodeJS.ErrnoException): void => {
          reject(err.code === 'EADDRINUSE' ? new UnavailableError(`Socket '${options.address}:${options.port}' already in use`, { cause: err }) : err);
        };
        server.once('error', onError);
        server.listen({ host: options.address, port: options.port }, () => {
          server.removeListener('error', onError);
          server.on('error', (err) => options.onError?.(err));
          const bound = server.address() as AddressInfo;
          resolve({ address: bound.address, port: bound.port });
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
