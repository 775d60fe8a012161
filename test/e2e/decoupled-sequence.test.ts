/**
 * A decoupled JavaScript model under the sequence batcher, through the real CLI: each request
 * of a sequence gets the model's two responses as they come, over gRPC ModelStreamInfer, with
 * the START and CORRID control inputs filled in by the batcher; sequences are kept apart, and
 * a request of an unknown sequence gets the sequence batcher's error.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GrpcClient, type InferRequest, type StreamItem } from '../../src/client/index.js';
import { SEQ_STREAM_CONFIG, writeJsModel } from '../fixtures/js-models/repo.js';
import { startServer, type RunningServer } from './helpers/server-process.js';
import { groupById } from './helpers/stream-items.js';
import { tempDir } from './helpers/temp-repo.js';

const tmp = tempDir('infera-decoupled-sequence-');
let server: RunningServer;
let client: GrpcClient;

beforeAll(async () => {
  writeJsModel(tmp.dir, 'seq_stream', 'seq-stream.mjs', SEQ_STREAM_CONFIG);
  server = await startServer(['--model-repository', tmp.dir]);
  client = new GrpcClient({ url: server.grpcUrl! });
}, 60_000);

afterAll(async () => {
  client?.close();
  expect(await server?.stop()).toBe(0);
  tmp.cleanup();
});

function step(id: string, sequence: number, value: number, flags: { start?: boolean; end?: boolean } = {}): InferRequest {
  return {
    model: 'seq_stream',
    id,
    inputs: [{ name: 'INPUT', datatype: 'INT32', shape: [1], data: Int32Array.of(value) }],
    parameters: { sequence_id: sequence, sequence_start: flags.start ?? false, sequence_end: flags.end ?? false },
  };
}

/** Per request id: [OUT, OUT_ID, triton_final_response] of each response, or the error. */
const byId = (items: AsyncIterable<StreamItem>) =>
  groupById(items, (r) => [(r.output('OUT')!.data as Int32Array)[0], Number((r.output('OUT_ID')!.data as BigUint64Array)[0]), r.parameters?.triton_final_response]);

describe('a decoupled model under the sequence batcher', () => {
  test('streams each request\'s responses; the batcher fills the controls and keeps sequences apart', async () => {
    const stream = client.stream();
    stream.send(step('a1', 7, 1, { start: true }));
    stream.send(step('b1', 8, 100, { start: true }));
    stream.send(step('a2', 7, 2));
    stream.send(step('b2', 8, 200, { end: true }));
    stream.send(step('a3', 7, 3, { end: true }));
    stream.end();
    expect(await byId(stream)).toEqual({
      a1: [
        [1, 7, false],
        [10, 7, false],
      ],
      b1: [
        [100, 8, false],
        [1000, 8, false],
      ],
      a2: [
        [3, 7, false],
        [30, 7, false],
      ],
      b2: [
        [300, 8, false],
        [3000, 8, false],
      ],
      a3: [
        [6, 7, false],
        [60, 7, false],
      ],
    });
  });

  test('a request of a sequence that was never started gets the sequence batcher\'s error', async () => {
    const stream = client.stream();
    stream.send(step('orphan', 99, 1));
    stream.end();
    const seen = await byId(stream);
    expect(seen['orphan']).toEqual([expect.stringMatching(/^error: .*sequence.*99/)]);
  });
});
