// Limits: onnxruntime-node in-process (one session, the server's thread count, on the server's
// CPU) for the OCR models at the batch sizes the server ran, one process per repetition.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { modelFile } from './models.mjs';
import { run } from './proc.mjs';
import { attempt, median } from './stats.mjs';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'inproc-ort.mjs');

/**
 * @param o { models, batchesByModel: { [name]: number[] }, threads, seconds, reps, cpus, log }
 * @returns rows { suite: 'limit', model, batch, threads, inferPerSec, msPerRun, reps, range }
 */
export async function runLimitSuite(o) {
  const rows = [];
  for (const m of o.models) {
    for (const batch of o.batchesByModel[m.name] ?? [1]) {
      const runs = [];
      for (let rep = 0; rep < o.reps; rep++) {
        o.log(`limit: in-process ${m.short} batch ${batch} (rep ${rep + 1}/${o.reps})`);
        const r = await attempt(o.log, async () => {
          const out = await run(process.execPath, [SCRIPT, modelFile(m.name), m.input, m.shape.join(','), String(batch), String(o.threads), String(o.seconds)], {
            cpus: o.cpus,
          });
          return JSON.parse(out.trim().split('\n').pop());
        });
        if (r.error === undefined) runs.push(r);
      }
      const ips = runs.map((r) => r.inferPerSec);
      rows.push({
        suite: 'limit',
        name: `onnxruntime-node in-process, ${o.threads} thread`,
        model: m.name,
        batch,
        threads: o.threads,
        inferPerSec: median(ips),
        msPerRun: median(runs.map((r) => r.msPerRun)),
        reps: runs.length,
        range: ips.length > 0 ? [Math.min(...ips), Math.max(...ips)] : [NaN, NaN],
      });
    }
  }
  return rows;
}

/** The in-process inf/s for a model at a batch size (the nearest measured one), or NaN. */
export function limitFor(limitRows, model, batch) {
  const candidates = limitRows.filter((r) => r.model === model);
  if (candidates.length === 0) return { inferPerSec: NaN, batch };
  const best = candidates.reduce((a, b) => (Math.abs(b.batch - batch) < Math.abs(a.batch - batch) ? b : a));
  return best;
}
