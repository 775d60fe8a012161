import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LevelReport, PerfReport } from '../../../src/perf/perf-report.js';
import { reportCsv, writeCsvReport, writeJsonReport } from '../../../src/perf/report-files.js';
import { formatLevel, formatSummary } from '../../../src/perf/report-text.js';
import { diffSnapshots, snapshotFromJson, summarizeServerStats } from '../../../src/perf/server-stats.js';

function level(concurrency: number, throughput: number, server = true): LevelReport {
  return {
    concurrency,
    stable: true,
    windowCount: 3,
    requestCount: 300,
    durationS: 3,
    throughput,
    latencyUs: { avg: 1200.4, std: 30, min: 900, max: 2000, p50: 1100, p90: 1500, p95: 1600, p99: 1900.6 },
    clientSendUs: 20,
    clientRecvUs: 10,
    responseWaitUs: 1170,
    clientCpuPercent: 12.34,
    server: server
      ? {
          requestCount: 300,
          inferenceCount: 300,
          executionCount: 150,
          avgBatchSize: 2,
          avgRequestUs: 1000,
          queueUs: 400,
          computeInputUs: 50,
          computeInferUs: 500,
          computeOutputUs: 20,
          overheadUs: 30,
        }
      : undefined,
  };
}

function report(levels: LevelReport[]): PerfReport {
  return {
    model: 'm',
    protocol: 'http',
    url: 'http://localhost:8000',
    streaming: false,
    sharedMemory: 'none',
    batchSize: 1,
    mode: 'concurrency',
    measurementIntervalMs: 5000,
    stabilityPercentage: 10,
    workerThreads: 2,
    clientCores: 2,
    levels,
    totals: { clientRequests: 900, clientErrors: 0, serverRequests: 900 },
  };
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'infera-perf-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('CSV report (perf_analyzer columns)', () => {
  it('has the server columns, sorted by throughput, whole µs', () => {
    const csv = reportCsv(report([level(4, 200.456), level(1, 100)])).trim().split('\n');
    expect(csv[0]).toBe(
      'Concurrency,Inferences/Second,Client Send,Network+Server Send/Recv,Server Queue,Server Compute Input,Server Compute Infer,Server Compute Output,Client Recv,p50 latency,p90 latency,p95 latency,p99 latency',
    );
    // Network+Server = response wait 1170 - (400 + 50 + 500 + 20).
    expect(csv[1]).toBe('1,100,20,200,400,50,500,20,10,1100,1500,1600,1901');
    expect(csv[2]!.startsWith('4,200.46,')).toBe(true);
  });

  it('drops the server columns without statistics; --verbose-csv adds averages and client CPU', () => {
    const csv = reportCsv(report([level(1, 100, false)]), true).trim().split('\n');
    expect(csv[0]).toBe(
      'Concurrency,Inferences/Second,Client Send,Client Recv,p50 latency,p90 latency,p95 latency,p99 latency,Avg latency,request/response,response wait,Client CPU %',
    );
    expect(csv[1]).toBe('1,100,20,10,1100,1500,1600,1901,1200,30,1170,12.3');
  });

  it('writes CSV and JSON files', () => {
    const r = report([level(1, 100)]);
    writeCsvReport(path.join(dir, 'r.csv'), r);
    writeJsonReport(path.join(dir, 'r.json'), r);
    expect(readFileSync(path.join(dir, 'r.csv'), 'utf8')).toBe(reportCsv(r));
    expect(JSON.parse(readFileSync(path.join(dir, 'r.json'), 'utf8'))).toEqual(r);
  });
});

describe('text report', () => {
  it('prints the client and server blocks as perf_analyzer does, or n/a', () => {
    const text = formatLevel(level(2, 123.456), { protocol: 'http', workerThreads: 2 });
    expect(text).toContain('Request concurrency: 2\n  Client:\n    Request count: 300\n    Throughput: 123.46 infer/sec');
    expect(text).toContain('    p99 latency: 1901 usec');
    expect(text).toContain('Avg HTTP time: 1200 usec (send/recv 30 usec + response wait 1170 usec)');
    expect(text).toContain('Client CPU: 12.3% of one core (2 load threads)');
    expect(text).toContain(
      'Avg request latency: 1000 usec (overhead 30 usec + queue 400 usec + compute input 50 usec + compute infer 500 usec + compute output 20 usec)',
    );
    const na = formatLevel(level(2, 1, false), { protocol: 'grpc', workerThreads: 1, serverStatisticsUnavailable: 'not supported' });
    expect(na).toContain('  Server: n/a (not supported)');
    expect(formatSummary(report([level(1, 100)]))).toBe(
      'Inferences/Second vs. Client Average Batch Latency\nConcurrency: 1, throughput: 100.00 infer/sec, latency 1200 usec',
    );
  });
});

describe('server-side split from statistics deltas', () => {
  const stats = (n: number) => ({
    model_stats: [
      {
        name: 'm',
        version: '1',
        inference_count: 2 * n,
        execution_count: n,
        inference_stats: {
          success: { count: n, ns: n * 1_000_000 },
          fail: { count: 0, ns: 0 },
          queue: { count: n, ns: n * 400_000 },
          compute_input: { count: n, ns: n * 50_000 },
          compute_infer: { count: n, ns: n * 500_000 },
          compute_output: { count: n, ns: n * 20_000 },
          cache_hit: { count: 0, ns: 0 },
          cache_miss: { count: 0, ns: 0 },
        },
      },
      { name: 'other', version: '1', inference_count: 999, execution_count: 999, inference_stats: {} },
    ],
  });

  it('averages per request over the difference, overhead as the rest', () => {
    const split = summarizeServerStats(diffSnapshots(snapshotFromJson(stats(10), 'm'), snapshotFromJson(stats(110), 'm')));
    expect(split).toMatchObject({
      requestCount: 100,
      inferenceCount: 200,
      executionCount: 100,
      avgBatchSize: 2,
      avgRequestUs: 1000,
      queueUs: 400,
      computeInputUs: 50,
      computeInferUs: 500,
      computeOutputUs: 20,
      overheadUs: 30,
    });
  });

  it('refuses a response without the model', () => {
    expect(() => snapshotFromJson(stats(1), 'x')).toThrow("the statistics response has no entry for model 'x'");
    expect(() => snapshotFromJson(stats(1), 'm', '2')).toThrow(/version 2/);
  });
});
