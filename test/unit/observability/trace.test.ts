import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { traceOptionsFromFlags, parseTraceConfigOption } from '../../../src/observability/trace-config.js';
import { DEFAULT_TRACE_OPTIONS, TraceManager } from '../../../src/observability/trace-manager.js';
import { TRACE_TENSORS, TRACE_TIMESTAMPS } from '../../../src/observability/trace-setting.js';
import { formatLikeOstream, tensorDataText } from '../../../src/observability/trace-tensors.js';
import { traceChangeFromUpdate } from '../../../src/observability/trace-update.js';
import { traceUpdateFromJson } from '../../../src/protocol/http/trace-handlers.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function traceFile(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'infera-trace-'));
  dirs.push(dir);
  return path.join(dir, 'trace.json');
}
const timing = { inputNs: 10, inferNs: 100, outputNs: 20 };

describe('TraceManager settings', () => {
  test("defaults match Triton's, in the extension's shape", () => {
    expect(new TraceManager().settingsJson()).toEqual({
      trace_level: ['OFF'],
      trace_rate: '1000',
      trace_count: '-1',
      log_frequency: '0',
      trace_file: '',
      trace_mode: 'triton',
    });
  });

  test('turning tracing on needs a file; rate 0 and count 0 are refused unless OFF', () => {
    const m = new TraceManager();
    expect(() => m.update('', traceChangeFromUpdate({ trace_level: ['TIMESTAMPS'] }))).toThrow(
      'Attempting to set invalid trace setting :trace file name is not given',
    );
    const f = new TraceManager({ ...DEFAULT_TRACE_OPTIONS, file: traceFile() });
    expect(() => f.update('', traceChangeFromUpdate({ trace_level: ['TIMESTAMPS'], trace_rate: '0' }))).toThrow(
      'Attempting to set invalid trace setting :sample rate must be non-zero',
    );
    expect(() => f.update('', traceChangeFromUpdate({ trace_level: ['TIMESTAMPS'], trace_count: '0' }))).toThrow(
      'Attempting to set invalid trace setting :',
    );
    f.update('', traceChangeFromUpdate({ trace_rate: '0' }));
    expect(f.settingsJson().trace_rate).toBe('0');
  });

  test('a model setting holds what it was given and mirrors the rest; null reverts a field', () => {
    const m = new TraceManager({ ...DEFAULT_TRACE_OPTIONS, file: traceFile() });
    m.update('m', traceChangeFromUpdate({ trace_rate: '5' }));
    m.update('', traceChangeFromUpdate({ trace_level: ['TIMESTAMPS', 'TENSORS'], trace_count: '7' }));
    expect(m.settingsJson('m')).toMatchObject({ trace_level: ['TIMESTAMPS', 'TENSORS'], trace_rate: '5', trace_count: '7' });
    expect(m.settingsJson()).toMatchObject({ trace_rate: '1000', trace_count: '7' });
    m.update('m', traceChangeFromUpdate({ trace_rate: null }));
    expect(m.settingsJson('m').trace_rate).toBe('1000');
    m.update('', traceChangeFromUpdate({ trace_level: null, trace_count: null }));
    expect(m.settingsJson()).toMatchObject({ trace_level: ['OFF'], trace_count: '-1' });
  });

  test('every rate-th request is sampled while the count lasts', () => {
    const m = new TraceManager({ level: TRACE_TIMESTAMPS, rate: 2, count: 2, logFrequency: 0, file: traceFile() });
    const sampled = Array.from({ length: 8 }, () => m.sample('m', 1) !== undefined);
    expect(sampled).toEqual([false, true, false, true, false, false, false, false]);
    expect(m.settingsJson().trace_count).toBe('0');
  });
});

