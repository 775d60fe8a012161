#!/usr/bin/env node
// Protocol threads (issue 20): what the core thread (the main thread, which owns scheduling)
// spends per request once HTTP/gRPC work runs on protocol threads, against the bare node:http
// and grpc-js floors; and throughput against an older build (the code before protocol threads,
// built beside) for the trivial model at c=64 and text_direction with the dynamic batcher at
// c=16. One run, sides interleaved (order rotated per repetition), one server process per side
// and repetition, medians. Servers pinned with taskset to --server-cpus, load generators to
// --client-cpus. Writes bench/results/threads.json and bench/results/threads.md.
//
//   npm run build && node bench/threads/run.mjs [--old <checkout of the older commit, built>]
//     [--reps 5] [--seconds 5] [--warmup 2] [--threads 2] [--server-cpus 0] [--client-cpus 1]
//     [--only trivial,text,headline]
//   headline: the README's text_direction figures (infera with default flags vs in-process
//   onnxruntime-node at batch 8 and vs the fastify peer; bench/lib/suite-headline.mjs).
//
// Core-thread CPU is read from /proc/<pid>/task/<pid>/stat (the main thread); the server's
// whole CPU from /proc/<pid>/stat. CPU per request, not throughput, is the figure that survives
// a noisy machine.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildBodies, pseudoRandomFloats, writeBodies } from '../lib/bodies.mjs';
import { measureCell } from '../lib/cells.mjs';
import { availableOcrModels, ROOT } from '../lib/models.mjs';
import { gitCommit, have } from '../lib/proc.mjs';
import { writeRepo } from '../lib/repos.mjs';
import { startInfera, startPeer } from '../lib/servers.mjs';
import { attempt, median } from '../lib/stats.mjs';
import { BATCHING } from '../lib/suite-infera.mjs';
import { runHeadlineSuite } from '../lib/suite-headline.mjs';

