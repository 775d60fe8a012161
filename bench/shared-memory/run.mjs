#!/usr/bin/env node
// Shared-memory benchmark: latency and throughput of an identity FP32 model for 64 KiB, 1 MiB and
// 16 MiB tensors, sent as JSON, as binary HTTP, over gRPC and through system shared memory, side
// by side against one server. Writes bench/results/shared-memory.{json,md}.
//
//   npm run build && npm run build:native && node bench/shared-memory/run.mjs [--seconds <s>]
//
// Each (transport, size) cell first checks the returned bytes once, then measures latency with
// one request at a time (for --seconds, default 1.5, and at least MIN_ITERATIONS requests) and
// throughput with CONCURRENCY requests in flight (for --seconds, at least one request each).
// "End to end" includes the client's work: encoding, the copy of the input into the region for
// shared memory, decoding.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeIdentityModel } from './identity-model.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { HttpClient, GrpcClient } = await import(path.join(ROOT, 'lib', 'client', 'index.js'));
const { loadNativeAddon } = await import(path.join(ROOT, 'lib', 'native', 'binding.js'));

const args = process.argv.slice(2);
const SECONDS = Number(args[args.indexOf('--seconds') + 1] ?? '') || 1.5;
const SIZES = [64 * 1024, 1024 * 1024, 16 * 1024 * 1024];
const METHODS = ['json', 'binary', 'grpc', 'shm'];
const CONCURRENCY = 4;
const MIN_ITERATIONS = 2;
const MODEL = 'identity_fp32';

const repo = mkdtempSync(path.join(os.tmpdir(), 'infera-bench-shm-'));
writeIdentityModel(repo, MODEL);

function startServer() {
  const child = spawn(
    process.execPath,
    [
      path.join(ROOT, 'bin', 'infera.js'),
      '--model-repository', repo,
      '--http-port', '0', '--http-address', '127.0.0.1',
      '--grpc-port', '0', '--grpc-address', '127.0.0.1',
      '--allow-metrics=false',
      '--allow-client-shm=true',
      '--http-max-input-size', String(512 * 1024 * 1024),
      '--log-format', 'json',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    const ports = {};
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      out += chunk;
      for (const m of out.matchAll(/Started (HTTPService|GRPCInferenceService) at [^"]*:(\d+)"/g)) ports[m[1]] = Number(m[2]);
      if (ports.HTTPService !== undefined && ports.GRPCInferenceService !== undefined) resolve({ child, ...ports });
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code}):\n${out}`)));
  });
}

const server = await startServer();
const http = new HttpClient({ url: `http://127.0.0.1:${server.HTTPService}` });
const grpc = new GrpcClient({ url: `127.0.0.1:${server.GRPCInferenceService}` });
const addon = loadNativeAddon();
const base = `http://127.0.0.1:${server.HTTPService}`;

/** Per size: the client's regions (input and output) and their names on the server. */
const regions = new Map();
async function setUpRegions(bytes) {
  const key = `/infera_bench_${process.pid}_${bytes}`;
  const region = addon.SystemSharedMemoryRegion.create(key, 2 * bytes);
  const res = await fetch(`${base}/v2/systemsharedmemory/region/bench_${bytes}/register`, {
    method: 'POST',
    body: JSON.stringify({ key, offset: 0, byte_size: 2 * bytes }),
  });
  if (res.status !== 200) throw new Error(`register: ${res.status} ${await res.text()}`);
  const whole = new Uint8Array(region.buffer());
  regions.set(bytes, { key, region, input: whole.subarray(0, bytes), output: whole.subarray(bytes) });
}

function inputFloats(bytes) {
  const a = new Float32Array(bytes / 4);
  for (let i = 0; i < a.length; i++) a[i] = (i % 1000) * 0.5 - 7;
  return a;
}

/** One request; resolves with the output's bytes (a view, no copy, for shared memory). */
async function infer(method, data) {
  const count = data.length;
  if (method === 'shm') {
    const r = regions.get(data.byteLength);
    r.input.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    const name = `bench_${data.byteLength}`;
    const res = await fetch(`${base}/v2/models/${MODEL}/infer`, {
      method: 'POST',
      // As HttpClient sends for the other transports: fetch would otherwise ask for gzip, and
      // the server would compress every small JSON response.
      headers: { 'accept-encoding': 'identity' },
      body: JSON.stringify({
        inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [count], parameters: { shared_memory_region: name, shared_memory_byte_size: data.byteLength } }],
        outputs: [{ name: 'OUTPUT0', parameters: { shared_memory_region: name, shared_memory_offset: data.byteLength, shared_memory_byte_size: data.byteLength } }],
      }),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`shm infer: ${res.status} ${text}`);
    return r.output;
  }
  const req = {
    model: MODEL,
    inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [count], data }],
    binary: method !== 'json',
    binaryOutputs: method !== 'json',
  };
  const result = await (method === 'grpc' ? grpc.infer(req) : http.infer(req));
  const out = result.output('OUTPUT0').data;
  return out instanceof Float32Array ? new Uint8Array(out.buffer, out.byteOffset, out.byteLength) : new Uint8Array(Float32Array.from(out).buffer);
}

