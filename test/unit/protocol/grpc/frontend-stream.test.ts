/**
 * ModelStreamInfer, cancellation and shutdown of the gRPC frontend in-process: request order,
 * in-band errors versus `triton_grpc_error`, AbortSignals for cancelled calls, streams and
 * deadlines, and how open streams end when the frontend closes.
 */
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GrpcClient, GrpcClientError, type StreamItem } from '../../../../src/client/index.js';
import { CancelledError } from '../../../../src/errors/index.js';
import { FakeGrpcCore } from './fake-core.js';
import { collect, failure, simple, start, stopAll, streamOf, type Running } from './grpc-harness.js';

afterAll(stopAll);

describe('ModelStreamInfer', () => {
  let core: FakeGrpcCore;
  let r: Running;
  beforeAll(async () => {
    core = new FakeGrpcCore();
    r = await start(core);
  });

  test('responses come in request order even when later requests finish first', async () => {
    const delays = [120, 0, 60, 0, 30];
    const items = await collect(
      streamOf(
        r.client,
        delays.map((d, i) => simple(`r${i}`, { delay_ms: d })),
      ),
    );
    expect(items.map((i) => i.id)).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
    for (const item of items) {
      expect(item.result!.parameters).toEqual({ triton_final_response: true });
      expect(item.result!.output('OUTPUT0').shape).toEqual([1, 16]);
    }
  });

  test('a failed request is reported in-band and the stream goes on', async () => {
    const items = await collect(
      streamOf(r.client, [
        simple('a'),
        simple('b', { fail: 'no good' }),
        { ...simple('c'), model: 'nope' },
        simple('d'),
      ]),
    );
    expect(items.map((i) => [i.id, i.error?.message])).toEqual([
      ['a', undefined],
      ['b', 'no good'],
      ['c', "Request for unknown model: 'nope' is not found"],
      ['d', undefined],
    ]);
  });

  test('with triton_grpc_error the first failure ends the stream with its status', async () => {
    const s = streamOf(r.client, [simple('a'), simple('b', { fail: 'no good' }), simple('c')], true);
    const seen: StreamItem[] = [];
    const err = await (async () => {
      for await (const item of s) seen.push(item);
    })().catch((e: unknown) => e);
    expect(seen.map((i) => i.id)).toEqual(['a']);
    expect(err).toBeInstanceOf(GrpcClientError);
    expect(err).toMatchObject({ code: status.INVALID_ARGUMENT, message: 'no good' });
  });
});

describe('cancellation and shutdown', () => {
  test('a cancelled call and an expired deadline abort the request signal', async () => {
    const core = new FakeGrpcCore();
    const r = await start(core);
    const controller = new AbortController();
    core.onWaiting = () => controller.abort();
    const cancelled = await failure(r.client.infer(simple('c', { wait_abort: true }), { signal: controller.signal }));
    expect(cancelled.code).toBe(status.CANCELLED);
    await expect.poll(() => core.aborted.length, { timeout: 5000 }).toBe(1);
    expect(core.aborted[0]).toEqual(new CancelledError('Request cancelled by the client'));

    core.onWaiting = undefined;
    // Long enough to reach the core on a busy machine. Whether the server's deadline timer or
    // the client's reset comes first decides the reason's wording, not that the signal aborts.
    const hurried = new GrpcClient({ url: r.url, timeoutMs: 500 });
    expect((await failure(hurried.infer(simple('d', { wait_abort: true })))).code).toBe(status.DEADLINE_EXCEEDED);
    await expect.poll(() => core.aborted.length, { timeout: 5000 }).toBe(2);
    expect(core.aborted[1]).toBeInstanceOf(CancelledError);
    hurried.close();

    // Cancelling a stream aborts what it has in flight.
    const s = r.client.stream();
    core.onWaiting = () => s.cancel();
    s.send(simple('e', { wait_abort: true }));
    expect((await failure(collect(s))).code).toBe(status.CANCELLED);
    await expect.poll(() => core.aborted.length, { timeout: 5000 }).toBe(3);
  });

  test('close: open streams finish their requests and refuse new ones', async () => {
    const core = new FakeGrpcCore();
    const r = await start(core);
    const s = r.client.stream();
    s.send(simple('before', { delay_ms: 100 }));
    const iterator = s[Symbol.asyncIterator]();
    await expect.poll(() => core.requests.length, { timeout: 5000 }).toBe(1);
    const closed = r.frontend.close({ timeoutMs: 2000 });
    s.send(simple('after'));
    s.end();
    const first = await iterator.next();
    const second = await iterator.next();
    expect((first.value as StreamItem).id).toBe('before');
    expect((first.value as StreamItem).result).toBeDefined();
    expect((second.value as StreamItem).error?.message).toBe(
      'GRPC server is shutting down and has stopped accepting new requests.',
    );
    expect((await iterator.next()).done).toBe(true);
    await closed;
    expect(core.requests.map((q) => q.id)).toEqual(['before']);
  });
});
