// The peer: fastify + onnxruntime-node (one session, one intra-op thread, JSON float arrays,
// no batching) serving the text-direction model, on the server CPU; wrk on the client CPU.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildBodies, pseudoRandomFloats, writeBodies } from './bodies.mjs';
import { measureCell } from './cells.mjs';
import { modelFile } from './models.mjs';
import { startPeer } from './servers.mjs';
import { attempt, medianRun } from './stats.mjs';

/** @param o { model, concurrencies, seconds, warmup, reps, serverCpus, clientCpus, log } */
export async function runPeerSuite(o) {
  const m = o.model;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'infera-bench-peer-'));
  const runs = new Map();
  try {
    const count = m.shape.reduce((a, b) => a * b, 1);
    const files = writeBodies(dir, m.short, await buildBodies(m.name, [{ name: m.input, datatype: 'FP32', shape: m.shape, data: pseudoRandomFloats(count) }]));
    for (let rep = 0; rep < o.reps; rep++) {
      const peer = await startPeer('fastify-ort.mjs', [modelFile(m.name), '0', '1'], o.serverCpus);
      try {
        for (const c of o.concurrencies) {
          o.log(`peer: fastify + onnxruntime-node ${m.short} c=${c} (rep ${rep + 1}/${o.reps})`);
          const r = await attempt(o.log, () =>
            measureCell(
              { pid: peer.pid, kind: 'http', url: `http://${peer.url}/v2/models/${m.name}/infer`, body: files.json, contentType: 'application/json' },
              { concurrency: c, seconds: o.seconds, warmup: o.warmup, cpus: o.clientCpus },
            ),
          );
          runs.set(c, [...(runs.get(c) ?? []), r]);
        }
      } finally {
        await peer.stop();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return [...runs.entries()].map(([c, all]) => {
    const list = all.filter((x) => x.error === undefined);
    const r = list.length > 0 ? medianRun(list) : { rps: NaN };
    return {
      suite: 'peer',
      name: 'fastify + onnxruntime-node (JSON)',
      model: m.name,
      protocol: 'http-json',
      concurrency: c,
      rps: r.rps,
      p50Us: r.p50Us,
      p99Us: r.p99Us,
      serverCpuUsPerReq: r.serverCpuUsPerReq,
      serverCpuPercent: r.serverCpuPercent,
      reps: list.length,
      rpsRange: list.length > 0 ? [Math.min(...list.map((x) => x.rps)), Math.max(...list.map((x) => x.rps))] : [NaN, NaN],
      client: 'wrk',
      ...(list.length < all.length ? { error: all.find((x) => x.error !== undefined).error } : {}),
    };
  });
}
