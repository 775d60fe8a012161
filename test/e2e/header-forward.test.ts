/**
 * `--http-header-forward-pattern` and `--grpc-header-forward-pattern` through the real CLI:
 * matching headers (HTTP) and metadata (gRPC unary and stream) reach a JavaScript model as
 * string request parameters; other headers do not; a reserved name is refused.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GrpcClient, HttpClient, type InferRequest } from '../../src/client/index.js';
import { ECHO_PARAMETERS_CONFIG, writeJsModel } from '../fixtures/js-models/repo.js';
import { startServer, type RunningServer } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-repo.js';

const tmp = tempDir('infera-header-forward-');
let server: RunningServer;
let http: HttpClient;
let grpc: GrpcClient;

beforeAll(async () => {
  writeJsModel(tmp.dir, 'echo', 'echo-parameters.mjs', ECHO_PARAMETERS_CONFIG);
  server = await startServer([
    '--model-repository', tmp.dir,
    // Upper case on purpose: names match case-insensitively, as in tritonserver.
    '--http-header-forward-pattern', 'X-TENANT|^priority$',
    '--grpc-header-forward-pattern', 'x-tenant',
  ]);
  http = new HttpClient({ url: server.url });
  grpc = new GrpcClient({ url: server.grpcUrl! });
}, 60_000);

afterAll(async () => {
  grpc?.close();
  expect(await server?.stop()).toBe(0);
  tmp.cleanup();
});

const HEADERS = { 'x-tenant-id': 'acme', 'x-other': 'not forwarded' };

function request(headers: Record<string, string>): InferRequest {
  return {
    model: 'echo',
    inputs: [{ name: 'IN', datatype: 'INT32', shape: [1], data: [1] }],
    parameters: { body_key: 'from the body', 'x-tenant-id': 'replaced by the header' },
    headers,
  };
}

function params(result: { outputs: { name: string; data: unknown }[] }): Record<string, unknown> {
  const out = result.outputs.find((o) => o.name === 'PARAMS')!;
  return JSON.parse(String((out.data as string[])[0])) as Record<string, unknown>;
}

describe('header forwarding', () => {
  test('HTTP: a matching header is a string parameter; others are not forwarded', async () => {
    expect(params(await http.infer(request(HEADERS)))).toEqual({ body_key: 'from the body', 'x-tenant-id': 'acme' });
  });

  test('gRPC ModelInfer: matching metadata is a string parameter', async () => {
    expect(params(await grpc.infer(request(HEADERS)))).toEqual({ body_key: 'from the body', 'x-tenant-id': 'acme' });
  });

  test('gRPC ModelStreamInfer: the stream metadata reaches every request', async () => {
    const stream = grpc.stream({ headers: HEADERS });
    stream.send({ ...request({}), id: 'a' });
    stream.send({ ...request({}), id: 'b' });
    stream.end();
    const seen: Record<string, unknown>[] = [];
    for await (const item of stream) {
      expect(item.error).toBeUndefined();
      seen.push(params(item.result!));
    }
    expect(seen).toEqual([
      { body_key: 'from the body', 'x-tenant-id': 'acme' },
      { body_key: 'from the body', 'x-tenant-id': 'acme' },
    ]);
  });

  test('without a matching header nothing is added', async () => {
    expect(params(await grpc.infer(request({ 'x-other': '1' })))).toEqual({ body_key: 'from the body', 'x-tenant-id': 'replaced by the header' });
  });

  test('a matching header named like a reserved parameter is refused with 400', async () => {
    const err = await http.infer(request({ priority: '1' })).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, message: expect.stringContaining("Header 'priority' is reserved for Triton usage and cannot be forwarded.") });
    // The gRPC pattern does not match it: nothing is forwarded, nothing refused.
    expect(params(await grpc.infer(request({ priority: '1' }))).priority).toBeUndefined();
  });
});
