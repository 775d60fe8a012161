import type { ServerOptions } from 'node:http';

/**
 * Keep-alive longer than the 60 s idle timeout common in load balancers, so the server is not
 * the side that drops a pooled connection in the middle of a client's reuse. Headers must
 * arrive within a bounded time (slow-loris); so must the body (`requestTimeoutMs`, which Node
 * stops counting once the request is received: an inference may legitimately run long).
 */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;
const HEADERS_TIMEOUT_MS = 66_000;

/**
 * The node:http server options of the frontend (and of each protocol thread's server):
 * timeouts from `requestTimeoutMs` (0 = none), Nagle off, Host not required.
 */
export function httpServerOptions(requestTimeoutMs: number): ServerOptions {
  return {
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    // Node requires headersTimeout <= requestTimeout when the latter is set.
    headersTimeout: requestTimeoutMs > 0 ? Math.min(HEADERS_TIMEOUT_MS, requestTimeoutMs) : HEADERS_TIMEOUT_MS,
    requestTimeout: requestTimeoutMs,
    // Both timeouts are checked on this period (Node's default 30 s would let a short
    // timeout run up to 30 s late).
    connectionsCheckingInterval: checkingIntervalMs(requestTimeoutMs),
    noDelay: true,
    // Triton does not require Host; HTTP/1.0 tools and some clients omit it.
    requireHostHeader: false,
  };
}

/** A quarter of the request timeout, between 100 ms and Node's default 30 s. */
function checkingIntervalMs(requestTimeoutMs: number): number {
  if (requestTimeoutMs <= 0) return 30_000;
  return Math.min(30_000, Math.max(100, Math.floor(requestTimeoutMs / 4)));
}
