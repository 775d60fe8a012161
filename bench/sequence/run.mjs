#!/usr/bin/env node
// Sequence-batcher throughput on the stateful Silero VAD example model: C concurrent sequences
// (default 16), each streaming 512-sample chunks over HTTP (binary tensor data) one after
// another (a chunk is sent when the previous answer arrived, as a live stream would), with
//   - batch8: the example config (oldest strategy, max_batch_size 8, preferred [8]), and
//   - batch1: the same with max_batch_size 1 (every chunk runs alone; batching disabled),
// one instance each, side by side: both servers up at once, the load alternating between them
// in 1 s slices (--duration s each), --reps process-level repetitions, medians. The server
// processes run on CPU 0 and the client on CPU 1 when taskset exists. Reports chunks/s,
// latency p50/p99 and server CPU µs per chunk (robust to a slow client or a busy machine);
// writes bench/results/sequence.{json,md}. --in-process calls an embedded engine instead
// (no HTTP; results in sequence-in-process.{json,md}), to separate the batcher from the protocol.
//
//   npm run build && node scripts/place-example-models.mjs && node bench/sequence/run.mjs [--duration 8] [--reps 3] [--in-process]
import { execFileSync, spawn } from 'node:child_process';
import net from 'node:net';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '8' },
    reps: { type: 'string', default: '3' },
    sequences: { type: 'string', default: '16' },
    chunks: { type: 'string', default: '100' },
    'in-process': { type: 'boolean', default: false },
  },
});
const IN_PROCESS = values['in-process'];
const DURATION_S = Number(values.duration);
const REPS = Number(values.reps);
const SEQUENCES = Number(values.sequences);
const CHUNKS = Number(values.chunks);
const WARMUP_S = 1;
/** Load alternates between the two servers in slices this long, s. */
const SLICE_S = 1;

const modelDir = path.join(root, 'examples', 'model_repository', 'silero_vad');
const baseConfig = readFileSync(path.join(modelDir, 'config.pbtxt'), 'utf8');
const variants = {
  batch8: baseConfig,
  batch1: baseConfig.replace('max_batch_size: 8', 'max_batch_size: 1').replace('preferred_batch_size: [ 8 ]', 'preferred_batch_size: [ 1 ]'),
};
if (variants.batch1 === baseConfig) throw new Error('could not derive the batch1 config from the example config');

const tmp = mkdtempSync(path.join(os.tmpdir(), 'infera-bench-seq-'));
function repoFor(name) {
  const repo = path.join(tmp, name);
  mkdirSync(path.join(repo, 'silero_vad', '1'), { recursive: true });
  writeFileSync(path.join(repo, 'silero_vad', 'config.pbtxt'), variants[name]);
  copyFileSync(path.join(modelDir, '1', 'model.onnx'), path.join(repo, 'silero_vad', '1', 'model.onnx'));
  return repo;
}

const hasTaskset = (() => {
  try {
    execFileSync('taskset', ['-c', '0', 'true']);
    return os.availableParallelism() > 1;
  } catch {
    return false;
  }
})();

function startServer(repo) {
  const args = [path.join(root, 'bench', 'sequence', 'serve.mjs'), repo];
  const child = hasTaskset ? spawn('taskset', ['-c', '0', process.execPath, ...args]) : spawn(process.execPath, args);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /port (\d+)/.exec(out);
      if (m) resolve({ child, url: `http://127.0.0.1:${m[1]}` });
    });
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => reject(new Error(`server exited (${code}): ${out}`)));
  });
}

/** --in-process: the engine itself, in this process (`url` is the engine). */
async function startEngine(repo) {
  const { InferenceServer } = await import('../../lib/index.js');
  return { child: undefined, url: await InferenceServer.create({ modelRepositories: [repo] }) };
}

/** utime + stime of a process, in µs (Linux /proc). */
function cpuMicros(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / 100) * 1e6;
}

/**
 * A minimal HTTP/1.1 keep-alive connection over node:net for one stream: writes one request,
 * reads one Content-Length framed response. Node's http client costs several hundred µs of
 * CPU per request on this class of machine, as much as the server it would measure; this
 * costs a few tens.
 */
class Connection {
  #socket;
  #buffer = Buffer.alloc(0);
  #pending;

  constructor(host, port) {
    this.#socket = net.connect({ host, port, noDelay: true });
    this.#socket.on('data', (d) => this.#onData(d));
    this.#socket.on('error', (e) => this.#pending?.reject(e));
  }

  request(head, body) {
    return new Promise((resolve, reject) => {
      this.#pending = { resolve, reject };
      this.#socket.write(head);
      this.#socket.write(body);
    });
  }

