import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, TritonError } from '../../../../src/errors/index.js';
import { DATATYPES, type Datatype } from '../../../../src/infer/datatype.js';
import type { InferenceRequest, InferenceResponse, Tensor } from '../../../../src/infer/tensor.js';
import { fromWireError, toWireError, type InferCall, type InferReply } from '../../../../src/protocol/threads/wire.js';
import { WireReader } from '../../../../src/protocol/threads/wire-buffer.js';
import {
  decodeCall,
  decodeReply,
  encodableRequest,
  encodableResponse,
  encodeCall,
  encodeError,
  encodeResponse,
} from '../../../../src/protocol/threads/wire-codec.js';
import { readWireMessage, WireSender, type WireMessage } from '../../../../src/protocol/threads/wire-sender.js';

/** One direction of a port: what the sender posts is cloned with its transfer list, as postMessage does. */
function channel() {
  const posted: { message: unknown; transfer: ArrayBuffer[] }[] = [];
  const lost: number[] = [];
  const sender = new WireSender<unknown, { t: 'objects'; items: unknown[] }>(
    (message, transfer) => posted.push({ message: structuredClone(message, { transfer }), transfer }),
    (items) => ({ t: 'objects', items }),
    (ids) => lost.push(...ids),
  );
  const reader = new WireReader();
  return { sender, reader, posted, lost };
}

function sendCalls(ch: ReturnType<typeof channel>, calls: InferCall[], owned?: ArrayBuffer): InferCall[] {
  for (const call of calls) ch.sender.record(call.id, encodeCall, call, owned);
  ch.sender.flush();
  return readWireMessage(ch.reader, ch.posted.at(-1)!.message as WireMessage, decodeCall);
}

function sendReplies(ch: ReturnType<typeof channel>, replies: InferReply[]): InferReply[] {
  for (const r of replies) {
    if (r.response !== undefined) ch.sender.record(r.id, encodeResponse, r.id, r.response);
    else ch.sender.record(r.id, encodeError, r.id, r.error!);
  }
  ch.sender.flush();
  return readWireMessage(ch.reader, ch.posted.at(-1)!.message as WireMessage, decodeReply);
}

/** BYTES elements: a 4-byte little-endian length, then the bytes. */
function bytesTensorData(items: string[]): Uint8Array {
  const parts = items.map((s) => Buffer.from(s, 'utf8'));
  const out = Buffer.alloc(parts.reduce((n, p) => n + 4 + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.writeUInt32LE(p.length, at);
    p.copy(out, at + 4);
    at += 4 + p.length;
  }
  return new Uint8Array(out);
}

const SIZE: Record<Datatype, number> = { BOOL: 1, UINT8: 1, UINT16: 2, UINT32: 4, UINT64: 8, INT8: 1, INT16: 2, INT32: 4, INT64: 8, FP16: 2, FP32: 4, FP64: 8, BYTES: 0, BF16: 2 };

function tensorOf(name: string, datatype: Datatype, shape: number[]): Tensor {
  const count = shape.reduce((a, b) => a * b, 1);
  if (datatype === 'BYTES') {
    return { name, datatype, shape, data: bytesTensorData(Array.from({ length: count }, (_, i) => (i % 3 === 0 ? '' : i % 3 === 1 ? 'héllo\u0000€' : '\u{1F600}x'.repeat(i)))) };
  }
  const data = new Uint8Array(count * SIZE[datatype]);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37 + 11) & 0xff;
  return { name, datatype, shape, data };
}

/** Tensors compared by value (the data as plain byte arrays). */
function plain(tensors: readonly Tensor[]) {
  return tensors.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape, data: Array.from(t.data) }));
}

