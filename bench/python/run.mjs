#!/usr/bin/env node
// Python backend overhead through the server: `infera serve` (the built CLI, pinned to CPU 0
// with its Python stubs, which inherit the pinning) runs the same add/sub work (Triton's
// `simple`, INT32 [1,16]) as
//   - onnx:   the ONNX model on onnxruntime (the reference: the protocol and scheduler floor),
//   - js:     a JavaScript model computing it (worker thread),
//   - python: a Triton model.py computing it with numpy (stub process, shared memory),
// each with one instance and no dynamic batcher, driven by wrk (HTTP JSON) and h2load (gRPC)
// on CPU 1 at concurrency 1 and 16. The cells of one repetition run on one server, the
// models' order rotating per repetition; --reps repetitions (one server each), medians.
// Server CPU per request counts the server process and its children (the stubs). The
// "added" columns are a model's CPU µs per request above the ONNX model's at the same
// protocol and concurrency; the goal (issue 18) is python added ≤ 2 × js added.
//
// With --baseline <dir> (another checkout, built), its server runs the python case too, as
// "python (baseline)", in the same repetitions: a before/after comparison on one machine state.
//
// --dynamic-batching gives all three models `dynamic_batching { }` (the Python model's execute
// then gets the waiting requests as one list).
//
//   npm run build && node bench/python/run.mjs [--seconds 2] [--warmup 1] [--reps 5] [--baseline <dir>]
//     [--dynamic-batching] [--concurrency 1,16] [--protocols http,grpc] [--out python-backend]
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildBodies, writeBodies } from '../lib/bodies.mjs';
import { measureCell } from '../lib/cells.mjs';
import { ROOT } from '../lib/models.mjs';
import { cpuSeconds } from '../lib/proc.mjs';
import { startInfera } from '../lib/servers.mjs';
import { ADD_SUB_IO, ADD_SUB_JS, writeSimpleModel } from '../lib/simple-model.mjs';
import { attempt, median, medianRun } from '../lib/stats.mjs';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '2' },
    warmup: { type: 'string', default: '1' },
    reps: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '1,16' },
    protocols: { type: 'string', default: 'http,grpc' },
    out: { type: 'string', default: 'python-backend' },
    baseline: { type: 'string' },
    'dynamic-batching': { type: 'boolean', default: false },
  },
});
const SECONDS = Number(values.seconds);
const WARMUP = Number(values.warmup);
const REPS = Number(values.reps);
const CONCURRENCIES = values.concurrency.split(',').map(Number);
const PROTOCOLS = values.protocols.split(',');
const SERVER_CPUS = '0';
const CLIENT_CPUS = '1';
const GRPC_PATH = '/inference.GRPCInferenceService/ModelInfer';

const IO = `${ADD_SUB_IO}${values['dynamic-batching'] ? 'dynamic_batching { }\n' : ''}`;


const PY = `import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def execute(self, requests):
        out = []
        for r in requests:
            a = pb_utils.get_input_tensor_by_name(r, "INPUT0").as_numpy()
            b = pb_utils.get_input_tensor_by_name(r, "INPUT1").as_numpy()
            out.append(pb_utils.InferenceResponse([pb_utils.Tensor("OUTPUT0", a + b), pb_utils.Tensor("OUTPUT1", a - b)]))
        return out
`;

const MODELS = { onnx: 'simple', js: 'simple_js', python: 'simple_py' };

function write(repo, name, file, source, backend) {
  const dir = path.join(repo, name);
  mkdirSync(path.join(dir, '1'), { recursive: true });
  writeFileSync(path.join(dir, '1', file), source);
  writeFileSync(path.join(dir, 'config.pbtxt'), `backend: "${backend}"\n${IO}`);
}

/** CPU seconds of the live child processes of `pid` (the Python stubs). */
function childrenCpuSeconds(pid) {
  let total = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === pid) total += cpuSeconds(Number(d));
    } catch {
      // gone
    }
  }
  return total;
}

