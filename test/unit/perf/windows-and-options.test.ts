import { describe, expect, it } from 'vitest';
import { defaultPerfOptions } from '../../../src/perf/perf-options.js';
import { normalizeUrl } from '../../../src/perf/server-url.js';
import { verifyPerfOptions } from '../../../src/perf/verify-options.js';
import { partitionRecords, summarizeWindow } from '../../../src/perf/window.js';

// Records: start, sent, first byte, end (ns).
const rec = (start: number, end: number) => [start, start + 10_000, end - 10_000, end];

describe('measurement windows', () => {
  it('counts a request in the window its response completes in', () => {
    const all = Float64Array.from([...rec(0, 500), ...rec(900, 1500), ...rec(1200, 2500), ...rec(2000, 3100)].map((v) => v * 1000));
    const { inWindow, later } = partitionRecords(all, 1_000_000, 3_000_000);
    expect(inWindow.length / 4).toBe(2);
    expect(later.length / 4).toBe(1);
    expect(later[3]).toBe(3_100_000);
  });

  it('derives throughput from requests × batch ÷ window, latencies in µs', () => {
    const records = Float64Array.from([...rec(0, 1_000_000), ...rec(0, 3_000_000)]);
    const w = summarizeWindow(records, 0, 500_000_000, 4, 0, 50_000);
    expect(w.requestCount).toBe(2);
    expect(w.throughput).toBe(16); // 2 requests × 4 / 0.5 s
    expect(w.latency.avgUs).toBe(2000);
    expect(w.avgSendUs).toBe(10);
    expect(w.avgRecvUs).toBe(10);
    expect(w.clientCpuPercent).toBeCloseTo(10); // 50 ms of CPU in 0.5 s
  });
});

describe('option checks (perf_analyzer messages)', () => {
  const base = defaultPerfOptions('m');
  it('accepts the defaults', () => expect(() => verifyPerfOptions(base)).not.toThrow());
  it('refuses what perf_analyzer refuses', () => {
    expect(() => verifyPerfOptions({ ...base, streaming: true })).toThrow('Streaming is only allowed with gRPC protocol and Triton C API.');
    expect(() => verifyPerfOptions({ ...base, percentile: 100 })).toThrow('Failed to parse --percentile.');
    expect(() => verifyPerfOptions({ ...base, concurrencyRange: { start: 1, end: 0, step: 1 } })).toThrow(
      'The end of the search range and the latency limit can not be both 0 (or 0.0) simultaneously',
    );
    expect(() => verifyPerfOptions({ ...base, protocol: 'grpc', inputTensorFormat: 'json' })).toThrow(/only valid with the HTTP protocol/);
    expect(() => verifyPerfOptions({ ...base, modelName: '' })).toThrow('Failed to parse -m (model name).');
  });
  it('normalizes -u per protocol with the default ports', () => {
    expect(normalizeUrl(undefined, 'http')).toBe('http://localhost:8000');
    expect(normalizeUrl(undefined, 'grpc')).toBe('localhost:8001');
    expect(normalizeUrl('127.0.0.1:9000/', 'http')).toBe('http://127.0.0.1:9000');
    expect(normalizeUrl('grpc://h:1', 'grpc')).toBe('h:1');
  });
});
