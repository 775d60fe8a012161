/**
 * Direct region I/O, main-thread side (src/memory/region-io.ts, request-shared-memory.ts):
 * which inputs of an execution can be read in place by a worker, which outputs it may write in
 * place (once per request, never over an input), and how writeOutputs treats outputs already
 * written there.
 */
import { describe, expect, test } from 'vitest';
import { InternalError } from '../../../src/errors/index.js';
import type { Tensor } from '../../../src/infer/tensor.js';
import { planRegionIo, regionSpanOf } from '../../../src/memory/region-io.js';
import { spansOverlap, type RegionSpan } from '../../../src/memory/region-span.js';
import { RequestSharedMemory, SharedMemoryManager } from '../../../src/memory/index.js';
import { loadNativeAddon } from '../../../src/native/binding.js';
import { shmKeys } from '../../fixtures/shm-keys.js';

const addon = loadNativeAddon();
const shmKey = shmKeys('regionio');

/** A client object of `byteSize` bytes, registered as `name` (whole, or from `offset`). */
function region(m: SharedMemoryManager, name: string, byteSize = 4096, offset = 0): { key: string; bytes: Uint8Array } {
  const key = shmKey(name);
  const client = addon.SystemSharedMemoryRegion.create(key, byteSize);
  m.registerSystem(name, key, offset, byteSize - offset);
  return { key, bytes: new Uint8Array(client.buffer()) };
}

const tensor = (name: string, data: Uint8Array): Tensor => ({ name, datatype: 'UINT8', shape: [data.byteLength], data });

describe('planRegionIo', () => {
  test('inputs by span; outputs claimed once, by the request alone', () => {
    const m = new SharedMemoryManager({ allowClientShm: true });
    const { key } = region(m, 'r', 4096, 64);
    const shm = new RequestSharedMemory(m);
    const a = shm.input({ region: 'r', offset: 0, byteSize: 16 });
    const b = shm.input({ region: 'r', offset: 16, byteSize: 16 });
    shm.output('OUT', { region: 'r', offset: 1024, byteSize: 32 });
    shm.output('UNASKED', { region: 'r', offset: 2048, byteSize: 32 });

    const span = regionSpanOf(a)!;
    expect(span).toMatchObject({ offset: 0, byteSize: 16, key, objectOffset: 64 });
    expect(span.regionId).toBeGreaterThan(0);
    // Anything but the tagged view object itself is an ordinary tensor.
    expect(regionSpanOf(a.subarray(0))).toBeUndefined();
    expect(planRegionIo([tensor('x', new Uint8Array(4))], ['OUT'])).toBeUndefined();

    const io = planRegionIo([tensor('A', a), tensor('B', b)], ['OUT'])!;
    expect(io.inputs.map((s) => s?.objectOffset)).toEqual([64, 80]);
    expect([...io.outputs.keys()]).toEqual(['OUT']);
    const target = io.outputs.get('OUT')!;
    expect(target.span).toMatchObject({ offset: 1024, byteSize: 32, objectOffset: 1088 });
    expect(target.view.byteLength).toBe(32);

    // Once per request: a second execution of the same inputs writes no output in place.
    expect(planRegionIo([tensor('A', a), tensor('B', b)], ['OUT'])!.outputs.size).toBe(0);
    shm.release();
    m.close();
  });

  test('no outputs for an execution that mixes in other tensors or requests', () => {
    const m = new SharedMemoryManager({ allowClientShm: true });
    region(m, 'mix');
    const one = new RequestSharedMemory(m);
    const two = new RequestSharedMemory(m);
    const a = one.input({ region: 'mix', offset: 0, byteSize: 8 });
    const b = two.input({ region: 'mix', offset: 8, byteSize: 8 });
    one.output('OUT', { region: 'mix', offset: 64, byteSize: 8 });
    two.output('OUT', { region: 'mix', offset: 128, byteSize: 8 });

    const mixed = planRegionIo([tensor('A', a), tensor('S', new Uint8Array(8))], ['OUT'])!;
    expect(mixed.inputs[0]).toBeDefined();
    expect(mixed.inputs[1]).toBeUndefined();
    expect(mixed.outputs.size).toBe(0);
    expect(planRegionIo([tensor('A', a), tensor('B', b)], ['OUT'])!.outputs.size).toBe(0);
    // Neither plan claimed: the request alone still gets its outputs.
    expect(planRegionIo([tensor('A', a)], ['OUT'])!.outputs.size).toBe(1);
    one.release();
    two.release();
    m.close();
  });

  test('an output sharing bytes with an input or another output is not offered', () => {
    const m = new SharedMemoryManager({ allowClientShm: true });
    const { key } = region(m, 'ov');
    // A second registration of the same object maps the same bytes.
    m.registerSystem('ov2', key, 512, 1024);
    const shm = new RequestSharedMemory(m);
    const a = shm.input({ region: 'ov', offset: 0, byteSize: 64 });
    shm.output('SAME', { region: 'ov', offset: 32, byteSize: 64 });
    shm.output('ALIAS', { region: 'ov2', offset: 0, byteSize: 16 }); // object bytes 512..528
    shm.output('CLASH', { region: 'ov', offset: 520, byteSize: 8 }); // overlaps ALIAS
    shm.output('FREE', { region: 'ov', offset: 2048, byteSize: 64 });
    const io = planRegionIo([tensor('A', a)], ['SAME', 'ALIAS', 'CLASH', 'FREE'])!;
    expect([...io.outputs.keys()]).toEqual(['FREE']);
    shm.release();
    m.close();
  });

  test('spansOverlap compares bytes of the object', () => {
    const s = (key: string, objectOffset: number, byteSize: number): RegionSpan => ({ regionId: 1, offset: 0, byteSize, key, objectOffset });
    expect(spansOverlap(s('k', 0, 10), s('k', 9, 1))).toBe(true);
    expect(spansOverlap(s('k', 0, 10), s('k', 10, 1))).toBe(false);
    expect(spansOverlap(s('k', 0, 10), s('j', 0, 10))).toBe(false);
    expect(spansOverlap(s('k', 0, 10), s('k', 5, 0))).toBe(false);
  });
});

