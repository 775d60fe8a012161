import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { create } from '@bufbuild/protobuf';
import { afterEach, describe, expect, test } from 'vitest';
import { ModelConfigSchema } from '../../../src/generated/model_config_pb.js';
import { CpuMetricsPoller, cpuUtilization, parseMemInfo, parseProcStat } from '../../../src/observability/cpu-metrics.js';
import { metricsConfigFrom, parseMetricsConfigOption } from '../../../src/observability/metrics-config.js';
import { createMetricsService } from '../../../src/observability/metrics-service.js';
import { ServerMetrics, type MetricsVersion } from '../../../src/observability/server-metrics.js';

const timing = { inputNs: 1_000, inferNs: 20_000, outputNs: 3_000 };

/** The sample lines of a family, without HELP/TYPE. */
function samples(text: string, name: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

describe('ServerMetrics', () => {
  let versions: MetricsVersion[] = [];
  let metrics: ServerMetrics | undefined;
  afterEach(() => metrics?.close());

  test('per-model counters and gauges come from the recorder, labelled model and version', async () => {
    metrics = new ServerMetrics(() => versions);
    const stats = metrics.createStats('simple', 2);
    versions = [{ name: 'simple', version: 2, stats }];
    stats.execution(4, timing);
    stats.requestSuccess(0, 5_000, timing, 100_000);
    stats.requestSuccess(0, 5_000, timing, 100_000);
    stats.requestFailure('BACKEND', 0, 10_000);
    stats.pending(3);
    const text = await metrics.text();
    expect(text).toContain('# HELP nv_inference_request_success Number of successful inference requests, all batch sizes');
    expect(text).toContain('# TYPE nv_inference_request_success counter');
    expect(samples(text, 'nv_inference_request_success')).toEqual(['nv_inference_request_success{model="simple",version="2"} 2']);
    expect(samples(text, 'nv_inference_request_failure')).toEqual([
      'nv_inference_request_failure{model="simple",version="2",reason="REJECTED"} 0',
      'nv_inference_request_failure{model="simple",version="2",reason="CANCELED"} 0',
      'nv_inference_request_failure{model="simple",version="2",reason="BACKEND"} 1',
      'nv_inference_request_failure{model="simple",version="2",reason="OTHER"} 0',
    ]);
    expect(samples(text, 'nv_inference_count')).toEqual(['nv_inference_count{model="simple",version="2"} 4']);
    expect(samples(text, 'nv_inference_exec_count')).toEqual(['nv_inference_exec_count{model="simple",version="2"} 1']);
    expect(samples(text, 'nv_inference_request_duration_us')).toEqual(['nv_inference_request_duration_us{model="simple",version="2"} 200']);
    expect(samples(text, 'nv_inference_queue_duration_us')).toEqual(['nv_inference_queue_duration_us{model="simple",version="2"} 10']);
    expect(samples(text, 'nv_inference_compute_input_duration_us')).toEqual(['nv_inference_compute_input_duration_us{model="simple",version="2"} 2']);
    expect(samples(text, 'nv_inference_compute_infer_duration_us')).toEqual(['nv_inference_compute_infer_duration_us{model="simple",version="2"} 40']);
    expect(samples(text, 'nv_inference_compute_output_duration_us')).toEqual(['nv_inference_compute_output_duration_us{model="simple",version="2"} 6']);
    expect(samples(text, 'nv_inference_pending_request_count')).toEqual(['nv_inference_pending_request_count{model="simple",version="2"} 3']);
    expect(text).toContain('# TYPE nv_model_load_duration_secs gauge');
    expect(text).not.toContain('nv_inference_request_summary_us');
    expect(text).not.toContain('nv_inference_first_response_histogram_ms');
    expect(text).not.toContain('nv_cpu_utilization');
  });

  test('only the versions the source lists appear (an unloaded version disappears)', async () => {
    metrics = new ServerMetrics(() => versions);
    const a = metrics.createStats('a', 1);
    versions = [{ name: 'a', version: 1, stats: a }];
    expect(samples(await metrics.text(), 'nv_inference_count')).toHaveLength(1);
    versions = [];
    expect(samples(await metrics.text(), 'nv_inference_count')).toHaveLength(0);
  });

  test('metric_tags become `_<key>` labels, sorted with model and version', async () => {
    metrics = new ServerMetrics(() => versions);
    const config = create(ModelConfigSchema, { name: 'm', metricTags: { team: 'vision', app: 'ocr' } });
    const stats = metrics.createStats('m', 1, config);
    versions = [{ name: 'm', version: 1, stats }];
    expect(samples(await metrics.text(), 'nv_inference_count')).toEqual(['nv_inference_count{_app="ocr",_team="vision",model="m",version="1"} 0']);
  });

  test('counter_latencies=false drops the duration counters; summaries and the histogram when asked for', async () => {
    const config = metricsConfigFrom([
      ['counter_latencies', 'false'],
      ['summary_latencies', 'true'],
      ['histogram_latencies', 'true'],
      ['summary_quantiles', '0.5:0.05,0.99:0.001'],
    ]);
    metrics = new ServerMetrics(() => versions, config);
    const stats = metrics.createStats('m', 1);
    versions = [{ name: 'm', version: 1, stats }];
    stats.requestSuccess(0, 2_000, timing, 150_000_000);
    const text = await metrics.text();
    expect(text).not.toContain('nv_inference_request_duration_us');
    expect(samples(text, 'nv_inference_request_success')).toEqual(['nv_inference_request_success{model="m",version="1"} 1']);
    expect(samples(text, 'nv_inference_request_summary_us')).toEqual([
      'nv_inference_request_summary_us{model="m",version="1",quantile="0.5"} 150000',
      'nv_inference_request_summary_us{model="m",version="1",quantile="0.99"} 150000',
    ]);
    expect(text).toContain('nv_inference_request_summary_us_sum{model="m",version="1"} 150000');
    expect(text).toContain('nv_inference_queue_summary_us_count{model="m",version="1"} 1');
    expect(text).toContain('# TYPE nv_inference_first_response_histogram_ms histogram');
    expect(text).toContain('nv_inference_first_response_histogram_ms_bucket{model="m",version="1",le="100"} 0');
    expect(text).toContain('nv_inference_first_response_histogram_ms_bucket{model="m",version="1",le="500"} 1');
    expect(text).toContain('nv_inference_first_response_histogram_ms_sum{model="m",version="1"} 150');
  });

  test('model_metrics overrides the first-response buckets', async () => {
    metrics = new ServerMetrics(() => versions, metricsConfigFrom([['histogram_latencies', 'true']]));
    const config = create(ModelConfigSchema, {
      modelMetrics: {
        metricControl: [
          {
            metricIdentifier: { family: 'nv_inference_first_response_histogram_ms' },
            metricOptions: { case: 'histogramOptions', value: { buckets: [1, 10] } },
          },
        ],
      },
    });
    const stats = metrics.createStats('m', 1, config);
    versions = [{ name: 'm', version: 1, stats }];
    const text = await metrics.text();
    expect(text).toContain('nv_inference_first_response_histogram_ms_bucket{model="m",version="1",le="10"} 0');
    expect(text).not.toContain('le="500"');
  });

  test('node_process=true adds the Node process metrics; they are off by default', async () => {
    metrics = new ServerMetrics(() => []);
    expect(await metrics.text()).not.toContain('process_cpu_user_seconds_total');
    metrics.close();
    const config = metricsConfigFrom([['node_process', 'true']]);
    expect(config.nodeProcess).toBe(true);
    metrics = new ServerMetrics(() => [], config);
    const text = await metrics.text();
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes \d/m);
    expect(text).toContain('nv_pinned_memory_pool_total_bytes 0');
  });

  test('CPU gauges appear once sampling starts', async () => {
    metrics = new ServerMetrics(() => []);
    await metrics.startCpuMetrics(60_000);
    const text = await metrics.text();
    const total = Number(samples(text, 'nv_cpu_memory_total_bytes')[0]?.split(' ')[1]);
    const used = Number(samples(text, 'nv_cpu_memory_used_bytes')[0]?.split(' ')[1]);
    expect(total).toBeGreaterThan(0);
    expect(used).toBeGreaterThan(0);
    expect(used).toBeLessThanOrEqual(total);
    expect(samples(text, 'nv_cpu_utilization')).toHaveLength(1);
  });
});

