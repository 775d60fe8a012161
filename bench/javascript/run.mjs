#!/usr/bin/env node
// JavaScript backend overhead, in process (the embedded engine from lib/, no protocol): the
// same add/sub work (Triton's `simple`, INT32 [1,16]) as
//   - onnx:  the ONNX model on onnxruntime-node (worker thread, the reference),
//   - js:    a JavaScript model computing it (worker thread, one hop each way),
//   - bls:   a JavaScript model that calls the ONNX model through context.infer (two hops),
// plus a decoupled JavaScript model streaming 10 responses per request (inferStream),
// each with one instance, at concurrency 1 and 8, --seconds each, --reps repetitions,
// medians. Reports requests/s (responses/s for the stream) and latency p50/p99 in µs; writes
// bench/results/javascript-backend.{json,md}.
//
//   npm run build && node bench/javascript/run.mjs [--seconds 3] [--reps 3]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from '../lib/models.mjs';
import { ADD_SUB_IO, ADD_SUB_JS, writeSimpleModel } from '../lib/simple-model.mjs';
import { median, medianRun, percentile } from '../lib/stats.mjs';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '3' }, reps: { type: 'string', default: '3' } } });
const SECONDS = Number(values.seconds);
const REPS = Number(values.reps);
const { InferenceServer } = await import(path.join(ROOT, 'lib', 'index.js'));

const JS_BLS = `export default class Model {
  async execute(requests, context) {
    return Promise.all(requests.map(async (r) => {
      const { INPUT0, INPUT1 } = r.inputs;
      const res = await context.infer({ model: 'simple', inputs: [INPUT0, INPUT1].map((t) => ({ name: t.name, datatype: 'INT32', shape: t.shape, data: t.data })) });
      return { outputs: { OUTPUT0: res.outputs.OUTPUT0, OUTPUT1: res.outputs.OUTPUT1 } };
    }));
  }
}
`;

const JS_STREAM = `export default class Model {
  execute(requests) {
    return requests.map((r) => (function* () {
      const { INPUT0, INPUT1 } = r.inputs;
      for (let k = 0; k < 10; k++) yield { outputs: { OUTPUT0: { data: INPUT0.data.slice(), shape: INPUT0.shape }, OUTPUT1: { data: INPUT1.data.slice(), shape: INPUT1.shape } } };
    })());
  }
}
`;

function writeJs(repo, name, source, extra = '') {
  const dir = path.join(repo, name);
  mkdirSync(path.join(dir, '1'), { recursive: true });
  writeFileSync(path.join(dir, '1', 'model.mjs'), source);
  writeFileSync(path.join(dir, 'config.pbtxt'), `backend: "javascript"\n${ADD_SUB_IO}${extra}`);
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'infera-bench-js-'));
writeSimpleModel(tmp, 'simple');
writeJs(tmp, 'simple_js', ADD_SUB_JS);
writeJs(tmp, 'bls', JS_BLS);
writeJs(tmp, 'stream', JS_STREAM, 'model_transaction_policy { decoupled: true }\n');
const server = await InferenceServer.create({ modelRepositories: [tmp] });
if (server.failures().length > 0) throw new Error(JSON.stringify(server.failures()));

const bytes = (values) => new Uint8Array(Int32Array.from(values).buffer);
const request = (model) => ({
  modelName: model,
  inputs: [
    { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: bytes(Array.from({ length: 16 }, (_, i) => i)) },
    { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: bytes(new Array(16).fill(1)) },
  ],
});

/** Closed-loop load: `concurrency` callers, each sending the next request when its answer came. */
async function load(call, concurrency, seconds) {
  const latencies = [];
  let units = 0;
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        const n = await call(); // not `units += await call()`: that reads units before awaiting
        units += n;
        latencies.push((performance.now() - t) * 1000);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return { rps: units / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

const cases = {
  onnx: async () => (await server.infer(request('simple')), 1),
  js: async () => (await server.infer(request('simple_js')), 1),
  bls: async () => (await server.infer(request('bls')), 1),
  'stream x10': async () => {
    let n = 0;
    for await (const _ of server.inferStream(request('stream'))) n++;
    return n;
  },
};

const rows = [];
for (const concurrency of [1, 8]) {
  for (const [name, call] of Object.entries(cases)) {
    await load(call, concurrency, 0.5); // warm-up
    const runs = [];
    for (let r = 0; r < REPS; r++) runs.push(await load(call, concurrency, SECONDS));
    const m = medianRun(runs);
    rows.push({ case: name, concurrency, rps: Math.round(median(runs.map((x) => x.rps))), p50_us: Math.round(m.p50), p99_us: Math.round(m.p99) });
    console.log(rows.at(-1));
  }
}
await server.close();
rmSync(tmp, { recursive: true, force: true });

const outDir = path.join(ROOT, 'bench', 'results');
mkdirSync(outDir, { recursive: true });
const meta = { date: new Date().toISOString(), node: process.version, cpus: os.availableParallelism(), seconds: SECONDS, reps: REPS };
writeFileSync(path.join(outDir, 'javascript-backend.json'), JSON.stringify({ meta, rows }, null, 2) + '\n');
const md = [
  '# JavaScript backend, in process',
  '',
  `${meta.date}, Node ${meta.node}, ${meta.cpus} CPUs; ${REPS} × ${SECONDS} s per cell, medians. Work: add/sub of INT32 [1,16]; one instance each.`,
  '`stream x10` counts responses (10 per request) per second; its latency is per request.',
  '',
  '| case | concurrency | req/s | p50 µs | p99 µs |',
  '|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.case} | ${r.concurrency} | ${r.rps} | ${r.p50_us} | ${r.p99_us} |`),
  '',
].join('\n');
writeFileSync(path.join(outDir, 'javascript-backend.md'), md);
console.log(md);
