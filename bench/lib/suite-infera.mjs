// infera on the three OCR models: HTTP JSON, HTTP binary and gRPC (and system shared memory
// when the server has it), at concurrency 1, 4 and 16, with the dynamic batcher off and on.
// Server on CPU 0 (one instance, one intra-op thread per model), load generator on CPU 1.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildBodies, pseudoRandomFloats, writeBodies } from './bodies.mjs';
import { measureCell } from './cells.mjs';
import { writeRepo } from './repos.mjs';
import { startInfera } from './servers.mjs';
import { perfCell, probeSharedMemory } from './perf-runner.mjs';
import { attempt, medianRun } from './stats.mjs';

/** Dynamic batcher settings per model: conv models gain nothing past batch 2–4 on CPU. */
export const BATCHING = {
  text_direction: { maxQueueDelayUs: 500, preferred: [] },
  text_recognition: { maxQueueDelayUs: 500, preferred: [4] },
  text_detection: { maxQueueDelayUs: 500, preferred: [2] },
};

const PROTOCOLS = ['http-json', 'http-binary', 'grpc'];

function target(server, m, protocol, files) {
  const stats = { httpUrl: server.httpUrl, model: m.name };
  if (protocol === 'grpc') {
    return { pid: server.pid, kind: 'grpc', url: `http://${server.grpcUrl}/inference.GRPCInferenceService/ModelInfer`, body: files.grpc, stats };
  }
  const url = `${server.httpUrl}/v2/models/${m.name}/infer`;
  return protocol === 'http-json'
    ? { pid: server.pid, kind: 'http', url, body: files.json, contentType: 'application/json', stats }
    : { pid: server.pid, kind: 'http', url, body: files.binary, contentType: 'application/octet-stream', headerLength: files.headerLength, stats };
}

/**
 * @param o { models, concurrencies, seconds, warmup, reps, serverCpus, clientCpus, log, perfSeconds, perfMaxTrials }
 * @returns { rows, sharedMemory: { available, reason } }
 */
export async function runInferaSuite(o) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'infera-bench-'));
  const runs = new Map();
  const add = (key, run) => runs.set(key, [...(runs.get(key) ?? []), run]);
  let shm = { available: false, reason: 'not probed' };
  try {
    const files = {};
    for (const m of o.models) {
      const count = m.shape.reduce((a, b) => a * b, 1);
      const bodies = await buildBodies(m.name, [{ name: m.input, datatype: 'FP32', shape: m.shape, data: pseudoRandomFloats(count) }]);
      files[m.name] = writeBodies(dir, m.short, bodies);
    }
    // One repository per variant; with the batcher, each model has its own settings.
    const repos = { off: writeRepo(path.join(dir, 'repo-off'), o.models, {}), on: path.join(dir, 'repo-on') };
    for (const m of o.models) writeRepo(repos.on, [m], { batching: BATCHING[m.name] });

    for (let rep = 0; rep < o.reps; rep++) {
      for (const variant of ['off', 'on']) {
        const server = await startInfera(repos[variant], o.serverCpus);
        try {
          if (rep === 0 && variant === 'off') shm = await probeSharedMemory(server.httpUrl);
          for (const m of o.models) {
            for (const protocol of PROTOCOLS) {
              if (protocol === 'grpc' && server.grpcUrl === undefined) continue;
              for (const c of o.concurrencies) {
                o.log(`infera ${m.short} ${protocol} batcher ${variant} c=${c} (rep ${rep + 1}/${o.reps})`);
                const r = await attempt(o.log, () =>
                  measureCell(target(server, m, protocol, files[m.name]), { concurrency: c, seconds: o.seconds, warmup: o.warmup, cpus: o.clientCpus }),
                );
                add(`${m.name}|${variant}|${protocol}|${c}`, r);
              }
            }
            if (shm.available) {
              for (const c of o.concurrencies) {
                o.log(`infera ${m.short} system-shm batcher ${variant} c=${c} (rep ${rep + 1}/${o.reps})`);
                const r = await attempt(o.log, () =>
                  perfCell(server, m, { protocol: 'http', sharedMemory: true, concurrency: c, seconds: o.perfSeconds, maxTrials: o.perfMaxTrials, cpus: o.clientCpus }),
                );
                add(`${m.name}|${variant}|http-shm|${c}`, r);
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
    const [model, variant, protocol, c] = key.split('|');
    const list = all.filter((x) => x.error === undefined);
    const r = list.length > 0 ? medianRun(list) : { rps: NaN, error: all[0].error };
    return {
      suite: 'infera',
      model,
      protocol,
      batching: variant === 'on',
      concurrency: Number(c),
      rps: r.rps,
      p50Us: r.p50Us,
      p99Us: r.p99Us,
      serverCpuUsPerReq: r.serverCpuUsPerReq,
      serverCpuPercent: r.serverCpuPercent,
      avgBatch: r.server?.avgBatch,
      reps: list.length,
      rpsRange: list.length > 0 ? [Math.min(...list.map((x) => x.rps)), Math.max(...list.map((x) => x.rps))] : [NaN, NaN],
      client: protocol === 'http-shm' ? 'infera perf' : protocol === 'grpc' ? 'h2load' : 'wrk',
      ...(r.error === undefined ? {} : { error: r.error }),
    };
  });
  return { rows, sharedMemory: shm };
}
