// The headline comparison of issue 7, interleaved so that noise on a shared machine hits all
// sides alike: per repetition (order rotated), in-process onnxruntime-node at the batch the
// dynamic batcher forms, infera with the batcher (HTTP binary with wrk, gRPC with h2load) and
// the fastify peer, all for the text-direction model at concurrency 16. Servers on CPU 0,
// load generators on CPU 1.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBodies, pseudoRandomFloats, writeBodies } from './bodies.mjs';
import { measureCell } from './cells.mjs';
import { modelFile } from './models.mjs';
import { run } from './proc.mjs';
import { writeRepo } from './repos.mjs';
import { startInfera, startPeer } from './servers.mjs';
import { attempt, median } from './stats.mjs';
import { BATCHING } from './suite-infera.mjs';

const INPROC = path.join(path.dirname(fileURLToPath(import.meta.url)), 'inproc-ort.mjs');

/**
 * @param o { model, concurrency, batch (in-process batch size), seconds, warmup, reps, serverCpus, clientCpus, log }
 * @returns { infera: { 'http-binary': run[], grpc: run[] }, peer: run[], limit: run[], medians }
 */
export async function runHeadlineSuite(o) {
  const m = o.model;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'infera-bench-headline-'));
  const out = { infera: { 'http-binary': [], grpc: [] }, peer: [], limit: [] };
  try {
    const count = m.shape.reduce((a, b) => a * b, 1);
    const files = writeBodies(dir, m.short, await buildBodies(m.name, [{ name: m.input, datatype: 'FP32', shape: m.shape, data: pseudoRandomFloats(count) }]));
    const repo = writeRepo(path.join(dir, 'repo'), [m], { batching: BATCHING[m.name] });
    const load = { concurrency: o.concurrency, seconds: o.seconds, warmup: o.warmup, cpus: o.clientCpus };
    const sides = {
      limit: async () => {
        const r = await attempt(o.log, async () =>
          JSON.parse((await run(process.execPath, [INPROC, modelFile(m.name), m.input, m.shape.join(','), String(o.batch), '1', String(o.seconds)], { cpus: o.serverCpus })).trim().split('\n').pop()),
        );
        out.limit.push(r.error === undefined ? { ...r, rps: r.inferPerSec } : r);
      },
      infera: async () => {
        const server = await startInfera(repo, o.serverCpus);
        try {
          const stats = { httpUrl: server.httpUrl, model: m.name };
          out.infera['http-binary'].push(
            await attempt(o.log, () =>
              measureCell({ pid: server.pid, kind: 'http', url: `${server.httpUrl}/v2/models/${m.name}/infer`, body: files.binary, contentType: 'application/octet-stream', headerLength: files.headerLength, stats }, load),
            ),
          );
          if (server.grpcUrl !== undefined) {
            out.infera.grpc.push(
              await attempt(o.log, () =>
                measureCell({ pid: server.pid, kind: 'grpc', url: `http://${server.grpcUrl}/inference.GRPCInferenceService/ModelInfer`, body: files.grpc, stats }, load),
              ),
            );
          }
        } finally {
          await server.stop();
        }
      },
      peer: async () => {
        const peer = await startPeer('fastify-ort.mjs', [modelFile(m.name), '0', '1'], o.serverCpus);
        try {
          out.peer.push(
            await attempt(o.log, () =>
              measureCell({ pid: peer.pid, kind: 'http', url: `http://${peer.url}/v2/models/${m.name}/infer`, body: files.json, contentType: 'application/json' }, load),
            ),
          );
        } finally {
          await peer.stop();
        }
      },
    };
    const order = ['limit', 'infera', 'peer'];
    for (let rep = 0; rep < o.reps; rep++) {
      for (let i = 0; i < order.length; i++) {
        const side = order[(i + rep) % order.length];
        o.log(`headline: ${side} ${m.short} c=${o.concurrency}${side === 'limit' ? ` batch ${o.batch}` : ''} (rep ${rep + 1}/${o.reps})`);
        await sides[side]();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const med = (runs, key = 'rps') => median(runs.map((r) => r[key]));
  out.medians = {
    limit: med(out.limit),
    peer: med(out.peer),
    'http-binary': med(out.infera['http-binary']),
    grpc: med(out.infera.grpc),
    avgBatch: {
      'http-binary': median(out.infera['http-binary'].map((r) => r.server?.avgBatch)),
      grpc: median(out.infera.grpc.map((r) => r.server?.avgBatch)),
    },
  };
  return { model: m.name, concurrency: o.concurrency, batch: o.batch, reps: o.reps, seconds: o.seconds, warmup: o.warmup, ...out };
}
