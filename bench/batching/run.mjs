#!/usr/bin/env node
// Dynamic batching on vs off (performance-baseline §3 G5), side by side in one run: the same
// model, the same single instance (instance_group count 1, intra_op_thread_count 2), the same
// client load (wrk, HTTP, binary tensor data extension, closed loop at concurrency 1/4/16/64);
// only `dynamic_batching { max_queue_delay_microseconds: D }` differs (max_batch_size 8). The
// server is the CLI started as a child process pinned with taskset to one CPU per intra-op
// thread (CPU 0, or CPUs 0,1 for the default 2 threads), wrk runs on CPU 1 (when taskset
// exists; --server-cpus/--client-cpus override). Process-level repetitions alternate off/on; a cell reports the repetition
// with the median throughput. The average batch per cell is inference_count ÷ execution_count
// from the statistics extension over the measured window. After each repetition, pinned like
// the server, the in-process onnxruntime-node reference (in-process.mjs) runs batches of the
// sizes the batcher formed in it (batch 1 for the off cells). Writes
// bench/results/batching.json and bench/results/batching.md.
//
//   npm run build && node bench/batching/run.mjs [--quick] [--duration 10] [--reps 3]
//     [--delay-us 100] [--models text_direction,text_recognition] [--server-cpus 0] [--client-cpus 1]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildBodies, pseudoRandomFloats, writeBodies } from '../lib/bodies.mjs';
import { OCR_MODELS, modelFile } from '../lib/models.mjs';
import { cpuSeconds, have, run, sleep, startProcess } from '../lib/proc.mjs';
import { writeRepo } from '../lib/repos.mjs';
import { median, medianRun, ratio } from '../lib/stats.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    duration: { type: 'string' },
    reps: { type: 'string' },
    'delay-us': { type: 'string', default: '100' },
    models: { type: 'string', default: 'text_direction,text_recognition' },
    concurrency: { type: 'string', default: '1,4,16,64' },
    threads: { type: 'string', default: '2' },
    'server-cpus': { type: 'string' },
    'client-cpus': { type: 'string', default: '1' },
  },
});
const QUICK = values.quick;
const DURATION_S = Number(values.duration ?? (QUICK ? 4 : 10));
const REPS = Number(values.reps ?? (QUICK ? 1 : 3));
const WARMUP_S = QUICK ? 1 : 2;
const DELAY_US = Number(values['delay-us']);
const CONCURRENCY = values.concurrency.split(',').map(Number);
const THREADS = Number(values.threads);
const PIN = have('taskset') && os.availableParallelism() > 1;
// One core per intra-op thread: two ORT threads pinned to one core spin against each other
// (measured here: text_recognition went from about 7 to 60 ms of CPU per inference).
const defaultServerCpus = Array.from({ length: Math.max(1, Math.min(THREADS, os.availableParallelism())) }, (_, i) => i).join(',');
const SERVER_CPUS = PIN ? (values['server-cpus'] ?? defaultServerCpus) : undefined;
const CLIENT_CPUS = PIN ? values['client-cpus'] : undefined;
/** The model's input with a fixed width: text_recognition is [3,48,-1], measured at 320. */
const SHAPES = { text_direction: [3, 48, 192], text_recognition: [3, 48, 320] };
const models = values.models.split(',').map((name) => {
  const m = OCR_MODELS.find((o) => o.name === name);
  if (m === undefined || SHAPES[name] === undefined) throw new Error(`unknown model '${name}' (text_direction, text_recognition)`);
  return { ...m, item: SHAPES[name] };
});
if (!have('wrk')) throw new Error('wrk is needed (apt-get install wrk)');

const serverCpuCount = SERVER_CPUS === undefined ? os.availableParallelism() : SERVER_CPUS.split(',').length;
const OVERSUBSCRIBED = THREADS > serverCpuCount;
if (OVERSUBSCRIBED) {
  console.warn(`warning: ${THREADS} intra-op threads on ${serverCpuCount} server CPU(s): ORT's spinning threads contend for the core`);
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'infera-bench-batching-'));
const MODES = { off: undefined, on: { maxQueueDelayUs: DELAY_US } };