describe('infer calls as binary records', () => {
  it('round-trip every datatype, empty tensors and rank 0, bytes exact', () => {
    const ch = channel();
    const inputs = DATATYPES.flatMap((d) => [tensorOf(`${d}_in`, d, [2, 3]), tensorOf(`${d}_empty`, d, [2, 0]), tensorOf(`${d}_scalar`, d, [])]);
    const expected = plain(inputs);
    const [call] = sendCalls(ch, [{ id: 7, request: { modelName: 'm', inputs } }]);
    expect(call!.id).toBe(7);
    expect(plain(call!.request.inputs)).toEqual(expected);
    // Copied views start 8-byte aligned, so any typed array can view them.
    for (const t of call!.request.inputs) expect(t.data.byteOffset % 8).toBe(0);
  });

  it('keep every request field: id, version, parameters of each kind, outputs, flags', () => {
    const ch = channel();
    const request: InferenceRequest = {
      modelName: 'módel',
      modelVersion: 3,
      id: 'req-\u{1F600}',
      parameters: { sequence_id: 'abc', priority: 2, timeout: 1.5, neg: -7, big: 2 ** 53 - 1, sequence_start: true, sequence_end: false, empty: '' },
      inputs: [tensorOf('x', 'FP32', [1, 4])],
      outputs: [{ name: 'y', classification: 3 }, { name: 'z' }],
    };
    const calls: InferCall[] = [
      { id: 1, request, refuseDecoupled: 'http' },
      { id: 2, request: { modelName: 'm', inputs: [] }, refuseDecoupled: 'grpc', cancellable: true },
      { id: 2 ** 40, request: { modelName: 'm', inputs: [], outputs: [] } },
    ];
    const [a, b, c] = sendCalls(ch, calls);
    expect({ ...a!, request: { ...a!.request, inputs: plain(a!.request.inputs) } }).toEqual({ ...calls[0], request: { ...request, inputs: plain(request.inputs) } });
    expect(Object.keys(a!.request.parameters!)).toEqual(Object.keys(request.parameters!));
    expect(b).toEqual({ ...calls[1], request: { modelName: 'm', modelVersion: undefined, inputs: [] } });
    expect(b!.request.modelVersion).toBeUndefined();
    expect(c!.id).toBe(2 ** 40);
    expect(c!.request.outputs).toEqual([]);
    expect(c!.refuseDecoupled).toBeUndefined();
    expect(c!.cancellable).toBeUndefined();
  });

  it('keep shapes outside int32 and -1 dims exactly', () => {
    const ch = channel();
    const shape = [2 ** 40, -1, 0];
    const [call] = sendCalls(ch, [{ id: 1, request: { modelName: 'm', inputs: [{ name: 'x', datatype: 'UINT8', shape, data: new Uint8Array(0) }] } }]);
    expect(call!.request.inputs[0]!.shape).toEqual(shape);
  });

  it('send a name once per table epoch, later messages by index; long names inline', () => {
    const ch = channel();
    const request = (): InferenceRequest => ({ modelName: 'a_model_name', inputs: [tensorOf('INPUT_WITH_A_NAME', 'INT32', [1, 2])] });
    sendCalls(ch, [{ id: 1, request: request() }]);
    const first = (ch.posted.at(-1)!.message as ArrayBuffer).byteLength;
    const [again] = sendCalls(ch, [{ id: 2, request: request() }]);
    expect((ch.posted.at(-1)!.message as ArrayBuffer).byteLength).toBeLessThan(first);
    expect(again!.request.modelName).toBe('a_model_name');
    expect(again!.request.inputs[0]!.name).toBe('INPUT_WITH_A_NAME');
    const long = 'n'.repeat(1000);
    const [l1] = sendCalls(ch, [{ id: 3, request: { modelName: long, inputs: [] } }]);
    const [l2] = sendCalls(ch, [{ id: 4, request: { modelName: long, inputs: [] } }]);
    expect([l1!.request.modelName, l2!.request.modelName]).toEqual([long, long]);
  });

  it('start a new name table epoch when the table is full, and stay in step', () => {
    const ch = channel();
    for (let m = 0; m < 6; m++) {
      const parameters = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`k${m}_${i}`, i]));
      const [call] = sendCalls(ch, [{ id: m, request: { modelName: 'm', parameters, inputs: [] } }]);
      expect(call!.request.parameters).toEqual(parameters);
    }
    const [last] = sendCalls(ch, [{ id: 9, request: { modelName: 'm', parameters: { k0_5: 1 }, inputs: [] } }]);
    expect(last!.request.parameters).toEqual({ k0_5: 1 });
  });

  it('transfer a request body it owns whole when it is large, the views unchanged', () => {
    const ch = channel();
    const body = new ArrayBuffer(64 * 1024);
    new Uint8Array(body).fill(5);
    const inputs: Tensor[] = [
      { name: 'a', datatype: 'UINT8', shape: [1000], data: new Uint8Array(body, 100, 1000) },
      { name: 'b', datatype: 'UINT8', shape: [8], data: new Uint8Array(body, 2000, 8) },
    ];
    const [call] = sendCalls(ch, [{ id: 1, request: { modelName: 'm', inputs } }], body);
    expect(ch.posted.at(-1)!.transfer).toContain(body);
    expect(body.byteLength).toBe(0); // moved
    expect(call!.request.inputs.map((t) => [t.data.byteOffset, t.data.byteLength, t.data.buffer.byteLength])).toEqual([
      [100, 1000, 64 * 1024],
      [2000, 8, 64 * 1024],
    ]);
    expect(call!.request.inputs[0]!.data[0]).toBe(5);
  });

  it('copy small inputs and small owned bodies, never moving a foreign buffer', () => {
    const ch = channel();
    const small = new ArrayBuffer(1024);
    const pool = Buffer.from('pool bytes');
    const [call] = sendCalls(
      ch,
      [
        {
          id: 1,
          request: {
            modelName: 'm',
            inputs: [
              { name: 'a', datatype: 'UINT8', shape: [4], data: new Uint8Array(small, 0, 4) },
              { name: 'b', datatype: 'UINT8', shape: [pool.length], data: pool },
            ],
          },
        },
      ],
      small,
    );
    expect(ch.posted.at(-1)!.transfer).toHaveLength(1);
    expect(small.byteLength).toBe(1024);
    expect(pool.buffer.byteLength).toBeGreaterThan(0);
    expect(Buffer.from(call!.request.inputs[1]!.data).toString()).toBe('pool bytes');
  });

  it('move large inputs as their own buffers: whole when they cover it, else a copy of the view', () => {
    const ch = channel();
    const whole = new Uint8Array(100_000).fill(1);
    const foreign = new ArrayBuffer(1 << 20);
    const part = new Uint8Array(foreign, 4096, 20_000).fill(2);
    const shared = new Uint8Array(new SharedArrayBuffer(50_000)).fill(3);
    const inputs: Tensor[] = [
      { name: 'whole', datatype: 'UINT8', shape: [100_000], data: whole },
      { name: 'part', datatype: 'UINT8', shape: [20_000], data: part },
      { name: 'shared', datatype: 'UINT8', shape: [50_000], data: shared },
      { name: 'small', datatype: 'UINT8', shape: [3], data: new Uint8Array([7, 8, 9]) },
    ];
    const wholeBuffer = whole.buffer;
    const [call] = sendCalls(ch, [{ id: 1, request: { modelName: 'm', inputs } }]);
    const transfer = ch.posted.at(-1)!.transfer;
    expect(transfer).toContain(wholeBuffer);
    expect(transfer).not.toContain(foreign);
    expect(foreign.byteLength).toBe(1 << 20);
    const [w, p, s, sm] = call!.request.inputs;
    expect([w!.data.byteLength, w!.data[99_999]]).toEqual([100_000, 1]);
    expect([p!.data.byteLength, p!.data[0], p!.data[19_999]]).toEqual([20_000, 2, 2]);
    expect(s!.data.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(s!.data[49_999]).toBe(3);
    expect(Array.from(sm!.data)).toEqual([7, 8, 9]);
  });

  it('are not used for parameters that are not plain scalars', () => {
    expect(encodableRequest({ modelName: 'm', inputs: [], parameters: { a: 1, b: 's', c: true } })).toBe(true);
    expect(encodableRequest({ modelName: 'm', inputs: [], parameters: { a: { nested: 1 } } as never })).toBe(false);
    expect(encodableRequest({ modelName: 'm', inputs: [], parameters: { a: 1n } as never })).toBe(false);
    expect(encodableRequest({ modelName: 'm', inputs: [], parameters: JSON.parse('{"__proto__": 1}') })).toBe(false);
    expect(encodableResponse({ modelName: 'm', modelVersion: '1', outputs: [], parameters: { a: null } as never })).toBe(false);
    expect(encodableResponse({ modelName: 'm', modelVersion: 1, outputs: [] } as never)).toBe(false);
  });
});

