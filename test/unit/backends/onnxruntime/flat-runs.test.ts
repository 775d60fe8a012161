import { describe, expect, it } from 'vitest';
import { FLAT_INLINE_MAX } from '../../../../src/backends/onnxruntime/flat-buffer.js';
import { decodeRuns, FlatNames, FlatRunWriter, MAX_FLAT_NAMES } from '../../../../src/backends/onnxruntime/flat-runs.js';
import type { WireRun } from '../../../../src/backends/onnxruntime/messages.js';
import { DATATYPE_BYTE_SIZE, DATATYPES, type Datatype, elementCount } from '../../../../src/infer/datatype.js';
import type { Tensor } from '../../../../src/infer/tensor.js';

/** A tensor of `shape` whose bytes count up from `seed`, in a buffer of its own. */
function tensor(name: string, datatype: Datatype, shape: number[], seed = 1, byteLength?: number): Tensor {
  const n = byteLength ?? elementCount(shape) * Math.max(1, DATATYPE_BYTE_SIZE[datatype]);
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i++) data[i] = (seed + i) & 0xff;
  return { name, datatype, shape, data };
}

/** What the worker must see of a tensor: everything but where its bytes lie. */
function plain(t: Tensor): unknown {
  return { name: t.name, datatype: t.datatype, shape: t.shape, data: [...t.data] };
}

/** The worker's end of a `runs` message built by `writer` and `objects`. */
function worker(writer: FlatRunWriter, names: FlatNames, objects: WireRun[], table: string[] = []): WireRun[] {
  const flat = writer.finish();
  table.push(...(names.unsent() ?? []));
  names.sent();
  expect(flat).toBeDefined();
  return decodeRuns(flat!, table, objects);
}

