/**
 * The autoscaling signal against a real server started with the chart's own container flags:
 * the metric the HPA (via prometheus-adapter) and the KEDA trigger scale on must be a gauge that
 * infera exports, must rise while requests wait for a busy model instance and fall back to 0
 * when they are done; the queue-time-per-request ratio the alerts use must rise under load. Every
 * infera metric the dashboard, alerts and autoscalers query must exist in a real scrape.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeJsModel } from '../fixtures/js-models/repo.js';
import { startServer, type RunningServer } from '../e2e/helpers/server-process.js';
import { tempDir } from '../e2e/helpers/temp-repo.js';
import { byKind, flagValue, inferaContainer, parseYamlFile, renderWith, ROOT } from './helpers/chart.js';

const DELAY_MS = 300;
const CONCURRENT = 8;
const SLOW_CONFIG = `
backend: "javascript"
max_batch_size: 0
instance_group [{ count: 1, kind: KIND_CPU }]
input [{ name: "IN", data_type: TYPE_INT32, dims: [2] }]
output [{ name: "OUT", data_type: TYPE_INT32, dims: [2] }]
parameters { key: "delay_ms" value { string_value: "${DELAY_MS}" } }
`;

interface Scrape {
  types: Map<string, string>;
  /** Sum of every sample of `name` (all label sets), or undefined when there is none. */
  sum(name: string): number | undefined;
}

function parseScrape(text: string): Scrape {
  const types = new Map<string, string>();
  const samples: [string, number][] = [];
  for (const line of text.split('\n')) {
    const t = /^# TYPE (\S+) (\S+)/.exec(line);
    if (t) types.set(t[1]!, t[2]!);
    const s = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)/.exec(line);
    if (s) samples.push([s[1]!, Number(s[3])]);
  }
  return {
    types,
    sum: (name) => {
      const hits = samples.filter(([n]) => n === name);
      return hits.length ? hits.reduce((a, [, v]) => a + v, 0) : undefined;
    },
  };
}

const tmp = tempDir();
let server: RunningServer;
const manifests = renderWith(['autoscaling.enabled=true,prometheusRule.enabled=true']);
const kedaManifests = renderWith(['keda.enabled=true']);
const HPA_METRIC: string = byKind(manifests, 'HorizontalPodAutoscaler')!.spec.metrics[0].pods.metric.name;

const scrape = async (): Promise<Scrape> => parseScrape(await (await fetch(`${server.metricsUrl}/metrics`)).text());
const infer = () =>
  fetch(`${server.url}/v2/models/slow/infer`, {
    method: 'POST',
    body: JSON.stringify({ inputs: [{ name: 'IN', datatype: 'INT32', shape: [2], data: [4, 2] }] }),
  });

beforeAll(async () => {
  writeJsModel(tmp.dir, 'slow', 'slow.mjs', SLOW_CONFIG);
  // The Deployment's flags, less what a test must choose itself (ports, repository, log format).
  const c = inferaContainer(manifests);
  const flags = (c.command as string[]).slice(2).filter((a) => !/^--(http-port|grpc-port|metrics-port|model-repository|log-format)=/.test(a));
  expect(flags).toContain(`--exit-timeout-secs=${flagValue(c.command, '--exit-timeout-secs')}`);
  server = await startServer([...flags, '--model-repository', tmp.dir]);
});

afterAll(async () => {
  await server?.stop();
  tmp.cleanup();
});

describe('autoscaling signal', () => {
  test("the Deployment's probe paths answer 200 once the server is ready", async () => {
    const c = inferaContainer(manifests);
    for (const probe of [c.startupProbe, c.livenessProbe, c.readinessProbe]) {
      expect((await fetch(`${server.url}${probe.httpGet.path}`)).status, probe.httpGet.path).toBe(200);
    }
  });

  test('the HPA and KEDA scale on a gauge infera exports, 0 while idle', async () => {
    expect(HPA_METRIC).toBe('nv_inference_pending_request_count');
    const query: string = byKind(kedaManifests, 'ScaledObject')!.spec.triggers[0].metadata.query;
    expect(query).toMatch(new RegExp(`^sum\\(${HPA_METRIC}\\{`));
    const idle = await scrape();
    expect(idle.types.get(HPA_METRIC)).toBe('gauge');
    expect(idle.sum(HPA_METRIC)).toBe(0);
  });

  test('pending requests rise while requests wait for the model instance and fall to 0 after', async () => {
    const before = await scrape();
    const load = Promise.all(Array.from({ length: CONCURRENT }, () => infer().then((r) => r.status)));
    let done = false;
    void load.finally(() => (done = true));
    let peak = 0;
    while (!done) {
      peak = Math.max(peak, (await scrape()).sum(HPA_METRIC) ?? 0);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await load).toEqual(Array(CONCURRENT).fill(200));
    // One instance executes one request at a time; the others wait in the queue.
    expect(peak).toBeGreaterThanOrEqual(2);
    expect(peak).toBeLessThanOrEqual(CONCURRENT);
    const after = await scrape();
    expect(after.sum(HPA_METRIC)).toBe(0);

    // The queue-time ratio of the alerts and dashboard: under load each request waited for the
    // executions ahead of it (on average (CONCURRENT - 1) / 2 of them, at least DELAY_MS each).
    const successes = after.sum('nv_inference_request_success')! - before.sum('nv_inference_request_success')!;
    const queueUs = after.sum('nv_inference_queue_duration_us')! - before.sum('nv_inference_queue_duration_us')!;
    expect(successes).toBe(CONCURRENT);
    expect(queueUs / successes).toBeGreaterThan(DELAY_MS * 1000);

    // One request at a time afterwards: no queue builds up, and the ratio falls.
    for (let i = 0; i < 2; i++) expect((await infer()).status).toBe(200);
    const calm = await scrape();
    expect(calm.sum(HPA_METRIC)).toBe(0);
    const calmRatio = (calm.sum('nv_inference_queue_duration_us')! - after.sum('nv_inference_queue_duration_us')!) / 2;
    expect(calmRatio).toBeLessThan(queueUs / successes);
  });

  test('every infera metric the dashboard, alerts, KEDA and the adapter query exists in a scrape', async () => {
    const rule = byKind(manifests, 'PrometheusRule')!;
    const texts = [
      readFileSync(path.join(ROOT, 'deploy/grafana/infera-dashboard.json'), 'utf8'),
      JSON.stringify(rule.spec),
      JSON.stringify(byKind(kedaManifests, 'ScaledObject')!.spec),
      JSON.stringify(parseYamlFile('deploy/prometheus-adapter/values.yaml')),
    ];
    const names = new Set(texts.flatMap((t) => [...t.matchAll(/\b(nv_[a-z_]+)\b/g)].map((m) => m[1]!)));
    expect(names.size).toBeGreaterThanOrEqual(8);
    const exported = (await scrape()).types;
    for (const n of names) expect(exported.has(n), n).toBe(true);
  });
});
