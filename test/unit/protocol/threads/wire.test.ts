import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, NotFoundError, TritonError } from '../../../../src/errors/index.js';
import { fromWireError, packRequest, packResponse, toWireError } from '../../../../src/protocol/threads/wire.js';

describe('errors across threads', () => {
  it('keep their TritonError class, code, message and detail', () => {
    const err = Object.assign(new InvalidArgumentError("unexpected shape for input 'x' for model 'm'"), { detail: 'expected [1,4]' });
    const back = fromWireError(structuredClone(toWireError(err)));
    expect(back).toBeInstanceOf(InvalidArgumentError);
    expect((back as TritonError).code).toBe('INVALID_ARG');
    expect(back.message).toBe(err.message);
    expect((back as { detail?: string }).detail).toBe('expected [1,4]');
    expect(fromWireError(toWireError(new NotFoundError('gone')))).toBeInstanceOf(NotFoundError);
  });

  it('turn anything else into a plain Error with its message', () => {
    const back = fromWireError(toWireError(new TypeError('boom')));
    expect(back).not.toBeInstanceOf(TritonError);
    expect(back.message).toBe('boom');
    expect(fromWireError(toWireError('text')).message).toBe('text');
  });
});

describe('packing tensors', () => {
  const tensor = (data: Uint8Array) => ({ name: 'x', datatype: 'UINT8' as const, shape: [data.byteLength], data });

  it('moves a request body the request owns whole, keeping the views', () => {
    const body = new ArrayBuffer(64 * 1024);
    const request = { modelName: 'm', inputs: [tensor(new Uint8Array(body, 100, 1000)), tensor(new Uint8Array(body, 2000, 8))] };
    const transfer: ArrayBuffer[] = [];
    const packed = packRequest(request, transfer, body);
    expect(transfer).toEqual([body]);
    expect(packed.inputs[0]!.data.byteOffset).toBe(100);
  });

  it('clones small buffers instead of transferring them, and never lists a large foreign buffer', () => {
    const small = new Uint8Array(16);
    const transfer: ArrayBuffer[] = [];
    packResponse({ modelName: 'm', modelVersion: '1', outputs: [tensor(small)] }, transfer);
    expect(transfer).toEqual([]);
    const big = new ArrayBuffer(1 << 20);
    const view = new Uint8Array(big, 0, 16);
    const packed = packResponse({ modelName: 'm', modelVersion: '1', outputs: [tensor(view)] }, transfer);
    // A 16-byte view of a 1 MiB buffer is copied (a clone would copy all of it).
    expect(transfer).toHaveLength(1);
    expect(transfer[0]).not.toBe(big);
    expect(packed.outputs[0]!.data.buffer).not.toBe(big);
  });
});
