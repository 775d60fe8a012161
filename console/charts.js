// Live charts (uPlot) of the figures in metrics.js for one model at a time; every model's
// history is kept so that switching shows the last minutes at once.
import uPlot from './vendor/uPlot.esm.js';
import { api } from './api.js';
import { intervalFigures, quantilesByModel, totalsByModel } from './metrics.js';

const HISTORY = 120;
const COLORS = ['#2563eb', '#15803d', '#b45309', '#b91c1c', '#7c3aed'];

const CHARTS = [
  { id: 'throughput', title: 'Throughput', unit: 'infer/s', series: [['throughput', 'infer/s']] },
  {
    id: 'latency',
    title: 'Request latency',
    unit: 'ms',
    series: [['latencyMs', 'mean'], ['p50', 'p50'], ['p90', 'p90'], ['p99', 'p99']],
  },
  { id: 'queue', title: 'Queue time', unit: 'ms', series: [['queueMs', 'mean'], ['queueP99', 'p99']] },
  { id: 'batch', title: 'Batch size', unit: 'per execution', series: [['batchSize', 'mean']] },
];

/** Starts polling every `periodMs`; renders into `container` for the model `select` names. */
export function startCharts(container, select, note, periodMs = 1000) {
  const history = new Map(); // model -> { t: [], <figure>: [] }
  let previous;
  let metricsAvailable = true;
  const plots = new Map();

  for (const c of CHARTS) {
    const box = document.createElement('div');
    box.className = 'chart';
    box.dataset.chart = c.id;
    box.innerHTML = `<h3>${c.title} <span class="latest"></span></h3>`;
    container.append(box);
    const plot = new uPlot(
      {
        width: Math.max(320, box.clientWidth - 8),
        height: 180,
        series: [{}, ...c.series.map(([, label], i) => ({ label, stroke: COLORS[i], width: 1.5, spanGaps: true }))],
        axes: [{}, { label: c.unit, size: 60 }],
        scales: { x: { time: true } },
      },
      [[], ...c.series.map(() => [])],
      box,
    );
    plots.set(c.id, { chart: c, plot, latest: box.querySelector('.latest') });
  }

  const draw = () => {
    const h = history.get(select.value);
    for (const { chart, plot, latest } of plots.values()) {
      const data = [h?.t ?? [], ...chart.series.map(([key]) => h?.[key] ?? [])];
      plot.setData(data);
      const last = h === undefined ? undefined : h[chart.series[0][0]].at(-1);
      latest.textContent = last === null || last === undefined ? '' : `${last.toFixed(chart.id === 'throughput' || chart.id === 'batch' ? 1 : 2)} ${chart.unit}`;
      latest.dataset.value = last ?? '';
    }
  };
  select.addEventListener('change', draw);

  const tick = async () => {
    const [stats, text] = await Promise.all([
      api.stats(),
      metricsAvailable ? api.consoleMetrics().catch(() => ((metricsAvailable = false), '')) : '',
    ]);
    const now = Date.now() / 1000;
    const totals = totalsByModel(stats);
    const quantiles = quantilesByModel(text);
    note.textContent = quantiles.size > 0 ? '' : 'percentiles: start the server with --metrics-config summary_latencies=true';
    for (const [model, t] of totals) {
      const f = previous === undefined ? undefined : intervalFigures(previous.totals.get(model), t, now - previous.time);
      if (f === undefined) continue;
      const q = quantiles.get(model);
      Object.assign(f, { p50: q?.request['0.5'] ?? null, p90: q?.request['0.9'] ?? null, p99: q?.request['0.99'] ?? null, queueP99: q?.queue['0.99'] ?? null });
      const h = history.get(model) ?? { t: [] };
      history.set(model, h);
      h.t.push(now);
      for (const c of CHARTS) for (const [key] of c.series) (h[key] ??= []).push(f[key] ?? null);
      if (h.t.length > HISTORY) for (const k of Object.keys(h)) h[k].shift();
    }
    previous = { totals, time: now };
    draw();
  };

  const loop = async () => {
    try {
      await tick();
    } catch (err) {
      note.textContent = `statistics: ${err.message}`;
    }
    setTimeout(loop, periodMs);
  };
  void loop();
}
