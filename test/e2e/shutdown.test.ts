/**
 * SIGINT/SIGTERM through the real CLI: in-flight requests finish and the process exits 0;
 * an execution that outlives --exit-timeout-secs does not keep the process alive.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { writeJsModel } from '../fixtures/js-models/repo.js';
import { startServer } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-repo.js';

const slowConfig = (delayMs: number) => `
backend: "javascript"
max_batch_size: 0
input [{ name: "IN", data_type: TYPE_INT32, dims: [2] }]
output [{ name: "OUT", data_type: TYPE_INT32, dims: [2] }]
parameters { key: "delay_ms" value { string_value: "${delayMs}" } }
`;

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const request = (url: string) =>
  fetch(`${url}/v2/models/slow/infer`, {
    method: 'POST',
    body: JSON.stringify({ inputs: [{ name: 'IN', datatype: 'INT32', shape: [2], data: [4, 2] }] }),
  });

describe('graceful shutdown', () => {
  test('a request in flight at SIGTERM completes, then the process exits 0', async () => {
    writeJsModel(tmp.dir, 'slow', 'slow.mjs', slowConfig(1500));
    const server = await startServer(['--model-repository', tmp.dir]);
    const inflight = request(server.url);
    await new Promise((r) => setTimeout(r, 300));
    const exited = server.stop('SIGTERM');
    const res = await inflight;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { outputs: { data: number[] }[] }).outputs[0]!.data).toEqual([4, 2]);
    expect(await exited).toBe(0);
    await expect(fetch(`${server.url}/v2/health/live`)).rejects.toThrow();
  });

  test('an execution longer than --exit-timeout-secs does not keep the server alive', async () => {
    const repo = `${tmp.dir}/long`;
    writeJsModel(repo, 'slow', 'slow.mjs', slowConfig(20_000));
    const server = await startServer(['--model-repository', repo, '--exit-timeout-secs', '1']);
    void request(server.url).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    expect(await server.stop('SIGINT')).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });
});
