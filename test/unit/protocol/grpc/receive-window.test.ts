import { connect, type ClientHttp2Session } from 'node:http2';
import { Server } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { RECEIVE_WINDOW_BYTES, widenReceiveWindows } from '../../../../src/protocol/grpc/receive-window.js';
import { FakeGrpcCore } from './fake-core.js';
import { start, stopAll } from './grpc-harness.js';

const sessions: ClientHttp2Session[] = [];
afterEach(async () => {
  for (const s of sessions.splice(0)) s.destroy();
  await stopAll();
});

/** A raw HTTP/2 connection; resolves once the server's SETTINGS and first WINDOW_UPDATE have had time to arrive. */
async function rawSession(url: string): Promise<ClientHttp2Session> {
  const session = connect(`http://${url}`);
  sessions.push(session);
  await new Promise<void>((resolve, reject) => {
    session.once('remoteSettings', () => resolve());
    session.once('error', reject);
  });
  // The connection-level WINDOW_UPDATE follows the SETTINGS frame; a ping round trip flushes it.
  await new Promise<void>((resolve, reject) => session.ping((err) => (err ? reject(err) : resolve())));
  return session;
}

describe('HTTP/2 receive windows of the gRPC frontend', () => {
  it('lets a client send 16 MiB ahead on the connection and on each stream, not the default 64 KiB', async () => {
    const { url } = await start(new FakeGrpcCore());
    const session = await rawSession(url);
    expect(session.remoteSettings.initialWindowSize).toBe(RECEIVE_WINDOW_BYTES);
    expect(session.state.remoteWindowSize).toBe(RECEIVE_WINDOW_BYTES);
  });

  it('reports whether the grpc-js server has the map of HTTP/2 servers it hooks', () => {
    const fake = {} as unknown as Server;
    expect(widenReceiveWindows(fake)).toBe(false);
    expect(widenReceiveWindows(new Server())).toBe(true);
  });
});
