#!/usr/bin/env node
// Python backend overhead, in process (the embedded engine from lib/, no protocol): the same
// add/sub work (Triton's `simple`, INT32 [1,16]) as
//   - onnx:   the ONNX model on onnxruntime-node (worker thread, the reference),
//   - js:     a JavaScript model computing it (worker thread),
//   - python: a Triton model.py computing it with numpy (stub process, shared memory),
// each with one instance, at concurrency 1 and 16, --seconds each, --reps repetitions,
// medians. Reports requests/s, latency p50/p99 in µs and CPU per request in µs (this
// process plus its children, i.e. the Python stubs); writes bench/results/python-backend.{json,md}.
//
//   npm run build && node bench/python/run.mjs [--seconds 3] [--reps 3]
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from '../lib/models.mjs';
import { writeSimpleModel } from '../lib/simple-model.mjs';
import { median, medianRun, percentile } from '../lib/stats.mjs';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '3' }, reps: { type: 'string', default: '3' } } });
const SECONDS = Number(values.seconds);
const REPS = Number(values.reps);
const { InferenceServer } = await import(path.join(ROOT, 'lib', 'index.js'));

const IO = `max_batch_size: 8
input [ { name: "INPUT0" data_type: TYPE_INT32 dims: [ 16 ] }, { name: "INPUT1" data_type: TYPE_INT32 dims: [ 16 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_INT32 dims: [ 16 ] }, { name: "OUTPUT1" data_type: TYPE_INT32 dims: [ 16 ] } ]
instance_group [ { kind: KIND_CPU, count: 1 } ]
`;

const JS = `export default class Model {
  execute(requests) {
    return requests.map((r) => {
      const a = r.inputs.INPUT0.data, b = r.inputs.INPUT1.data;
      const sum = new Int32Array(a.length), diff = new Int32Array(a.length);
      for (let i = 0; i < a.length; i++) { sum[i] = a[i] + b[i]; diff[i] = a[i] - b[i]; }
      return { outputs: { OUTPUT0: { data: sum, shape: r.inputs.INPUT0.shape }, OUTPUT1: { data: diff, shape: r.inputs.INPUT0.shape } } };
    });
  }
}
`;

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

function write(repo, name, file, source, backend) {
  const dir = path.join(repo, name);
  mkdirSync(path.join(dir, '1'), { recursive: true });
  writeFileSync(path.join(dir, '1', file), source);
  writeFileSync(path.join(dir, 'config.pbtxt'), `backend: "${backend}"\n${IO}`);
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'infera-bench-py-'));
writeSimpleModel(tmp, 'simple');
write(tmp, 'simple_js', 'model.mjs', JS, 'javascript');
write(tmp, 'simple_py', 'model.py', PY, 'python');
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

/** CPU µs of this process and of its child processes (the stubs), from /proc. */
function cpuUs() {
  const own = process.cpuUsage();
  let ticks = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== process.pid) continue;
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone
    }
  }
  return own.user + own.system + ticks * 10_000;
}

async function load(model, concurrency, seconds) {
  const latencies = [];
  let n = 0;
  const cpu0 = cpuUs();
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        await server.infer(request(model));
        n++;
        latencies.push((performance.now() - t) * 1000);
      }
    }),
  );
  const cpu = cpuUs() - cpu0;
  latencies.sort((a, b) => a - b);
  return { rps: n / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), cpuPerRequestUs: cpu / n };
}

const rows = [];
for (const concurrency of [1, 16]) {
  for (const [name, model] of Object.entries({ onnx: 'simple', js: 'simple_js', python: 'simple_py' })) {
    await load(model, concurrency, 0.5); // warm-up
    const runs = [];
    for (let r = 0; r < REPS; r++) runs.push(await load(model, concurrency, SECONDS));
    const m = medianRun(runs);
    rows.push({
      case: name,
      concurrency,
      rps: Math.round(median(runs.map((x) => x.rps))),
      p50_us: Math.round(m.p50),
      p99_us: Math.round(m.p99),
      cpu_us_per_request: Math.round(median(runs.map((x) => x.cpuPerRequestUs))),
    });
    console.log(rows.at(-1));
  }
}
await server.close();
rmSync(tmp, { recursive: true, force: true });

const outDir = path.join(ROOT, 'bench', 'results');
mkdirSync(outDir, { recursive: true });
const meta = { date: new Date().toISOString(), node: process.version, cpus: os.availableParallelism(), seconds: SECONDS, reps: REPS };
writeFileSync(path.join(outDir, 'python-backend.json'), JSON.stringify({ meta, rows }, null, 2) + '\n');
const md = [
  '# Python backend, in process',
  '',
  `${meta.date}, Node ${meta.node}, ${meta.cpus} CPUs; ${REPS} × ${SECONDS} s per cell, medians. Work: add/sub of INT32 [1,16]; one instance each.`,
  'CPU per request: this process and its child processes (the Python stub), user + system.',
  '',
  '| case | concurrency | req/s | p50 µs | p99 µs | CPU µs/request |',
  '|---|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.case} | ${r.concurrency} | ${r.rps} | ${r.p50_us} | ${r.p99_us} | ${r.cpu_us_per_request} |`),
  '',
].join('\n');
writeFileSync(path.join(outDir, 'python-backend.md'), md);
console.log(md);
