// Does `infera perf` measure what the benchmark's own client (wrk) measures for the same load?
// Same server, same model, same concurrency, alternating the two clients on the client CPU.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildBodies, pseudoRandomFloats, writeBodies } from './bodies.mjs';
import { measureCell } from './cells.mjs';
import { perfCell } from './perf-runner.mjs';
import { writeRepo } from './repos.mjs';
import { startInfera } from './servers.mjs';
import { attempt, median } from './stats.mjs';
import { BATCHING } from './suite-infera.mjs';

/** @param o { model, concurrencies, seconds, perfSeconds, warmup, reps, serverCpus, clientCpus, log } */
export async function runPerfCheckSuite(o) {
  const m = o.model;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'infera-bench-perfcheck-'));
  const rows = [];
  try {
    const count = m.shape.reduce((a, b) => a * b, 1);
    const files = writeBodies(dir, m.short, await buildBodies(m.name, [{ name: m.input, datatype: 'FP32', shape: m.shape, data: pseudoRandomFloats(count) }]));
    const repo = writeRepo(path.join(dir, 'repo'), [m], { batching: BATCHING[m.name] });
    const server = await startInfera(repo, o.serverCpus);
    try {
      for (const c of o.concurrencies) {
        const wrkRuns = [];
        const perfRuns = [];
        for (let rep = 0; rep < o.reps; rep++) {
          o.log(`perf check: ${m.short} HTTP binary c=${c}, wrk (rep ${rep + 1}/${o.reps})`);
          wrkRuns.push(
            await attempt(o.log, () =>
              measureCell(
                { pid: server.pid, kind: 'http', url: `${server.httpUrl}/v2/models/${m.name}/infer`, body: files.binary, contentType: 'application/octet-stream', headerLength: files.headerLength },
                { concurrency: c, seconds: o.seconds, warmup: o.warmup, cpus: o.clientCpus },
              ),
            ),
          );
          o.log(`perf check: ${m.short} HTTP binary c=${c}, infera perf (rep ${rep + 1}/${o.reps})`);
          perfRuns.push(await attempt(o.log, () => perfCell(server, m, { protocol: 'http', concurrency: c, seconds: o.perfSeconds, cpus: o.clientCpus })));
        }
        const row = { suite: 'perf-check', model: m.name, protocol: 'http-binary', batching: true, concurrency: c, reps: o.reps };
        for (const key of ['rps', 'p50Us', 'p90Us', 'p99Us', 'meanUs']) {
          row[`wrk_${key}`] = median(wrkRuns.map((r) => r[key]));
          row[`perf_${key}`] = median(perfRuns.map((r) => r[key]));
          row[`ratio_${key}`] = row[`perf_${key}`] / row[`wrk_${key}`];
        }
        row.perfClientCpuPercent = median(perfRuns.map((r) => r.clientCpuPercent));
        row.perfStable = perfRuns.every((r) => r.stable);
        const failed = [...wrkRuns, ...perfRuns].find((r) => r.error !== undefined);
        if (failed !== undefined) row.error = failed.error;
        rows.push(row);
      }
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
