import { describe, expect, it } from 'vitest';
import { packForTransfer } from '../../../../src/backends/onnxruntime/transfer.js';
import type { Tensor } from '../../../../src/infer/tensor.js';

const tensor = (name: string, data: Uint8Array): Tensor => ({ name, datatype: 'UINT8', shape: [data.byteLength], data });

describe('packForTransfer', () => {
  it('transfers a large buffer once when the views cover most of it', () => {
    const body = new ArrayBuffer(100_000);
    const a = tensor('a', new Uint8Array(body, 100, 60_000));
    const b = tensor('b', new Uint8Array(body, 60_100, 30_000));
    const packed = packForTransfer([a, b]);
    expect(packed.transfer).toEqual([body]);
    expect(packed.tensors[0]).toEqual(a);
    expect(packed.tensors[0]!.data).toBe(a.data);
    expect(packed.tensors[1]!.data).toBe(b.data);
  });

  it('copies views that cover little of a large buffer into one fresh, 8-byte aligned buffer', () => {
    const body = new ArrayBuffer(1_000_000);
    new Uint8Array(body).fill(7);
    const a = tensor('a', new Uint8Array(body, 3, 13));
    const b = tensor('b', new Uint8Array(body, 999, 40_000));
    const packed = packForTransfer([a, b]);
    expect(packed.transfer).toHaveLength(1);
    const scratch = packed.transfer[0]!;
    expect(scratch).not.toBe(body);
    expect(packed.tensors.map((t) => t.data.buffer)).toEqual([scratch, scratch]);
    expect(packed.tensors.map((t) => t.data.byteOffset)).toEqual([0, 16]);
    expect(Buffer.compare(packed.tensors[1]!.data, b.data)).toBe(0);
  });

  it('never transfers small buffers such as the Buffer pool slab', () => {
    const pooled = Buffer.from('abcdefgh');
    expect(pooled.buffer.byteLength).toBe(Buffer.poolSize);
    const packed = packForTransfer([tensor('p', pooled)]);
    expect(packed.transfer).not.toContain(pooled.buffer);
    expect(Buffer.from(packed.tensors[0]!.data).toString()).toBe('abcdefgh');
  });

  it('copies everything when asked, and copies even empty views (posting one would clone its buffer)', () => {
    const body = new ArrayBuffer(100_000);
    const packed = packForTransfer([tensor('a', new Uint8Array(body)), tensor('e', new Uint8Array(body, 5, 0))], true);
    expect(packed.transfer).toHaveLength(1);
    expect(packed.transfer[0]).not.toBe(body);
    expect(packed.tensors[1]!.data.byteLength).toBe(0);
    expect(packed.tensors[1]!.data.buffer).toBe(packed.transfer[0]);
  });

  it('shares SharedArrayBuffers without copy or transfer', () => {
    const shared = new SharedArrayBuffer(64);
    const t = tensor('s', new Uint8Array(shared));
    const packed = packForTransfer([t]);
    expect(packed.transfer).toEqual([]);
    expect(packed.tensors[0]!.data).toBe(t.data);
  });
});