/** A repository per mode with every model: max_batch_size 8, one instance, THREADS threads. */
function repoFor(mode) {
  const repo = path.join(tmp, `repo-${mode}`);
  return writeRepo(repo, models, { batching: MODES[mode], instances: 1, threads: THREADS });
}

async function startServer(repo) {
  const args = [path.join(root, 'bin', 'infera.js'), '--model-repository', repo, '--http-port', '0', '--http-address', '127.0.0.1'];
  args.push('--allow-grpc=false', '--allow-metrics=false', '--log-format', 'json');
  return startProcess({ cmd: process.execPath, args, cpus: SERVER_CPUS, ready: /Started HTTPService at [^"]*:(\d+)/ });
}

async function stats(url, model) {
  const res = await fetch(`${url}/v2/models/${model}/stats`);
  if (!res.ok) throw new Error(`statistics of ${model}: ${res.status} ${await res.text()}`);
  const s = (await res.json()).model_stats[0];
  return { inferences: Number(s.inference_count), executions: Number(s.execution_count) };
}

/** Waits until requests left over from the last load (wrk stops without waiting for answers) are done. */
async function settle(url, model) {
  let last = await stats(url, model);
  for (let i = 0; i < 100; i++) {
    await sleep(100);
    const now = await stats(url, model);
    if (now.inferences === last.inferences) return now;
    last = now;
  }
  return last;
}

/** wrk's duration text ("812.00us", "1.20ms", "2.00s") in milliseconds. */
function toMs(text) {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  if (!m) return NaN;
  return Number(m[1]) * { us: 0.001, ms: 1, s: 1000, m: 60000 }[m[2]];
}

async function wrk(url, model, body, c, seconds) {
  // A long client timeout: at c=64 a slow model's closed-loop latency exceeds wrk's 2 s default.
  const args = ['-t1', `-c${c}`, `-d${seconds}s`, '--timeout', '60s', '--latency', '-s', path.join(here, 'post-binary.lua'), `${url}/v2/models/${model}/infer`];
  const out = await run('wrk', args, { cpus: CLIENT_CPUS, env: { BODY_FILE: body.binary, HEADER_LENGTH: String(body.headerLength) } });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const pct = (p) => toMs(new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(out)?.[1] ?? '');
  const errors = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0) + Number(/Socket errors:.*timeout (\d+)/.exec(out)?.[1] ?? 0);
  return { rps, p50Ms: pct(50), p99Ms: pct(99), errors };
}

/** One server process: warm-up, then every concurrency of every model. */
async function measureServer(mode, bodies) {
  const server = await startServer(repoFor(mode));
  const url = `http://127.0.0.1:${server.match[1]}`;
  const cells = [];
  try {
    for (const m of models) {
      await wrk(url, m.name, bodies[m.name], 16, WARMUP_S);
      for (const c of CONCURRENCY) {
        const s0 = await settle(url, m.name);
        const cpu0 = cpuSeconds(server.pid);
        const r = await wrk(url, m.name, bodies[m.name], c, DURATION_S);
        const s1 = await settle(url, m.name);
        const cpu = cpuSeconds(server.pid) - cpu0;
        const inferences = s1.inferences - s0.inferences;
        const cell = {
          model: m.name,
          mode,
          concurrency: c,
          ...r,
          avgBatch: ratio(inferences, s1.executions - s0.executions),
          serverCpuUsPerReq: (cpu * 1e6) / Math.max(1, inferences),
        };
        cells.push(cell);
        console.log(
          `  ${m.short} ${mode.padEnd(3)} c=${String(c).padStart(2)}: ${r.rps.toFixed(0).padStart(5)} rps, p50 ${r.p50Ms.toFixed(2)} ms, ` +
            `p99 ${r.p99Ms.toFixed(2)} ms, avg batch ${cell.avgBatch.toFixed(2)}, ${cell.serverCpuUsPerReq.toFixed(0)} µs CPU/req${r.errors ? `, ${r.errors} errors` : ''}`,
        );
      }
    }
  } finally {
    await server.stop();
  }
  return cells;
}

/**
 * In-process inferences per second at an average batch size: the median of 3 processes, since a
 * 2-thread ORT session runs at one of two speeds for its whole life (performance-baseline §2.1).
 */
async function inProcess(m, avgBatch) {
  const args = [path.join(here, 'in-process.mjs'), '--model', modelFile(m.name), '--input', m.input, '--shape', m.item.join(',')];
  args.push('--batch', String(avgBatch), '--threads', String(THREADS), '--duration', String(Math.max(1.5, DURATION_S / 4)));
  const runs = [];
  for (let i = 0; i < 3; i++) runs.push(JSON.parse(await run(process.execPath, args, { cpus: SERVER_CPUS })));
  return medianRun(runs, 'infPerSec');
}

/**
 * In-process reference right after the server runs of a repetition, so both see the same
 * machine. Batch sizes are rounded to one decimal, so nearly equal averages share a measurement.
 */
async function inProcessFor(cells) {
  const byKey = new Map();
  for (const c of cells) {
    const avgBatch = c.mode === 'off' ? 1 : Math.round(c.avgBatch * 10) / 10;
    const key = `${c.model}@${avgBatch}`;
    if (!byKey.has(key)) {
      const m = models.find((x) => x.name === c.model);
      const r = await inProcess(m, avgBatch);
      console.log(`  in-process ${m.short} batch ${avgBatch}: ${r.infPerSec.toFixed(0)} inf/s (${r.msPerBatchP50.toFixed(2)} ms per batch)`);
      byKey.set(key, r.infPerSec);
    }
    c.inProcessBatch = avgBatch;
    c.inProcessInfPerSec = byKey.get(key);
  }
}

const started = new Date();
console.log(
  `batching benchmark: ${models.map((m) => m.short).join(', ')}; ${REPS} rep(s) × ${DURATION_S} s; delay ${DELAY_US} µs; ` +
    `${THREADS} intra-op threads; server CPUs ${SERVER_CPUS ?? 'any'}, client CPUs ${CLIENT_CPUS ?? 'any'}`,
);
const bodies = {};
for (const m of models) {
  const tensor = { name: m.input, datatype: 'FP32', shape: [1, ...m.item], data: pseudoRandomFloats(m.item.reduce((a, b) => a * b, 1)) };
  bodies[m.name] = writeBodies(tmp, m.name, await buildBodies(m.name, [tensor]));
}

const runs = [];
for (let rep = 0; rep < REPS; rep++) {
  const repCells = [];
  for (const mode of rep % 2 === 0 ? ['off', 'on'] : ['on', 'off']) {
    console.log(`rep ${rep + 1}, batching ${mode}`);
    repCells.push(...(await measureServer(mode, bodies)));
    await sleep(500);
  }
  await inProcessFor(repCells);
  runs.push(...repCells.map((c) => ({ ...c, rep: rep + 1 })));
}
rmSync(tmp, { recursive: true, force: true });

const cells = [];
for (const m of models) {
  for (const c of CONCURRENCY) {
    for (const mode of ['off', 'on']) {
      const reps = runs.filter((r) => r.model === m.name && r.mode === mode && r.concurrency === c);
      const pick = medianRun(reps);
      // Ratios to in-process are taken within each repetition (same machine state), then the median.
      cells.push({
        ...pick,
        reps: reps.length,
        rpsAll: reps.map((r) => r.rps),
        inProcessInfPerSec: median(reps.map((r) => r.inProcessInfPerSec)),
        vsInProcess: median(reps.map((r) => ratio(r.rps, r.inProcessInfPerSec))),
      });
    }
  }
}
const cell = (model, mode, c) => cells.find((x) => x.model === model && x.mode === mode && x.concurrency === c);
/** on ÷ off within each repetition (the two ran back to back), then the median. */
const onOff = (model, c) =>
  median(
    runs
      .filter((r) => r.model === model && r.mode === 'on' && r.concurrency === c)
      .map((on) => ratio(on.rps, runs.find((r) => r.model === model && r.mode === 'off' && r.concurrency === c && r.rep === on.rep)?.rps)),
  );

const summary = models.map((m) => {
  const off = cell(m.name, 'off', 16);
  const on = cell(m.name, 'on', 16);
  return {
    model: m.name,
    onOffC16: onOff(m.name, 16),
    onVsInProcessC16: on?.vsInProcess,
    offVsInProcessBatch1C16: off?.vsInProcess,
  };
});
const result = {
  benchmark: 'dynamic-batching',
  date: started.toISOString(),
  node: process.version,
  cpus: os.availableParallelism(),
  quick: QUICK,
  pinned: PIN ? { server: SERVER_CPUS, client: CLIENT_CPUS } : false,
  durationS: DURATION_S,
  reps: REPS,
  maxQueueDelayUs: DELAY_US,
  maxBatchSize: 8,
  instances: 1,
  intraOpThreads: THREADS,
  protocol: 'HTTP/1.1, binary tensor data extension (wrk -t1)',
  cells,
  runs,
  summary,
  goals: { textDirectionOnOffC16: 1.5, onVsInProcessC16: 0.85, textRecognitionOnOffC16: 0.95 },
};
mkdirSync(path.join(root, 'bench', 'results'), { recursive: true });
writeFileSync(path.join(root, 'bench', 'results', 'batching.json'), `${JSON.stringify(result, null, 2)}\n`);

const f = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '—');
const lines = [
  '# Dynamic batching on vs off (HTTP binary, 1 instance)',
  '',
  `${result.date}, node ${process.version}, ${result.cpus} CPUs, ${PIN ? `server on CPU ${SERVER_CPUS}, wrk on CPU ${CLIENT_CPUS}` : 'unpinned'}; ` +
    `max_batch_size 8, max_queue_delay ${DELAY_US} µs, intra_op_thread_count ${THREADS}; ` +
    `${REPS} process-level repetition(s) of ${DURATION_S} s per cell, alternating off/on${QUICK ? ' (quick mode)' : ''}. ` +
    'rps and latencies: the repetition with the median rps; ratios: taken within each repetition, then the median. ' +
    'In-process: onnxruntime-node with the same threads and CPUs, median of 3 processes per repetition.',
  '',
];
if (OVERSUBSCRIBED) {
  lines.push(`Note: ${THREADS} intra-op threads share ${serverCpuCount} server CPU(s); the in-process reference runs the same way.`, '');
}
for (const m of models) {
  lines.push(`## ${m.name} (1×${m.item.join('×')} FP32)`, '');
  lines.push('| c | off rps | off p50 / p99 ms | on rps | on p50 / p99 ms | avg batch | on ÷ off | in-process inf/s at that batch | on ÷ in-process |');
  lines.push('|---|---|---|---|---|---|---|---|---|');
  for (const c of CONCURRENCY) {
    const off = cell(m.name, 'off', c);
    const on = cell(m.name, 'on', c);
    lines.push(
      `| ${c} | ${f(off.rps)} | ${f(off.p50Ms, 2)} / ${f(off.p99Ms, 2)} | ${f(on.rps)} | ${f(on.p50Ms, 2)} / ${f(on.p99Ms, 2)} | ` +
        `${f(on.avgBatch, 2)} | ${f(onOff(m.name, c), 2)}x | ${f(on.inProcessInfPerSec)} | ${f(on.vsInProcess, 2)}x |`,
    );
  }
  const off16 = cell(m.name, 'off', 16);
  lines.push('', `At c=16, batching off: ${f(off16.vsInProcess, 2)}x of in-process batch 1 (${f(off16.inProcessInfPerSec)} inf/s). Server CPU µs per inference at c=16: off ${f(cell(m.name, 'off', 16).serverCpuUsPerReq)}, on ${f(cell(m.name, 'on', 16).serverCpuUsPerReq)}.`, '');
}
lines.push('## Goals at c=16', '', '| model | on ÷ off | goal | on ÷ in-process (same batches) | goal |', '|---|---|---|---|---|');
for (const s of summary) {
  const goal = s.model === 'text_direction' ? 1.5 : 0.95;
  lines.push(`| ${s.model} | ${f(s.onOffC16, 2)}x | ≥ ${goal}x | ${f(s.onVsInProcessC16, 2)}x | ≥ 0.85x |`);
}
lines.push('');
writeFileSync(path.join(root, 'bench', 'results', 'batching.md'), lines.join('\n'));
console.log(`\n${lines.join('\n')}`);