  #onData(data) {
    this.#buffer = this.#buffer.length === 0 ? data : Buffer.concat([this.#buffer, data]);
    const end = this.#buffer.indexOf('\r\n\r\n');
    if (end === -1) return;
    const head = this.#buffer.subarray(0, end).toString('latin1');
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? NaN);
    if (!Number.isFinite(length)) return this.#pending?.reject(new Error(`response without Content-Length: ${head}`));
    if (this.#buffer.length < end + 4 + length) return;
    const status = Number(head.slice(9, 12));
    const body = this.#buffer.subarray(end + 4, end + 4 + length);
    this.#buffer = this.#buffer.subarray(end + 4 + length);
    const pending = this.#pending;
    this.#pending = undefined;
    if (status === 200) pending?.resolve();
    else pending?.reject(new Error(`${status}: ${body}`));
  }

  close() {
    this.#socket.destroy();
  }
}

const AUDIO = new Float32Array(512);
for (let i = 0; i < AUDIO.length; i++) AUDIO[i] = Math.sin(i / 7) * 0.2 + (((i * 7919) % 13) / 13 - 0.5) * 0.05;

/** Per stream: one connection that sends chunks in the binary tensor data extension. */
function httpSender(url) {
  const { hostname, port, host } = new URL(url);
  const chunk = Buffer.from(AUDIO.buffer);
  const request = (connection, id, start, end) => {
    const json = JSON.stringify({
      parameters: { sequence_id: id, sequence_start: start, sequence_end: end, binary_data_output: true },
      inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 512], parameters: { binary_data_size: chunk.length } }],
    });
    const jsonLength = Buffer.byteLength(json);
    const head =
      `POST /v2/models/silero_vad/infer HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/octet-stream\r\n` +
      `Inference-Header-Content-Length: ${jsonLength}\r\nContent-Length: ${jsonLength + chunk.length}\r\n\r\n${json}`;
    return connection.request(head, chunk);
  };
  return () => {
    const connection = new Connection(hostname, Number(port));
    return { send: (id, start, end) => request(connection, id, start, end), close: () => connection.close() };
  };
}

/** Per stream: calls into an embedded engine. */
function engineSender(engine) {
  return () => ({
    send: (id, start, end) =>
      engine.infer({
        modelName: 'silero_vad',
        inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 512], data: new Uint8Array(AUDIO.slice().buffer) }],
        parameters: { sequence_id: id, sequence_start: start, sequence_end: end },
      }),
    close: () => {},
  });
}

/**
 * Runs SEQUENCES streams for `seconds` against a target: a server URL, or (--in-process) an
 * embedded InferenceServer called directly, without HTTP.
 */
async function load(target, seconds, record) {
  const connect = typeof target === 'string' ? httpSender(target) : engineSender(target);
  const stopAt = performance.now() + seconds * 1000;
  let nextId = 1 + Math.floor(Math.random() * 1e9);
  const latencies = [];
  let count = 0;
  const stream = async () => {
    const { send, close } = connect();
    while (performance.now() < stopAt) {
      const id = nextId++;
      // A sequence always ends with END (when time is up, too), so no slot is left to the idle reaper.
      let end = false;
      for (let i = 0; !end; i++) {
        end = i === CHUNKS - 1 || performance.now() >= stopAt;
        const t0 = performance.now();
        await send(id, i === 0, end);
        if (record) {
          latencies.push(performance.now() - t0);
          count++;
        }
      }
    }
    close();
  };
  await Promise.all(Array.from({ length: SEQUENCES }, stream));
  return { count, latencies };
}

/**
 * One process-level repetition: both servers up at once, then short slices of load that
 * alternate between them, so drift in what else the machine runs hits both alike.
 */
