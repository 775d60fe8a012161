#!/usr/bin/env node
// What the ensemble scheduler itself costs: a chain of three ONNX Identity models (4 FP32
// values) as one ensemble, served by an embedded InferenceServer (no protocol), closed loop
// at --concurrency, against the same chain in an older build (--old: a checkout of the older
// commit, built), in one run: sides interleaved, --reps each, medians. The models do almost
// nothing, so the ratio is the scheduler's (and the step requests') overhead. Each side runs
// in its own process; --cpus pins those processes (taskset). Writes
// bench/results/ensemble-overhead.{json,md}.
//
//   npm run build && node bench/ensemble/overhead.mjs --old <dir> [--reps 5] [--seconds 3] [--concurrency 16] [--cpus 0,1]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { writeIdentityModel } from '../shared-memory/identity-model.mjs';
import { gitCommit, pinned } from '../lib/proc.mjs';
import { median } from '../lib/stats.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values } = parseArgs({
  options: {
    old: { type: 'string' },
    reps: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '16' },
    cpus: { type: 'string' },
    child: { type: 'string' },
    repo: { type: 'string' },
  },
});

const ENSEMBLE = `platform: "ensemble"
max_batch_size: 0
input [{ name: "IN" data_type: TYPE_FP32 dims: [ -1 ] }]
output [{ name: "OUT" data_type: TYPE_FP32 dims: [ -1 ] }]
ensemble_scheduling { step [
  { model_name: "i1" model_version: -1 input_map { key: "INPUT0" value: "IN" } output_map { key: "OUTPUT0" value: "a" } },
  { model_name: "i2" model_version: -1 input_map { key: "INPUT0" value: "a" } output_map { key: "OUTPUT0" value: "b" } },
  { model_name: "i3" model_version: -1 input_map { key: "INPUT0" value: "b" } output_map { key: "OUTPUT0" value: "OUT" } }
] }
`;

/** In a child: serves the chain from `lib` and prints {"rps": ...} after the timed window. */
async function child(lib, repo) {
  const { InferenceServer } = await import(pathToFileURL(path.join(lib, 'index.js')).href);
  const server = await InferenceServer.create({ modelRepositories: [repo] });
  const request = () => ({ modelName: 'chain', inputs: [{ name: 'IN', datatype: 'FP32', shape: [4], data: new Uint8Array(16) }] });
  const loop = async (until) => {
    let n = 0;
    await Promise.all(
      Array.from({ length: Number(values.concurrency) }, async () => {
        while (performance.now() < until) {
          await server.infer(request());
          n++;
        }
      }),
    );
    return n;
  };
  await loop(performance.now() + 1000);
  const t0 = performance.now();
  const n = await loop(t0 + Number(values.seconds) * 1000);
  console.log(JSON.stringify({ rps: n / ((performance.now() - t0) / 1000) }));
  await server.close();
  process.exit(0);
}

function measure(lib, repo) {
  const args = [fileURLToPath(import.meta.url), '--child', lib, '--repo', repo, '--seconds', values.seconds, '--concurrency', values.concurrency];
  const [cmd, argv] = pinned(values.cpus, process.execPath, args);
  const r = spawnSync(cmd, argv, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${lib}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)).rps;
}

async function main() {
  if (values.old === undefined) throw new Error('--old <checkout of the older commit, built> is required');
  const repo = mkdtempSync(path.join(os.tmpdir(), 'infera-ensemble-overhead-'));
  try {
    for (const name of ['i1', 'i2', 'i3']) writeIdentityModel(repo, name);
    mkdirSync(path.join(repo, 'chain', '1'), { recursive: true });
    writeFileSync(path.join(repo, 'chain', 'config.pbtxt'), ENSEMBLE);
    const sides = { this: { lib: path.join(root, 'lib'), runs: [] }, before: { lib: path.join(path.resolve(values.old), 'lib'), runs: [] } };
    for (let i = 0; i < Number(values.reps); i++) {
      for (const [name, side] of i % 2 === 0 ? Object.entries(sides) : Object.entries(sides).reverse()) {
        side.runs.push(measure(side.lib, repo));
        console.error(`rep ${i + 1} ${name}: ${side.runs.at(-1).toFixed(0)} infer/s`);
      }
    }
    const result = {
      date: new Date().toISOString(),
      commit: gitCommit(root),
      old: gitCommit(values.old),
      cpus: values.cpus ?? 'unpinned',
      concurrency: Number(values.concurrency),
      seconds: Number(values.seconds),
      this: { runs: sides.this.runs, median: median(sides.this.runs) },
      before: { runs: sides.before.runs, median: median(sides.before.runs) },
    };
    result.ratio = result.this.median / result.before.median;
    const out = path.join(root, 'bench', 'results');
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, 'ensemble-overhead.json'), JSON.stringify(result, null, 2) + '\n');
    const md = [
      '# Ensemble scheduler overhead: a chain of three ONNX Identity models',
      '',
      `Embedded InferenceServer, closed loop at concurrency ${result.concurrency}, ${result.seconds} s per run after 1 s of warm-up, ` +
        `sides interleaved, ${values.reps} runs each; processes pinned to CPUs ${result.cpus}. Written by bench/ensemble/overhead.mjs on ${result.date}.`,
      '',
      '| build | infer/s (median) | runs |',
      '|---|---|---|',
      `| ${result.commit} (this) | ${result.this.median.toFixed(0)} | ${result.this.runs.map((r) => r.toFixed(0)).join(', ')} |`,
      `| ${result.old} (before) | ${result.before.median.toFixed(0)} | ${result.before.runs.map((r) => r.toFixed(0)).join(', ')} |`,
      '',
      `Ratio this ÷ before: **${result.ratio.toFixed(3)}**.`,
      '',
    ].join('\n');
    writeFileSync(path.join(out, 'ensemble-overhead.md'), md);
    console.log(md);
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
}

if (values.child !== undefined) await child(values.child, values.repo);
else await main();