describe('trace files', () => {
  test('log_frequency 1 writes one <file>.<n> per trace, in Triton\'s trace JSON', async () => {
    const file = traceFile();
    const m = new TraceManager({ level: TRACE_TIMESTAMPS, rate: 1, count: -1, logFrequency: 1, file });
    const t = m.sample('simple', 3, 'req-1')!;
    t.started(1_000, []);
    t.succeeded(50, timing, 2_000, []);
    const u = m.sample('simple', 3)!;
    u.started(3_000, []);
    u.failed(3_500);
    await m.close();
    const first = JSON.parse(readFileSync(`${file}.0`, 'utf8'));
    expect(first).toEqual([
      { id: 1, model_name: 'simple', model_version: 3, request_id: 'req-1' },
      { id: 1, timestamps: [{ name: 'REQUEST_START', ns: 1_000 }] },
      { id: 1, timestamps: [{ name: 'QUEUE_START', ns: 2_000 - 130 - 50 }] },
      { id: 1, timestamps: [{ name: 'COMPUTE_START', ns: 2_000 - 130 }] },
      { id: 1, timestamps: [{ name: 'COMPUTE_INPUT_END', ns: 2_000 - 120 }] },
      { id: 1, timestamps: [{ name: 'COMPUTE_OUTPUT_START', ns: 2_000 - 20 }] },
      { id: 1, timestamps: [{ name: 'COMPUTE_END', ns: 2_000 }] },
      { id: 1, timestamps: [{ name: 'REQUEST_END', ns: 2_000 }] },
    ]);
    expect(JSON.parse(readFileSync(`${file}.1`, 'utf8'))).toEqual([
      { id: 2, model_name: 'simple', model_version: 3 },
      { id: 2, timestamps: [{ name: 'REQUEST_START', ns: 3_000 }] },
      { id: 2, timestamps: [{ name: 'REQUEST_END', ns: 3_500 }] },
    ]);
    expect(existsSync(file)).toBe(false);
  });

  test('log_frequency 0 collects in memory and writes <file> as one array when the server stops', async () => {
    const file = traceFile();
    const m = new TraceManager({ level: TRACE_TIMESTAMPS, rate: 1, count: -1, logFrequency: 0, file });
    for (let i = 0; i < 3; i++) {
      const t = m.sample('m', 1)!;
      t.started(i, []);
      t.failed(i + 1);
    }
    expect(existsSync(file)).toBe(false);
    await m.close();
    const all = JSON.parse(readFileSync(file, 'utf8')) as { id: number }[];
    expect(new Set(all.map((o) => o.id))).toEqual(new Set([1, 2, 3]));
  });

  test('a used-up count writes an indexed file', async () => {
    const file = traceFile();
    const m = new TraceManager({ level: TRACE_TIMESTAMPS, rate: 1, count: 1, logFrequency: 0, file });
    const t = m.sample('m', 1)!;
    t.started(1, []);
    t.failed(2);
    expect(m.sample('m', 1)).toBeUndefined();
    await m.close();
    expect(JSON.parse(readFileSync(`${file}.0`, 'utf8'))).toHaveLength(3);
  });

  test('a replaced setting writes what it holds once its running traces end', async () => {
    const file = traceFile();
    const m = new TraceManager({ level: TRACE_TIMESTAMPS, rate: 1, count: -1, logFrequency: 0, file });
    const done = m.sample('m', 1)!;
    done.started(1, []);
    done.failed(2);
    const running = m.sample('m', 1)!;
    running.started(3, []);
    m.update('', traceChangeFromUpdate({ trace_rate: '5' }));
    await new Promise((r) => setTimeout(r, 20));
    expect(existsSync(file)).toBe(false);
    running.failed(4);
    await m.close();
    const main = JSON.parse(readFileSync(file, 'utf8')) as { id: number }[];
    expect(new Set(main.map((o) => o.id))).toEqual(new Set([1, 2]));
  });

  test('TENSORS records inputs and outputs', async () => {
    const file = traceFile();
    const m = new TraceManager({ level: TRACE_TENSORS, rate: 1, count: -1, logFrequency: 1, file });
    const t = m.sample('m', 1)!;
    const input = { name: 'INPUT0', datatype: 'INT32' as const, shape: [1, 3], data: new Uint8Array(Int32Array.of(1, -2, 3).buffer) };
    t.started(1, [input]);
    t.succeeded(0, timing, 200, [{ ...input, name: 'OUTPUT0' }]);
    await m.close();
    expect(JSON.parse(readFileSync(`${file}.0`, 'utf8'))).toEqual([
      { id: 1, activity: 'TENSOR_QUEUE_INPUT', tensor: { name: 'INPUT0', data: '1,-2,3', shape: '1,3', dtype: 'INT32' } },
      { id: 1, activity: 'TENSOR_BACKEND_OUTPUT', tensor: { name: 'OUTPUT0', data: '1,-2,3', shape: '1,3', dtype: 'INT32' } },
    ]);
  });
});

describe('tensor data text', () => {
  test('floats print as C++ ostreams do (%g, 6 digits)', () => {
    expect([0.1, 1, -2.5, 1e-5, 123456, 1234567, 0.000123456789, NaN, Infinity, 0].map(formatLikeOstream)).toEqual([
      '0.1',
      '1',
      '-2.5',
      '1e-05',
      '123456',
      '1.23457e+06',
      '0.000123457',
      'nan',
      'inf',
      '0',
    ]);
  });

  test('BOOL as 1/0, BYTES quoted, FP16 empty', () => {
    expect(tensorDataText({ name: 'b', datatype: 'BOOL', shape: [3], data: Uint8Array.of(1, 0, 2) })).toBe('1,0,1');
    const bytes = Uint8Array.of(2, 0, 0, 0, 104, 105, 0, 0, 0, 0);
    expect(tensorDataText({ name: 's', datatype: 'BYTES', shape: [2], data: bytes })).toBe('"hi",""');
    expect(tensorDataText({ name: 'h', datatype: 'FP16', shape: [1], data: Uint8Array.of(0, 60) })).toBe('');
  });
});