describe('flat runs', () => {
  it('round-trips every datatype, ranks 0 to 4, empty tensors and odd byte lengths, each 8-byte aligned', () => {
    const names = new FlatNames();
    const writer = new FlatRunWriter(names);
    const sent: { id: number; inputs: Tensor[]; outputNames: string[] }[] = [];
    let id = 1;
    for (const datatype of DATATYPES) {
      for (const shape of [[], [3], [1, 0], [2, 3, 1], [1, 1, 1, 5]]) {
        // BYTES: any number of bytes (length-prefixed elements are the worker's to check).
        const bytes = datatype === 'BYTES' ? 13 : undefined;
        const inputs = [tensor('IN_A', datatype, shape, id, bytes), tensor(`IN_${datatype}`, datatype, shape, id + 7, bytes)];
        const outputNames = id % 2 === 0 ? ['OUT'] : ['OUT', `OUT_${datatype}`];
        expect(writer.add(id, inputs, outputNames)).toBe(true);
        sent.push({ id, inputs, outputNames });
        id++;
      }
    }
    const runs = worker(writer, names, []);
    expect(runs).toHaveLength(sent.length);
    runs.forEach((run, k) => {
      const want = sent[k]!;
      expect(run.id).toBe(want.id);
      expect(run.outputNames).toEqual(want.outputNames);
      expect(run.inputs.map((t) => plain(t as Tensor))).toEqual(want.inputs.map(plain));
      for (const t of run.inputs) expect((t as Tensor).data.byteOffset % 8).toBe(0);
    });
  });

  it('keeps the object runs in their places and sends each name once, in index order', () => {
    const names = new FlatNames();
    const table: string[] = [];
    const object: WireRun = { id: 2, inputs: [tensor('X', 'FP32', [1])], outputNames: ['Y'] };
    let writer = new FlatRunWriter(names);
    writer.add(1, [tensor('X', 'FP32', [2])], ['Y']);
    writer.object();
    writer.add(3, [tensor('X', 'FP32', [3])], ['Y', 'Z']);
    expect(names.unsent()).toEqual(['X', 'Y', 'Z']);
    let runs = worker(writer, names, [object], table);
    expect(runs.map((r) => r.id)).toEqual([1, 2, 3]);
    expect(runs[1]).toBe(object);
    expect(runs[2]!.outputNames).toEqual(['Y', 'Z']);

    writer = new FlatRunWriter(names);
    writer.add(4, [tensor('W', 'INT64', [1]), tensor('X', 'FP32', [1])], ['Z']);
    expect(names.unsent()).toEqual(['W']);
    runs = worker(writer, names, [], table);
    expect(table).toEqual(['X', 'Y', 'Z', 'W']);
    expect(runs[0]!.inputs.map((t) => t.name)).toEqual(['W', 'X']);
  });

  it('keeps unsent names until a message carrying them is posted', () => {
    const names = new FlatNames();
    new FlatRunWriter(names).add(1, [tensor('A', 'INT32', [1])], ['B']);
    // The post failed: the next message must still carry them.
    expect(names.unsent()).toEqual(['A', 'B']);
    names.sent();
    expect(names.unsent()).toBeUndefined();
  });

  it('refuses a run with a tensor over the inline limit or an unknown datatype, writing nothing', () => {
    const writer = new FlatRunWriter(new FlatNames());
    expect(writer.add(1, [tensor('A', 'UINT8', [FLAT_INLINE_MAX + 1])], ['B'])).toBe(false);
    expect(writer.add(2, [{ ...tensor('A', 'UINT8', [1]), datatype: 'NOPE' as Datatype }], ['B'])).toBe(false);
    expect(writer.flatRuns).toBe(0);
    expect(writer.finish()).toBeUndefined();
    expect(writer.add(3, [tensor('A', 'UINT8', [FLAT_INLINE_MAX])], ['B'])).toBe(true);
  });

  it('refuses names beyond the table limit, so made-up names cannot grow it', () => {
    const names = new FlatNames();
    for (let i = 0; i < MAX_FLAT_NAMES; i++) expect(names.indexOf(`n${i}`)).toBe(i);
    expect(names.indexOf('one more')).toBeUndefined();
    expect(names.indexOf('n5')).toBe(5);
    expect(new FlatRunWriter(names).add(1, [tensor('n1', 'INT8', [1])], ['one more'])).toBe(false);
  });

  it('carries odd dims exactly, so the worker rejects them as before', () => {
    const names = new FlatNames();
    const writer = new FlatRunWriter(names);
    const odd = { ...tensor('A', 'INT32', [1]), shape: [-1, 2.5, 2 ** 40] };
    writer.add(2 ** 40 + 1, [odd], []);
    const [run] = worker(writer, names, []);
    expect(run!.id).toBe(2 ** 40 + 1);
    expect(run!.inputs[0]!.shape).toEqual([-1, 2.5, 2 ** 40]);
  });

  it('round-trips many runs with inputs viewing one shared buffer', () => {
    const names = new FlatNames();
    const writer = new FlatRunWriter(names);
    const body = new Uint8Array(4096).map((_, i) => i * 7);
    for (let id = 0; id < 500; id++) {
      writer.add(id, [{ name: 'IN', datatype: 'UINT8', shape: [id % 9], data: body.subarray(id, id + (id % 9)) }], ['OUT']);
    }
    const runs = worker(writer, names, []);
    expect(runs).toHaveLength(500);
    runs.forEach((run, id) => expect([...(run.inputs[0] as Tensor).data]).toEqual([...body.subarray(id, id + (id % 9))]));
  });

  it('rejects object lists that do not match the buffer and unknown name indexes', () => {
    const names = new FlatNames();
    const writer = new FlatRunWriter(names);
    writer.add(1, [tensor('A', 'INT32', [1])], ['B']);
    writer.object();
    const flat = writer.finish()!;
    expect(() => decodeRuns(flat, ['A', 'B'], [])).toThrow(/more object runs/);
    expect(() => decodeRuns(flat.slice(0), ['A'], [{ id: 2, inputs: [], outputNames: [] }])).toThrow(/was not told/);
    expect(() => decodeRuns(new ArrayBuffer(8), [], [])).toThrow(/no header/);
  });
});
