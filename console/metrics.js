// Figures from infera's statistics (cumulative counts and durations, per model version) and
// metrics (the latency summaries of --metrics-config summary_latencies=true): each poll's
// difference from the previous one gives the rates and averages of that interval.

/** Per model: cumulative totals summed over its versions. */
export function totalsByModel(stats) {
  const out = new Map();
  for (const s of stats.model_stats ?? []) {
    const t = out.get(s.name) ?? { inferences: 0, executions: 0, success: 0, successNs: 0, queue: 0, queueNs: 0, computeNs: 0 };
    const st = s.inference_stats ?? {};
    t.inferences += Number(s.inference_count ?? 0);
    t.executions += Number(s.execution_count ?? 0);
    t.success += Number(st.success?.count ?? 0);
    t.successNs += Number(st.success?.ns ?? 0);
    t.queue += Number(st.queue?.count ?? 0);
    t.queueNs += Number(st.queue?.ns ?? 0);
    t.computeNs += Number(st.compute_input?.ns ?? 0) + Number(st.compute_infer?.ns ?? 0) + Number(st.compute_output?.ns ?? 0);
    out.set(s.name, t);
  }
  return out;
}

/**
 * The figures of one interval of `seconds` between totals `a` and `b`: throughput
 * (inferences/s), mean request latency, queue and compute time (ms per request), mean batch
 * size (inferences per execution). A figure with nothing to average over is null.
 */
export function intervalFigures(a, b, seconds) {
  const d = (k) => Math.max(0, b[k] - (a?.[k] ?? 0));
  const per = (ns, n) => (n > 0 ? ns / n / 1e6 : null);
  return {
    throughput: seconds > 0 ? d('inferences') / seconds : 0,
    latencyMs: per(d('successNs'), d('success')),
    queueMs: per(d('queueNs'), d('queue')),
    computeMs: per(d('computeNs'), d('success')),
    batchSize: d('executions') > 0 ? d('inferences') / d('executions') : null,
  };
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/**
 * The latency quantiles of Prometheus text: per model, `{request: {0.5: ms, ...}, queue: {...}}`
 * from nv_inference_request_summary_us and nv_inference_queue_summary_us (µs, over the last
 * 60 s), the largest over the model's versions. Empty when summaries are off.
 */
export function quantilesByModel(text) {
  const out = new Map();
  for (const line of text.split('\n')) {
    const m = SAMPLE.exec(line);
    if (m === null) continue;
    const kind = m[1] === 'nv_inference_request_summary_us' ? 'request' : m[1] === 'nv_inference_queue_summary_us' ? 'queue' : undefined;
    if (kind === undefined) continue;
    const labels = Object.fromEntries([...m[2].matchAll(LABEL)].map((l) => [l[1], l[2]]));
    const value = Number(m[3]);
    if (labels.quantile === undefined || !Number.isFinite(value)) continue;
    const q = out.get(labels.model) ?? { request: {}, queue: {} };
    out.set(labels.model, q);
    q[kind][labels.quantile] = Math.max(q[kind][labels.quantile] ?? 0, value / 1000);
  }
  return out;
}
