/**
 * Shared set-up of the in-process gRPC frontend tests: a frontend on an ephemeral port over a
 * fake core, the infera gRPC client and a raw grpc-js client for hand-built requests.
 */
import { Client, credentials, Metadata, type MethodDefinition, type ServiceError } from '@grpc/grpc-js';
import { GrpcClient, GrpcClientError, type StreamItem } from '../../../../src/client/index.js';
import type { GrpcFrontend } from '../../../../src/protocol/grpc/index.js';
import { createThreadedGrpcFrontend } from '../../../../src/protocol/threads/threaded-frontends.js';
import { parseRestrictedProtocols } from '../../../../src/protocol/grpc/restricted-protocols.js';
import type { ServerCore } from '../../../../src/server-types.js';

export interface Running {
  frontend: GrpcFrontend;
  url: string;
  client: GrpcClient;
  raw: Client;
}

const running: Running[] = [];

export async function start(core: ServerCore, restricted: string[] = []): Promise<Running> {
  // INFERA_TEST_THREAD_COUNT: protocol threads (default 0, in-thread), as the HTTP helpers.
  const frontend = createThreadedGrpcFrontend(core, {
    threadCount: Number(process.env['INFERA_TEST_THREAD_COUNT'] ?? 0),
    address: '127.0.0.1',
    port: 0,
    restrictedProtocols: parseRestrictedProtocols(restricted),
  });
  const { port } = await frontend.listen();
  const url = `127.0.0.1:${port}`;
  const r = { frontend, url, client: new GrpcClient({ url }), raw: new Client(url, credentials.createInsecure()) };
  running.push(r);
  return r;
}

/** A unary call with a hand-built request, for what the client does not expose. */
export function call<Req, Res>(
  raw: Client,
  method: MethodDefinition<Req, Res>,
  request: Req,
  metadata = new Metadata(),
): Promise<Res> {
  return new Promise((resolve, reject) => {
    raw.makeUnaryRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      request,
      metadata,
      (err, value) => (err ? reject(err) : resolve(value!)),
    );
  });
}

export async function failure(p: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as GrpcClientError | ServiceError;
    return { code: e.code, message: e instanceof GrpcClientError ? e.message : e.details };
  }
  throw new Error('expected the call to fail');
}

export async function collect(items: AsyncIterable<StreamItem>): Promise<StreamItem[]> {
  const out: StreamItem[] = [];
  for await (const item of items) out.push(item);
  return out;
}

export const ints = (n: number, f: (i: number) => number) => Int32Array.from({ length: n }, (_, i) => f(i));
export const simple = (id?: string, parameters?: Record<string, string | number | boolean>) => ({
  model: 'simple',
  id,
  parameters,
  inputs: [
    { name: 'INPUT0', datatype: 'INT32' as const, shape: [1, 16], data: ints(16, (i) => i) },
    { name: 'INPUT1', datatype: 'INT32' as const, shape: [1, 16], data: ints(16, () => 1) },
  ],
});

/** Closes every client and frontend `start` created (call from afterAll). */
export async function stopAll(): Promise<void> {
  for (const r of running.splice(0)) {
    r.client.close();
    r.raw.close();
    await r.frontend.close({ timeoutMs: 100 });
  }
}

export function streamOf(client: GrpcClient, requests: ReturnType<typeof simple>[], grpcErrors = false) {
  const s = client.stream({ grpcErrors });
  for (const req of requests) s.send(req);
  s.end();
  return s;
}