async function repetition(rep) {
  const names = rep % 2 === 0 ? ['batch1', 'batch8'] : ['batch8', 'batch1'];
  const servers = {};
  try {
    for (const name of names) servers[name] = IN_PROCESS ? await startEngine(repoFor(name)) : await startServer(repoFor(name));
    for (const name of names) await load(servers[name].url, WARMUP_S, false);
    const totals = Object.fromEntries(names.map((n) => [n, { count: 0, seconds: 0, cpu: 0, clientCpu: 0, latencies: [] }]));
    const slices = Math.max(1, Math.round(DURATION_S / SLICE_S));
    for (let i = 0; i < slices; i++) {
      for (const name of i % 2 === 0 ? names : [...names].reverse()) {
        const { child, url } = servers[name];
        const cpu0 = child ? cpuMicros(child.pid) : 0;
        const own0 = process.cpuUsage();
        const t0 = performance.now();
        const r = await load(url, SLICE_S, true);
        const t = totals[name];
        t.seconds += (performance.now() - t0) / 1000;
        const own = process.cpuUsage(own0);
        // In-process, engine and load share the process: all of its CPU is counted as the server's.
        if (child) t.cpu += cpuMicros(child.pid) - cpu0;
        else t.cpu += own.user + own.system;
        if (child) t.clientCpu += own.user + own.system;
        t.count += r.count;
        t.latencies.push(...r.latencies);
      }
    }
    const result = {};
    for (const name of names) {
      const t = totals[name];
      t.latencies.sort((a, b) => a - b);
      result[name] = {
        chunksPerSec: t.count / t.seconds,
        p50Ms: t.latencies[Math.floor(t.latencies.length * 0.5)],
        p99Ms: t.latencies[Math.floor(t.latencies.length * 0.99)],
        serverCpuUsPerChunk: t.cpu / t.count,
        clientCpuUsPerChunk: t.clientCpu / t.count,
      };
    }
    return result;
  } finally {
    for (const { child, url } of Object.values(servers)) {
      if (!child) {
        await url.close();
        continue;
      }
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  }
}

if (hasTaskset && !IN_PROCESS) execFileSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
const runs = { batch8: [], batch1: [] };
for (let rep = 0; rep < REPS; rep++) {
  const result = await repetition(rep);
  for (const name of ['batch1', 'batch8']) {
    const r = result[name];
    runs[name].push(r);
    console.log(`rep ${rep + 1} ${name}: ${r.chunksPerSec.toFixed(0)} chunks/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, server ${r.serverCpuUsPerChunk.toFixed(0)} µs CPU/chunk, client ${r.clientCpuUsPerChunk.toFixed(0)} µs CPU/chunk`);
  }
}
rmSync(tmp, { recursive: true, force: true });

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const summary = Object.fromEntries(
  Object.entries(runs).map(([name, rs]) => [
    name,
    {
      chunksPerSec: median(rs.map((r) => r.chunksPerSec)),
      p50Ms: median(rs.map((r) => r.p50Ms)),
      p99Ms: median(rs.map((r) => r.p99Ms)),
      serverCpuUsPerChunk: median(rs.map((r) => r.serverCpuUsPerChunk)),
      clientCpuUsPerChunk: median(rs.map((r) => r.clientCpuUsPerChunk)),
    },
  ]),
);
const speedup = summary.batch8.chunksPerSec / summary.batch1.chunksPerSec;
const cpuSpeedup = summary.batch1.serverCpuUsPerChunk / summary.batch8.serverCpuUsPerChunk;
const result = {
  benchmark: 'sequence-batcher',
  model: 'silero_vad (adapted Silero VAD v5, 512-sample chunks, implicit state)',
  sequences: SEQUENCES,
  chunksPerSequence: CHUNKS,
  durationS: DURATION_S,
  reps: REPS,
  inProcess: IN_PROCESS,
  pinned: hasTaskset && !IN_PROCESS,
  node: process.version,
  cpus: os.cpus().length,
  date: new Date().toISOString(),
  runs,
  summary,
  speedup,
  cpuSpeedup,
  goal: 1.5,
};
mkdirSync(path.join(root, 'bench', 'results'), { recursive: true });
const base = IN_PROCESS ? 'sequence-in-process' : 'sequence';
writeFileSync(path.join(root, 'bench', 'results', `${base}.json`), `${JSON.stringify(result, null, 2)}\n`);
const row = (name) => {
  const s = summary[name];
  return `| ${name} | ${s.chunksPerSec.toFixed(0)} | ${s.p50Ms.toFixed(2)} | ${s.p99Ms.toFixed(2)} | ${s.serverCpuUsPerChunk.toFixed(0)} | ${s.clientCpuUsPerChunk.toFixed(0)} |`;
};
const md = [
  `# Sequence batcher: ${SEQUENCES} concurrent VAD streams (${IN_PROCESS ? 'embedded engine, no HTTP' : 'HTTP'}, 1 instance)`,
  '',
  `${result.date}, node ${process.version}, ${result.cpus} CPUs, ${IN_PROCESS ? 'one process, unpinned' : hasTaskset ? 'server on CPU 0, client on CPU 1' : 'unpinned'}; medians of ${REPS} process-level repetitions, each ${DURATION_S} s per config in alternating ${SLICE_S} s slices.`,
  '',
  '| config | chunks/s | p50 ms | p99 ms | server CPU µs/chunk | client CPU µs/chunk |',
  '|---|---|---|---|---|---|',
  row('batch1'),
  row('batch8'),
  '',
  `Speed-up batch8 ÷ batch1: **${speedup.toFixed(2)}x** in chunks/s (goal ≥ 1.5x); ${cpuSpeedup.toFixed(2)}x in server CPU per chunk.`,
  '',
].join('\n');
writeFileSync(path.join(root, 'bench', 'results', `${base}.md`), md);
console.log(`\n${md}`);
