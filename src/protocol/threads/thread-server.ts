import type { Server, ServerResponse } from 'node:http';
import type { ThreadLogger } from './thread-config.js';

/** A protocol thread's server, as its thread entry drives it. */
export interface ThreadServer {
  /** Resolves once the server listens on its fd. */
  readonly listening: Promise<void>;
  started(res: ServerResponse): void;
  finished(res: ServerResponse): void;
  /**
   * Stops accepting, lets requests in progress finish (their responses say `Connection:
   * close`) for up to `timeoutMs`, then closes every connection. As the in-thread frontend.
   */
  close(timeoutMs: number): Promise<void>;
}

/**
 * Listens `server` on `fd` (a socket bound with SO_REUSEPORT by the core thread: each thread
 * has its own, on the same port, and the kernel spreads connections over them) and tracks the
 * requests in progress for a graceful close. `onClosed` runs once the server is closed.
 */
export function listenOnFd(server: Server, fd: number, onClosed: () => void, logger?: ThreadLogger): ThreadServer {
  const pending = new Set<ServerResponse>();
  let closing = false;
  let drained: (() => void) | undefined;
  const listening = new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ fd, backlog: 1024 }, () => {
      server.off('error', reject);
      server.on('error', (err) => logger?.error({ err }, 'HTTP server error'));
      resolve();
    });
  });
  return {
    listening,
    started(res) {
      pending.add(res);
      if (closing) res.shouldKeepAlive = false;
    },
    finished(res) {
      pending.delete(res);
      if (pending.size === 0) drained?.();
    },
    async close(timeoutMs) {
      closing = true;
      for (const res of pending) if (!res.headersSent) res.shouldKeepAlive = false;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (pending.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          drained = resolve;
          timer = setTimeout(resolve, timeoutMs);
        });
        clearTimeout(timer);
      }
      server.closeAllConnections();
      await closed;
      onClosed();
    },
  };
}
