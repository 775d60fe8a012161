/**
 * A throughput-vs-latency chart as an inline SVG string (no external assets): one line per
 * series through its points in order, a vertical line at the latency budget, and one point
 * ringed (the recommendation).
 */

export interface PlotSeries {
  label: string;
  /** [p99 latency ms, throughput infer/s] points, in load order. */
  points: [number, number][];
}

/** Titles, the budget line (x units) and the highlighted point; size in px (default 760×420). */
export interface PlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** x of the budget line, if any. */
  budget?: number;
  /** The point to ring. */
  highlight?: [number, number];
  width?: number;
  height?: number;
}

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Round "nice" tick values covering [0, max]. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let v = 0; v <= max + step * 0.999; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** The chart as `<svg>…</svg>`. */
export function renderPlot(series: readonly PlotSeries[], o: PlotOptions): string {
  const width = o.width ?? 800;
  const height = o.height ?? 420;
  const m = { left: 70, right: 210, top: 40, bottom: 50 };
  const all = series.flatMap((s) => s.points);
  const xTicks = niceTicks(Math.max(o.budget ?? 0, ...all.map((p) => p[0]), 0));
  const yTicks = niceTicks(Math.max(...all.map((p) => p[1]), 0));
  const xMax = xTicks[xTicks.length - 1]!;
  const yMax = yTicks[yTicks.length - 1]!;
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const x = (v: number): number => m.left + (v / xMax) * plotW;
  const y = (v: number): number => m.top + plotH - (v / yMax) * plotH;
  const f = (v: number): string => v.toFixed(1);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<text x="${width / 2 - m.right / 2}" y="20" text-anchor="middle" font-size="14">${esc(o.title)}</text>`,
    `<rect x="${m.left}" y="${m.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`,
  ];
  for (const t of xTicks) {
    parts.push(`<line x1="${f(x(t))}" y1="${m.top}" x2="${f(x(t))}" y2="${m.top + plotH}" stroke="#eee"/>`);
    parts.push(`<text x="${f(x(t))}" y="${m.top + plotH + 16}" text-anchor="middle">${t}</text>`);
  }
  for (const t of yTicks) {
    parts.push(`<line x1="${m.left}" y1="${f(y(t))}" x2="${m.left + plotW}" y2="${f(y(t))}" stroke="#eee"/>`);
    parts.push(`<text x="${m.left - 6}" y="${f(y(t) + 4)}" text-anchor="end">${t}</text>`);
  }
  parts.push(`<text x="${m.left + plotW / 2}" y="${height - 10}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  parts.push(`<text x="16" y="${m.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 16 ${m.top + plotH / 2})">${esc(o.yLabel)}</text>`);
  if (o.budget !== undefined) {
    parts.push(`<line x1="${f(x(o.budget))}" y1="${m.top}" x2="${f(x(o.budget))}" y2="${m.top + plotH}" stroke="#d62728" stroke-dasharray="6 4"/>`);
    parts.push(`<text x="${f(x(o.budget) + 4)}" y="${m.top + 12}" fill="#d62728">budget</text>`);
  }
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const d = s.points.map((p) => `${f(x(p[0]))},${f(y(p[1]))}`).join(' ');
    parts.push(`<polyline points="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const p of s.points) parts.push(`<circle cx="${f(x(p[0]))}" cy="${f(y(p[1]))}" r="3" fill="${color}"/>`);
    const ly = m.top + 10 + i * 18;
    parts.push(`<rect x="${width - m.right + 12}" y="${ly - 9}" width="12" height="12" fill="${color}"/>`);
    parts.push(`<text x="${width - m.right + 30}" y="${ly + 1}">${esc(s.label)}</text>`);
  });
  if (o.highlight !== undefined) {
    parts.push(`<circle cx="${f(x(o.highlight[0]))}" cy="${f(y(o.highlight[1]))}" r="8" fill="none" stroke="#000" stroke-width="2"/>`);
  }
  parts.push('</svg>');
  return parts.join('\n');
}
