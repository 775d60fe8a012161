import { describe, expect, it } from 'vitest';
import { parseInputDataFile } from '../../../src/perf/input-data-file.js';
import { checkBatchSize, parseShapeFlags, resolveInputDims } from '../../../src/perf/input-shapes.js';
import type { ModelInfo } from '../../../src/perf/model-info.js';
import { syntheticInputs } from '../../../src/perf/synthetic-data.js';
import { toHalfBits } from '../../../src/perf/wire-values.js';

function model(over: Partial<ModelInfo> = {}): ModelInfo {
  return {
    name: 'simple',
    maxBatchSize: 8,
    inputs: [
      { name: 'INPUT0', datatype: 'INT32', shape: [-1, 4] },
      { name: 'INPUT1', datatype: 'FP32', shape: [-1, 2] },
    ],
    outputs: [{ name: 'OUTPUT0', datatype: 'INT32', shape: [-1, 4] }],
    sequence: false,
    dynamicBatching: false,
    decoupled: false,
    ...over,
  };
}

const int32s = (raw: Uint8Array) => Array.from(new Int32Array(raw.slice().buffer));
const floats = (raw: Uint8Array) => Array.from(new Float32Array(raw.slice().buffer));

describe('--shape and batch size', () => {
  it('parses NAME:d1,d2 (the last colon splits, so names may contain colons)', () => {
    expect(parseShapeFlags(['IMAGE:3,224,224', 'a:b:2'])).toEqual(
      new Map([
        ['IMAGE', [3, 224, 224]],
        ['a:b', [2]],
      ]),
    );
    expect(() => parseShapeFlags(['IMAGE'])).toThrow("--shape 'IMAGE': expected NAME:d1,d2,...");
    expect(() => parseShapeFlags(['x:3,a'])).toThrow("dimension 'a' is not a whole number");
  });

  it('fills variable dimensions and says which input needs a --shape', () => {
    const m = model({ inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3, -1, -1] }] });
    expect(resolveInputDims(m, new Map([['x', [3, 32, 64]]]))).toEqual(new Map([['x', [3, 32, 64]]]));
    expect(() => resolveInputDims(m, new Map())).toThrow(
      "input 'x' of model 'simple' has variable dimensions [3,-1,-1]; give its shape with --shape x:<d1,d2,...>",
    );
    expect(() => resolveInputDims(m, new Map([['x', [4, 32, 64]]]))).toThrow('dimension 0 is fixed at 3');
    expect(() => resolveInputDims(m, new Map([['y', [1]]]))).toThrow("--shape names 'y', which is not an input of model 'simple' (inputs: x)");
    expect(resolveInputDims(m, new Map(), false).get('x')).toEqual([3, -1, -1]);
  });

  it('applies perf_analyzer batch rules', () => {
    expect(() => checkBatchSize(model({ maxBatchSize: 0 }), 2)).toThrow('can not specify batch size > 1 as the model does not support batching');
    expect(() => checkBatchSize(model({ sequence: true }), 2)).toThrow('can not specify batch size > 1 when using a sequence model');
    expect(() => checkBatchSize(model(), 9)).toThrow('-b 9 exceeds max_batch_size 8');
    expect(() => checkBatchSize(model(), 8)).not.toThrow();
  });
});

describe('generated input data', () => {
  const dims = new Map([
    ['INPUT0', [4]],
    ['INPUT1', [2]],
  ]);

  it('zero: zero bytes of the full request shape, batch included', () => {
    const plan = syntheticInputs(model(), { mode: 'zero', batchSize: 3, dims });
    const [a, b] = plan.streams[0]![0]!;
    expect(a!.shape).toEqual([3, 4]);
    expect(a!.raw.byteLength).toBe(48);
    expect(a!.raw.every((v) => v === 0)).toBe(true);
    expect(b!.shape).toEqual([3, 2]);
  });

  it('random: valid values for each datatype, reproducible', () => {
    const m = model({
      inputs: [
        { name: 'f', datatype: 'FP32', shape: [-1, 64] },
        { name: 'h', datatype: 'FP16', shape: [-1, 64] },
        { name: 'b', datatype: 'BOOL', shape: [-1, 64] },
        { name: 's', datatype: 'BYTES', shape: [-1, 2] },
      ],
    });
    const d = new Map([
      ['f', [64]],
      ['h', [64]],
      ['b', [64]],
      ['s', [2]],
    ]);
    const [f, h, b, s] = syntheticInputs(m, { mode: 'random', batchSize: 1, dims: d, stringLength: 5 }).streams[0]![0]!;
    expect(floats(f!.raw).every((v) => v >= 0 && v < 1)).toBe(true);
    expect(new Set(floats(f!.raw)).size).toBeGreaterThan(32);
    expect(Array.from(new Uint16Array(h!.raw.slice().buffer)).every((bits) => (bits & 0x7c00) !== 0x7c00)).toBe(true);
    expect(b!.raw.every((v) => v === 0 || v === 1)).toBe(true);
    expect(s!.raw.byteLength).toBe(2 * (4 + 5));
    expect(syntheticInputs(m, { mode: 'random', batchSize: 1, dims: d }).streams[0]![0]![0]!.raw).toEqual(f!.raw);
  });

  it('converts floats to half precision bits', () => {
    expect(toHalfBits(1)).toBe(0x3c00);
    expect(toHalfBits(-2)).toBe(0xc000);
    expect(toHalfBits(0.5)).toBe(0x3800);
    expect(toHalfBits(65504)).toBe(0x7bff);
    expect(toHalfBits(1e6)).toBe(0x7c00);
  });
});

