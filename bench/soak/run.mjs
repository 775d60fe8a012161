#!/usr/bin/env node
// Soak: the example text_direction model over binary HTTP at a steady ~60% of its measured
// capacity for a long time, watching for leaks and drift: server RSS every --sample seconds,
// errors, and p50/p99 latency per window (10 minutes; duration/6 for runs under an hour).
// Writes bench/results/soak.{json,md}.
//
//   npm run build && node bench/soak/run.mjs [--duration <s, default 3600>] [--rate <req/s>]
//       [--fraction <of capacity, default 0.6>] [--sample <s, default 5>] [--window <s>]
//       [--capacity-concurrency <n, default 4>] [--workers <load threads, default 2>]
//
// Capacity comes from `infera perf` (bench/lib/perf-runner.mjs) at --capacity-concurrency,
// unless --rate is given. The load itself is `infera perf`'s own load generator (its worker
// threads, open loop at a constant rate), driven here so that the run is one long stretch with
// windows of our choosing rather than perf's stabilizing windows.
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EXAMPLES, ROOT } from '../lib/models.mjs';
import { perfCell } from '../lib/perf-runner.mjs';
import { sleep, startProcess } from '../lib/proc.mjs';
import { percentile } from '../lib/stats.mjs';

const lib = (p) => import(path.join(ROOT, 'lib', p));
const { LoadManager } = await lib('perf/load/load-manager.js');
const { HttpClient } = await lib('client/index.js');
const { modelInfoFrom } = await lib('perf/model-info.js');
const { resolveInputDims } = await lib('perf/input-shapes.js');
const { syntheticInputs } = await lib('perf/synthetic-data.js');

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(args[i + 1]);
};
const MODEL = 'text_direction';
const duration = arg('duration', 3600);
const fraction = arg('fraction', 0.6);
const sampleS = arg('sample', 5);
const windowS = arg('window', duration >= 3600 ? 600 : Math.max(sampleS, Math.round(duration / 6)));
const capacityConcurrency = arg('capacity-concurrency', 4);
const workers = arg('workers', 2);

/** Resident set size of a process, MiB (threads included: one address space). */
function rssMiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

