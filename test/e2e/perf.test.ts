/**
 * `infera perf` end to end: the real CLI measuring a real server on the trivial add/sub model,
 * a second or two per load level.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PerfReport } from '../../src/perf/perf-report.js';
import { addSubModel, writeModel } from '../fixtures/onnx-models.js';
import { CLI, startServer, type RunningServer } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-repo.js';

const SIMPLE_CONFIG = `
name: "simple"
backend: "onnxruntime"
max_batch_size: 8
input [ { name: "INPUT0" data_type: TYPE_INT32 dims: [ 16 ] }, { name: "INPUT1" data_type: TYPE_INT32 dims: [ 16 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_INT32 dims: [ 16 ] }, { name: "OUTPUT1" data_type: TYPE_INT32 dims: [ 16 ] } ]
instance_group [ { kind: KIND_CPU, count: 1 } ]
`;

function perf(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'perf', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

let server: RunningServer;
const repo = tempDir('infera-perf-');

beforeAll(async () => {
  writeModel(repo.dir, 'simple', addSubModel(), { config: SIMPLE_CONFIG });
  server = await startServer(['--model-repository', repo.dir]);
});

afterAll(async () => {
  await server?.stop();
  repo.cleanup();
});

describe('infera perf', () => {
  it('measures each concurrency over HTTP and reports what the server counted', async () => {
    const json = path.join(repo.dir, 'http.json');
    const csv = path.join(repo.dir, 'http.csv');
    const { code, stdout, stderr } = await perf(['-m', 'simple', '-u', server.url, '--concurrency-range', '1:2', '-p', '400', '-r', '3', '--json', json, '-f', csv]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('*** Measurement Settings ***');
    expect(stdout).toContain('Request concurrency: 1\n  Client:\n    Request count: ');
    expect(stdout).toContain('Request concurrency: 2');
    expect(stdout).toMatch(/Throughput: [\d.]+ infer\/sec/);
    expect(stdout).toMatch(/p99 latency: \d+ usec/);
    expect(stdout).toMatch(/Client CPU: [\d.]+% of one core/);
    expect(stdout).toContain('Inferences/Second vs. Client Average Batch Latency');

    const report = JSON.parse(readFileSync(json, 'utf8')) as PerfReport;
    expect(report).toMatchObject({ model: 'simple', protocol: 'http', mode: 'concurrency', batchSize: 1 });
    expect(report.levels.map((l) => l.concurrency)).toEqual([1, 2]);
    for (const l of report.levels) {
      expect(l.requestCount).toBeGreaterThan(0);
      expect(l.throughput).toBeGreaterThan(0);
      expect(l.windowCount).toBeGreaterThanOrEqual(3);
      const { p50, p90, p95, p99, min, max } = l.latencyUs as Record<string, number>;
      expect(min! <= p50! && p50! <= p90! && p90! <= p95! && p95! <= p99! && p99! <= max!).toBe(true);
    }
    expect(report.totals.clientErrors).toBe(0);
    if (report.serverStatisticsUnavailable === undefined) {
      // Every request the client completed, the server counted, and no other.
      expect(report.totals.serverRequests).toBe(report.totals.clientRequests);
      expect(stdout).toMatch(/Avg request latency: \d+ usec \(overhead \d+ usec \+ queue \d+ usec/);
      for (const l of report.levels) expect(l.server?.inferenceCount).toBeGreaterThan(0);
    } else {
      expect(stdout).toContain('Server: n/a');
    }
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines[0]!.startsWith('Concurrency,Inferences/Second,Client Send,')).toBe(true);
    expect(lines).toHaveLength(3);
  });

  it('runs the open-loop request-rate mode over gRPC', async () => {
    if (server.grpcUrl === undefined) return;
    const json = path.join(repo.dir, 'grpc.json');
    const { code, stdout, stderr } = await perf([
      '-m', 'simple', '-i', 'grpc', '-u', server.grpcUrl, '--request-rate-range', '200', '--request-distribution', 'poisson',
      '-p', '400', '-r', '3', '--json', json,
    ]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('Request Rate: 200 inference requests per seconds');
    const report = JSON.parse(readFileSync(json, 'utf8')) as PerfReport;
    expect(report).toMatchObject({ protocol: 'grpc', mode: 'request_rate', requestDistribution: 'poisson' });
    expect(report.levels[0]!.requestCount).toBeGreaterThan(0);
    expect(report.totals.clientErrors).toBe(0);
  });

  it('fails with a clear message for an unknown model or a shape that does not fit', async () => {
    const [unknown, badShape, batch] = await Promise.all([
      perf(['-m', 'nope', '-u', server.url, '-p', '200']),
      perf(['-m', 'simple', '-u', server.url, '--shape', 'INPUT9:16', '-p', '200']),
      perf(['-m', 'simple', '-u', server.url, '-b', '9', '-p', '200']),
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(`error: failed to get model metadata of 'nope' from ${server.url}`);
    expect(badShape.code).toBe(1);
    expect(badShape.stderr).toContain("--shape names 'INPUT9', which is not an input of model 'simple' (inputs: INPUT0, INPUT1)");
    expect(batch.code).toBe(1);
    expect(batch.stderr).toContain("-b 9 exceeds max_batch_size 8 of model 'simple'");
  });
});
