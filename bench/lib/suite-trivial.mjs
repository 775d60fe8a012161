// The trivial model (add/sub INT32 [1,16]): per-request overhead in server CPU µs, infera over
// HTTP vs a bare node:http server (wrk) and infera over gRPC vs a bare grpc-js echo (h2load),
// alternating reference and candidate, one server process per repetition (performance
// baseline §3, G9). Servers on CPU 0, load generators on CPU 1.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildBodies, writeBodies } from './bodies.mjs';
import { measureCell } from './cells.mjs';
import { writeSimpleModel } from './simple-model.mjs';
import { startInfera, startPeer } from './servers.mjs';
import { attempt, median, medianRun } from './stats.mjs';

const GRPC_PATH = '/inference.GRPCInferenceService/ModelInfer';

/** @param o { concurrencies, seconds, warmup, reps, serverCpus, clientCpus, log } */
export async function runTrivialSuite(o) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'infera-bench-trivial-'));
  const runs = new Map();
  const add = (key, r) => runs.set(key, [...(runs.get(key) ?? []), r]);
  try {
    const repo = path.join(dir, 'repo');
    writeSimpleModel(repo);
    const tensor = (name, v) => ({ name, datatype: 'INT32', shape: [1, 16], data: new Int32Array(16).fill(v) });
    const files = writeBodies(dir, 'simple', await buildBodies('simple', [tensor('INPUT0', 3), tensor('INPUT1', 1)]));
    for (let rep = 0; rep < o.reps; rep++) {
      // Reference first on even repetitions, candidate first on odd ones.
      const order = rep % 2 === 0 ? ['bare', 'infera'] : ['infera', 'bare'];
      for (const who of order) {
        if (who === 'bare') {
          const http = await startPeer('http-bare.mjs', [], o.serverCpus);
          try {
            for (const c of o.concurrencies) {
              o.log(`trivial: bare node:http c=${c} (rep ${rep + 1}/${o.reps})`);
              add(`node:http|http-json|${c}`, await attempt(o.log, () => measureCell(
                { pid: http.pid, kind: 'http', url: `http://${http.url}/v2/models/simple/infer`, body: files.json, contentType: 'application/json' },
                { concurrency: c, seconds: o.seconds, warmup: o.warmup, cpus: o.clientCpus },
              )));
            }
          } finally {
            await http.stop();
          }
          const grpc = await startPeer('grpc-echo.mjs', [], o.serverCpus);
          try {
            for (const c of o.concurrencies) {
              o.log(`trivial: bare grpc-js echo c=${c} (rep ${rep + 1}/${o.reps})`);
              add(`grpc-js|grpc|${c}`, await attempt(o.log, () => measureCell(
                { pid: grpc.pid, kind: 'grpc', url: `http://${grpc.url}${GRPC_PATH}`, body: files.grpc },
                { concurrency: c, seconds: o.seconds, warmup: o.warmup, cpus: o.clientCpus },
              )));
            }
          } finally {
            await grpc.stop();
          }
        } else {
          const server = await startInfera(repo, o.serverCpus);
          try {
            const stats = { httpUrl: server.httpUrl, model: 'simple' };
            for (const c of o.concurrencies) {
              o.log(`trivial: infera HTTP c=${c} (rep ${rep + 1}/${o.reps})`);
              add(`infera|http-json|${c}`, await attempt(o.log, () => measureCell(
                { pid: server.pid, kind: 'http', url: `${server.httpUrl}/v2/models/simple/infer`, body: files.json, contentType: 'application/json', stats },
                { concurrency: c, seconds: o.seconds, warmup: o.warmup, cpus: o.clientCpus },
              )));
              if (server.grpcUrl === undefined) continue;
              o.log(`trivial: infera gRPC c=${c} (rep ${rep + 1}/${o.reps})`);
              add(`infera|grpc|${c}`, await attempt(o.log, () => measureCell(
                { pid: server.pid, kind: 'grpc', url: `http://${server.grpcUrl}${GRPC_PATH}`, body: files.grpc, stats },
                { concurrency: c, seconds: o.seconds, warmup: o.warmup, cpus: o.clientCpus },
              )));
            }
          } finally {
            await server.stop();
          }
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const rows = [...runs.entries()].map(([key, all]) => {
    const [server, protocol, c] = key.split('|');
    const list = all.filter((x) => x.error === undefined);
    const r = list.length > 0 ? medianRun(list) : { rps: NaN };
    return {
      suite: 'trivial',
      name: server === 'infera' ? `infera (${protocol === 'grpc' ? 'gRPC' : 'HTTP JSON'})` : server === 'node:http' ? 'bare node:http (fixed JSON)' : 'bare grpc-js echo',
      server,
      model: 'simple',
      protocol,
      concurrency: Number(c),
      rps: r.rps,
      p50Us: r.p50Us,
      p99Us: r.p99Us,
      serverCpuUsPerReq: median(list.map((x) => x.serverCpuUsPerReq)),
      serverCpuPercent: r.serverCpuPercent,
      reps: list.length,
      rpsRange: [Math.min(...list.map((x) => x.rps)), Math.max(...list.map((x) => x.rps))],
      client: protocol === 'grpc' ? 'h2load' : 'wrk',
      ...(list.length < all.length ? { error: all.find((x) => x.error !== undefined).error } : {}),
    };
  });
  // Each infera row's limit is the bare server of its protocol at the same concurrency.
  for (const row of rows) {
    if (row.server !== 'infera') continue;
    const bare = rows.find((r) => r.server !== 'infera' && r.protocol === row.protocol && r.concurrency === row.concurrency);
    if (bare === undefined) continue;
    row.limit = bare.name;
    row.ratio = row.rps / bare.rps;
    row.cpuRatio = row.serverCpuUsPerReq / bare.serverCpuUsPerReq;
  }
  return rows;
}