function check(method, data, out) {
  const want = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (out.byteLength !== want.byteLength || !Buffer.from(out.buffer, out.byteOffset, out.byteLength).equals(Buffer.from(want.buffer, want.byteOffset, want.byteLength))) {
    throw new Error(`${method} ${data.byteLength} bytes: the output differs from the input`);
  }
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function measure(method, data) {
  check(method, data, await infer(method, data));
  // Latency: one request at a time.
  const latencies = [];
  let start = performance.now();
  while (latencies.length < MIN_ITERATIONS || performance.now() - start < SECONDS * 1000) {
    const t0 = performance.now();
    await infer(method, data);
    latencies.push(performance.now() - t0);
    if (latencies.length >= 2000) break;
  }
  latencies.sort((a, b) => a - b);
  // Throughput: CONCURRENCY requests in flight (shared memory: one region per size, so the
  // concurrent requests share it, as a client reusing one region would; bytes are not checked).
  let done = 0;
  start = performance.now();
  const worker = async () => {
    do {
      await infer(method, data);
      done++;
    } while (performance.now() - start < SECONDS * 1000 && done < 4000);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - start) / 1000;
  const mean = latencies.reduce((a, b) => a + b, 0) / latencies.length;
  return {
    method,
    bytes: data.byteLength,
    latency_ms: { p50: percentile(latencies, 50), p90: percentile(latencies, 90), mean, samples: latencies.length },
    throughput_rps: done / seconds,
    throughput_mib_s: (done * data.byteLength) / seconds / (1024 * 1024),
    throughput_requests: done,
  };
}

const loadBefore = os.loadavg()[0];
const rows = [];
try {
  for (const bytes of SIZES) {
    await setUpRegions(bytes);
    const data = inputFloats(bytes);
    for (const method of METHODS) {
      const row = await measure(method, data);
      rows.push(row);
      console.log(
        `${method.padEnd(6)} ${label(bytes).padStart(7)}  p50 ${row.latency_ms.p50.toFixed(2)} ms  ` +
          `p90 ${row.latency_ms.p90.toFixed(2)} ms  ${row.throughput_rps.toFixed(1)} req/s (c=${CONCURRENCY})`,
      );
    }
  }
} finally {
  for (const r of regions.values()) {
    r.region.close();
    addon.SystemSharedMemoryRegion.unlink(r.key);
  }
  grpc.close?.();
  server.child.kill('SIGTERM');
  rmSync(repo, { recursive: true, force: true });
}

function label(bytes) {
  return bytes >= 1024 * 1024 ? `${bytes / (1024 * 1024)} MiB` : `${bytes / 1024} KiB`;
}

const find = (method, bytes) => rows.find((r) => r.method === method && r.bytes === bytes);
const big = SIZES.at(-1);
const ratio = {
  size_bytes: big,
  latency_p50_binary_over_shm: find('binary', big).latency_ms.p50 / find('shm', big).latency_ms.p50,
  throughput_shm_over_binary: find('shm', big).throughput_rps / find('binary', big).throughput_rps,
  goal: '>= 5x',
};
const result = {
  benchmark: 'shared-memory',
  date: new Date().toISOString(),
  machine: {
    cpus: os.availableParallelism(),
    cpu_model: os.cpus()[0]?.model,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    // Other work on the machine skews every number; the 1-minute load average says how much.
    load_average_1m: { before: loadBefore, after: os.loadavg()[0] },
  },
  model: `${MODEL} (ONNX Identity, FP32 [n], onnxruntime, 1 CPU instance)`,
  settings: { seconds_per_phase: SECONDS, concurrency: CONCURRENCY, min_iterations: MIN_ITERATIONS },
  rows,
  ratio_16mib: ratio,
};
const outDir = path.join(ROOT, 'bench', 'results');
mkdirSync(outDir, { recursive: true });
writeFileSync(path.join(outDir, 'shared-memory.json'), JSON.stringify(result, null, 2) + '\n');

const md = [
  '# Shared-memory benchmark',
  '',
  `${result.date}, ${result.machine.cpus} CPUs (${result.machine.cpu_model}), Node ${result.machine.node}, ` +
    `load average ${loadBefore.toFixed(1)} before / ${os.loadavg()[0].toFixed(1)} after. Model: ${result.model}.`,
  `Latency: one request at a time; throughput: ${CONCURRENCY} in flight; up to ${SECONDS} s per phase. Generated by \`node bench/shared-memory/run.mjs\`.`,
  '',
  '| tensor | transport | p50 ms | p90 ms | mean ms | req/s | MiB/s |',
  '|---|---|---:|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${label(r.bytes)} | ${r.method} | ${r.latency_ms.p50.toFixed(2)} | ${r.latency_ms.p90.toFixed(2)} | ` +
      `${r.latency_ms.mean.toFixed(2)} | ${r.throughput_rps.toFixed(1)} | ${r.throughput_mib_s.toFixed(0)} |`,
  ),
  '',
  `16 MiB, shared memory vs binary HTTP: ${ratio.latency_p50_binary_over_shm.toFixed(1)}x lower p50 latency, ` +
    `${ratio.throughput_shm_over_binary.toFixed(1)}x the throughput (goal ${ratio.goal}).`,
  '',
];
writeFileSync(path.join(outDir, 'shared-memory.md'), md.join('\n'));
console.log(md.at(-2));
