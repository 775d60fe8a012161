/**
 * An ensemble with a decoupled step, through the real CLI (Triton's decoupled ensembles): the
 * decoupled JavaScript model `repeat` answers COUNT times, each answer runs the ONNX identity
 * after it, and the ensemble streams one response per answer over gRPC ModelStreamInfer and
 * HTTP infer_stream; the ensemble is decoupled itself, so unary infer refuses it as Triton does.
 */
import { status } from '@grpc/grpc-js';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GrpcClient, type InferRequest, type StreamItem } from '../../src/client/index.js';
import { REPEAT_CONFIG, writeJsModel } from '../fixtures/js-models/repo.js';
import { pythonSkipReason, REPEAT_CONFIG as PY_REPEAT_CONFIG, writePyModel } from '../fixtures/python-models/repo.js';
import { identityModel, writeModel } from '../fixtures/onnx-models.js';
import { startServer, type RunningServer } from './helpers/server-process.js';
import { firstValueAndFinal, groupById } from './helpers/stream-items.js';
import { tempDir } from './helpers/temp-repo.js';

const tmp = tempDir('infera-decoupled-ensemble-');
let server: RunningServer;
let client: GrpcClient;

const ENSEMBLE = `
name: "counted"
platform: "ensemble"
max_batch_size: 0
input [{ name: "COUNT", data_type: TYPE_INT32, dims: [1] }]
output [{ name: "VALUE", data_type: TYPE_INT32, dims: [1] }]
ensemble_scheduling { step [
  { model_name: "repeat" model_version: -1 input_map { key: "COUNT" value: "COUNT" } output_map { key: "OUT" value: "n" } },
  { model_name: "ident" model_version: -1 input_map { key: "INPUT0" value: "n" } output_map { key: "OUTPUT0" value: "VALUE" } }
] }
`;

const noPython = pythonSkipReason();

beforeAll(async () => {
  writeJsModel(tmp.dir, 'repeat', 'repeat.mjs', REPEAT_CONFIG);
  if (noPython === undefined) {
    // The same flow with Triton's Python backend: a decoupled model.py sending from a thread.
    writePyModel(tmp.dir, 'py_repeat', 'repeat.py', PY_REPEAT_CONFIG);
    mkdirSync(path.join(tmp.dir, 'counted_py', '1'), { recursive: true });
    writeFileSync(path.join(tmp.dir, 'counted_py', 'config.pbtxt'), ENSEMBLE.replace('"counted"', '"counted_py"').replace('"repeat"', '"py_repeat"'));
  }
  writeModel(tmp.dir, 'ident', identityModel('INT32', [1]), { config: 'max_batch_size: 0\ninstance_group [{ count: 1, kind: KIND_CPU }]' });
  mkdirSync(path.join(tmp.dir, 'counted', '1'), { recursive: true });
  writeFileSync(path.join(tmp.dir, 'counted', 'config.pbtxt'), ENSEMBLE);
  server = await startServer(['--model-repository', tmp.dir]);
  client = new GrpcClient({ url: server.grpcUrl! });
}, 60_000);

afterAll(async () => {
  client?.close();
  expect(await server?.stop()).toBe(0);
  tmp.cleanup();
});

function counted(id: string, count: number, parameters: Record<string, string | boolean> = {}): InferRequest {
  return { model: 'counted', id, inputs: [{ name: 'COUNT', datatype: 'INT32', shape: [1], data: Int32Array.of(count) }], parameters };
}

const byId = (items: AsyncIterable<StreamItem>) => groupById(items, firstValueAndFinal('VALUE'));

describe('an ensemble with a decoupled step', () => {
  test('is decoupled itself: its config says so, and unary infer refuses it', async () => {
    const config = (await (await fetch(`${server.url}/v2/models/counted/config`)).json()) as { model_transaction_policy?: { decoupled?: boolean } };
    expect(config.model_transaction_policy?.decoupled).toBe(true);
    const res = await fetch(`${server.url}/v2/models/counted/infer`, {
      method: 'POST',
      body: JSON.stringify({ inputs: [{ name: 'COUNT', datatype: 'INT32', shape: [1], data: [2] }] }),
    });
    expect(res.status).toBe(501);
    await expect(client.infer(counted('u', 1))).rejects.toMatchObject({ code: status.UNIMPLEMENTED });
  });

  test('streams one response per response of the decoupled step over gRPC', async () => {
    const stream = client.stream();
    stream.send(counted('three', 3));
    stream.send(counted('last', 2, { mode: 'last' }));
    stream.send(counted('zero', 0, { triton_enable_empty_final_response: true }));
    stream.send(counted('bad', 0, { mode: 'error' }));
    stream.end();
    const seen = await byId(stream);
    // repeat sends its final flag alone right after its last answer: whether the ensemble's
    // last response is final depends on whether the identity after it finished first.
    expect(seen['three']!.slice(0, 2)).toEqual([
      [0, false],
      [1, false],
    ]);
    expect(seen['three']![2]).toEqual([2, expect.any(Boolean)]);
    expect(seen).toMatchObject({
      // The step's last response carries the final flag, so the ensemble's last one does too.
      last: [
        [0, false],
        [1, true],
      ],
      zero: [[null, true]],
      bad: [expect.stringMatching(/^error: in ensemble 'counted', step 0 \(model 'repeat'\): .*failed after 0 responses$/)],
    });
  });

  test('streams over HTTP infer_stream', async () => {
    const res = await fetch(`${server.url}/v2/models/counted/infer_stream`, {
      method: 'POST',
      body: JSON.stringify({ inputs: [{ name: 'COUNT', datatype: 'INT32', shape: [1], data: [2] }], parameters: { mode: 'last' } }),
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = (await res.text())
      .split('\n\n')
      .filter((e) => e !== '')
      .map((e) => JSON.parse(e.slice('data: '.length)) as { outputs: { data: number[] }[] });
    expect(events.map((e) => e.outputs[0]!.data)).toEqual([[0], [1]]);
  });

  test.skipIf(noPython !== undefined)(`a decoupled Python model as the step${noPython ? ` (skipped: ${noPython})` : ''}`, async () => {
    const stream = client.stream();
    stream.send({ ...counted('py', 3), model: 'counted_py' });
    stream.end();
    const seen = await byId(stream);
    expect(seen['py']!.map((r) => (r as unknown[])[0])).toEqual([0, 1, 2]);
  });
});
