/**
 * The frontends with their protocol work on worker threads (`--http-thread-count`,
 * `--grpc-thread-count` >= 2): infer requests are decoded in a protocol thread and only the
 * decoded request reaches the core; everything else is forwarded whole to the in-thread
 * frontend, so that it is answered exactly as before.
 */
import { createServer } from 'node:net';
import { status } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { protocolThreadsUnavailable } from '../../../../src/protocol/threads/protocol-threads.js';
import { createThreadedGrpcFrontend, createThreadedHttpFrontend } from '../../../../src/protocol/threads/threaded-frontends.js';
import { GrpcClient } from '../../../../src/client/index.js';
import { FakeCore } from '../http/fake-core.js';
import { rawRequest } from '../http/helpers.js';
import { FakeGrpcCore } from '../grpc/fake-core.js';
import { collect, failure, simple } from '../grpc/grpc-harness.js';

const unavailable = protocolThreadsUnavailable();
const ONE_TO_16 = Array.from({ length: 16 }, (_, i) => i + 1);
const SIMPLE_BODY = JSON.stringify({
  inputs: [
    { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: ONE_TO_16 },
    { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: ONE_TO_16.map(() => 1) },
  ],
});

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

async function startHttp(core = new FakeCore()) {
  const frontend = createThreadedHttpFrontend(core, { address: '127.0.0.1', port: 0, threadCount: 2 });
  const { port } = await frontend.listen();
  closers.push(() => frontend.close({ timeoutMs: 1000 }));
  return { frontend, port, core };
}

describe.skipIf(unavailable !== undefined)(`HTTP on protocol threads${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  it('decodes infer requests in the threads and hands only the request to the core', async () => {
    const { frontend, port, core } = await startHttp();
    expect(frontend.protocolThreads?.count).toBe(2);
    for (let i = 0; i < 4; i++) {
      const r = await rawRequest(port, 'POST', '/v2/models/simple/infer', { 'Content-Type': 'application/json' }, SIMPLE_BODY);
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body.toString()).outputs[0].data).toEqual(ONE_TO_16.map((v) => v + 1));
    }
    expect(frontend.protocolThreads?.inferCalls).toBe(4);
    expect(core.requests).toHaveLength(4);
  });

  it('forwards every other route, and infer requests that need the core, to the in-thread frontend', async () => {
    const { frontend, port } = await startHttp();
    expect((await rawRequest(port, 'GET', '/v2/health/ready')).status).toBe(200);
    const meta = await rawRequest(port, 'GET', '/v2/models/simple');
    expect(JSON.parse(meta.body.toString()).name).toBe('simple');
    // Malformed: the in-thread frontend answers, with the model lookup first (Triton's order).
    const unknown = await rawRequest(port, 'POST', '/v2/models/nope/infer', {}, '{bad');
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body.toString()).error).toBe("Request for unknown model: 'nope' is not found");
    const bad = await rawRequest(port, 'POST', '/v2/models/simple/infer', {}, '{bad');
    expect(bad.status).toBe(400);
    // A shared-memory input: regions live on the core thread.
    const shm = await rawRequest(port, 'POST', '/v2/models/simple/infer', {}, JSON.stringify({
      inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [1, 16], parameters: { shared_memory_region: 'r', shared_memory_byte_size: 64 } }],
    }));
    expect(shm.status).toBe(404);
    expect(JSON.parse(shm.body.toString()).error).toBe("Unable to find shared memory region: 'r'");
    expect(frontend.protocolThreads?.inferCalls).toBe(0);
  });

  it('reports a port held without SO_REUSEPORT in Triton wording', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => holder.close(() => resolve())));
    const port = (holder.address() as { port: number }).port;
    const frontend = createThreadedHttpFrontend(new FakeCore(), { address: '127.0.0.1', port, threadCount: 2 });
    await expect(frontend.listen()).rejects.toThrow(`Socket '127.0.0.1:${port}' already in use`);
  });

  it('stays in-thread with 0 or 1 threads', async () => {
    for (const threadCount of [0, 1]) {
      const frontend = createThreadedHttpFrontend(new FakeCore(), { address: '127.0.0.1', port: 0, threadCount });
      const { port } = await frontend.listen();
      closers.push(() => frontend.close({ timeoutMs: 1000 }));
      expect(frontend.protocolThreads).toBeUndefined();
      expect((await rawRequest(port, 'POST', '/v2/models/simple/infer', {}, SIMPLE_BODY)).status).toBe(200);
    }
  });
});

describe.skipIf(unavailable !== undefined)('gRPC on protocol threads', () => {
  it('serves ModelInfer in the threads and forwards streams and other RPCs', async () => {
    const core = new FakeGrpcCore();
    const frontend = createThreadedGrpcFrontend(core, { address: '127.0.0.1', port: 0, threadCount: 2 });
    const { port } = await frontend.listen();
    closers.push(() => frontend.close({ timeoutMs: 1000 }));
    const client = new GrpcClient({ url: `127.0.0.1:${port}` });
    closers.push(async () => client.close());
    expect(await client.isServerReady()).toBe(true);
    const r = await client.infer(simple('a'));
    expect(r.outputs[0]!.name).toBe('OUTPUT0');
    expect(frontend.protocolThreads?.inferCalls).toBe(1);
    // Errors keep their code and message across the thread boundary.
    expect(await failure(client.infer(simple('b', { fail: 'no good' })))).toEqual({ code: status.INVALID_ARGUMENT, message: 'no good' });
    expect(await failure(client.infer({ ...simple('c'), model: 'decoupled' }))).toMatchObject({ code: status.UNIMPLEMENTED });
    const stream = client.stream();
    stream.send(simple('s'));
    stream.end();
    expect((await collect(stream)).length).toBe(1);
    expect(frontend.protocolThreads?.inferCalls).toBe(3);
  });
});
