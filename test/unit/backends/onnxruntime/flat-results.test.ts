import { describe, expect, it } from 'vitest';
import { FLAT_INLINE_MAX } from '../../../../src/backends/onnxruntime/flat-buffer.js';
import { decodeResults, FlatResultWriter } from '../../../../src/backends/onnxruntime/flat-results.js';
import type { WireResult } from '../../../../src/backends/onnxruntime/messages.js';
import { DATATYPES, type Datatype } from '../../../../src/infer/datatype.js';
import type { Tensor } from '../../../../src/infer/tensor.js';

function tensor(name: string, datatype: Datatype, shape: number[], byteLength: number, seed = 1): Tensor {
  const data = new Uint8Array(byteLength);
  for (let i = 0; i < byteLength; i++) data[i] = (seed + i * 3) & 0xff;
  return { name, datatype, shape, data };
}

const plain = (t: Tensor): unknown => ({ name: t.name, datatype: t.datatype, shape: t.shape, data: [...t.data] });

describe('flat results', () => {
  it('round-trips outputs of every datatype and rank with their durations', () => {
    const writer = new FlatResultWriter();
    const sent = new Map<number, Tensor[]>();
    let id = 10;
    for (const datatype of DATATYPES) {
      for (const shape of [[], [0], [3, 1], [1, 2, 2]]) {
        const outputs = [tensor('O1', datatype, shape, id % 11, id), tensor('O2', datatype, shape, (id * 5) % 17, id + 1)];
        expect(writer.add({ id, outputs, durations: [id, id + 1, id + 2] })).toBe(true);
        sent.set(id, outputs);
        id++;
      }
    }
    const results = decodeResults(writer.finish()!, [], (i) => sent.get(i)?.map((t) => t.name));
    expect(results.map((r) => r.id)).toEqual([...sent.keys()]);
    for (const r of results) {
      if (!('durations' in r)) throw new Error('expected outputs');
      expect(r.durations).toEqual([r.id, r.id + 1, r.id + 2]);
      expect((r.outputs as Tensor[]).map(plain)).toEqual(sent.get(r.id)!.map(plain));
      for (const o of r.outputs as Tensor[]) expect(o.data.byteOffset % 8).toBe(0);
    }
  });

  it('shares a buffer between results only when it is no larger than the pool slab, which nothing transfers or frees', () => {
    const writer = new FlatResultWriter();
    // [A bytes, B bytes] per result; 6000 + 6000 is more than the pool slab on its own.
    const sizes = [[1000, 8], [3000, 8], [5000, 8], [100, 8], [6000, 6000], [0, 0], [8, 8], [4000, 8], [4000, 8], [4000, 8]];
    const sent = sizes.map(([a, b], id) => {
      const outputs = [tensor('A', 'UINT8', [a!], a!, id), tensor('B', 'UINT8', [b!], b!, id + 50)];
      expect(writer.add({ id, outputs, durations: [0, 0, 0] })).toBe(true);
      return outputs;
    });
    const flat = writer.finish()!;
    expect(flat.byteLength).toBeGreaterThan(Buffer.poolSize);
    const results = decodeResults(flat, [], () => ['A', 'B']) as { id: number; outputs: Tensor[] }[];
    const holders = new Map<ArrayBufferLike, Set<number>>();
    for (const r of results) {
      expect(r.outputs.map(plain)).toEqual(sent[r.id]!.map(plain));
      for (const o of r.outputs) {
        expect(o.data.buffer).not.toBe(flat);
        holders.set(o.data.buffer, (holders.get(o.data.buffer) ?? new Set()).add(r.id));
      }
    }
    for (const [buffer, ids] of holders) expect(buffer.byteLength <= Buffer.poolSize || ids.size === 1).toBe(true);
    // Fewer buffers than results: neighbours share.
    expect(holders.size).toBeLessThan(results.length);
  });

  it('lets a lone result view the flat buffer itself', () => {
    const writer = new FlatResultWriter();
    const out = tensor('Y', 'FP32', [2], 8);
    writer.add({ id: 1, outputs: [out], durations: [1, 2, 3] });
    const flat = writer.finish()!;
    const [r] = decodeResults(flat, [], () => ['Y']);
    expect(((r as { outputs: Tensor[] }).outputs[0]!.data.buffer)).toBe(flat);
  });

  it('keeps errors, placed outputs and large outputs in the object list, in their places', () => {
    const writer = new FlatResultWriter();
    const objects: WireResult[] = [
      { id: 2, error: { code: 'INVALID_ARG', message: "model 'm': bad input" } },
      { id: 3, outputs: [{ name: 'Y', datatype: 'FP32', shape: [1], placedBytes: 4 }], durations: [0, 0, 0] },
      { id: 4, outputs: [tensor('Y', 'UINT8', [FLAT_INLINE_MAX + 1], FLAT_INLINE_MAX + 1)], durations: [0, 0, 0] },
    ];
    expect(writer.add({ id: 1, outputs: [tensor('Y', 'INT32', [1], 4)], durations: [1, 1, 1] })).toBe(true);
    for (const o of objects) {
      expect(writer.add(o)).toBe(false);
      writer.object();
    }
    expect(writer.add({ id: 5, outputs: [], durations: [2, 2, 2] })).toBe(true);
    const results = decodeResults(writer.finish()!, objects, () => ['Y']);
    expect(results.map((r) => r.id)).toEqual([1, 2, 3, 4, 5]);
    expect(results.slice(1, 4)).toEqual(objects);
    expect(results[1]).toBe(objects[0]);
    expect(results[4]).toEqual({ id: 5, outputs: [], durations: [2, 2, 2] });
  });

  it('writes no buffer when no result goes flat, and names outputs of calls no longer pending as empty', () => {
    const writer = new FlatResultWriter();
    writer.object();
    expect(writer.finish()).toBeUndefined();
    const w2 = new FlatResultWriter();
    w2.add({ id: 7, outputs: [tensor('Y', 'BOOL', [3], 3)], durations: [0, 0, 0] });
    const [r] = decodeResults(w2.finish()!, [], () => undefined);
    expect((r as { outputs: Tensor[] }).outputs[0]!.name).toBe('');
  });

  it('rejects an object list that does not match the buffer', () => {
    const writer = new FlatResultWriter();
    writer.add({ id: 1, outputs: [], durations: [0, 0, 0] });
    const flat = writer.finish()!;
    expect(() => decodeResults(flat, [{ id: 2, error: { code: 'INTERNAL', message: 'x' } }], () => [])).toThrow(/fewer object results/);
  });
});
