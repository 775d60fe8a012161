import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** What the paging gauges read at each scrape (the model pager). */
export interface PagingMetricsSource {
  readonly budgetBytes: number;
  usedBytes(): number;
  /** Accounted bytes per loaded model. */
  modelBytes(): [string, number][];
}

/** Load-latency buckets in seconds: a small ONNX model loads in tens of ms, a large one in seconds. */
const LOAD_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The `infera_model_paging_*` metrics (model paging; not Triton's, hence not `nv_`):
 * - `infera_model_paging_loads_total{model}`: page-ins (and measured explicit loads);
 * - `infera_model_paging_evictions_total{model}`: models unloaded to make room;
 * - `infera_model_paging_load_duration_seconds{model}`: histogram of page-in load latency;
 * - `infera_model_paging_model_bytes{model}`: accounted memory of each loaded model;
 * - `infera_model_paging_budget_bytes`, `infera_model_paging_used_bytes`: the budget and the
 *   loaded models' accounted memory.
 * Registered in the server's registry, so `/metrics` carries them.
 */
export class PagingMetrics {
  readonly #loads: Counter<'model'>;
  readonly #evictions: Counter<'model'>;
  readonly #latency: Histogram<'model'>;

  constructor(registry: Registry, source: PagingMetricsSource) {
    const registers = [registry];
    this.#loads = new Counter({ name: 'infera_model_paging_loads_total', help: 'Number of models paged in (loaded on demand), per model', labelNames: ['model'], registers });
    this.#evictions = new Counter({ name: 'infera_model_paging_evictions_total', help: 'Number of times a model was evicted (unloaded to make room), per model', labelNames: ['model'], registers });
    this.#latency = new Histogram({ name: 'infera_model_paging_load_duration_seconds', help: 'Model page-in load latency in seconds', labelNames: ['model'], buckets: LOAD_BUCKETS, registers });
    new Gauge({
      name: 'infera_model_paging_model_bytes',
      help: 'Memory a loaded model was measured to hold at its load, in bytes',
      labelNames: ['model'],
      registers,
      collect() {
        this.reset();
        for (const [model, bytes] of source.modelBytes()) this.set({ model }, bytes);
      },
    });
    new Gauge({
      name: 'infera_model_paging_budget_bytes',
      help: 'Model memory budget (--model-memory-budget), in bytes',
      registers,
      collect() {
        this.set(source.budgetBytes);
      },
    });
    new Gauge({
      name: 'infera_model_paging_used_bytes',
      help: 'Memory the loaded models were measured to hold, in bytes',
      registers,
      collect() {
        this.set(source.usedBytes());
      },
    });
  }

  loaded(model: string, seconds: number): void {
    this.#loads.inc({ model });
    this.#latency.observe({ model }, seconds);
  }

  evicted(model: string): void {
    this.#evictions.inc({ model });
  }
}
