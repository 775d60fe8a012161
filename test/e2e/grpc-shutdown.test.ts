/**
 * SIGTERM through the real CLI while gRPC calls run longer than --exit-timeout-secs: the
 * process still exits 0 soon after the timeout, and every call in flight (unary ModelInfer and
 * ModelStreamInfer) ends with an UNAVAILABLE status rather than a dropped connection.
 */
import { status } from '@grpc/grpc-js';
import { afterAll, describe, expect, test } from 'vitest';
import { GrpcClient, GrpcClientError, type InferRequest, type StreamItem } from '../../src/client/index.js';
import { writeJsModel } from '../fixtures/js-models/repo.js';
import { startServer, type RunningServer } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-repo.js';

/** Executions of 30 s: far past the 1 s exit timeout, and past any margin the test allows. */
const SLOW_CONFIG = `
backend: "javascript"
max_batch_size: 0
instance_group [{ kind: KIND_CPU, count: 4 }]
input [{ name: "IN", data_type: TYPE_INT32, dims: [2] }]
output [{ name: "OUT", data_type: TYPE_INT32, dims: [2] }]
parameters { key: "delay_ms" value { string_value: "30000" } }
`;

const tmp = tempDir();
let server: RunningServer | undefined;
let client: GrpcClient | undefined;

afterAll(async () => {
  client?.close();
  if (server !== undefined && server.process.exitCode === null) server.process.kill('SIGKILL');
  tmp.cleanup();
});

const request = (id: string): InferRequest => ({
  model: 'slow',
  id,
  inputs: [{ name: 'IN', datatype: 'INT32', shape: [2], data: Int32Array.of(4, 2) }],
});

/** How a call ended: its gRPC status code, or 'ok'. */
async function outcome(p: Promise<unknown>): Promise<number | 'ok'> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (err instanceof GrpcClientError) return err.code;
    throw err;
  }
}

describe('gRPC frontend shutdown', () => {
  test('calls running past --exit-timeout-secs end with UNAVAILABLE and the process exits soon after the timeout', async () => {
    writeJsModel(tmp.dir, 'slow', 'slow.mjs', SLOW_CONFIG);
    server = await startServer(['--model-repository', tmp.dir, '--exit-timeout-secs', '1']);
    client = new GrpcClient({ url: server.grpcUrl! });

    const unaries = [1, 2, 3].map((i) => outcome(client!.infer(request(`unary-${i}`))));
    const stream = client.stream();
    stream.send(request('stream-1'));
    const streamed = outcome(
      (async () => {
        const items: StreamItem[] = [];
        for await (const item of stream) items.push(item);
        return items;
      })(),
    );
    await new Promise((r) => setTimeout(r, 500));

    const exited = new Promise<number | null>((resolve) => server!.process.once('exit', (code) => resolve(code)));
    const t0 = Date.now();
    server.process.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<'alive'>((r) => setTimeout(() => r('alive'), 12_000))]);
    const elapsed = Date.now() - t0;

    // 1 s of exit timeout plus a wide margin for a loaded machine, far below the 30 s executions.
    expect(code).toBe(0);
    expect(elapsed).toBeLessThan(12_000);
    expect(await Promise.all(unaries)).toEqual([status.UNAVAILABLE, status.UNAVAILABLE, status.UNAVAILABLE]);
    expect(await streamed).toBe(status.UNAVAILABLE);
  }, 60_000);
});
