import { collectDefaultMetrics, Histogram, Registry, Summary, type Metric } from 'prom-client';
import type { ComputeTiming } from '../infer/compute-timing.js';
import type { ModelConfig } from '../generated/model_config_pb.js';
import type { ModelStatsRecorder } from './stats-recorder.js';
import { CpuMetricsPoller } from './cpu-metrics.js';
import { defaultMetricsConfig, type MetricsConfig } from './metrics-config.js';
import { FAILURE_REASONS, ModelStatistics, type StatsObserver } from './model-statistics.js';

/** A READY model version, as the metrics read it at scrape time. */
export interface MetricsVersion {
  readonly name: string;
  readonly version: number;
  readonly stats: ModelStatsRecorder;
}

type Labels = Record<string, string>;
interface Sample {
  labels: Labels;
  value: number;
  metricName?: string;
}
type FamilyType = 'counter' | 'gauge' | 'histogram' | 'summary';

/** A metric family whose samples are computed when Prometheus scrapes (prom-client's `get()` contract). */
interface Family {
  name: string;
  help: string;
  type: FamilyType;
  aggregator: 'sum';
  get(): Promise<{ name: string; help: string; type: FamilyType; values: Sample[]; aggregator: 'sum' }>;
}

/** Triton's default `nv_inference_first_response_histogram_ms` buckets (core `metric_model_reporter.h`). */
const DEFAULT_FIRST_RESPONSE_BUCKETS = [100, 500, 2000, 5000];
const FIRST_RESPONSE_FAMILY = 'nv_inference_first_response_histogram_ms';
/** prometheus-cpp's summary window: 60 s in 5 age buckets. */
const SUMMARY_MAX_AGE_SECONDS = 60;
const SUMMARY_AGE_BUCKETS = 5;

type SummaryKey = 'request' | 'queue' | 'computeInput' | 'computeInfer' | 'computeOutput';
const SUMMARY_FAMILIES: readonly [SummaryKey, string, string][] = [
  ['request', 'nv_inference_request_summary_us', 'Summary of inference request duration in microseconds (includes cached requests)'],
  ['queue', 'nv_inference_queue_summary_us', 'Summary of inference queuing duration in microseconds (includes cached requests)'],
  ['computeInput', 'nv_inference_compute_input_summary_us', 'Cumulative compute input duration in microseconds (does not include cached requests)'],
  ['computeInfer', 'nv_inference_compute_infer_summary_us', 'Cumulative compute inference duration in microseconds (does not include cached requests)'],
  ['computeOutput', 'nv_inference_compute_output_summary_us', 'Cumulative inference compute output duration in microseconds (does not include cached requests)'],
];

/**
 * Per-version observations that cannot be derived from running totals: summaries and the
 * first-response histogram. Each is a prom-client metric registered nowhere; the families
 * below merge their samples under the version's labels.
 */
class VersionObservations implements StatsObserver {
  readonly summaries = new Map<SummaryKey, Summary>();
  histogram: Histogram | undefined;

  constructor(
    readonly labels: Labels,
    config: MetricsConfig,
    modelConfig: ModelConfig | undefined,
  ) {
    if (config.summaryLatencies) {
      // As in Triton, the request summary is left out when the response cache is on: cache
      // misses would add their insertion time after the observation.
      const cacheOn = modelConfig?.responseCache?.enable === true;
      for (const [key, name] of SUMMARY_FAMILIES) {
        if (key === 'request' && cacheOn) continue;
        this.summaries.set(
          key,
          new Summary({
            name,
            help: name,
            percentiles: config.summaryQuantiles.map((q) => q.quantile),
            maxAgeSeconds: SUMMARY_MAX_AGE_SECONDS,
            ageBuckets: SUMMARY_AGE_BUCKETS,
            registers: [],
          }),
        );
      }
    }
    if (config.histogramLatencies) {
      this.histogram = new Histogram({ name: FIRST_RESPONSE_FAMILY, help: FIRST_RESPONSE_FAMILY, buckets: histogramBuckets(modelConfig), registers: [] });
    }
  }

