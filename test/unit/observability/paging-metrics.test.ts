import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { PagingMetrics } from '../../../src/observability/paging-metrics.js';

describe('PagingMetrics', () => {
  it('exposes loads, evictions, load latency, bytes per model and the budget in use', async () => {
    const registry = new Registry();
    let loaded: [string, number][] = [['a', 1000], ['b', 2500]];
    const metrics = new PagingMetrics(registry, { budgetBytes: 4096, usedBytes: () => loaded.reduce((n, [, b]) => n + b, 0), modelBytes: () => loaded });
    metrics.loaded('a', 0.2);
    metrics.loaded('b', 1.5);
    metrics.loaded('a', 0.3);
    metrics.evicted('a');
    loaded = [['b', 2500]];
    const text = await registry.metrics();
    expect(text).toContain('infera_model_paging_loads_total{model="a"} 2');
    expect(text).toContain('infera_model_paging_loads_total{model="b"} 1');
    expect(text).toContain('infera_model_paging_evictions_total{model="a"} 1');
    expect(text).toContain('infera_model_paging_load_duration_seconds_count{model="a"} 2');
    expect(text).toContain('infera_model_paging_load_duration_seconds_sum{model="a"} 0.5');
    expect(text).toContain('infera_model_paging_load_duration_seconds_bucket{le="0.25",model="a"} 1');
    // An evicted model's bytes series goes with it.
    expect(text).toContain('infera_model_paging_model_bytes{model="b"} 2500');
    expect(text).not.toContain('infera_model_paging_model_bytes{model="a"}');
    expect(text).toContain('infera_model_paging_budget_bytes 4096');
    expect(text).toContain('infera_model_paging_used_bytes 2500');
  });
});
