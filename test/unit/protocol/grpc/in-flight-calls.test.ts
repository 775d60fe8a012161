/**
 * The frontend's close() at its timeout: calls still open (unary and streaming) end with
 * UNAVAILABLE, their requests are aborted in the core, and close() resolves although the
 * connections never went idle by themselves.
 */
import { status } from '@grpc/grpc-js';
import { afterAll, describe, expect, test } from 'vitest';
import { FakeGrpcCore } from './fake-core.js';
import { collect, failure, simple, start, stopAll } from './grpc-harness.js';

afterAll(stopAll);

describe('close() with calls still open at the timeout', () => {
  test('ends them with UNAVAILABLE, aborts their requests and resolves', async () => {
    const core = new FakeGrpcCore();
    const r = await start(core);
    let waiting = 0;
    const bothWaiting = new Promise<void>((resolve) => {
      core.onWaiting = () => {
        if (++waiting === 2) resolve();
      };
    });
    const unary = failure(r.client.infer(simple('u', { wait_abort: true })));
    const stream = r.client.stream();
    stream.send(simple('s', { wait_abort: true }));
    const streamed = failure(collect(stream));
    await bothWaiting;

    await r.frontend.close({ timeoutMs: 100 });

    const expected = { code: status.UNAVAILABLE, message: 'GRPC server exit timeout reached before the request completed' };
    expect(await unary).toEqual(expected);
    expect(await streamed).toEqual(expected);
    await expect.poll(() => core.aborted.length).toBe(2);
  });
});
