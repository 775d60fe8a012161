#!/usr/bin/env node
// The benchmark suite of infera, side by side in one run (issue 7; method of
// shared/reference/performance-baseline.md): in-process onnxruntime-node limits, infera over
// HTTP JSON / HTTP binary / gRPC (and system shared memory when the server has it) with the
// dynamic batcher off and on, the fastify + onnxruntime-node peer, the trivial-model overhead
// against bare node:http and grpc-js, and `infera perf` against wrk. Servers on CPU 0, load
// generators on CPU 1 (taskset). Writes bench/results/<name>.json and bench/RESULTS.md.
//
//   npm run build && node bench/run.mjs [--quick] [--only infera,limit,peer,headline,trivial,perf-check,others]
//     (others = every bench/<dir>/run.mjs of the other benchmarks; run by default in full mode only)
//     [--reps N] [--seconds S] [--models cls,rec,det]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { computeGoals } from './lib/goals.mjs';
import { availableOcrModels, ROOT } from './lib/models.mjs';
import { have } from './lib/proc.mjs';
import { renderResults } from './lib/report.mjs';
import { runHeadlineSuite } from './lib/suite-headline.mjs';
import { runInferaSuite } from './lib/suite-infera.mjs';
import { runLimitSuite } from './lib/suite-limit.mjs';
import { runPeerSuite } from './lib/suite-peer.mjs';
import { runPerfCheckSuite } from './lib/suite-perf-check.mjs';
import { runTrivialSuite } from './lib/suite-trivial.mjs';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    reps: { type: 'string' },
    seconds: { type: 'string' },
    models: { type: 'string' },
  },
});
const quick = values.quick;
// The other benchmarks (bench/batching, bench/sequence, ...) run in full mode; --quick keeps to
// this suite's 10-minute budget unless --only names them.
const only = new Set((values.only ?? `infera,limit,peer,headline,trivial,perf-check${quick ? '' : ',others'}`).split(','));
const reps = Number(values.reps ?? (quick ? 1 : 3));
const seconds = Number(values.seconds ?? (quick ? 2 : 10));
const warmup = quick ? 1 : 2;
const started = performance.now();
const log = (msg) => process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${msg}\n`);

if (!existsSync(path.join(ROOT, 'lib', 'index.js'))) {
  console.error('bench/run.mjs runs the built tree: run `npm run build` first.');
  process.exit(1);
}
for (const tool of ['wrk', 'h2load']) {
  if (!have(tool)) {
    console.error(`bench/run.mjs needs ${tool} (Debian: apt-get install wrk nghttp2-client).`);
    process.exit(1);
  }
}
const wanted = values.models?.split(',');
const models = availableOcrModels().filter((m) => wanted === undefined || wanted.includes(m.short) || wanted.includes(m.name));
if (models.length < 3) console.error(`warning: only ${models.map((m) => m.name).join(', ') || 'no'} OCR models found; run \`npm install\` to place them.`);

const cores = os.availableParallelism();
const pinned = cores >= 2 && have('taskset');
const serverCpus = pinned ? '0' : undefined;
const clientCpus = pinned ? '1' : undefined;
const common = { seconds, warmup, reps, serverCpus, clientCpus, log };
const cls = models.find((m) => m.name === 'text_direction');

const resultsDir = path.join(ROOT, 'bench', 'results');
mkdirSync(resultsDir, { recursive: true });
const save = (name, data) => writeFileSync(path.join(resultsDir, `${name}.json`), `${JSON.stringify(data, null, 2)}\n`);
const load = (name) => {
  try {
    return JSON.parse(readFileSync(path.join(resultsDir, `${name}.json`), 'utf8'));
  } catch {
    return undefined;
  }
};

// A suite left out with --only keeps its previous results, so RESULTS.md stays complete.
let infera = load('infera')?.rows ?? [];
let sharedMemory = load('infera')?.sharedMemory ?? { available: false, reason: 'not run' };
let limit = load('limit')?.rows ?? [];
let peer = load('peer')?.rows ?? [];
let trivial = load('trivial')?.rows ?? [];
let perfCheck = load('perf-check')?.rows ?? [];
let headline = load('headline');

