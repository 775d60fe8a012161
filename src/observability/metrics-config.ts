/**
 * `--metrics-config <setting>=<value>` (reference §5, §6; server `ParseMetricsConfigOption`,
 * core `MetricReporterConfig::ParseConfig`).
 */

/** A summary quantile and its allowed error, e.g. `{quantile: 0.99, error: 0.001}`. */
export interface SummaryQuantile {
  quantile: number;
  error: number;
}

/** Which latency metrics each model version reports. */
export interface MetricsConfig {
  /** `counter_latencies` (default true): the cumulative `nv_inference_*_duration_us` counters. */
  counterLatencies: boolean;
  /** `histogram_latencies` (default false): `nv_inference_first_response_histogram_ms`. */
  histogramLatencies: boolean;
  /** `summary_latencies` (default false): the `nv_inference_*_summary_us` summaries. */
  summaryLatencies: boolean;
  /** `summary_quantiles` (default `0.5:0.05,0.9:0.01,0.95:0.001,0.99:0.001,0.999:0.001`). */
  summaryQuantiles: SummaryQuantile[];
  /**
   * `node_process` (infera's own, default false): also export prom-client's default Node
   * process metrics (`process_cpu_seconds_total`, `process_resident_memory_bytes`,
   * `nodejs_eventloop_lag_seconds`, `nodejs_heap_size_used_bytes`, ...).
   */
  nodeProcess?: boolean;
}

/** Triton's default `summary_quantiles` (server `command_line_parser.cc`). */
export const DEFAULT_SUMMARY_QUANTILES: readonly SummaryQuantile[] = [
  { quantile: 0.5, error: 0.05 },
  { quantile: 0.9, error: 0.01 },
  { quantile: 0.95, error: 0.001 },
  { quantile: 0.99, error: 0.001 },
  { quantile: 0.999, error: 0.001 },
];

/** Triton's defaults: latency counters on, histograms and summaries off. */
export function defaultMetricsConfig(): MetricsConfig {
  return { counterLatencies: true, histogramLatencies: false, summaryLatencies: false, summaryQuantiles: [...DEFAULT_SUMMARY_QUANTILES] };
}

/**
 * Splits one `--metrics-config` argument into setting and value.
 * @throws Error "--metrics-config option format is <setting>=<value>. Got <arg>" (Triton's
 *   text) when there is no '=', the setting names a group (`<group>,<setting>=...`, which
 *   Triton does not support for metrics), or either side is empty.
 */
export function parseMetricsConfigOption(arg: string): [setting: string, value: string] {
  const eq = arg.indexOf('=');
  const setting = eq < 0 ? '' : arg.slice(0, eq);
  const value = eq < 0 ? '' : arg.slice(eq + 1);
  if (setting === '' || value === '' || setting.includes(',')) {
    throw new Error(`--metrics-config option format is <setting>=<value>. Got ${arg}`);
  }
  return [setting, value];
}

/**
 * The effective config from the parsed settings, in order (later ones win). As in Triton, only
 * the exact strings switch a default ("false" turns counters off, "true" turns histograms or
 * summaries on), unknown settings are ignored, and an unusable quantile pair is skipped with a
 * message to `onInvalid`; an empty quantile list keeps the default.
 */
export function metricsConfigFrom(settings: readonly (readonly [string, string])[], onInvalid?: (message: string) => void): MetricsConfig {
  const config = defaultMetricsConfig();
  for (const [setting, value] of settings) {
    if (setting === 'counter_latencies' && value === 'false') config.counterLatencies = false;
    if (setting === 'histogram_latencies' && value === 'true') config.histogramLatencies = true;
    if (setting === 'summary_latencies' && value === 'true') config.summaryLatencies = true;
    if (setting === 'node_process') config.nodeProcess = value === 'true';
    if (setting === 'summary_quantiles') {
      const quantiles = parseQuantiles(value, onInvalid);
      if (quantiles.length > 0) config.summaryQuantiles = quantiles;
    }
  }
  return config;
}

function parseQuantiles(text: string, onInvalid?: (message: string) => void): SummaryQuantile[] {
  const out: SummaryQuantile[] = [];
  for (const pair of text.split(',')) {
    const colon = pair.indexOf(':');
    if (colon < 0) {
      onInvalid?.(`Invalid option: [${pair}]. No ':' delimiter found. Expected format is <quantile>:<error>`);
      continue;
    }
    const quantile = Number.parseFloat(pair.slice(0, colon));
    const error = Number.parseFloat(pair.slice(colon + 1));
    if (!(quantile >= 0 && quantile <= 1) || !Number.isFinite(error)) {
      onInvalid?.(`Invalid option: [${pair}]. Expected <quantile>:<error> with a quantile between 0 and 1`);
      continue;
    }
    out.push({ quantile, error });
  }
  return out;
}