describe('trace setting updates', () => {
  test.each([
    [{ trace_file: 'x' }, 'trace file location can not be updated through network protocol'],
    [{ trace_file: null }, 'trace file location can not be updated through network protocol'],
    [{ trace_level: ['OFF', 'TIMESTAMPS'] }, "Expect only one trace level 'OFF' is specified"],
    [{ trace_rate: 'abc' }, "Unable to parse 'trace_rate', got: abc"],
    [{ trace_rate: '99999999999' }, "Unable to parse 'trace_rate', value is out of range [ 0, 4294967295 ], got: 99999999999"],
    [{ log_frequency: 'x' }, "Unable to parse 'log_frequency', got: x"],
    [{ trace_count: '-2' }, "Unable to parse 'trace_count'. Expecting value >= -1, got:-2"],
    [{ trace_count: '3000000000' }, "Unable to parse 'trace_count', value is out of range [ -1, 2147483647 ], got: 3000000000"],
    [{ trace_rate: ['1', '2'] }, "expect only 1 value for 'trace_rate'"],
  ])('%j → %s', (update, message) => {
    expect(() => traceChangeFromUpdate(update)).toThrow(message);
  });

  test('values are read as C++ stoi reads them; unknown levels are ignored', () => {
    expect(traceChangeFromUpdate({ trace_rate: ' 12abc', trace_count: '-1', log_frequency: '-1' })).toMatchObject({
      rate: 12,
      count: -1,
      logFrequency: 4294967295,
    });
    expect(traceChangeFromUpdate({ trace_level: ['FOO'] }).level).toBeUndefined();
    expect(traceChangeFromUpdate({ trace_level: ['TENSORS', 'TIMESTAMPS'] }).level).toBe(TRACE_TENSORS | TRACE_TIMESTAMPS);
    expect(traceChangeFromUpdate({ trace_level: ['OFF'] }).level).toBe(0);
  });

  test('HTTP JSON types are checked first', () => {
    expect(() => traceUpdateFromJson({ trace_level: 'TIMESTAMPS' })).toThrow('attempt to access JSON non-array as array');
    expect(() => traceUpdateFromJson({ trace_level: [1] })).toThrow('attempt to access JSON non-string as string');
    expect(() => traceUpdateFromJson({ trace_rate: 5 })).toThrow('attempt to access JSON non-string as string');
    expect(traceUpdateFromJson({ trace_rate: null, trace_count: '3', other: 1 })).toEqual({ trace_rate: null, trace_count: '3' });
  });
});

describe('--trace-config and the deprecated flags', () => {
  test('parses modes, settings and Triton\'s format errors', () => {
    expect(parseTraceConfigOption('triton,file=/tmp/t.json')).toEqual(['triton', 'file', '/tmp/t.json']);
    expect(parseTraceConfigOption('level=TIMESTAMPS')).toEqual(['', 'level', 'TIMESTAMPS']);
    expect(() => parseTraceConfigOption('rate')).toThrow("--trace-config option format is '<trace mode>,<setting>=<value>'. Got rate");
    expect(() => parseTraceConfigOption(',rate=1')).toThrow('No trace mode specified.');
    expect(() => parseTraceConfigOption('foo,rate=1')).toThrow('invalid value for trace mode option: foo');
    expect(() => parseTraceConfigOption('opentelemetry,url=x')).toThrow('not supported by infera');
  });

  test('combines flags as tritonserver does', () => {
    const warnings: string[] = [];
    const o = traceOptionsFromFlags(
      {
        traceConfig: ['triton,file=/t.json', 'level=TIMESTAMPS', 'level=TENSORS', 'rate=1', 'count=5', 'triton,log-frequency=2'],
        traceRate: '10',
      },
      (w) => warnings.push(w),
    );
    expect(o).toEqual({ file: '/t.json', level: TRACE_TIMESTAMPS | TRACE_TENSORS, rate: 1, count: 5, logFrequency: 2 });
    expect(warnings).toEqual([
      "Warning: '--trace-rate' has been deprecated and will be removed in future releases. Please use '--trace-config rate=<rate value> instead.",
      "Warning: Overriding deprecated '--trace-rate' in favor of provided rate value in --trace-config!",
    ]);
    expect(traceOptionsFromFlags({ traceLevel: ['TIMESTAMPS'], traceConfig: ['level=OFF'] }).level).toBe(0);
    expect(traceOptionsFromFlags({ traceFile: '/a', traceLevel: ['max'] })).toMatchObject({ file: '/a', level: TRACE_TIMESTAMPS });
    expect(() => traceOptionsFromFlags({ traceConfig: ['rate=x'] })).toThrow('Bad option: "--trace-config rate".\nInvalid option value. Got x');
    expect(() => traceOptionsFromFlags({ traceConfig: ['level=loud'] })).toThrow('invalid value for trace level option: loud');
  });
});