if (only.has('infera')) {
  ({ rows: infera, sharedMemory } = await runInferaSuite({ ...common, models, concurrencies: [1, 4, 16], perfSeconds: quick ? 1 : 5, perfMaxTrials: quick ? 3 : 6 }));
  save('infera', { rows: infera, sharedMemory });
}
if (only.has('limit')) {
  // Batch 1, and every batch size the dynamic batcher formed on average (rounded).
  const batchesByModel = Object.fromEntries(
    models.map((m) => {
      const formed = infera.filter((r) => r.model === m.name && r.batching && r.avgBatch > 0).map((r) => Math.max(1, Math.round(r.avgBatch)));
      return [m.name, [...new Set([1, ...formed])].sort((a, b) => a - b)];
    }),
  );
  limit = await runLimitSuite({ ...common, models, batchesByModel, threads: 1, cpus: serverCpus, seconds: quick ? 2 : 5 });
  save('limit', { rows: limit });
}
if (only.has('peer') && cls !== undefined) {
  peer = await runPeerSuite({ ...common, model: cls, concurrencies: [1, 4, 16] });
  save('peer', { rows: peer });
}
if (only.has('headline') && cls !== undefined) {
  // The batch the dynamic batcher formed for the model at c=16 (8 when not measured).
  const formed = infera.find((r) => r.model === cls.name && r.batching && r.concurrency === 16 && r.protocol === 'http-binary')?.avgBatch;
  const batch = Number.isFinite(formed) && formed > 0 ? Math.round(formed) : 8;
  // The goals are read from these cells, so even --quick gives them the full warm-up: a server
  // measured 1 s after it started runs 10-20% slower than a warm one (the JIT has not caught up).
  headline = await runHeadlineSuite({ ...common, reps: Math.max(reps, 3), seconds: Math.max(seconds, 4), warmup: Math.max(warmup, 2), model: cls, concurrency: 16, batch });
  save('headline', headline);
}
if (only.has('trivial')) {
  // c=64 is the goal's cell; c=1 (latency floor) only in full mode, to keep --quick under 10 minutes.
  trivial = await runTrivialSuite({ ...common, reps: Math.max(reps, 3), concurrencies: quick ? [64] : [1, 64] });
  save('trivial', { rows: trivial });
}
if (only.has('perf-check') && cls !== undefined) {
  // Alternating clients, at least 3 times even in quick mode: one pair is too noisy to compare.
  perfCheck = await runPerfCheckSuite({ ...common, reps: Math.max(reps, 3), model: cls, concurrencies: [1, 16], perfSeconds: quick ? 1 : 5 });
  save('perf-check', { rows: perfCheck });
}

// The other benchmarks under bench/<dir>/ (batching, sequence, shared memory, ...), each with
// its own result files: whatever they wrote to bench/results during this run is listed.
const QUICK_ARGS = {
  'batching/run.mjs': ['--quick'],
  'sequence/run.mjs': ['--duration', '3', '--reps', '1'],
  'model-control/reload.mjs': ['--duration', '2'],
  'javascript/run.mjs': ['--seconds', '1', '--reps', '1'],
  'ensemble/run.mjs': ['--rounds', '1'],
};
const others = [];
if (only.has('others')) {
  const benchDir = path.join(ROOT, 'bench');
  const scripts = readdirSync(benchDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !['lib', 'peers', 'results'].includes(d.name))
    .flatMap((d) => {
      const files = readdirSync(path.join(benchDir, d.name)).filter((f) => f.endsWith('.mjs'));
      const entry = files.includes('run.mjs') ? 'run.mjs' : files.length === 1 ? files[0] : undefined;
      return entry === undefined ? [] : [`${d.name}/${entry}`];
    });
  for (const script of scripts) {
    const args = quick ? (QUICK_ARGS[script] ?? []) : [];
    const since = Date.now();
    log(`other: bench/${script} ${args.join(' ')}`);
    let status = 'ran';
    try {
      execFileSync(process.execPath, [path.join(benchDir, script), ...args], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 1_800_000 });
    } catch (err) {
      status = `failed: ${String(err.message).split('\n')[0]}`;
    }
    const results = readdirSync(resultsDir)
      .filter((f) => statSync(path.join(resultsDir, f)).mtimeMs >= since)
      .map((f) => `bench/results/${f}`);
    others.push({ name: `bench/${script}`, status, results });
  }
}

const goals = computeGoals({ infera, limit, peer, trivial, perfCheck, headline });
let ort = 'unknown';
try {
  ort = JSON.parse(readFileSync(path.join(ROOT, 'node_modules', 'onnxruntime-node', 'package.json'), 'utf8')).version;
} catch {
  // reported as unknown
}
const meta = {
  date: new Date().toISOString(),
  mode: quick ? 'quick' : 'full',
  seconds,
  warmup,
  reps,
  durationS: (performance.now() - started) / 1000,
  cpu: os.cpus()[0]?.model ?? 'unknown CPU',
  cores,
  node: process.versions.node,
  ort,
  pinned,
  serverCpus,
  clientCpus,
};
save('infera', { meta, rows: infera, sharedMemory });
save('peer', { meta, rows: peer });
save('summary', { meta, goals });
writeFileSync(path.join(ROOT, 'bench', 'RESULTS.md'), renderResults({ meta, goals, limit, infera, peer, trivial, perfCheck, others, sharedMemory, headline }));
log(`done: bench/RESULTS.md and bench/results/{infera,limit,peer,headline,trivial,perf-check,summary}.json`);
for (const g of goals) log(`${g.met ? 'met    ' : 'NOT MET'} ${g.goal}: ${Number.isFinite(g.value) ? g.value.toFixed(2) : 'n/a'} (${g.target})`);