describe('RequestSharedMemory.writeOutputs with outputs written in place', () => {
  test('an output already at the start of its range is left as it is; others are copied', () => {
    const m = new SharedMemoryManager({ allowClientShm: true });
    const { bytes } = region(m, 'w');
    const shm = new RequestSharedMemory(m);
    const a = shm.input({ region: 'w', offset: 0, byteSize: 4 });
    shm.output('IN_PLACE', { region: 'w', offset: 64, byteSize: 8 });
    shm.output('COPIED', { region: 'w', offset: 128, byteSize: 8 });
    const target = planRegionIo([tensor('A', a)], ['IN_PLACE'])!.outputs.get('IN_PLACE')!;
    target.view.set([1, 2, 3, 4]);
    shm.writeOutputs([tensor('IN_PLACE', target.view.subarray(0, 4)), tensor('COPIED', Uint8Array.of(9, 8))]);
    expect(Array.from(bytes.subarray(64, 68))).toEqual([1, 2, 3, 4]);
    expect(Array.from(bytes.subarray(128, 130))).toEqual([9, 8]);
    // The size rule still holds for what is copied.
    expect(() => shm.writeOutputs([tensor('COPIED', new Uint8Array(9))])).toThrow(InternalError);
    shm.release();
    m.close();
  });

  test('an output that is a view of another output range is read before that range is written', () => {
    const m = new SharedMemoryManager({ allowClientShm: true });
    const { bytes } = region(m, 'alias');
    const shm = new RequestSharedMemory(m);
    const a = shm.input({ region: 'alias', offset: 0, byteSize: 4 });
    shm.output('OUT0', { region: 'alias', offset: 64, byteSize: 4 });
    shm.output('OUT1', { region: 'alias', offset: 128, byteSize: 4 });
    // As an ensemble could leave it: a step wrote OUT0's range in place, and that tensor is
    // answered as OUT1 while OUT0 gets another step's bytes.
    const out0 = planRegionIo([tensor('A', a)], ['OUT0'])!.outputs.get('OUT0')!.view;
    out0.set([5, 6, 7, 8]);
    shm.writeOutputs([tensor('OUT0', Uint8Array.of(1, 1, 1, 1)), tensor('OUT1', out0)]);
    expect(Array.from(bytes.subarray(64, 68))).toEqual([1, 1, 1, 1]);
    expect(Array.from(bytes.subarray(128, 132))).toEqual([5, 6, 7, 8]);
    shm.release();
    m.close();
  });
});
