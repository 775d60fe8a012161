import { MessageChannel } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { CancelledError, InternalError, NotFoundError } from '../../../../src/errors/index.js';
import { Cancellation, type CancelSignal } from '../../../../src/infer/cancellation.js';
import type { InferenceRequest, InferenceResponse } from '../../../../src/infer/tensor.js';
import { isUntransferable } from '../../../../src/infer/untransferable.js';
import type { ServerCore } from '../../../../src/server-types.js';
import { serveCorePort } from '../../../../src/protocol/threads/core-port.js';
import { RemoteInfer } from '../../../../src/protocol/threads/remote-infer.js';
import { WireReader, type WireWriter } from '../../../../src/protocol/threads/wire-buffer.js';
import { readWireMessage, WireSender, type WireMessage } from '../../../../src/protocol/threads/wire-sender.js';

/** A core that answers each request with its inputs as outputs, or fails on model 'missing'. */
function echoCore() {
  const seen: { request: InferenceRequest; signal?: CancelSignal }[] = [];
  const core = {
    model: () => ({ decoupled: false }),
    infer: async (request: InferenceRequest, signal?: CancelSignal): Promise<InferenceResponse> => {
      seen.push({ request, signal });
      if (request.modelName === 'missing') throw new NotFoundError("Request for unknown model: 'missing' is not found");
      if (request.modelName === 'slow') {
        await new Promise<void>((resolve) => signal?.addEventListener('abort', resolve));
        throw signal?.reason;
      }
      const response: InferenceResponse = { modelName: request.modelName, modelVersion: '1', outputs: request.inputs };
      if (request.parameters !== undefined) response.parameters = request.parameters;
      return response;
    },
  };
  return { core: core as unknown as ServerCore, seen };
}

const closers: (() => void)[] = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

function connect() {
  const { port1, port2 } = new MessageChannel();
  const { core, seen } = echoCore();
  const served = serveCorePort(core, port1);
  const remote = new RemoteInfer(port2);
  closers.push(() => {
    served.close();
    port1.close();
    port2.close();
  });
  return { remote, seen, served };
}

const input = (values: number[]) => ({ name: 'IN', datatype: 'INT32' as const, shape: [values.length], data: new Uint8Array(new Int32Array(values).buffer) });

describe('a protocol thread and the core thread over a port', () => {
  it('carry calls of one turn in one message, binary or (for unusual parameters) as objects', async () => {
    const { remote, seen } = connect();
    const results = await Promise.all([
      remote.infer({ modelName: 'm', inputs: [input([1, 2, 3])] }, { refuseDecoupled: 'http' }),
      remote.infer({ modelName: 'm', inputs: [input([4])], parameters: { nested: { a: 1 } } as never }),
      remote.infer({ modelName: 'm', inputs: [input([5])], parameters: { p: 'v' } }),
    ]);
    expect(results.map((r) => Array.from(new Int32Array(r.outputs[0]!.data.slice().buffer)))).toEqual([[1, 2, 3], [4], [5]]);
    expect(results[1]!.parameters).toEqual({ nested: { a: 1 } });
    expect(results[2]!.parameters).toEqual({ p: 'v' });
    expect(seen).toHaveLength(3);
  });

  it('mark a message buffer that several calls view untransferable, so a backend copies rather than moves it', async () => {
    const { remote, seen } = connect();
    const big = () => input(Array.from({ length: 1500 }, (_, i) => i));
    await Promise.all([remote.infer({ modelName: 'm', inputs: [big()] }), remote.infer({ modelName: 'm', inputs: [big()] })]);
    expect(seen[0]!.request.inputs[0]!.data.buffer).toBe(seen[1]!.request.inputs[0]!.data.buffer);
    expect(isUntransferable(seen[0]!.request.inputs[0]!.data.buffer)).toBe(true);
    await remote.infer({ modelName: 'm', inputs: [big()] });
    expect(isUntransferable(seen[2]!.request.inputs[0]!.data.buffer)).toBe(false);
  });

  it('reject with the core error, its class and message kept', async () => {
    const { remote } = connect();
    const err = await remote.infer({ modelName: 'missing', inputs: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as Error).message).toBe("Request for unknown model: 'missing' is not found");
  });

  it('cancel a call in the core even when the abort comes in the same turn as the call', async () => {
    const { remote, seen } = connect();
    const signal = new Cancellation();
    const pending = remote.infer({ modelName: 'slow', inputs: [] }, { signal });
    signal.abort(new CancelledError('Request cancelled by the client'));
    const err = await pending.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledError);
    // Give the core its turn: the cancel reached the call there.
    await new Promise((r) => setTimeout(r, 20));
    expect(seen[0]?.signal?.aborted).toBe(true);
  });
});