describe('--metrics-config', () => {
  test('parses <setting>=<value> with Triton\'s format message', () => {
    expect(parseMetricsConfigOption('summary_quantiles=0.5:0.05,0.9:0.01')).toEqual(['summary_quantiles', '0.5:0.05,0.9:0.01']);
    for (const bad of ['summary_latencies', 'x=', '=true', 'group,summary_latencies=true']) {
      expect(() => parseMetricsConfigOption(bad)).toThrow(`--metrics-config option format is <setting>=<value>. Got ${bad}`);
    }
  });

  test('defaults, exact switch values, and quantiles with a bad pair skipped', () => {
    expect(metricsConfigFrom([])).toMatchObject({ counterLatencies: true, histogramLatencies: false, summaryLatencies: false });
    expect(metricsConfigFrom([['counter_latencies', 'False']]).counterLatencies).toBe(true);
    const messages: string[] = [];
    const c = metricsConfigFrom([['summary_quantiles', '0.5:0.1,nope,0.9:0.01']], (m) => messages.push(m));
    expect(c.summaryQuantiles).toEqual([
      { quantile: 0.5, error: 0.1 },
      { quantile: 0.9, error: 0.01 },
    ]);
    expect(messages).toEqual(["Invalid option: [nope]. No ':' delimiter found. Expected format is <quantile>:<error>"]);
  });
});

