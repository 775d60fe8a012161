/**
 * JavaScript models through the real CLI over HTTP: a throwing model and a worker that exits
 * fail only their own request (500, the model named), the server stays up and the instance
 * restarts; a BLS model answers with the ONNX model's outputs.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeJsModel } from '../fixtures/js-models/repo.js';
import { addSubModel, writeModel } from '../fixtures/onnx-models.js';
import { startServer, untilLogged, type RunningServer } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-repo.js';

const tmp = tempDir('infera-js-e2e-');
let server: RunningServer;

beforeAll(async () => {
  writeJsModel(
    tmp.dir,
    'faulty',
    'faulty.js',
    `input [{ name: "MODE", data_type: TYPE_INT32, dims: [1] }]
     output [{ name: "EXECUTIONS", data_type: TYPE_INT32, dims: [1] }]`,
  );
  writeModel(tmp.dir, 'simple', addSubModel(), { config: 'instance_group [{ count: 1, kind: KIND_CPU }]' });
  writeJsModel(
    tmp.dir,
    'bls',
    'bls.mjs',
    `backend: "javascript"
     max_batch_size: 4
     input [{ name: "A", data_type: TYPE_INT32, dims: [16] }, { name: "B", data_type: TYPE_INT32, dims: [16] }]
     output [{ name: "SUM", data_type: TYPE_INT32, dims: [16] }, { name: "DIFF", data_type: TYPE_INT32, dims: [16] },
             { name: "TOTAL", data_type: TYPE_INT32, dims: [2] }]
     parameters { key: "target" value { string_value: "simple" } }`,
  );
  server = await startServer(['--model-repository', tmp.dir]);
}, 60_000);

afterAll(async () => {
  expect(await server?.stop()).toBe(0);
  tmp.cleanup();
});

async function infer(model: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${server.url}/v2/models/${model}/infer`, { method: 'POST', body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const faulty = (mode: number) => infer('faulty', { inputs: [{ name: 'MODE', datatype: 'INT32', shape: [1], data: [mode] }] });

describe('javascript backend over HTTP', () => {
  test('a throwing model fails only its request with 500 naming the model', async () => {
    expect(await faulty(1)).toEqual({ status: 500, json: { error: expect.stringMatching(/^model 'faulty' version 1 instance '.*': execute failed: Error: boom$/) } });
    expect((await faulty(0)).status).toBe(200);
  });

  test('a worker that dies fails only its request; the server stays up and the next request succeeds', async () => {
    const crashed = await faulty(3);
    expect(crashed).toEqual({ status: 500, json: { error: expect.stringMatching(/^model 'faulty' .*its worker thread exited \(code 1\); the instance is restarting$/) } });
    const next = await faulty(0);
    expect(next.status).toBe(200);
    expect(next.json['outputs']).toEqual([{ name: 'EXECUTIONS', datatype: 'INT32', shape: [1], data: [1] }]);
    expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(200);
    expect(await untilLogged(server.logs, /faulty.* restarted$/)).toBeDefined();
  });

  test('BLS: the JavaScript model returns what the ONNX model computed', async () => {
    const a = Array.from({ length: 16 }, (_, i) => i);
    const res = await infer('bls', {
      inputs: [
        { name: 'A', datatype: 'INT32', shape: [1, 16], data: a },
        { name: 'B', datatype: 'INT32', shape: [1, 16], data: a.map(() => 10) },
      ],
      outputs: [{ name: 'SUM' }, { name: 'TOTAL' }],
    });
    expect(res).toEqual({
      status: 200,
      json: {
        model_name: 'bls',
        model_version: '1',
        outputs: [
          { name: 'SUM', datatype: 'INT32', shape: [1, 16], data: a.map((x) => x + 10) },
          { name: 'TOTAL', datatype: 'INT32', shape: [1, 2], data: [120 + 160, 16] },
        ],
      },
    });
  });
});
