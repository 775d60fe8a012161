/**
 * The KServe ClusterServingRuntime's container arguments start a real server: the model
 * repository given with --model-store (where KServe's storage initializer puts the models) is
 * served, and the v2 health and model endpoints answer.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { writeJsModel } from '../fixtures/js-models/repo.js';
import { startServer, type RunningServer } from '../e2e/helpers/server-process.js';
import { tempDir } from '../e2e/helpers/temp-repo.js';
import { flagValue, parseYamlFile } from './helpers/chart.js';

const runtime = parseYamlFile('deploy/kserve/cluster-serving-runtime.yaml');
const args: string[] = runtime.spec.containers[0].args;
const tmp = tempDir();
let server: RunningServer;

beforeAll(async () => {
  writeJsModel(tmp.dir, 'echo', 'slow.mjs', `
backend: "javascript"
max_batch_size: 0
input [{ name: "IN", data_type: TYPE_INT32, dims: [2] }]
output [{ name: "OUT", data_type: TYPE_INT32, dims: [2] }]
parameters { key: "delay_ms" value { string_value: "0" } }
`);
  expect(flagValue(args, '--model-store')).toBe('/mnt/models');
  // KServe's fixed ports (8080, 9000) become ephemeral ones, /mnt/models a temporary repository.
  const local = args
    .slice(1)
    .filter((a) => !/^--(http-port|grpc-port|log-format)=/.test(a))
    .map((a) => (a.startsWith('--model-store=') ? `--model-store=${tmp.dir}` : a));
  server = await startServer(local);
});

afterAll(async () => {
  await server?.stop();
  tmp.cleanup();
});

test('the runtime arguments serve the --model-store repository over v2 HTTP and gRPC', async () => {
  expect(args[0]).toBe('serve');
  expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(200);
  expect((await fetch(`${server.url}/v2/models/echo/ready`)).status).toBe(200);
  expect(server.grpcUrl).toBeDefined();
});