describe('CPU metrics from /proc', () => {
  test('utilization over an interval and memory used = total - available', () => {
    const before = parseProcStat('cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 1 2 3 4\n');
    const after = parseProcStat('cpu  150 0 150 900 0 0 0 0 0 0\n');
    expect(cpuUtilization(after, before)).toBeCloseTo(0.5);
    expect(cpuUtilization(before, before)).toBe(0);
    expect(parseMemInfo('MemTotal:       1000 kB\nMemFree:  10 kB\nMemAvailable:    250 kB\n')).toEqual({
      totalBytes: 1000 * 1024,
      usedBytes: 750 * 1024,
    });
    expect(() => parseProcStat('intr 1 2 3\n')).toThrow('Failed to find aggregate CPU info in /proc/stat.');
    expect(() => parseMemInfo('MemTotal: 1 kB\n')).toThrow('Failed to find desired values in /proc/meminfo.');
  });

  test('a missing /proc is reported once and leaves zeros', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'infera-proc-'));
    try {
      writeFileSync(path.join(dir, 'stat'), 'cpu  1 1 1 1\n');
      const errors: string[] = [];
      const poller = new CpuMetricsPoller((m) => errors.push(m), dir);
      await poller.poll();
      await poller.poll();
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/^error polling CPU metrics: /);
      expect(poller.sample.memoryTotalBytes).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('metrics listener', () => {
  test('GET /metrics answers text/plain; other methods 405; other paths an empty 200', async () => {
    const service = createMetricsService({ text: async () => 'nv_x 1\n' }, { address: '127.0.0.1', port: 0 });
    const { port } = await service.listen();
    try {
      const ok = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(await ok.text()).toBe('nv_x 1\n');
      const post = await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST' });
      expect(post.status).toBe(405);
      expect(await post.text()).toBe('{"error":"Method Not Allowed"}');
      const other = await fetch(`http://127.0.0.1:${port}/other`);
      expect(other.status).toBe(200);
      expect(await other.text()).toBe('');
    } finally {
      await service.close();
    }
  });
});
