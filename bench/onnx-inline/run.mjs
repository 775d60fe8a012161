#!/usr/bin/env node
// How an ONNX Runtime instance should run the trivial model (add/sub INT32 [1,16], Triton's
// `simple`; the only kind of model that ever leaves its worker thread): the built tree as is,
// against copies of it patched to
//   - worker:        never run on the main thread (inline-policy.ts `inlineEligible` false),
//   - inline-public: on the main thread through onnxruntime-node's public, asynchronous
//                    InferenceSession (native-session.ts `loadNativeSession` undefined),
// a variant being skipped when the built tree has no such file. One server per cell on CPU 0,
// `infera perf` on CPU 1, over gRPC and HTTP at each concurrency, --reps repetitions in
// alternating order, medians of requests/s, p50 latency and server CPU per request, with the
// machine's load average before and after. Writes bench/results/onnx-inline.{json,md}. Trees
// without the main-thread paths (they were removed after this comparison) measure as-built only.
//
//   npm run build && node bench/onnx-inline/run.mjs [--seconds 3] [--reps 3] [--concurrency 1,64]
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from '../lib/models.mjs';
import { perfCell } from '../lib/perf-runner.mjs';
import { startProcess } from '../lib/proc.mjs';
import { writeSimpleModel } from '../lib/simple-model.mjs';
import { median } from '../lib/stats.mjs';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '3' }, reps: { type: 'string', default: '3' }, concurrency: { type: 'string', default: '1,64' } },
});
const SECONDS = Number(values.seconds);
const REPS = Number(values.reps);
const CONCURRENCY = values.concurrency.split(',').map(Number);
const log = (msg) => process.stderr.write(`${msg}\n`);

/** Each variant: a file of the built lib/ and the line inserted at the start of one function. */
const PATCHES = {
  'as-built': undefined,
  worker: { file: 'backends/onnxruntime/inline-policy.js', fn: 'export function inlineEligible(modelFile, kind) {', insert: 'return false;' },
  'inline-public': { file: 'backends/onnxruntime/native-session.js', fn: 'export function loadNativeSession(modelFile, options) {', insert: 'return undefined;' },
};

const work = mkdtempSync(path.join(os.tmpdir(), 'infera-bench-onnx-inline-'));
/** A copy of the built tree with `patch` applied, or undefined when it does not apply. */
function variantTree(name, patch) {
  if (patch === undefined) return ROOT;
  const file = path.join(ROOT, 'lib', patch.file);
  if (!existsSync(file)) return undefined;
  const source = readFileSync(file, 'utf8');
  if (!source.includes(patch.fn)) throw new Error(`${name}: '${patch.fn}' not found in lib/${patch.file}`);
  const root = path.join(work, name);
  mkdirSync(root);
  for (const d of ['bin', 'lib']) cpSync(path.join(ROOT, d), path.join(root, d), { recursive: true });
  cpSync(path.join(ROOT, 'package.json'), path.join(root, 'package.json'));
  for (const d of ['node_modules', 'build']) symlinkSync(path.join(ROOT, d), path.join(root, d));
  writeFileSync(path.join(root, 'lib', patch.file), source.replace(patch.fn, `${patch.fn} ${patch.insert}`));
  return root;
}

async function startServer(root, repo) {
  const p = await startProcess({
    cmd: process.execPath,
    args: [
      path.join(root, 'bin', 'infera.js'), 'serve', '--model-repository', repo, '--http-address', '127.0.0.1', '--http-port', '0',
      '--grpc-address', '127.0.0.1', '--grpc-port', '0', '--allow-metrics', 'false', '--log-format', 'json', '--disable-auto-complete-config',
    ],
    cpus: '0',
    ready: /Started HTTPService at [^"]*:(\d+)"/,
    timeoutMs: 120_000,
  });
  const grpc = /Started GRPCInferenceService at [^"]*:(\d+)"/.exec(p.output());
  return { pid: p.pid, httpUrl: `http://127.0.0.1:${p.match[1]}`, grpcUrl: `127.0.0.1:${grpc[1]}`, stop: p.stop };
}

const results = {};
const loadBefore = os.loadavg()[0];
try {
  const repo = path.join(work, 'repo');
  writeSimpleModel(repo);
  const variants = Object.entries(PATCHES).flatMap(([name, patch]) => {
    const root = variantTree(name, patch);
    if (root === undefined) log(`${name}: skipped (lib/${patch.file} not in this tree)`);
    return root === undefined ? [] : [[name, root]];
  });
  for (let rep = 0; rep < REPS; rep++) {
    const order = rep % 2 === 0 ? variants : [...variants].reverse();
    for (const [name, root] of order) {
      const server = await startServer(root, repo);
      try {
        for (const protocol of ['grpc', 'http']) {
          for (const c of CONCURRENCY) {
            const r = await perfCell(server, { name: 'simple' }, { protocol, concurrency: c, seconds: SECONDS, cpus: '1', maxTrials: 4 });
            const key = `${name}|${protocol}|${c}`;
            (results[key] ??= []).push({ rps: r.rps, p50Us: r.p50Us, serverCpuUsPerReq: r.serverCpuUsPerReq });
            log(`rep ${rep + 1} ${key}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50Us.toFixed(0)} µs, server ${r.serverCpuUsPerReq.toFixed(1)} µs CPU/req`);
          }
        }
      } finally {
        await server.stop();
      }
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const rows = Object.entries(results).map(([key, runs]) => {
  const [variant, protocol, c] = key.split('|');
  const m = (k) => median(runs.map((r) => r[k]));
  return { variant, protocol, concurrency: Number(c), rps: m('rps'), p50Us: m('p50Us'), serverCpuUsPerReq: m('serverCpuUsPerReq'), runs };
});
const loadAfter = os.loadavg()[0];
mkdirSync(path.join(ROOT, 'bench', 'results'), { recursive: true });
writeFileSync(path.join(ROOT, 'bench', 'results', 'onnx-inline.json'), JSON.stringify({ seconds: SECONDS, reps: REPS, cores: os.cpus().length, loadBefore, loadAfter, rows }, null, 2));
const lines = [
  `ONNX trivial model (add/sub INT32 [1,16]), medians of ${REPS} repetitions, ${SECONDS} s windows; ${os.cpus().length} cores, load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after.`,
  '',
  '| variant | protocol | concurrency | req/s | p50 µs | server CPU µs/req |',
  '|---|---|---|---|---|---|',
];
for (const r of rows.sort((a, b) => a.protocol.localeCompare(b.protocol) || a.concurrency - b.concurrency || a.variant.localeCompare(b.variant))) {
  lines.push(`| ${r.variant} | ${r.protocol} | ${r.concurrency} | ${r.rps.toFixed(0)} | ${r.p50Us.toFixed(0)} | ${r.serverCpuUsPerReq.toFixed(1)} |`);
}
writeFileSync(path.join(ROOT, 'bench', 'results', 'onnx-inline.md'), `${lines.join('\n')}\n`);
console.log(lines.join('\n'));
