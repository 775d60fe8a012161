/**
 * `--allow-metrics false` keeps the metrics from every endpoint: the web console's
 * `/console/metrics` reads them through `metricsText`, which then answers 404 as the metrics
 * port would not exist.
 */
import { afterEach, expect, test } from 'vitest';
import { InferenceServer, NotFoundError } from '../../../src/index.js';
import { tempDir } from '../../e2e/helpers/temp-repo.js';

const tmp = tempDir();
let server: InferenceServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

test('metricsText gives the Prometheus text by default', async () => {
  server = await InferenceServer.create({ modelRepositories: [tmp.dir], cpuCount: 1 });
  expect(await server.metricsText()).toMatch(/^# HELP nv_/m);
});

test('metricsText fails NOT_FOUND with allowMetrics false', async () => {
  server = await InferenceServer.create({ modelRepositories: [tmp.dir], cpuCount: 1, allowMetrics: false });
  await expect(server.metricsText()).rejects.toBeInstanceOf(NotFoundError);
});
