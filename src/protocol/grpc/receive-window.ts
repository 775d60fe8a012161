import type { Server } from '@grpc/grpc-js';
import type { Http2Server, ServerHttp2Session } from 'node:http2';

/**
 * HTTP/2 receive windows of the gRPC server's connections and of each stream, in bytes.
 *
 * grpc-js has no server option for them, so its connections keep HTTP/2's initial 64 KiB
 * (RFC 9113 §6.9.2): a client can have at most 64 KiB of request data in flight on a whole
 * connection before the server's WINDOW_UPDATE comes back. gRPC C++, which Triton's frontend
 * uses, grows its windows by bandwidth-delay probing instead. With 16 concurrent
 * text-direction requests (110 KB each) on one connection, the small window's extra frames,
 * wake-ups and syscalls cost the main thread 0.72–0.91 ms per request against 0.48–0.50 ms
 * with 16 MiB windows, and throughput was 5–18% lower (three alternating runs).
 *
 * The windows are a limit on what a client may send ahead, not memory set aside: grpc-js reads
 * every stream as data arrives either way, so a slow server is not made to hold more.
 */
export const RECEIVE_WINDOW_BYTES = 16 * 1024 * 1024;

/**
 * Widens the receive windows of every connection `server` accepts from now on: the
 * connection's own window, and (by SETTINGS_INITIAL_WINDOW_SIZE) each stream's. Call it once the
 * server is bound. grpc-js keeps its HTTP/2 servers in a private map; when that is not there
 * (another grpc-js version), nothing changes and false is returned.
 */
export function widenReceiveWindows(server: Server, bytes: number = RECEIVE_WINDOW_BYTES): boolean {
  const http2Servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(http2Servers instanceof Map)) return false;
  for (const h2 of http2Servers.keys() as IterableIterator<Http2Server>) {
    if (typeof h2?.on !== 'function') return false;
    h2.on('session', (session: ServerHttp2Session) => widenSession(session, bytes));
  }
  return true;
}

function widenSession(session: ServerHttp2Session, bytes: number): void {
  try {
    session.setLocalWindowSize(bytes);
    session.settings({ initialWindowSize: bytes });
  } catch {
    // The client is already gone (the session was destroyed before it was set up).
  }
}