describe('perf_analyzer JSON input data files', () => {
  const dims = new Map([
    ['INPUT0', [4]],
    ['INPUT1', [2]],
  ]);
  const opts = { batchSize: 1, dims };

  it('reads flat values and base64 entries, one step per entry', () => {
    const b64 = Buffer.from(new Float32Array([0.5, 1.5]).buffer).toString('base64');
    const text = JSON.stringify({
      data: [
        { INPUT0: [1, 2, 3, 4], INPUT1: [0.25, 0.75] },
        { INPUT0: [[5, 6], [7, 8]], INPUT1: { b64 } },
      ],
    });
    const plan = parseInputDataFile(text, 'd.json', model(), opts);
    expect(plan.streams).toHaveLength(1);
    const [s0, s1] = plan.streams[0]!;
    expect(int32s(s0![0]!.raw)).toEqual([1, 2, 3, 4]);
    expect(s0![0]!.shape).toEqual([1, 4]);
    expect(floats(s1![1]!.raw)).toEqual([0.5, 1.5]);
    expect(int32s(s1![0]!.raw)).toEqual([5, 6, 7, 8]);
  });

  it('batches consecutive entries (wrapping) with -b', () => {
    const text = JSON.stringify({ data: [0, 1, 2].map((i) => ({ INPUT0: [i, i, i, i], INPUT1: [i, i] })) });
    const plan = parseInputDataFile(text, 'd.json', model(), { ...opts, batchSize: 2 });
    const steps = plan.streams[0]!;
    expect(steps).toHaveLength(3);
    expect(steps[2]![0]!.shape).toEqual([2, 4]);
    expect(int32s(steps[2]![0]!.raw)).toEqual([2, 2, 2, 2, 0, 0, 0, 0]);
  });

  it('takes shapes of variable-size inputs from "content"/"shape", and streams for sequences', () => {
    const m = model({ maxBatchSize: 0, inputs: [{ name: 'INPUT', datatype: 'INT32', shape: [-1, -1] }] });
    const text = JSON.stringify({
      data: [
        [{ INPUT: { content: [1, 2, 3, 4, 5, 6], shape: [2, 3] } }, { INPUT: { content: [1, 2], shape: [1, 2] } }],
        [{ INPUT: { content: [9], shape: [1, 1] } }],
      ],
    });
    const plan = parseInputDataFile(text, 'seq.json', m, { batchSize: 1, dims: new Map([['INPUT', [-1, -1]]]) });
    expect(plan.streams.map((s) => s.length)).toEqual([2, 1]);
    expect(plan.streams[0]![0]![0]!.shape).toEqual([2, 3]);
    expect(plan.streams[1]![0]![0]!.shape).toEqual([1, 1]);
  });

  it('reads BYTES as strings or length-prefixed base64', () => {
    const m = model({ inputs: [{ name: 'T', datatype: 'BYTES', shape: [-1, 2] }] });
    const prefixed = Buffer.concat([Buffer.from([2, 0, 0, 0]), Buffer.from('hi'), Buffer.from([0, 0, 0, 0])]);
    const text = JSON.stringify({ data: [{ T: ['ab', 'c'] }, { T: { b64: prefixed.toString('base64') } }] });
    const plan = parseInputDataFile(text, 't.json', m, { batchSize: 1, dims: new Map([['T', [2]]]) });
    expect(Buffer.from(plan.streams[0]![0]![0]!.raw)).toEqual(Buffer.from([2, 0, 0, 0, 97, 98, 1, 0, 0, 0, 99]));
    expect(Buffer.from(plan.streams[0]![1]![0]!.raw)).toEqual(prefixed);
  });

  it('names the file, entry and input of every mistake', () => {
    const parse = (data: unknown, m = model(), o = opts) => () => parseInputDataFile(JSON.stringify(data), 'd.json', m, o);
    expect(() => parseInputDataFile('{', 'd.json', model(), opts)).toThrow("input data file 'd.json' is not JSON");
    expect(parse({ nodata: [] })).toThrow('must be an object with a non-empty "data" array');
    expect(parse({ data: [{ INPUT0: [1, 2, 3, 4] }] })).toThrow("input data file 'd.json', entry 0 has no data for input 'INPUT1' of model 'simple'");
    expect(parse({ data: [{ INPUT0: [1, 2, 3, 4], INPUT1: [1, 2], X: [1] }] })).toThrow(
      "entry 0 names 'X', which is not an input of model 'simple' (inputs: INPUT0, INPUT1)",
    );
    expect(parse({ data: [{ INPUT0: [1, 2, 3], INPUT1: [1, 2] }] })).toThrow("entry 0, input 'INPUT0': shape [4] needs 4 elements, the data has 3");
    expect(parse({ data: [{ INPUT0: [1, 2, 3, 4.5], INPUT1: [1, 2] }] })).toThrow('INT32 data must be whole numbers, got 4.5');
    expect(parse({ data: [{ INPUT0: ['a', 2, 3, 4], INPUT1: [1, 2] }] })).toThrow('INT32 data must be numbers, got "a"');
    expect(parse({ data: [{ INPUT0: { b64: 'AAAA' }, INPUT1: [1, 2] }] })).toThrow('3 bytes is not a whole number of INT32 elements');
    expect(parse({ data: [[{ INPUT0: [1, 2, 3, 4], INPUT1: [1, 2] }], { INPUT0: [1] }] })).toThrow('mixes entries and streams');
    const variable = model({ inputs: [{ name: 'V', datatype: 'FP32', shape: [-1, -1] }] });
    expect(parse({ data: [{ V: [1, 2] }] }, variable, { batchSize: 1, dims: new Map([['V', [-1]]]) })).toThrow(
      'the input has variable dimensions [-1]; give "shape" in the entry or --shape V:<d1,d2,...>',
    );
  });
});
