/**
 * --grpc-max-input-size on the in-process frontend: a compressed message that inflates past it
 * ends with RESOURCE_EXHAUSTED; compressed messages under it, and uncompressed messages of any
 * size up to INT32_MAX, are served.
 */
import { status } from '@grpc/grpc-js';
import { afterAll, describe, expect, test } from 'vitest';
import { GrpcClient, type InferRequest } from '../../../../src/client/index.js';
import { createGrpcFrontend } from '../../../../src/protocol/grpc/index.js';
import { FakeGrpcCore } from './fake-core.js';
import { failure } from './grpc-harness.js';

const LIMIT = 1024 * 1024;
const core = new FakeGrpcCore();
const frontend = createGrpcFrontend(core, { address: '127.0.0.1', port: 0, maxInputSize: LIMIT });
const { port } = await frontend.listen();
const url = `127.0.0.1:${port}`;
/** grpc-js's client compresses every message with gzip (algorithm 2) under this option. */
const gzipClient = new GrpcClient({ url, channelOptions: { 'grpc.default_compression_algorithm': 2 } });
const plainClient = new GrpcClient({ url });

afterAll(async () => {
  gzipClient.close();
  plainClient.close();
  await frontend.close({ timeoutMs: 100 });
});

const echo = (bytes: number): InferRequest => ({
  model: 'echo',
  inputs: [{ name: 'IN', datatype: 'UINT8', shape: [bytes], data: new Uint8Array(bytes) }],
});

describe('--grpc-max-input-size', () => {
  test('a compressed message inflating past the limit gets RESOURCE_EXHAUSTED', async () => {
    const err = await failure(gzipClient.infer(echo(2 * LIMIT)));
    expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(err.message).toContain(`larger than ${LIMIT}`);
  });

  test('a compressed message under the limit, and an uncompressed one past it, are served', async () => {
    expect((await gzipClient.infer(echo(LIMIT / 2))).output('OUT_IN').shape).toEqual([LIMIT / 2]);
    expect((await plainClient.infer(echo(2 * LIMIT))).output('OUT_IN').shape).toEqual([2 * LIMIT]);
  });
});