const { values } = parseArgs({
  options: {
    old: { type: 'string' },
    reps: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    threads: { type: 'string', default: '2' },
    'server-cpus': { type: 'string', default: '0' },
    'client-cpus': { type: 'string', default: '1' },
    only: { type: 'string', default: 'trivial,text,headline' },
    out: { type: 'string', default: 'threads' },
    sides: { type: 'string' },
  },
});
const reps = Number(values.reps);
const seconds = Number(values.seconds);
const warmup = Number(values.warmup);
const threads = values.threads;
const serverCpus = values['server-cpus'];
const clientCpus = values['client-cpus'];
const only = new Set(values.only.split(','));
const oldCli = values.old !== undefined ? path.resolve(values.old, 'bin', 'infera.js') : undefined;
// The results name the older build by its commit (a checkout's path means nothing elsewhere).
const oldCommit = values.old === undefined ? undefined : gitCommit(values.old);
const started = performance.now();
const log = (msg) => process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${msg}\n`);

for (const tool of ['wrk', 'h2load']) {
  if (!have(tool)) {
    console.error(`needs ${tool} (Debian: apt-get install wrk nghttp2-client)`);
    process.exit(1);
  }
}
if (oldCli !== undefined && !existsSync(path.resolve(values.old, 'lib', 'index.js'))) {
  console.error(`--old ${values.old}: not built (run npm run build there)`);
  process.exit(1);
}

const GRPC_PATH = '/inference.GRPCInferenceService/ModelInfer';
const threadFlags = (n) => ['--http-thread-count', String(n), '--grpc-thread-count', String(n)];

/**
 * The servers compared, by side name: each starts a server and measures the cells `cells`
 * gives it (HTTP and/or gRPC).
 */
function sides(repo) {
  const out = {
    'bare node:http': { start: () => startPeer('http-bare.mjs', [], serverCpus), protocols: ['http'] },
    'bare grpc-js': { start: () => startPeer('grpc-echo.mjs', [], serverCpus), protocols: ['grpc'] },
    [`infera, ${threads} protocol threads`]: { start: () => startInfera(repo, serverCpus, threadFlags(threads)), protocols: ['http', 'grpc'], infera: true },
    'infera, in-thread (0)': { start: () => startInfera(repo, serverCpus, threadFlags(0)), protocols: ['http', 'grpc'], infera: true },
    'infera, default flags': { start: () => startInfera(repo, serverCpus), protocols: ['http', 'grpc'], infera: true },
  };
  if (oldCli !== undefined) out['infera before protocol threads'] = { start: () => startInfera(repo, serverCpus, [], oldCli), protocols: ['http', 'grpc'], infera: true };
  // --sides: a comma-separated subset of side names (substring match), for quick probes.
  if (values.sides !== undefined) for (const k of Object.keys(out)) if (!values.sides.split(',').some((w) => k.includes(w))) delete out[k];
  return out;
}

/** Runs `cellsOf(side)` for each side per repetition, in rotated order. @returns Map side|protocol -> runs[] */
async function interleaved(name, all, cellsOf) {
  const runs = new Map();
  const names = Object.keys(all);
  for (let rep = 0; rep < reps; rep++) {
    for (let i = 0; i < names.length; i++) {
      const side = names[(i + rep) % names.length];
      const s = all[side];
      const server = await s.start();
      try {
        for (const [protocol, target] of cellsOf(s, server)) {
          log(`${name}: ${side} ${protocol} (rep ${rep + 1}/${reps})`);
          const r = await attempt(log, () => measureCell(target, { concurrency: target.concurrency, seconds, warmup, cpus: clientCpus }));
          const key = `${side}|${protocol}`;
          runs.set(key, [...(runs.get(key) ?? []), r]);
        }
      } finally {
        await server.stop();
      }
    }
  }
  return runs;
}

function summarize(runs) {
  const rows = [];
  for (const [key, all] of runs) {
    const [side, protocol] = key.split('|');
    const ok = all.filter((r) => r.error === undefined);
    const med = (k) => median(ok.map((r) => r[k]));
    rows.push({
      side,
      protocol,
      reps: ok.length,
      rps: med('rps'),
      rpsRuns: all.map((r) => r.rps ?? null),
      p50Us: med('p50Us'),
      serverCpuUsPerReq: med('serverCpuUsPerReq'),
      coreCpuUsPerReq: med('coreCpuUsPerReq'),
      coreCpuRuns: all.map((r) => r.coreCpuUsPerReq ?? null),
      avgBatch: median(ok.map((r) => r.server?.avgBatch).filter((v) => v !== undefined)),
      ...(ok.length < all.length ? { error: all.find((r) => r.error !== undefined).error } : {}),
    });
  }
  return rows;
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'infera-bench-threads-'));
const result = { started: new Date().toISOString(), machine: `${os.cpus()[0]?.model ?? '?'}, ${os.cpus().length} cores`, node: process.version, reps, seconds, warmup, threads, serverCpus, clientCpus, old: oldCommit, suites: {} };
try {
  if (only.has('trivial')) {
    const repo = writeRepo(path.join(dir, 'trivial'), [], {}, { simple: true });
    const tensor = (name, v) => ({ name, datatype: 'INT32', shape: [1, 16], data: new Int32Array(16).fill(v) });
    const files = writeBodies(dir, 'simple', await buildBodies('simple', [tensor('INPUT0', 3), tensor('INPUT1', 1)]));
    const c = 64;
    const runs = await interleaved('trivial c=64', sides(repo), (s, server) => {
      const cells = [];
      if (s.protocols.includes('http')) {
        const url = s.infera ? `${server.httpUrl}/v2/models/simple/infer` : `http://${server.url}/v2/models/simple/infer`;
        cells.push(['http-json', { pid: server.pid, kind: 'http', url, body: files.json, contentType: 'application/json', concurrency: c, ...(s.infera ? { stats: { httpUrl: server.httpUrl, model: 'simple' } } : {}) }]);
      }
      if (s.protocols.includes('grpc')) {
        const url = `http://${s.infera ? server.grpcUrl : server.url}${GRPC_PATH}`;
        cells.push(['grpc', { pid: server.pid, kind: 'grpc', url, body: files.grpc, concurrency: c, ...(s.infera ? { stats: { httpUrl: server.httpUrl, model: 'simple' } } : {}) }]);
      }
      return cells;
    });
    result.suites.trivial = { concurrency: c, rows: summarize(runs) };
  }
  const cls = availableOcrModels().find((m) => m.name === 'text_direction');
  if (only.has('text') && cls !== undefined) {
    const count = cls.shape.reduce((a, b) => a * b, 1);
    const files = writeBodies(dir, cls.short, await buildBodies(cls.name, [{ name: cls.input, datatype: 'FP32', shape: cls.shape, data: pseudoRandomFloats(count) }]));
    const repo = writeRepo(path.join(dir, 'text'), [cls], { batching: BATCHING[cls.name] });
    const all = sides(repo);
    for (const k of Object.keys(all)) if (!all[k].infera) delete all[k];
    const c = 16;
    const runs = await interleaved('text_direction c=16', all, (_s, server) => {
      const stats = { httpUrl: server.httpUrl, model: cls.name };
      return [
        ['http-binary', { pid: server.pid, kind: 'http', url: `${server.httpUrl}/v2/models/${cls.name}/infer`, body: files.binary, contentType: 'application/octet-stream', headerLength: files.headerLength, stats, concurrency: c }],
        ['grpc', { pid: server.pid, kind: 'grpc', url: `http://${server.grpcUrl}${GRPC_PATH}`, body: files.grpc, stats, concurrency: c }],
      ];
    });
    result.suites.text_direction = { concurrency: c, rows: summarize(runs) };
  }
  if (only.has('headline') && cls !== undefined) {
    const h = await runHeadlineSuite({ reps: Math.max(reps, 3), seconds: Math.max(seconds, 4), warmup: Math.max(warmup, 2), serverCpus, clientCpus, log, model: cls, concurrency: 16, batch: 8 });
    result.suites.headline = { medians: h.medians, reps: h.reps, runs: { limit: h.limit.map((r) => r.rps ?? null), peer: h.peer.map((r) => r.rps ?? null), 'http-binary': h.infera['http-binary'].map((r) => r.rps ?? null), grpc: h.infera.grpc.map((r) => r.rps ?? null) } };
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
result.seconds_total = Math.round((performance.now() - started) / 1000);
result.goals = goals(result);

const outDir = path.join(ROOT, 'bench', 'results');
mkdirSync(outDir, { recursive: true });
writeFileSync(path.join(outDir, `${values.out}.json`), `${JSON.stringify(result, null, 2)}\n`);
writeFileSync(path.join(outDir, `${values.out}.md`), render(result));
process.stdout.write(render(result));

function goals(r) {
  const out = [];
  const row = (suite, side, protocol) => r.suites[suite]?.rows.find((x) => x.side === side && x.protocol === protocol);
  const threaded = `infera, ${threads} protocol threads`;
  for (const [protocol, bare] of [['http-json', 'bare node:http'], ['grpc', 'bare grpc-js']]) {
    const a = row('trivial', threaded, protocol);
    const b = row('trivial', bare, protocol);
    if (a && b) out.push({ goal: `trivial c=64 ${protocol}: core-thread CPU/request, ${threads} threads ÷ ${bare} CPU/request`, measured: a.coreCpuUsPerReq / b.serverCpuUsPerReq, target: '≤ 1.0', met: a.coreCpuUsPerReq <= b.serverCpuUsPerReq, numbers: `${a.coreCpuUsPerReq.toFixed(1)} vs ${b.serverCpuUsPerReq.toFixed(1)} µs` });
  }
  if (r.old !== undefined) {
    for (const [suite, protocol] of [['trivial', 'http-json'], ['trivial', 'grpc'], ['text_direction', 'http-binary'], ['text_direction', 'grpc']]) {
      const b = row(suite, 'infera before protocol threads', protocol);
      for (const side of ['infera, default flags', threaded]) {
        const a = row(suite, side, protocol);
        if (a && b) out.push({ goal: `${suite} ${protocol}: ${side} ÷ before, infer/s`, measured: a.rps / b.rps, target: '≥ 0.95', met: a.rps / b.rps >= 0.95, numbers: `${a.rps.toFixed(0)} vs ${b.rps.toFixed(0)} infer/s` });
      }
    }
  }
  return out;
}

function render(r) {
  const f = (v, d = 1) => (v === undefined || v === null || Number.isNaN(v) ? 'n/a' : v.toFixed(d));
  const lines = [
    '# Protocol threads',
    '',
    `Run ${r.started}: ${r.machine}, Node ${r.node}; ${r.reps} repetitions, sides interleaved (rotated order), ${r.seconds} s per cell after ${r.warmup} s warm-up; medians.`,
    `Servers pinned to CPU ${r.serverCpus}, load generators (wrk, h2load) to CPU ${r.clientCpus}. Core-thread CPU = the server's main thread (/proc/<pid>/task/<pid>/stat).${r.old ? ` "before" = ${r.old}, built beside.` : ''}`,
    '',
    '## Goals',
    '',
    '| goal | measured | target | met | numbers |',
    '|---|---|---|---|---|',
    ...r.goals.map((g) => `| ${g.goal} | ${f(g.measured, 2)} | ${g.target} | ${g.met ? 'yes' : '**no**'} | ${g.numbers} |`),
  ];
  const h = r.suites.headline;
  if (h !== undefined) {
    const m = h.medians;
    lines.push('', '## text_direction c=16, batcher on, default flags: vs in-process (batch 8) and the fastify peer', '',
      '| side | runs (infer/s) | median | ÷ in-process | ÷ fastify |', '|---|---|---|---|---|',
      `| in-process onnxruntime-node, batch 8 | ${h.runs.limit.map((v) => f(v, 0)).join(', ')} | ${f(m.limit, 0)} | 1 | |`,
      `| infera HTTP binary | ${h.runs['http-binary'].map((v) => f(v, 0)).join(', ')} | ${f(m['http-binary'], 0)} | ${f(m['http-binary'] / m.limit, 2)} | ${f(m['http-binary'] / m.peer, 2)} |`,
      `| infera gRPC | ${h.runs.grpc.map((v) => f(v, 0)).join(', ')} | ${f(m.grpc, 0)} | ${f(m.grpc / m.limit, 2)} | ${f(m.grpc / m.peer, 2)} |`,
      `| fastify + onnxruntime-node, JSON | ${h.runs.peer.map((v) => f(v, 0)).join(', ')} | ${f(m.peer, 0)} | ${f(m.peer / m.limit, 2)} | 1 |`);
  }
  for (const [name, suite] of Object.entries(r.suites)) {
    if (suite.rows === undefined) continue;
    lines.push('', `## ${name}, c=${suite.concurrency}`, '', '| side | protocol | infer/s | runs (infer/s) | p50 ms | server CPU µs/req | core-thread CPU µs/req | avg batch |', '|---|---|---|---|---|---|---|---|');
    for (const x of suite.rows) {
      lines.push(`| ${x.side} | ${x.protocol} | ${f(x.rps, 0)} | ${x.rpsRuns.map((v) => f(v, 0)).join(', ')} | ${f(x.p50Us / 1000, 2)} | ${f(x.serverCpuUsPerReq)} | ${f(x.coreCpuUsPerReq)} | ${f(x.avgBatch, 2)} |${x.error ? ` error: ${x.error}` : ''}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