describe('binary messages that go wrong', () => {
  function direction() {
    const posted: WireMessage[] = [];
    let refuse = false;
    const lost: number[] = [];
    const sender = new WireSender<unknown, unknown>(
      (message) => {
        if (refuse) throw new Error('DataCloneError');
        posted.push(message as WireMessage);
      },
      (items) => items,
      (ids) => lost.push(...ids),
    );
    const reader = new WireReader();
    const read = (m: WireMessage) => readWireMessage(reader, m, (r) => [r.name(), r.name()]);
    return { sender, posted, lost, read, refuseNext: (v: boolean) => (refuse = v) };
  }
  const pair = (w: WireWriter, _out: unknown, a: string, b: string) => {
    w.name(a);
    w.name(b);
  };

  it('leave nothing of a record whose encoding threw, names included', () => {
    const d = direction();
    d.sender.record(1, pair, 'a', 'b');
    expect(() =>
      d.sender.record(2, (w: WireWriter) => {
        w.name('defined-then-dropped');
        throw new Error('cannot encode');
      }, 0, 0),
    ).toThrow('cannot encode');
    d.sender.record(3, pair, 'c', 'defined-then-dropped');
    d.sender.flush();
    expect(d.read(d.posted[0]!)).toEqual([
      ['a', 'b'],
      ['c', 'defined-then-dropped'],
    ]);
  });

  it('report the ids of a message postMessage refused, and start a new name table after it', () => {
    const d = direction();
    d.refuseNext(true);
    d.sender.record(1, pair, 'x', 'y');
    d.sender.flush();
    expect(d.lost).toEqual([1]);
    d.refuseNext(false);
    d.sender.record(2, pair, 'x', 'y');
    d.sender.flush();
    expect(d.read(d.posted[0]!)).toEqual([['x', 'y']]);
  });

  it('refuse every message after one that could not be read, until the writer starts a new table', () => {
    const d = direction();
    d.sender.record(1, pair, 'a', 'b');
    d.sender.flush();
    d.read(d.posted[0]!);
    const corrupt = new ArrayBuffer(9);
    new DataView(corrupt).setInt32(1, 999, true); // a name never defined
    expect(() => d.read(corrupt)).toThrow(/never defined/);
    d.sender.record(2, pair, 'a', 'b');
    d.sender.flush();
    expect(() => d.read(d.posted[1]!)).toThrow(/new name table/);
    d.sender.resync();
    d.sender.record(3, pair, 'a', 'b');
    d.sender.flush();
    expect(d.read(d.posted[2]!)).toEqual([['a', 'b']]);
  });

  it('fail what a protocol thread waits for when the core could not read its message', async () => {
    const { port1, port2 } = new MessageChannel();
    closers.push(() => {
      port1.close();
      port2.close();
    });
    const remote = new RemoteInfer(port2);
    const pending = remote.infer({ modelName: 'm', inputs: [] });
    port1.postMessage({ t: 'resync' });
    await expect(pending).rejects.toBeInstanceOf(InternalError);
    expect(remote.size).toBe(0);
  });
});