const started = new Date();
const p = await startProcess({
  cmd: process.execPath,
  args: [
    path.join(ROOT, 'bin', 'infera.js'), 'serve', '--model-repository', EXAMPLES, '--model-control-mode', 'explicit',
    '--load-model', MODEL, '--http-address', '127.0.0.1', '--http-port', '0', '--grpc-port', '0', '--grpc-address', '127.0.0.1',
    '--allow-metrics', 'false', '--log-format', 'json',
  ],
  ready: /Started HTTPService at [^"]*:(\d+)"/,
  timeoutMs: 120_000,
});
const server = { pid: p.pid, httpUrl: `http://127.0.0.1:${p.match[1]}` };
let exitedEarly;
p.child.once('exit', (code, signal) => (exitedEarly = code ?? signal));

const result = {
  date: started.toISOString(),
  machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, node: process.version },
  model: MODEL,
  protocol: 'http (binary tensor data)',
  durationS: duration,
  windowS,
  sampleS,
};
let manager;
try {
  if (args.includes('--rate')) {
    result.capacity = { given: true };
    result.rate = arg('rate');
  } else {
    console.log(`measuring capacity: infera perf, concurrency ${capacityConcurrency}`);
    const cap = await perfCell(server, { name: MODEL }, { protocol: 'http', concurrency: capacityConcurrency, seconds: 3, maxTrials: 4 });
    result.capacity = { concurrency: capacityConcurrency, rps: cap.rps, p99Ms: cap.p99Us / 1000 };
    result.rate = Math.max(1, Math.round(cap.rps * fraction * 10) / 10);
  }
  console.log(`soak: ${result.rate} req/s for ${duration} s, windows of ${windowS} s`);

  const client = new HttpClient({ url: server.httpUrl });
  const model = modelInfoFrom(await client.modelMetadata(MODEL), await client.modelConfig(MODEL));
  const plan = syntheticInputs(model, { mode: 'random', batchSize: 1, dims: resolveInputDims(model, new Map(), true) });
  const epoch = process.hrtime.bigint();
  manager = await LoadManager.start(
    { transport: { kind: 'http', url: server.httpUrl, model: MODEL, headers: {}, inputFormat: 'binary', outputFormat: 'binary' }, plan, epochNs: epoch.toString() },
    workers,
  );
  const t0 = performance.now();
  manager.setRate(result.rate, 'constant');
  const windows = [];
  const samples = [];
  let current = { startS: 0, latenciesMs: [], errors: 0, rss: [] };
  let firstError;
  const closeWindow = (endS) => {
    const sorted = current.latenciesMs.sort((a, b) => a - b);
    windows.push({
      startS: current.startS,
      endS,
      requests: sorted.length,
      errors: current.errors,
      achievedRps: sorted.length / Math.max(1e-9, endS - current.startS),
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      maxMs: sorted.at(-1),
      rssMinMiB: Math.min(...current.rss),
      rssMaxMiB: Math.max(...current.rss),
    });
    const w = windows.at(-1);
    console.log(
      `window ${w.startS}-${w.endS} s: ${w.requests} ok, ${w.errors} errors, p50 ${w.p50Ms?.toFixed(1)} ms, p99 ${w.p99Ms?.toFixed(1)} ms, RSS ${w.rssMaxMiB.toFixed(0)} MiB`,
    );
    current = { startS: endS, latenciesMs: [], errors: 0, rss: [] };
  };
  while (exitedEarly === undefined) {
    const elapsed = (performance.now() - t0) / 1000;
    if (elapsed >= duration) break;
    await sleep(Math.min(sampleS, duration - elapsed) * 1000);
    const got = await manager.collect();
    for (let i = 0; i < got.records.length; i += 4) current.latenciesMs.push((got.records[i + 3] - got.records[i]) / 1e6);
    current.errors += got.errors;
    firstError ??= got.firstError;
    const t = Math.round((performance.now() - t0) / 1000);
    const rss = exitedEarly === undefined ? rssMiB(server.pid) : NaN;
    samples.push({ t, rssMiB: rss });
    current.rss.push(rss);
    if (t - current.startS >= windowS - 0.5) closeWindow(t);
  }
  const rest = await manager.stop();
  manager = undefined;
  for (let i = 0; i < rest.records.length; i += 4) current.latenciesMs.push((rest.records[i + 3] - rest.records[i]) / 1e6);
  current.errors += rest.errors;
  if (current.latenciesMs.length > 0 || current.errors > 0) {
    if (current.rss.length === 0) current.rss.push(samples.at(-1)?.rssMiB ?? NaN);
    closeWindow(Math.round((performance.now() - t0) / 1000));
  }
  result.serverExited = exitedEarly ?? null;
  result.windows = windows;
  result.rssSamples = samples;
  result.totals = {
    requests: windows.reduce((a, w) => a + w.requests, 0),
    errors: windows.reduce((a, w) => a + w.errors, 0),
    firstError,
    rssFirstMiB: samples[0]?.rssMiB,
    rssLastMiB: samples.at(-1)?.rssMiB,
    rssMaxMiB: Math.max(...samples.map((s) => s.rssMiB)),
  };
} finally {
  if (manager !== undefined) await manager.stop(1000).catch(() => undefined);
  await p.stop();
}

function markdown(r) {
  const f = (v, d = 1) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : 'n/a');
  const lines = [
    `# Soak: ${r.model} over ${r.protocol}`,
    '',
    `Run ${r.date} on ${r.machine.cpu} (${r.machine.cores} cores), Node ${r.machine.node}. ` +
      (r.capacity.given
        ? `Rate given: ${r.rate} req/s.`
        : `Capacity ${f(r.capacity.rps)} req/s (infera perf, concurrency ${r.capacity.concurrency}); load ${r.rate} req/s (open loop, constant).`) +
      ` Duration ${r.durationS} s, windows of ${r.windowS} s, RSS sampled every ${r.sampleS} s.` +
      (r.serverExited !== null ? ` **The server exited (${r.serverExited}).**` : ''),
    '',
    `Totals: ${r.totals.requests} requests, ${r.totals.errors} errors${r.totals.firstError ? ` (first: ${r.totals.firstError})` : ''}; ` +
      `RSS ${f(r.totals.rssFirstMiB, 0)} MiB at the first sample, ${f(r.totals.rssLastMiB, 0)} MiB at the last, max ${f(r.totals.rssMaxMiB, 0)} MiB.`,
    '',
    '| window (s) | requests | req/s | errors | p50 ms | p99 ms | max ms | RSS MiB (min–max) |',
    '|---|---|---|---|---|---|---|---|',
    ...r.windows.map(
      (w) => `| ${w.startS}–${w.endS} | ${w.requests} | ${f(w.achievedRps)} | ${w.errors} | ${f(w.p50Ms)} | ${f(w.p99Ms)} | ${f(w.maxMs)} | ${f(w.rssMinMiB, 0)}–${f(w.rssMaxMiB, 0)} |`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}

const dir = path.join(ROOT, 'bench', 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(path.join(dir, 'soak.json'), `${JSON.stringify(result, null, 2)}\n`);
writeFileSync(path.join(dir, 'soak.md'), markdown(result));
console.log(markdown(result));
