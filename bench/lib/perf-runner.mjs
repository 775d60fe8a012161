// `infera perf` as a benchmark client (the built CLI, pinned to the client CPU), for the cells
// wrk and h2load cannot drive (system shared memory) and to compare its latencies with theirs.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './models.mjs';
import { cpuSeconds, run } from './proc.mjs';

const CLI = path.join(ROOT, 'bin', 'infera.js');

/**
 * Runs `infera perf` at one concurrency against a started infera server.
 * @param m an OCR model entry (bench/lib/models.mjs), or { name, shape } for another model
 * @param o { protocol: 'http'|'grpc', sharedMemory, concurrency, seconds (window), cpus, maxTrials }
 * @returns the row numbers plus the perf report: { rps, p50Us, p90Us, p99Us, meanUs, requests,
 *   serverCpuUsPerReq, serverCpuPercent, server: { avgBatch }, report }
 */
export async function perfCell(server, m, o) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'infera-bench-perf-'));
  const json = path.join(dir, 'perf.json');
  try {
    const args = [
      CLI, 'perf', '-m', m.name, '-i', o.protocol, '-u', o.protocol === 'grpc' ? server.grpcUrl : server.httpUrl,
      '--concurrency-range', String(o.concurrency), '-p', String(Math.round(o.seconds * 1000)), '-r', String(o.maxTrials ?? 6),
      '--json', json, '--max-threads', '1',
    ];
    // The request shape, for models with variable dimensions (without the batch dimension).
    if (m.input !== undefined) args.push('--shape', `${m.input}:${m.shape.slice(1).join(',')}`);
    if (o.sharedMemory) args.push('--shared-memory', 'system', '--output-shared-memory-size', String(2 * 1024 * 1024));
    const cpu0 = cpuSeconds(server.pid);
    const t0 = performance.now();
    await run(process.execPath, args, { cpus: o.cpus, timeoutMs: 600_000 });
    const wall = (performance.now() - t0) / 1000;
    const cpu1 = cpuSeconds(server.pid);
    const report = JSON.parse(readFileSync(json, 'utf8'));
    const level = report.levels[0];
    return {
      rps: level.throughput,
      p50Us: level.latencyUs.p50,
      p90Us: level.latencyUs.p90,
      p99Us: level.latencyUs.p99,
      meanUs: level.latencyUs.avg,
      requests: level.requestCount,
      seconds: level.durationS,
      stable: level.stable,
      // Over the whole perf run: every request it sent, against all the server CPU meanwhile.
      serverCpuUsPerReq: ((cpu1 - cpu0) * 1e6) / report.totals.clientRequests,
      serverCpuPercent: ((cpu1 - cpu0) / wall) * 100,
      clientCpuPercent: level.clientCpuPercent,
      server: level.server === undefined ? undefined : { avgBatch: level.server.avgBatchSize },
      report,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Whether the server registers system shared memory: registers (and unregisters) a small region.
 * @returns { available: boolean, reason?: string } with the server's message when it refuses
 */
export async function probeSharedMemory(httpUrl) {
  const name = `infera_bench_probe_${process.pid}`;
  const file = `/dev/shm/${name}`;
  try {
    writeFileSync(file, Buffer.alloc(64));
    const res = await fetch(`${httpUrl}/v2/systemsharedmemory/region/${name}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key: `/${name}`, offset: 0, byte_size: 64 }),
    });
    const text = await res.text();
    if (!res.ok) return { available: false, reason: `HTTP ${res.status}: ${text}` };
    await fetch(`${httpUrl}/v2/systemsharedmemory/region/${name}/unregister`, { method: 'POST' });
    return { available: true };
  } catch (err) {
    return { available: false, reason: err.message };
  } finally {
    rmSync(file, { force: true });
  }
}