  success(requestNs: number, queueNs: number, timing: ComputeTiming): void {
    if (this.summaries.size === 0) return;
    this.#observe('request', requestNs);
    this.#observe('queue', queueNs);
    this.#observe('computeInput', timing.inputNs);
    this.#observe('computeInfer', timing.inferNs);
    this.#observe('computeOutput', timing.outputNs);
  }

  cacheHit(_requestNs: number, queueNs: number): void {
    this.#observe('queue', queueNs);
  }

  response(ns: number): void {
    this.histogram?.observe(Math.floor(ns / 1e6));
  }

  #observe(key: SummaryKey, ns: number): void {
    this.summaries.get(key)?.observe(Math.floor(ns / 1000));
  }
}

function histogramBuckets(config: ModelConfig | undefined): number[] {
  for (const control of config?.modelMetrics?.metricControl ?? []) {
    if (control.metricIdentifier?.family === FIRST_RESPONSE_FAMILY && control.metricOptions.case === 'histogramOptions') {
      return [...control.metricOptions.value.buckets];
    }
  }
  return DEFAULT_FIRST_RESPONSE_BUCKETS;
}

/**
 * Prometheus labels of a version (core `GetMetricLabels`): `model`, `version`, and `_<key>`
 * for each `metric_tags` entry, sorted by name as prometheus-cpp prints them.
 */
