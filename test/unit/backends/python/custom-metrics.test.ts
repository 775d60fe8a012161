/**
 * Custom metrics of Python models (pb_utils.MetricFamily / Metric) on a prom-client registry:
 * families shared by name across instances, labels, the three kinds, values, and a family
 * leaving /metrics when the last instance that created it goes.
 */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CustomMetrics } from '../../../../src/backends/python/custom-metrics.js';

describe('CustomMetrics', () => {
  it('counters, gauges and histograms with labels, shared by name, removed with their last owner', async () => {
    const registry = new Registry();
    const metrics = new CustomMetrics(registry);
    const a = {};
    const b = {};
    const fa = metrics.family(a, 'requests_total', 'requests seen', 0);
    const fb = metrics.family(b, 'requests_total', 'requests seen', 0);
    const ma = metrics.metric(fa, { model: 'm', version: '1' }, null);
    const mb = metrics.metric(fb, { version: '2', model: 'm' }, null);
    metrics.update(ma, 'increment', 2);
    metrics.update(mb, 'increment', 5);
    expect(await metrics.value(ma)).toBe(2);
    expect(await metrics.value(mb)).toBe(5);
    const gauge = metrics.metric(metrics.family(a, 'queue_depth', 'depth', 1), {}, null);
    metrics.update(gauge, 'set', 7);
    metrics.update(gauge, 'increment', -2);
    expect(await metrics.value(gauge)).toBe(5);
    const hist = metrics.metric(metrics.family(a, 'latency_us', 'latency', 2), { model: 'm' }, [10, 100]);
    metrics.update(hist, 'observe', 50);
    const text = await registry.metrics();
    expect(text).toContain('requests_total{model="m",version="1"} 2');
    expect(text).toContain('requests_total{model="m",version="2"} 5');
    expect(text).toContain('latency_us_bucket{le="100",model="m"} 1');
    expect(() => metrics.family(b, 'requests_total', 'other text', 0)).toThrow(/already exists/);
    expect(() => metrics.metric(fa, { other: 'x' }, null)).toThrow(/labels \[other\] differ from the family's \[model, version\]/);
    expect(() => metrics.update(ma, 'increment', -1)).toThrow('Counter metrics cannot be decremented');
    metrics.release(a);
    expect(await registry.metrics()).toContain('requests_total');
    expect(await registry.metrics()).not.toContain('queue_depth');
    metrics.release(b);
    expect(await registry.metrics()).not.toContain('requests_total');
  });

  it('fails UNAVAILABLE without a registry (a backend used outside a server)', () => {
    expect(() => new CustomMetrics(undefined).family({}, 'x', 'y', 0)).toThrow(/not available outside an InferenceServer/);
  });
});
