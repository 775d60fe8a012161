// The ratio goals of issue 7, computed from one run's rows.
import { limitFor } from './suite-limit.mjs';

const find = (rows, pred) => rows.find(pred);

/**
 * Adds `limit`, `limitValue` and `ratio` to every infera and peer row (throughput ÷ in-process
 * inf/s at the batch size the server formed, batch 1 without the batcher), and returns the goals:
 * the peer and in-process ratios from the interleaved headline suite when it ran, otherwise
 * from the tables (measured minutes apart, so more exposed to noise).
 */
export function computeGoals({ infera = [], limit = [], peer = [], trivial = [], perfCheck = [], headline }) {
  for (const row of [...infera, ...peer]) {
    const batch = row.batching && row.avgBatch > 0 ? Math.max(1, Math.round(row.avgBatch)) : 1;
    const l = limitFor(limit, row.model, batch);
    row.limit = `in-process, batch ${l.batch}`;
    row.limitValue = l.inferPerSec;
    row.ratio = row.rps / l.inferPerSec;
  }
  const goals = [];
  if (headline !== undefined) {
    // Interleaved measurements: the fair basis for the headline ratios.
    const h = headline.medians;
    for (const protocol of ['http-binary', 'grpc']) {
      if (!Number.isFinite(h[protocol])) continue;
      goals.push({
        id: `peer-${protocol}`,
        goal: `infera + dynamic batching, ${headline.model}, c=${headline.concurrency}, ${protocol} ÷ fastify peer (JSON), interleaved`,
        value: h[protocol] / h.peer,
        target: '≥ 6',
        met: h[protocol] / h.peer >= 6,
        detail: `${h[protocol].toFixed(0)} vs ${h.peer.toFixed(0)} infer/s, medians of ${headline.reps}`,
      });
      goals.push({
        id: `limit-${protocol}`,
        goal: `infera + dynamic batching, ${headline.model}, c=${headline.concurrency}, ${protocol} ÷ in-process onnxruntime-node at batch ${headline.batch}, interleaved`,
        value: h[protocol] / h.limit,
        target: '≥ 0.85',
        met: h[protocol] / h.limit >= 0.85,
        detail: `${h[protocol].toFixed(0)} vs ${h.limit.toFixed(0)} infer/s (avg batch formed ${h.avgBatch[protocol]?.toFixed(2) ?? 'n/a'}), medians of ${headline.reps}`,
      });
    }
  } else {
    const peer16 = find(peer, (r) => r.concurrency === 16);
    for (const protocol of ['http-binary', 'grpc']) {
      const cell = find(infera, (r) => r.model === 'text_direction' && r.batching && r.concurrency === 16 && r.protocol === protocol);
      if (cell === undefined) continue;
      if (peer16 !== undefined) {
        goals.push({
          id: `peer-${protocol}`,
          goal: `infera + dynamic batching, text_direction, c=16, ${protocol} ÷ fastify peer (JSON) c=16`,
          value: cell.rps / peer16.rps,
          target: '≥ 6',
          met: cell.rps / peer16.rps >= 6,
          detail: `${cell.rps.toFixed(0)} vs ${peer16.rps.toFixed(0)} infer/s`,
        });
      }
      goals.push({
        id: `limit-${protocol}`,
        goal: `infera + dynamic batching, text_direction, c=16, ${protocol} ÷ in-process onnxruntime-node at the formed batch`,
        value: cell.ratio,
        target: '≥ 0.85',
        met: cell.ratio >= 0.85,
        detail: `${cell.rps.toFixed(0)} vs ${cell.limitValue?.toFixed(0)} infer/s (avg batch formed ${cell.avgBatch?.toFixed(2) ?? 'n/a'}; ${cell.limit})`,
      });
    }
  }
  for (const [protocol, bare, target] of [
    ['http-json', 'node:http', 2.5],
    ['grpc', 'grpc-js', 1.5],
  ]) {
    const c = Math.max(...trivial.map((r) => r.concurrency));
    const ours = find(trivial, (r) => r.server === 'infera' && r.protocol === protocol && r.concurrency === c);
    const ref = find(trivial, (r) => r.server === bare && r.protocol === protocol && r.concurrency === c);
    if (ours === undefined || ref === undefined) continue;
    const value = ours.serverCpuUsPerReq / ref.serverCpuUsPerReq;
    goals.push({
      id: `trivial-${protocol}`,
      goal: `trivial model, server CPU per request at c=${c}: infera ${protocol === 'grpc' ? 'gRPC' : 'HTTP'} ÷ bare ${bare}`,
      value,
      target: `≤ ${target}`,
      met: value <= target,
      detail: `${ours.serverCpuUsPerReq.toFixed(1)} vs ${ref.serverCpuUsPerReq.toFixed(1)} µs/request`,
    });
  }
  for (const row of perfCheck) {
    for (const key of ['p50Us', 'meanUs']) {
      const v = row[`ratio_${key}`];
      goals.push({
        id: `perf-${key}-c${row.concurrency}`,
        goal: `infera perf ${key === 'p50Us' ? 'p50' : 'average'} latency ÷ wrk's, ${row.model} HTTP binary c=${row.concurrency}`,
        value: v,
        target: '0.90–1.10',
        met: v >= 0.9 && v <= 1.1,
        detail: `${(row[`perf_${key}`] / 1000).toFixed(2)} vs ${(row[`wrk_${key}`] / 1000).toFixed(2)} ms`,
      });
    }
  }
  return goals;
}