export function versionLabels(name: string, version: number, config?: ModelConfig): Labels {
  const labels: Labels = { model: name, version: String(version) };
  for (const [k, v] of Object.entries(config?.metricTags ?? {})) labels[`_${k}`] = v;
  return Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** What the server tells its metrics besides the model versions. */
export interface ServerMetricsSources {
  /**
   * Whether the server has a response cache (`--cache-config`): a model's `nv_cache_*`
   * series exist only when both it and the server have the cache on (core
   * `backend_model_instance.cc`).
   */
  responseCache?: boolean;
  /** The pinned memory pool's totals in bytes, read at each scrape; zeros when absent. */
  pinnedMemoryPool?: () => { totalBytes: number; usedBytes: number };
}

/**
 * The Prometheus metrics of one server (reference §6; core `metrics.cc`,
 * `metric_model_reporter.cc`) in its own prom-client Registry. Per-model counters and gauges
 * are read from each READY version's ModelStatistics when scraped, so `/metrics` and the
 * statistics extension always agree; summaries and histograms observe as requests finish.
 * Latency counters are cumulative µs, each request truncated to whole µs as Triton does.
 */
export class ServerMetrics {
  /** What `GET /metrics` answers with (Triton's header, not prom-client's 0.0.4 variant). */
  static readonly CONTENT_TYPE = 'text/plain; charset=utf-8';
  readonly registry = new Registry();
  readonly #observations = new WeakMap<ModelStatistics, VersionObservations>();
  readonly #labels = new WeakMap<ModelStatistics, Labels>();
  /** Versions whose model and server both have the response cache on. */
  readonly #cached = new WeakSet<ModelStatistics>();
  readonly #config: MetricsConfig;
  readonly #sources: ServerMetricsSources;
  #cpu: CpuMetricsPoller | undefined;
  /** The versions of the scrape in progress, so every family reads the same list once. */
  #scrape: { stats: ModelStatistics; labels: Labels }[] | undefined;

  /** @param readyVersions every READY version of the server, at the time of the call. */
  constructor(
    private readonly readyVersions: () => Iterable<MetricsVersion>,
    config: MetricsConfig = defaultMetricsConfig(),
    sources: ServerMetricsSources = {},
  ) {
    this.#config = config;
    this.#sources = sources;
    this.#registerModelFamilies();
    this.#registerServerFamilies();
    // infera's own setting: the Node process metrics (`process_*`, `nodejs_*`) of prom-client.
    if (config.nodeProcess) collectDefaultMetrics({ register: this.registry });
  }

  /**
   * A fresh recorder for a version that starts loading, wired to this server's summaries and
   * histogram when `--metrics-config` enables them. Labels come from the config's metric_tags.
   */
  createStats(name: string, version: number, config?: ModelConfig): ModelStatistics {
    const labels = versionLabels(name, version, config);
    const observations = this.#config.summaryLatencies || this.#config.histogramLatencies ? new VersionObservations(labels, this.#config, config) : undefined;
    const stats = new ModelStatistics(observations);
    if (observations !== undefined) this.#observations.set(stats, observations);
    this.#labels.set(stats, labels);
    if (this.#sources.responseCache === true && config?.responseCache?.enable === true) this.#cached.add(stats);
    return stats;
  }

  /**
   * Adds `nv_cpu_utilization`, `nv_cpu_memory_total_bytes` and `nv_cpu_memory_used_bytes`
   * (`--allow-cpu-metrics`) and samples /proc every `intervalMs` until `close()`.
   */
  async startCpuMetrics(intervalMs: number, onError?: (message: string) => void): Promise<void> {
    if (this.#cpu !== undefined) return;
    const cpu = new CpuMetricsPoller(onError);
    this.#cpu = cpu;
    await cpu.start(intervalMs);
    this.#register('nv_cpu_utilization', 'CPU utilization rate [0.0 - 1.0]', 'gauge', () => [{ labels: {}, value: cpu.sample.utilization }]);
    this.#register('nv_cpu_memory_total_bytes', 'CPU total memory (RAM), in bytes', 'gauge', () => [{ labels: {}, value: cpu.sample.memoryTotalBytes }]);
    this.#register('nv_cpu_memory_used_bytes', 'CPU used memory (RAM), in bytes', 'gauge', () => [{ labels: {}, value: cpu.sample.memoryUsedBytes }]);
  }

  /** The Prometheus text exposition of every family. */
  async text(): Promise<string> {
    this.#scrape = this.#readVersions();
    try {
      return await this.registry.metrics();
    } finally {
      this.#scrape = undefined;
    }
  }

  /** Stops the CPU sampling timer. */
  close(): void {
    this.#cpu?.stop();
  }

  #versions(): { stats: ModelStatistics; labels: Labels }[] {
    return this.#scrape ?? this.#readVersions();
  }

  #readVersions(): { stats: ModelStatistics; labels: Labels }[] {
    const out: { stats: ModelStatistics; labels: Labels }[] = [];
    for (const v of this.readyVersions()) {
      if (!(v.stats instanceof ModelStatistics)) continue;
      out.push({ stats: v.stats, labels: this.#labels.get(v.stats) ?? versionLabels(v.name, v.version) });
    }
    return out;
  }

  #perVersion(name: string, help: string, type: FamilyType, value: (s: ModelStatistics) => number, only?: (s: ModelStatistics) => boolean): void {
    this.#register(name, help, type, () =>
      this.#versions()
        .filter(({ stats }) => only === undefined || only(stats))
        .map(({ stats, labels }) => ({ labels, value: value(stats) })),
    );
  }

  /**
   * Server-wide gauges Triton reports whenever metrics are on (core `metrics.cc`): the pinned
   * memory pool, read at each scrape rather than every `--metrics-interval-ms`.
   */
  #registerServerFamilies(): void {
    const pool = (): { totalBytes: number; usedBytes: number } => this.#sources.pinnedMemoryPool?.() ?? { totalBytes: 0, usedBytes: 0 };
    this.#register('nv_pinned_memory_pool_total_bytes', 'Pinned memory pool total memory size, in bytes', 'gauge', () => [{ labels: {}, value: pool().totalBytes }]);
    this.#register('nv_pinned_memory_pool_used_bytes', 'Pinned memory pool used memory size, in bytes', 'gauge', () => [{ labels: {}, value: pool().usedBytes }]);
  }

  #registerModelFamilies(): void {
    this.#perVersion('nv_inference_request_success', 'Number of successful inference requests, all batch sizes', 'counter', (s) => s.successCount);
    this.#register('nv_inference_request_failure', 'Number of failed inference requests, all batch sizes', 'counter', () =>
      this.#versions().flatMap(({ stats, labels }) => FAILURE_REASONS.map((reason) => ({ labels: { ...labels, reason }, value: stats.failuresByReason[reason] }))),
    );
    this.#perVersion('nv_inference_count', 'Number of inferences performed (does not include cached requests)', 'counter', (s) => s.inferenceCount);
    this.#perVersion('nv_inference_exec_count', 'Number of model executions performed (does not include cached requests)', 'counter', (s) => s.executionCount);
    if (this.#config.counterLatencies) {
      this.#perVersion('nv_inference_request_duration_us', 'Cumulative inference request duration in microseconds (includes cached requests)', 'counter', (s) => s.micros.request);
      this.#perVersion('nv_inference_queue_duration_us', 'Cumulative inference queuing duration in microseconds (includes cached requests)', 'counter', (s) => s.micros.queue);
      this.#perVersion('nv_inference_compute_input_duration_us', 'Cumulative compute input duration in microseconds (does not include cached requests)', 'counter', (s) => s.micros.computeInput);
      this.#perVersion('nv_inference_compute_infer_duration_us', 'Cumulative compute inference duration in microseconds (does not include cached requests)', 'counter', (s) => s.micros.computeInfer);
      this.#perVersion('nv_inference_compute_output_duration_us', 'Cumulative inference compute output duration in microseconds (does not include cached requests)', 'counter', (s) => s.micros.computeOutput);
      // As Triton: with the latency counters, and only for versions with the cache on.
      const cached = (s: ModelStatistics): boolean => this.#cached.has(s);
      this.#perVersion('nv_cache_num_hits_per_model', 'Number of cache hits per model', 'counter', (s) => s.cacheHitCount, cached);
      this.#perVersion('nv_cache_hit_duration_per_model', 'Total cache hit duration per model, in microseconds', 'counter', (s) => s.micros.cacheHit, cached);
      this.#perVersion('nv_cache_num_misses_per_model', 'Number of cache misses per model', 'counter', (s) => s.cacheMissCount, cached);
      this.#perVersion('nv_cache_miss_duration_per_model', 'Total cache miss (insert+lookup) duration per model, in microseconds', 'counter', (s) => s.micros.cacheMiss, cached);
    }
    this.#perVersion('nv_inference_pending_request_count', 'Instantaneous number of pending requests awaiting execution per-model.', 'gauge', (s) => s.pendingCount);
    this.#perVersion('nv_model_load_duration_secs', 'Model load time in seconds', 'gauge', (s) => s.loadDurationSecs);
    if (this.#config.histogramLatencies) {
      this.#registerObserved(FIRST_RESPONSE_FAMILY, 'Duration from request to first response in milliseconds', 'histogram', (o) => (o.histogram ? [o.histogram] : []));
    }
    if (this.#config.summaryLatencies) {
      for (const [key, name, help] of SUMMARY_FAMILIES) {
        this.#registerObserved(name, help, 'summary', (o) => {
          const s = o.summaries.get(key);
          return s ? [s] : [];
        });
      }
    }
  }

  /** A family merged from the per-version prom-client metrics that `pick` selects. */
  #registerObserved(name: string, help: string, type: FamilyType, pick: (o: VersionObservations) => (Histogram | Summary)[]): void {
    this.#registerAsync(name, help, type, async () => {
      const samples: Sample[] = [];
      for (const { stats } of this.#versions()) {
        const o = this.#observations.get(stats);
        if (o === undefined) continue;
        for (const metric of pick(o)) {
          const data = await metric.get();
          for (const v of data.values) samples.push({ labels: { ...o.labels, ...(v.labels as Labels) }, value: v.value, metricName: v.metricName });
        }
      }
      return samples;
    });
  }

  #register(name: string, help: string, type: FamilyType, samples: () => Sample[]): void {
    this.#registerAsync(name, help, type, async () => samples());
  }

  #registerAsync(name: string, help: string, type: FamilyType, samples: () => Promise<Sample[]>): void {
    const family: Family = {
      name,
      help,
      type,
      aggregator: 'sum',
      get: async () => ({ name, help, type, values: await samples(), aggregator: 'sum' }),
    };
    this.registry.registerMetric(family as unknown as Metric);
  }
}
