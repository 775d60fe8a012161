#!/usr/bin/env node
// Zero-downtime reloads: the embedded engine in explicit mode serves Triton's `simple` model
// (1 instance) to C concurrent in-process clients, first undisturbed (baseline), then while
// the model is reloaded back to back with alternating config overrides (each reload starts a
// new instance in the background, swaps it in when READY and drains the old one). Reports
// request latency p50/p99/max in both phases, failed requests, reloads done and the median
// reload time; writes bench/results/model-reload.{json,md}.
//
//   npm run build && node bench/model-control/reload.mjs [--duration 5] [--clients 4]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeSimpleModel } from '../lib/simple-model.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { InferenceServer } = await import(path.join(root, 'lib', 'index.js'));
const { values } = parseArgs({ options: { duration: { type: 'string', default: '5' }, clients: { type: 'string', default: '4' } } });
const DURATION_MS = Number(values.duration) * 1000;
const CLIENTS = Number(values.clients);

const tmp = mkdtempSync(path.join(os.tmpdir(), 'infera-bench-reload-'));
writeSimpleModel(tmp);
writeFileSync(path.join(tmp, 'simple', 'config.pbtxt'), 'backend: "onnxruntime"\nmax_batch_size: 8\ninstance_group [ { kind: KIND_CPU count: 1 } ]\n');
const configFor = (maxBatch) => JSON.stringify({ backend: 'onnxruntime', max_batch_size: maxBatch, instance_group: [{ kind: 'KIND_CPU', count: 1 }] });

const server = await InferenceServer.create({ modelRepositories: [tmp], modelControlMode: 'explicit', loadModels: ['simple'], cpuCount: 1 });
const data = new Uint8Array(Int32Array.from({ length: 16 }, (_, i) => i).buffer);
const request = () => ({
  modelName: 'simple',
  inputs: [
    { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: data.slice() },
    { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: data.slice() },
  ],
});

async function phase(reloading) {
  const latencies = [];
  let failures = 0;
  const reloadMs = [];
  const end = Date.now() + DURATION_MS;
  const client = async () => {
    while (Date.now() < end) {
      const t0 = process.hrtime.bigint();
      try {
        await server.infer(request());
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      } catch {
        failures++;
      }
    }
  };
  const reloader = async () => {
    for (let i = 0; reloading && Date.now() < end; i++) {
      const t0 = process.hrtime.bigint();
      await server.loadModel('simple', { config: configFor(i % 2 === 0 ? 4 : 8) });
      reloadMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  };
  await Promise.all([...Array.from({ length: CLIENTS }, client), reloader()]);
  latencies.sort((a, b) => a - b);
  const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  reloadMs.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    failures,
    p50_ms: q(0.5),
    p99_ms: q(0.99),
    max_ms: latencies.at(-1) ?? NaN,
    reloads: reloadMs.length,
    reload_median_ms: reloadMs[Math.floor(reloadMs.length / 2)] ?? null,
  };
}

await phase(false); // warm-up
const baseline = await phase(false);
const reloading = await phase(true);
await server.close();
rmSync(tmp, { recursive: true, force: true });

const result = { date: new Date().toISOString(), node: process.version, cpus: os.availableParallelism(), duration_s: DURATION_MS / 1000, clients: CLIENTS, baseline, reloading };
const fmt = (x) => (typeof x === 'number' ? (Number.isInteger(x) ? String(x) : x.toFixed(2)) : String(x));
const row = (name, r) => `| ${name} | ${r.requests} | ${r.failures} | ${fmt(r.p50_ms)} | ${fmt(r.p99_ms)} | ${fmt(r.max_ms)} | ${r.reloads} | ${fmt(r.reload_median_ms)} |`;
const md = [
  `# Model reload under load (embedded engine, explicit mode, \`simple\`, 1 instance, ${CLIENTS} clients)`,
  '',
  `${result.date}, node ${result.node}, ${result.cpus} CPUs, ${result.duration_s} s per phase.`,
  '',
  '| phase | requests | failed | p50 ms | p99 ms | max ms | reloads | reload median ms |',
  '|---|---|---|---|---|---|---|---|',
  row('baseline', baseline),
  row('reloading back to back', reloading),
  '',
].join('\n');
mkdirSync(path.join(root, 'bench', 'results'), { recursive: true });
writeFileSync(path.join(root, 'bench', 'results', 'model-reload.json'), `${JSON.stringify(result, null, 2)}\n`);
writeFileSync(path.join(root, 'bench', 'results', 'model-reload.md'), md);
console.log(md);