/**
 * The server's CPU seconds for measureCell (process and children), keeping the children's
 * share of the last two readings (the measured run's start and end) for the stub column.
 */
function treeCpu(pid) {
  const readings = [];
  const read = () => {
    const children = childrenCpuSeconds(pid);
    readings.push(children);
    return cpuSeconds(pid) + children;
  };
  read.childrenSeconds = () => (readings.length < 2 ? 0 : readings.at(-1) - readings.at(-2));
  return read;
}

const log = (line) => console.error(line);
const dir = mkdtempSync(path.join(os.tmpdir(), 'infera-bench-py-'));
const runs = new Map();
const add = (key, r) => runs.set(key, [...(runs.get(key) ?? []), r]);
try {
  const repo = path.join(dir, 'repo');
  writeSimpleModel(repo, 'simple');
  write(repo, 'simple_js', 'model.mjs', ADD_SUB_JS, 'javascript');
  write(repo, 'simple_py', 'model.py', PY, 'python');
  const tensor = (name, v) => ({ name, datatype: 'INT32', shape: [1, 16], data: new Int32Array(16).fill(v) });
  const files = {};
  for (const [k, model] of Object.entries(MODELS)) {
    files[k] = writeBodies(dir, model, await buildBodies(model, [tensor('INPUT0', 3), tensor('INPUT1', 1)]));
  }
  const cases = Object.keys(MODELS);
  const servers = [{ cli: undefined, cases }];
  if (values.baseline !== undefined) servers.push({ cli: path.resolve(values.baseline, 'bin', 'infera.js'), cases: ['python'], suffix: ' (baseline)' });
  for (let rep = 0; rep < REPS; rep++) {
    for (const variant of rep % 2 === 0 ? servers : [...servers].reverse()) {
      const server = await startInfera(repo, SERVER_CPUS, [], variant.cli);
      try {
        const order = variant.cases.map((_, i) => variant.cases[(i + rep) % variant.cases.length]);
        for (const c of CONCURRENCIES) {
          for (const protocol of PROTOCOLS) {
            if (protocol === 'grpc' && server.grpcUrl === undefined) continue;
            for (const name of order) {
              const model = MODELS[name];
              const label = name + (variant.suffix ?? '');
              log(`python bench: ${label} ${protocol} c=${c} (rep ${rep + 1}/${REPS})`);
              const target =
                protocol === 'http'
                  ? { kind: 'http', url: `${server.httpUrl}/v2/models/${model}/infer`, body: files[name].json, contentType: 'application/json' }
                  : { kind: 'grpc', url: `http://${server.grpcUrl}${GRPC_PATH}`, body: files[name].grpc };
              const cpu = treeCpu(server.pid);
              add(`${label}|${protocol}|${c}`, await attempt(log, async () => {
                const r = await measureCell(
                  { ...target, pid: server.pid, cpuSeconds: cpu, stats: { httpUrl: server.httpUrl, model } },
                  { concurrency: c, seconds: SECONDS, warmup: WARMUP, cpus: CLIENT_CPUS },
                );
                return { ...r, stubCpuUsPerReq: (cpu.childrenSeconds() * 1e6) / r.requests };
              }));
            }
          }
        }
      } finally {
        await server.stop();
      }
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const rows = [...runs.entries()].map(([key, all]) => {
  const [name, protocol, c] = key.split('|');
  const list = all.filter((x) => x.error === undefined);
  const r = list.length > 0 ? medianRun(list) : { rps: NaN };
  return {
    case: name,
    protocol,
    concurrency: Number(c),
    rps: Math.round(r.rps),
    p50_us: Math.round(r.p50Us),
    p99_us: Math.round(r.p99Us),
    cpu_us_per_request: Math.round(median(list.map((x) => x.serverCpuUsPerReq))),
    stub_cpu_us_per_request: Math.round(median(list.map((x) => x.stubCpuUsPerReq))),
    avg_batch: Number(median(list.map((x) => x.server?.avgBatch ?? NaN)).toFixed(1)),
    reps: list.length,
    ...(list.length < all.length ? { error: all.find((x) => x.error !== undefined).error } : {}),
  };
});
for (const row of rows) {
  const ref = rows.find((r) => r.case === 'onnx' && r.protocol === row.protocol && r.concurrency === row.concurrency);
  row.added_cpu_us = ref === undefined ? NaN : row.cpu_us_per_request - ref.cpu_us_per_request;
}
for (const row of rows) {
  if (!row.case.startsWith('python')) continue;
  const js = rows.find((r) => r.case === 'js' && r.protocol === row.protocol && r.concurrency === row.concurrency);
  if (js === undefined) continue;
  // Above the ONNX model: only meaningful where the JavaScript model costs more than it.
  row.added_vs_js = js.added_cpu_us <= 0 ? null : Number((row.added_cpu_us / js.added_cpu_us).toFixed(2));
  row.cpu_vs_js = Number((row.cpu_us_per_request / js.cpu_us_per_request).toFixed(2));
  row.cpu_minus_js_us = row.cpu_us_per_request - js.cpu_us_per_request;
}
const ORDER = [...Object.keys(MODELS), 'python (baseline)'];
rows.sort((a, b) => a.protocol.localeCompare(b.protocol) || a.concurrency - b.concurrency || ORDER.indexOf(a.case) - ORDER.indexOf(b.case));

const outDir = path.join(ROOT, 'bench', 'results');
mkdirSync(outDir, { recursive: true });
const meta = { date: new Date().toISOString(), node: process.version, cpus: os.availableParallelism(), seconds: SECONDS, warmup: WARMUP, reps: REPS, serverCpus: SERVER_CPUS, clientCpus: CLIENT_CPUS };
writeFileSync(path.join(outDir, `${values.out}.json`), JSON.stringify({ meta, rows }, null, 2) + '\n');
const md = [
  '# Python backend, through the server',
  '',
  `${meta.date}, Node ${meta.node}, ${meta.cpus} CPUs; server (and its stubs) on CPU ${SERVER_CPUS}, wrk (HTTP JSON) / h2load (gRPC) on CPU ${CLIENT_CPUS};`,
  `${REPS} repetitions (one server each, model order rotating) × ${SECONDS} s per cell after ${WARMUP} s warm-up, medians.`,
  `Work: add/sub of INT32 [1,16]; one instance each, ${values['dynamic-batching'] ? 'dynamic_batching { } on all three' : 'no dynamic batcher'}.`,
  'CPU per request: the server process and its children (the Python stub), user + system.',
  'Added: CPU µs per request above the ONNX model at the same protocol and concurrency (goal: python ≤ 2 × js; no ratio where js costs',
  'no more than onnx). ÷ js and − js: the python model\'s server CPU per request against the JavaScript model\'s.',
  ...(values.baseline === undefined ? [] : [`python (baseline): the same model on the server of ${path.basename(path.resolve(values.baseline))}/ (--baseline), in the same repetitions.`]),
  '',
  '| case | protocol | concurrency | infer/s | p50 µs | p99 µs | server CPU µs/request | of which stub | added µs | added / js added | ÷ js | − js µs | requests per execution |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.case} | ${r.protocol} | ${r.concurrency} | ${r.rps} | ${r.p50_us} | ${r.p99_us} | ${r.cpu_us_per_request} | ${r.stub_cpu_us_per_request} | ${r.added_cpu_us} | ${r.added_vs_js ?? ''} | ${r.cpu_vs_js ?? ''} | ${r.cpu_minus_js_us ?? ''} | ${r.avg_batch} |`),
  '',
].join('\n');
writeFileSync(path.join(outDir, `${values.out}.md`), md);
console.log(md);
