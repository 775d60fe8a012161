import type { AnalyzeResult } from './analyze-types.js';
import { describeConfig, shortConfigLabel } from './sweep.js';
import { renderPlot, type PlotSeries } from './svg-plot.js';

/**
 * The HTML report of `infera analyze`: the recommendation, a throughput-vs-p99 chart per
 * configuration (inline SVG), and every measured point in a table. Self-contained: no
 * scripts, styles or images from elsewhere.
 */

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const ms = (us: number): string => (us / 1000).toFixed(2);

/** The report as one HTML document (UTF-8 text). */
export function renderHtmlReport(r: AnalyzeResult): string {
  const byConfig = new Map<string, PlotSeries>();
  for (const p of r.points) {
    const label = shortConfigLabel(p.config);
    const s = byConfig.get(label) ?? { label, points: [] };
    s.points.push([p.level.latencyUs.p99! / 1000, p.level.throughput]);
    byConfig.set(label, s);
  }
  const best = r.best;
  const chart = renderPlot([...byConfig.values()], {
    title: `${r.model}: throughput vs p99 latency`,
    xLabel: 'p99 latency (ms)',
    yLabel: 'throughput (infer/s)',
    budget: r.latencyBudgetMs,
    highlight: best === undefined ? undefined : [best.level.latencyUs.p99! / 1000, best.level.throughput],
  });
  const rows = r.points
    .map((p) => {
      const mark = p === best ? ' class="best"' : '';
      const s = p.level.server;
      return `<tr${mark}><td>${esc(describeConfig(p.config))}</td><td>${p.level.concurrency}</td><td>${p.level.throughput.toFixed(1)}</td><td>${ms(p.level.latencyUs.p50!)}</td><td>${ms(p.level.latencyUs.p99!)}</td><td>${s === undefined ? 'n/a' : s.avgBatchSize.toFixed(2)}</td><td>${s === undefined ? 'n/a' : ms(s.queueUs)}</td><td>${s === undefined ? 'n/a' : ms(s.computeInferUs)}</td><td>${p.level.stable ? 'yes' : 'no'}</td></tr>`;
    })
    .join('\n');
  const failures = r.failures.map((f) => `<li>${esc(describeConfig(f.config))}: ${esc(f.error)}</li>`).join('\n');
  const verdict =
    best === undefined
      ? `<p class="none">No configuration kept p99 under ${r.latencyBudgetMs} ms.</p>`
      : `<p>Recommended: <b>${esc(describeConfig(best.config))}</b> at concurrency ${best.level.concurrency}: ${(r.predictedThroughput ?? best.level.throughput).toFixed(1)} infer/s, p99 ${ms(best.level.latencyUs.p99!)} ms (budget ${r.latencyBudgetMs} ms).</p>
<pre>${esc(r.recommendedConfigText ?? '')}</pre>`;
  const confirmed =
    r.confirmations === undefined
      ? ''
      : `<p>The best configurations measured again on a fresh server (the pick uses the mean):</p><ul>${r.confirmations
          .map((c) => `<li>${esc(describeConfig(c.config))} at concurrency ${c.concurrency}: ${c.sweep.toFixed(1)} then ${c.again.toFixed(1)} infer/s</li>`)
          .join('')}</ul>`;
  const verify =
    r.verification === undefined
      ? ''
      : `<p>Reloaded from the written config: ${r.verification.throughput.toFixed(1)} infer/s = ${(r.verification.ratio * 100).toFixed(1)}% of the prediction.</p>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>infera analyze: ${esc(r.model)}</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1000px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child{text-align:left}tr.best{background:#e6f4ea;font-weight:bold}.none{color:#d62728}pre{background:#f6f6f6;padding:1em}</style>
</head><body>
<h1>infera analyze: ${esc(r.model)}</h1>
<p>Protocol ${esc(r.protocol)}, batch size ${r.batchSize}, concurrency ${r.concurrencies.join(', ')}; measurement window ${r.measurementIntervalMs} ms; server CPUs ${esc(r.serverCpus ?? 'unpinned')}.</p>
${verdict}
${confirmed}
${verify}
${chart}
<h2>All measurements</h2>
<table><tr><th>configuration</th><th>concurrency</th><th>infer/s</th><th>p50 ms</th><th>p99 ms</th><th>avg batch</th><th>queue ms</th><th>compute ms</th><th>stable</th></tr>
${rows}
</table>
${failures === '' ? '' : `<h2>Configurations that failed</h2><ul>${failures}</ul>`}
</body></html>
`;
}
