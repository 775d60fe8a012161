import { describe, expect, it } from 'vitest';
import { parseModelConfigText } from '../../../src/config/index.js';
import type { AnalyzeResult } from '../../../src/perf/analyze/analyze-types.js';
import { applySweepConfig, configText } from '../../../src/perf/analyze/config-variant.js';
import { renderHtmlReport } from '../../../src/perf/analyze/html-report.js';
import { niceTicks, renderPlot } from '../../../src/perf/analyze/svg-plot.js';
import { bestPoint, describeConfig, parseIntList, sweepConfigs, topPoints, type SweepPoint } from '../../../src/perf/analyze/sweep.js';
import type { LevelReport } from '../../../src/perf/perf-report.js';

const level = (concurrency: number, throughput: number, p99Ms: number): LevelReport => ({
  concurrency,
  stable: true,
  windowCount: 3,
  requestCount: 100,
  durationS: 3,
  throughput,
  latencyUs: { avg: p99Ms * 500, p50: p99Ms * 500, p90: p99Ms * 800, p95: p99Ms * 900, p99: p99Ms * 1000 },
  clientSendUs: 1,
  clientRecvUs: 1,
  responseWaitUs: 1,
  clientCpuPercent: 1,
});

describe('analyze sweep', () => {
  it('measures batch sizes ≤ 1 once, without the batcher, and every delay for larger ones', () => {
    const configs = sweepConfigs({ instanceCounts: [1, 2], maxBatchSizes: [1, 8], maxQueueDelaysUs: [0, 500] }, 8, { allowSmallerBatch: true });
    expect(configs.map(describeConfig)).toEqual([
      '1 instance, no batching',
      '1 instance, max batch 8, delay 0 µs',
      '1 instance, max batch 8, delay 500 µs',
      '2 instances, no batching',
      '2 instances, max batch 8, delay 0 µs',
      '2 instances, max batch 8, delay 500 µs',
    ]);
    expect(sweepConfigs({ instanceCounts: [1, 3], maxBatchSizes: [8], maxQueueDelaysUs: [100] }, 0)).toEqual([
      { instanceCount: 1, maxBatchSize: 0 },
      { instanceCount: 3, maxBatchSize: 0 },
    ]);
  });

  it('never tries a max_batch_size below the configured one (clients send such batches) unless allowed', () => {
    const space = { instanceCounts: [1], maxBatchSizes: [1, 4, 8, 16], maxQueueDelaysUs: [0] };
    expect(sweepConfigs(space, 8).map(describeConfig)).toEqual(['1 instance, max batch 8, delay 0 µs', '1 instance, max batch 16, delay 0 µs']);
    // Every size below the configured one: the configured size itself is measured.
    expect(sweepConfigs({ ...space, maxBatchSizes: [1, 4] }, 8).map((c) => c.maxBatchSize)).toEqual([8]);
    expect(sweepConfigs(space, 8, { allowSmallerBatch: true }).map((c) => c.maxBatchSize)).toEqual([1, 4, 8, 16]);
    // A model whose config leaves max_batch_size to auto-complete (1 here) keeps every size.
    expect(sweepConfigs(space, 1).map((c) => c.maxBatchSize)).toEqual([1, 4, 8, 16]);
  });

  it('recommends the highest throughput within the p99 budget', () => {
    const a = { instanceCount: 1, maxBatchSize: 1 };
    const b = { instanceCount: 1, maxBatchSize: 8, maxQueueDelayUs: 500 };
    const points: SweepPoint[] = [
      { config: a, level: level(1, 100, 5) },
      { config: a, level: level(16, 150, 60) },
      { config: b, level: level(4, 140, 20) },
      { config: b, level: level(16, 400, 80) },
    ];
    expect(bestPoint(points, 50)).toBe(points[2]);
    expect(bestPoint(points, 100)).toBe(points[3]);
    expect(bestPoint(points, 1)).toBeUndefined();
  });

  it('lists the best few candidates for confirmation, one point per configuration', () => {
    const a = { instanceCount: 1, maxBatchSize: 1 };
    const b = { instanceCount: 2, maxBatchSize: 1 };
    const c = { instanceCount: 1, maxBatchSize: 8, maxQueueDelayUs: 500 };
    const points: SweepPoint[] = [
      { config: a, level: level(4, 300, 10) },
      { config: a, level: level(16, 310, 30) },
      { config: b, level: level(16, 290, 30) },
      { config: c, level: level(16, 500, 90) },
    ];
    expect(topPoints(points, 50, 3)).toEqual([points[1], points[2]]);
    expect(topPoints(points, 100, 2)).toEqual([points[3], points[1]]);
  });

  it('parses lists and names the flag', () => {
    expect(parseIntList('1, 4,8', '--max-batch-sizes', 0)).toEqual([1, 4, 8]);
    expect(() => parseIntList('1,x', '--instance-counts', 1)).toThrow("--instance-counts: expected comma-separated whole numbers ≥ 1, got '1,x'");
  });
});

