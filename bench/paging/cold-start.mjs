#!/usr/bin/env node
// Model paging: cold-start latency of a paged-in model against a warm one. The embedded
// engine in explicit mode with --model-memory-budget serves the three PP-OCR models of the
// example repository (placed by scripts/place-example-models.mjs) one request at a time:
//   warm     — the model is loaded: the request's own latency;
//   cold     — the model is not loaded and fits: the request pages it in, then runs;
//   cold+evict — the budget holds one model: the request first evicts the loaded one.
// Reports median / min / max per model and phase, the page-in load time the pager measured,
// and the memory it accounted; writes bench/results/paging.{json,md}.
//
//   npm run build && node bench/paging/cold-start.mjs [--samples 5] [--warm 20]
//
// Runs itself again with MALLOC_MMAP_THRESHOLD_=131072 when unset (README "Model paging":
// evicted models' memory leaves the RSS, so each load's RSS delta is its own).
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

if (process.env.MALLOC_MMAP_THRESHOLD_ === undefined) {
  const r = spawnSync(process.execPath, process.argv.slice(1), { stdio: 'inherit', env: { ...process.env, MALLOC_MMAP_THRESHOLD_: '131072' } });
  process.exit(r.status ?? 1);
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { InferenceServer } = await import(path.join(root, 'lib', 'index.js'));
const { values } = parseArgs({ options: { samples: { type: 'string', default: '5' }, warm: { type: 'string', default: '20' } } });
const SAMPLES = Number(values.samples);
const WARM = Number(values.warm);
const repo = path.join(root, 'examples', 'model_repository');

const MODELS = [
  { name: 'text_detection', shape: [1, 3, 64, 96] },
  { name: 'text_direction', shape: [1, 3, 48, 192] },
  { name: 'text_recognition', shape: [1, 3, 48, 160] },
];
const request = (m) => {
  const n = m.shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = ((i * 7919) % 256) / 255;
  return { modelName: m.name, inputs: [{ name: 'x', datatype: 'FP32', shape: m.shape, data: new Uint8Array(data.buffer) }] };
};
const timed = async (server, m) => {
  const t0 = process.hrtime.bigint();
  await server.infer(request(m));
  return Number(process.hrtime.bigint() - t0) / 1e6;
};
const summary = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median_ms: s[Math.floor(s.length / 2)], min_ms: s[0], max_ms: s.at(-1), n: s.length };
};
const loadMs = (server, name) => server.repositoryIndex().find((r) => r.name === name && r.state === 'READY')?.paging?.load_ms;

// Phase 1: a budget that holds every model; cold = after an explicit unload.
const roomy = await InferenceServer.create({ modelRepositories: [repo], modelControlMode: 'explicit', modelMemoryBudgetBytes: 2 ** 31 });
// ONNX Runtime's one-time start is not a page-in cost: take it before measuring.
await timed(roomy, MODELS[0]);
await roomy.unloadModel(MODELS[0].name);
const rows = [];
for (const m of MODELS) {
  const cold = [];
  const loads = [];
  for (let i = 0; i < SAMPLES; i++) {
    cold.push(await timed(roomy, m));
    loads.push(loadMs(roomy, m.name));
    if (i < SAMPLES - 1) await roomy.unloadModel(m.name);
  }
  const warm = [];
  for (let i = 0; i < WARM; i++) warm.push(await timed(roomy, m));
  const bytes = roomy.repositoryIndex().find((r) => r.name === m.name && r.state === 'READY')?.paging?.memory_bytes;
  rows.push({ model: m.name, warm: summary(warm), cold: summary(cold), load: summary(loads), memory_bytes: bytes });
}
await roomy.close();

// Phase 2: a budget that holds one model at a time: each switch evicts, then pages in.
const sizes = Object.fromEntries(rows.map((r) => [r.model, r.memory_bytes]));
const tight = await InferenceServer.create({
  modelRepositories: [repo],
  modelControlMode: 'explicit',
  modelMemoryBudgetBytes: Math.max(...Object.values(sizes)) + Math.round(0.5 * Math.min(...Object.values(sizes))),
});
await timed(tight, MODELS[0]);
const evicting = new Map(MODELS.map((m) => [m.name, []]));
for (let i = 0; i < SAMPLES; i++) {
  for (const m of [MODELS[1], MODELS[2], MODELS[0]]) evicting.get(m.name).push(await timed(tight, m));
}
await tight.close();
for (const r of rows) r.cold_evicting = summary(evicting.get(r.model));

const result = { date: new Date().toISOString(), node: process.version, cpus: os.availableParallelism(), load_avg: os.loadavg()[0], samples: SAMPLES, warm_requests: WARM, rows };
const f = (x) => (x === undefined ? '-' : x.toFixed(1));
const md = [
  '# Model paging: cold start of a paged-in model against a warm one (embedded engine, PP-OCR models, 1 instance each)',
  '',
  `${result.date}, node ${result.node}, ${result.cpus} CPUs (1-minute load average ${result.load_avg.toFixed(1)}: a shared machine), ${SAMPLES} cold samples and ${WARM} warm requests per model; one request at a time. \`node bench/paging/cold-start.mjs\`.`,
  '',
  '| model | accounted memory MB | warm median ms | cold median ms (min–max) | of which load ms (median) | cold with an eviction median ms (min–max) | cold / warm |',
  '|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.model} | ${(r.memory_bytes / 2 ** 20).toFixed(1)} | ${f(r.warm.median_ms)} | ${f(r.cold.median_ms)} (${f(r.cold.min_ms)}–${f(r.cold.max_ms)}) | ${f(r.load.median_ms)} | ${f(r.cold_evicting.median_ms)} (${f(r.cold_evicting.min_ms)}–${f(r.cold_evicting.max_ms)}) | ${(r.cold.median_ms / r.warm.median_ms).toFixed(0)}x |`,
  ),
  '',
  'Cold = the request that finds its model paged out: it waits for the model to load (session creation in a new worker thread), then runs. ' +
    'The first request of the process also pays ONNX Runtime\'s one-time start, which is taken before measuring.',
  '',
].join('\n');
mkdirSync(path.join(root, 'bench', 'results'), { recursive: true });
writeFileSync(path.join(root, 'bench', 'results', 'paging.json'), `${JSON.stringify(result, null, 2)}\n`);
writeFileSync(path.join(root, 'bench', 'results', 'paging.md'), md);
console.log(md);
