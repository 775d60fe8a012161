/**
 * createHttpHandler: the KServe v2 routes mounted in a server the application runs (plain
 * node:http, Connect-style middleware with next(), Fastify through an onRequest hook).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createHttpHandler, InferenceServer } from '../../../../src/index.js';
import { addSubModel, writeModel } from '../../../fixtures/onnx-models.js';
import { tempDir } from '../../../e2e/helpers/temp-repo.js';

const tmp = tempDir();
let engine: InferenceServer;
const servers: Server[] = [];

beforeAll(async () => {
  writeModel(tmp.dir, 'simple', addSubModel());
  engine = await InferenceServer.create({ modelRepositories: [tmp.dir] });
});

afterAll(async () => {
  for (const s of servers) await new Promise((resolve) => s.close(resolve));
  await engine.close();
  tmp.cleanup();
});

async function listen(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const inferBody = JSON.stringify({
  inputs: [
    { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: Array.from({ length: 16 }, (_, i) => i) },
    { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: new Array(16).fill(1) },
  ],
});

async function expectInfer(base: string): Promise<void> {
  const res = await fetch(`${base}/v2/models/simple/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: inferBody });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { outputs: { name: string; data: number[] }[] };
  expect(body.outputs.find((o) => o.name === 'OUTPUT0')!.data).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
}

describe('createHttpHandler', () => {
  test('serves the KServe v2 routes in a plain node:http server and 404s the rest', async () => {
    const base = await listen(createServer(createHttpHandler(engine)));
    expect((await fetch(`${base}/v2/health/ready`)).status).toBe(200);
    expect(await (await fetch(`${base}/v2/models/simple`)).json()).toMatchObject({ name: 'simple', platform: 'onnxruntime_onnx' });
    await expectInfer(base);
    const missing = await fetch(`${base}/elsewhere`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'Not Found' });
  });

  test("as middleware, hands other URLs to next() and answers errors in Triton's form", async () => {
    const handler = createHttpHandler(engine);
    const base = await listen(
      createServer((req, res) =>
        handler(req, res, () => {
          res.writeHead(200, { 'content-type': 'text/plain' }).end('the application');
        }),
      ),
    );
    expect(await (await fetch(`${base}/`)).text()).toBe('the application');
    await expectInfer(base);
    const unknown = await fetch(`${base}/v2/models/nope/infer`, { method: 'POST', body: inferBody });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: "Request for unknown model: 'nope' is not found" });
  });

  test('mounts in Fastify through an onRequest hook, next to its own routes', async () => {
    const app = Fastify();
    const handler = createHttpHandler(engine);
    app.addHook('onRequest', (request, reply, done) => {
      if (!handler.handles(request.raw)) return done();
      reply.hijack();
      handler(request.raw, reply.raw);
    });
    app.get('/hello', async () => ({ hello: 'world' }));
    try {
      await app.listen({ port: 0, host: '127.0.0.1' });
      const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
      expect(await (await fetch(`${base}/hello`)).json()).toEqual({ hello: 'world' });
      expect((await fetch(`${base}/v2/health/live`)).status).toBe(200);
      await expectInfer(base);
    } finally {
      await app.close();
    }
  });
});