describe('infer replies as binary records', () => {
  it('round-trip responses with every datatype, id and parameters, and errors with code and detail', () => {
    const ch = channel();
    const outputs = DATATYPES.flatMap((d) => [tensorOf(`${d}_out`, d, [3]), tensorOf(`${d}_empty`, d, [0]), tensorOf(`${d}_scalar`, d, [])]);
    const expected = plain(outputs);
    const response: InferenceResponse = { modelName: 'm', modelVersion: '12', id: 'r1', parameters: { n: 1.25, s: 'x', t: true, f: false }, outputs };
    const err = Object.assign(new InvalidArgumentError("unexpected shape for input 'x' for model 'm'"), { detail: 'expected [1,4]' });
    const [ok, bad, plainErr, bare] = sendReplies(ch, [
      { id: 1, response },
      { id: 2, error: toWireError(err) },
      { id: 3, error: toWireError(new TypeError('boom')) },
      { id: 4, response: { modelName: 'm', modelVersion: '1', outputs: [] } },
    ]);
    expect({ ...ok!.response!, outputs: plain(ok!.response!.outputs) }).toEqual({ ...response, outputs: expected });
    const back = fromWireError(bad!.error!);
    expect(back).toBeInstanceOf(InvalidArgumentError);
    expect((back as TritonError).code).toBe('INVALID_ARG');
    expect(back.message).toBe(err.message);
    expect((back as { detail?: string }).detail).toBe('expected [1,4]');
    expect(plainErr!.error).toEqual({ code: undefined, message: 'boom' });
    expect(fromWireError(plainErr!.error!)).not.toBeInstanceOf(TritonError);
    expect(bare).toEqual({ id: 4, response: { modelName: 'm', modelVersion: '1', outputs: [] } });
    expect(Object.keys(bare!.response!)).toEqual(['modelName', 'modelVersion', 'outputs']);
  });

  it('copy a small view of a large output buffer, and move large outputs', () => {
    const ch = channel();
    const big = new ArrayBuffer(1 << 20);
    const small = new Uint8Array(big, 8, 16).fill(4);
    const large = new Float32Array(10_000).fill(0.5);
    const outputs: Tensor[] = [
      { name: 'small', datatype: 'UINT8', shape: [16], data: small },
      { name: 'large', datatype: 'FP32', shape: [10_000], data: new Uint8Array(large.buffer) },
    ];
    const [reply] = sendReplies(ch, [{ id: 1, response: { modelName: 'm', modelVersion: '1', outputs } }]);
    expect(ch.posted.at(-1)!.transfer).not.toContain(big);
    expect(ch.posted.at(-1)!.transfer).toContain(large.buffer);
    const [s, l] = reply!.response!.outputs;
    expect(Array.from(s!.data)).toEqual(Array(16).fill(4));
    expect(new Float32Array(l!.data.buffer, l!.data.byteOffset, 10_000)[9_999]).toBe(0.5);
  });
});
