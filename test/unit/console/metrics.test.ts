/**
 * The console's figures (console/metrics.js, browser code without DOM use): interval rates and
 * means from two statistics snapshots, and latency quantiles from Prometheus text.
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain browser JavaScript, no declarations
import { intervalFigures, quantilesByModel, totalsByModel } from '../../../console/metrics.js';

const stats = (inferences: number, executions: number, success: number, successNs: number, queueNs: number) => ({
  model_stats: [
    {
      name: 'simple',
      version: '1',
      inference_count: inferences,
      execution_count: executions,
      inference_stats: { success: { count: success, ns: successNs }, queue: { count: success, ns: queueNs } },
    },
  ],
});

describe('console figures', () => {
  it('throughput, mean latency, queue time and batch size of an interval', () => {
    const a = totalsByModel(stats(10, 5, 10, 10e6, 1e6)).get('simple');
    const b = totalsByModel(stats(30, 10, 30, 50e6, 3e6)).get('simple');
    expect(intervalFigures(a, b, 2)).toEqual({ throughput: 10, latencyMs: 2, queueMs: 0.1, computeMs: 0, batchSize: 4 });
    expect(intervalFigures(b, b, 1)).toMatchObject({ throughput: 0, latencyMs: null, batchSize: null });
  });

  it('sums a model over its versions', () => {
    const two = { model_stats: [...stats(1, 1, 1, 1, 1).model_stats, { ...stats(2, 2, 2, 2, 2).model_stats[0], version: '2' }] };
    expect(totalsByModel(two).get('simple')).toMatchObject({ inferences: 3, executions: 3, success: 3 });
  });

  it('reads the request and queue summaries in ms, the largest over versions', () => {
    const text = [
      '# TYPE nv_inference_request_summary_us summary',
      'nv_inference_request_summary_us{model="simple",version="1",quantile="0.5"} 1500',
      'nv_inference_request_summary_us{model="simple",version="2",quantile="0.5"} 2500',
      'nv_inference_request_summary_us{model="simple",version="1",quantile="0.99"} 9000',
      'nv_inference_request_summary_us_sum{model="simple",version="1"} 123',
      'nv_inference_queue_summary_us{model="simple",version="1",quantile="0.99"} 100',
      'nv_inference_count{model="simple",version="1"} 7',
    ].join('\n');
    const q = quantilesByModel(text).get('simple');
    expect(q).toEqual({ request: { '0.5': 2.5, '0.99': 9 }, queue: { '0.99': 0.1 } });
    expect(quantilesByModel('nv_inference_count{model="simple",version="1"} 7\n').size).toBe(0);
  });
});