describe('config variants', () => {
  const base = parseModelConfigText(
    `name: "m"\nbackend: "onnxruntime"\nmax_batch_size: 8\ninput [ { name: "x" data_type: TYPE_FP32 dims: [ 3 ] } ]\noutput [ { name: "y" data_type: TYPE_FP32 dims: [ 2 ] } ]\ndynamic_batching { }\ninstance_group [ { kind: KIND_CPU, count: 4 } ]\n`,
    'config.pbtxt',
  );

  it('replaces instances, max batch size and the batcher, keeping the rest, as parseable text', () => {
    const text = configText(applySweepConfig(base, { instanceCount: 2, maxBatchSize: 4, maxQueueDelayUs: 250 }), 'test');
    expect(text.startsWith('# test\n')).toBe(true);
    const back = parseModelConfigText(text, 'out.pbtxt');
    expect(back.name).toBe('m');
    expect(back.maxBatchSize).toBe(4);
    expect(back.instanceGroup).toHaveLength(1);
    expect(back.instanceGroup[0]!.count).toBe(2);
    expect(back.input[0]!.name).toBe('x');
    expect(back.schedulingChoice.case).toBe('dynamicBatching');
    expect(back.schedulingChoice.case === 'dynamicBatching' && back.schedulingChoice.value.maxQueueDelayMicroseconds).toBe(250n);
    const plain = parseModelConfigText(configText(applySweepConfig(base, { instanceCount: 1, maxBatchSize: 1 }), 'x'), 'x');
    expect(plain.schedulingChoice.case).toBeUndefined();
  });
});

describe('report', () => {
  it('draws an SVG with a line per configuration, the budget and the pick', () => {
    const svg = renderPlot(
      [
        { label: 'a <1>', points: [[1, 10], [2, 20]] },
        { label: 'b', points: [[3, 5]] },
      ],
      { title: 't', xLabel: 'x', yLabel: 'y', budget: 2.5, highlight: [2, 20] },
    );
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(svg).toContain('a &lt;1&gt;');
    expect(svg).toContain('budget');
    expect(niceTicks(17)).toEqual([0, 5, 10, 15, 20]);
  });

  it('renders a self-contained HTML page', () => {
    const config = { instanceCount: 1, maxBatchSize: 8, maxQueueDelayUs: 500 };
    const best = { config, level: level(16, 400, 20) };
    const result: AnalyzeResult = {
      model: 'm',
      protocol: 'http',
      batchSize: 1,
      concurrencies: [16],
      measurementIntervalMs: 1000,
      latencyBudgetMs: 50,
      points: [best],
      failures: [{ config: { instanceCount: 2, maxBatchSize: 1 }, error: 'load failed' }],
      best,
      recommendedConfigText: 'name: "m"',
      files: { html: 'r.html', json: 'r.json' },
    };
    const html = renderHtmlReport(result);
    expect(html).toContain('Recommended: <b>1 instance, max batch 8, delay 500 µs</b> at concurrency 16: 400.0 infer/s');
    expect(html).toContain('<svg');
    expect(html).toContain('2 instances, no batching: load failed');
    expect(html).not.toMatch(/<(script|link|img)\b/);
  });
});
