import { status as Status, type Server } from '@grpc/grpc-js';
import type { InFlightCalls } from './in-flight-calls.js';
import type { GrpcLogger } from './rpc-context.js';

/** The status of a call still open when the exit timeout ends. */
export const EXIT_TIMEOUT_MESSAGE = 'GRPC server exit timeout reached before the request completed';

/**
 * How long calls ended at the exit timeout get to send their status before the connections
 * are destroyed (statuses are small; a client that does not read loses its own).
 */
export const FLUSH_MS = 250;

/**
 * Shuts a grpc-js server down as Triton's gRPC endpoint does at `--exit-timeout-secs`: calls
 * in progress may finish; after `timeoutMs` (ms) every call still open ends with UNAVAILABLE
 * `EXIT_TIMEOUT_MESSAGE` (its request is cancelled in the core), and connections still open
 * `FLUSH_MS` later are destroyed. Resolves when the server is down, at the latest
 * `timeoutMs + FLUSH_MS` after the call whatever the clients do. Never rejects.
 * Shared by the in-thread frontend and the gRPC protocol threads.
 */
export function shutDownGrpcServer(server: Server, calls: InFlightCalls, timeoutMs: number, logger?: GrpcLogger): Promise<void> {
  return new Promise((resolve) => {
    let flushTimer: NodeJS.Timeout | undefined;
    const done = (): void => {
      clearTimeout(exitTimer);
      clearTimeout(flushTimer);
      resolve();
    };
    // tryShutdown's callback only comes once every session has closed by itself, and not at
    // all after forceShutdown() destroyed them, so the timeout path resolves on its own.
    const exitTimer = setTimeout(() => {
      if (calls.size > 0) logger?.warn({ calls: calls.size }, 'gRPC calls still open at the exit timeout; ending them');
      calls.endAll({ code: Status.UNAVAILABLE, details: EXIT_TIMEOUT_MESSAGE });
      flushTimer = setTimeout(() => {
        server.forceShutdown();
        done();
      }, FLUSH_MS);
    }, timeoutMs);
    server.tryShutdown(done);
  });
}
