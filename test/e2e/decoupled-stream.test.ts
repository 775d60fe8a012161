/**
 * A decoupled JavaScript model through the real CLI: zero, one or many responses over gRPC
 * ModelStreamInfer (`triton_final_response`, `triton_enable_empty_final_response`, in-band
 * errors) and over HTTP Server-Sent Events (`infer_stream`); unary HTTP and gRPC infer refuse
 * it with Triton's errors.
 */
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GrpcClient, type InferRequest, type StreamItem } from '../../src/client/index.js';
import { REPEAT_CONFIG, writeJsModel } from '../fixtures/js-models/repo.js';
import { addSubModel, writeModel } from '../fixtures/onnx-models.js';
import { startServer, type RunningServer } from './helpers/server-process.js';
import { firstValueAndFinal, groupById } from './helpers/stream-items.js';
import { tempDir } from './helpers/temp-repo.js';

const tmp = tempDir('infera-decoupled-e2e-');
let server: RunningServer;
let client: GrpcClient;

beforeAll(async () => {
  writeJsModel(tmp.dir, 'repeat', 'repeat.mjs', REPEAT_CONFIG);
  writeModel(tmp.dir, 'simple', addSubModel(), { config: 'instance_group [{ count: 1, kind: KIND_CPU }]' });
  server = await startServer(['--model-repository', tmp.dir]);
  client = new GrpcClient({ url: server.grpcUrl! });
}, 60_000);

afterAll(async () => {
  client?.close();
  expect(await server?.stop()).toBe(0);
  tmp.cleanup();
});

function repeat(id: string, count: number, parameters: Record<string, string | boolean> = {}): InferRequest {
  return { model: 'repeat', id, inputs: [{ name: 'COUNT', datatype: 'INT32', shape: [1], data: Int32Array.of(count) }], parameters };
}

const byId = (items: AsyncIterable<StreamItem> | StreamItem[]) => groupById(items, firstValueAndFinal('OUT'));

/** POSTs to infer_stream; the status, content type and the JSON of every `data:` event. */
async function sse(model: string, body: unknown): Promise<{ status: number; type: string | null; events: unknown[]; text: string }> {
  const res = await fetch(`${server.url}/v2/models/${model}/infer_stream`, { method: 'POST', body: JSON.stringify(body) });
  const text = await res.text();
  const type = res.headers.get('content-type');
  if (!type?.startsWith('text/event-stream')) return { status: res.status, type, events: [], text };
  const events = text
    .split('\n\n')
    .filter((e) => e !== '')
    .map((e) => {
      expect(e.startsWith('data: ')).toBe(true);
      return JSON.parse(e.slice('data: '.length)) as unknown;
    });
  return { status: res.status, type, events, text };
}

const countBody = (count: number, extra: Record<string, unknown> = {}) => ({
  inputs: [{ name: 'COUNT', datatype: 'INT32', shape: [1], data: [count] }],
  ...extra,
});

describe('decoupled model over gRPC ModelStreamInfer', () => {
  test('0, 1 and many responses, the final flag, and the empty final response on request', async () => {
    const stream = client.stream();
    stream.send(repeat('many', 3));
    stream.send(repeat('last', 2, { mode: 'last' }));
    stream.send(repeat('one', 1, { mode: 'single' }));
    stream.send(repeat('zero', 0));
    stream.send(repeat('zero-empty', 0, { triton_enable_empty_final_response: true }));
    stream.send(repeat('many-empty', 2, { triton_enable_empty_final_response: true }));
    stream.end();
    expect(await byId(stream)).toEqual({
      many: [
        [0, false],
        [1, false],
        [2, false],
      ],
      last: [
        [0, false],
        [1, true],
      ],
      one: [[42, true]],
      'zero-empty': [[null, true]],
      'many-empty': [
        [0, false],
        [1, false],
        [null, true],
      ],
    });
  });

  test('a model error is reported in-band after the responses before it; the stream carries on', async () => {
    const stream = client.stream();
    stream.send(repeat('bad', 2, { mode: 'error' }));
    const items: StreamItem[] = [];
    for await (const item of stream) {
      items.push(item);
      if (item.error !== undefined) {
        stream.send(repeat('after', 1, { mode: 'last' }));
        stream.end();
      }
    }
    expect(await byId(items)).toEqual({
      bad: [[0, false], [1, false], expect.stringMatching(/^error: model 'repeat'.*failed after 2 responses$/)],
      after: [[0, true]],
    });
  });

  test('cancelling the stream stops the model; its only instance serves the next request', async () => {
    const stream = client.stream();
    stream.send(repeat('endless', 1_000_000));
    let seen = 0;
    for await (const item of stream) {
      expect(item.error).toBeUndefined();
      if (++seen === 3) break; // leaving the iteration cancels the call
    }
    const next = client.stream();
    next.send(repeat('next', 2, { mode: 'last' }));
    next.end();
    expect(await byId(next)).toEqual({ next: [[0, false], [1, true]] });
  });

  test('unary ModelInfer refuses a decoupled model with Triton\'s error', async () => {
    await expect(client.infer(repeat('u', 1))).rejects.toMatchObject({
      code: status.UNIMPLEMENTED,
      message: expect.stringContaining("ModelInfer RPC doesn't support models with decoupled transaction policy"),
    });
  });
});

describe('decoupled model over HTTP', () => {
  test('/infer answers 501 with Triton\'s message', async () => {
    const res = await fetch(`${server.url}/v2/models/repeat/infer`, { method: 'POST', body: JSON.stringify(countBody(1)) });
    expect(res.status).toBe(501);
    expect(await res.json()).toEqual({ error: "HTTP end point doesn't support models with decoupled transaction policy" });
  });

  test('infer_stream sends each response as a Server-Sent Event', async () => {
    const res = await sse('repeat', countBody(3, { id: 'sse-1' }));
    expect(res.status).toBe(200);
    expect(res.type).toBe('text/event-stream; charset=utf-8');
    expect(res.events).toEqual([0, 1, 2].map((i) => ({
      id: 'sse-1',
      model_name: 'repeat',
      model_version: '1',
      parameters: { triton_final_response: false },
      outputs: [{ name: 'OUT', datatype: 'INT32', shape: [1], data: [i] }],
    })));
  });

  test('infer_stream: the last response with the final flag, one response, none', async () => {
    const last = await sse('repeat', countBody(2, { parameters: { mode: 'last' } }));
    expect(last.events.map((e) => (e as { parameters: unknown }).parameters)).toEqual([
      { triton_final_response: false },
      { triton_final_response: true },
    ]);
    expect((await sse('repeat', countBody(7, { parameters: { mode: 'single' } }))).events).toHaveLength(1);
    const none = await sse('repeat', countBody(0));
    expect([none.status, none.type, none.events]).toEqual([200, 'text/event-stream; charset=utf-8', []]);
  });

  test('infer_stream: an error after some responses is the last event', async () => {
    const res = await sse('repeat', countBody(2, { parameters: { mode: 'error' } }));
    expect(res.events).toHaveLength(3);
    expect(res.events[2]).toEqual({ error: expect.stringMatching(/^model 'repeat'.*failed after 2 responses$/) });
  });

  test('infer_stream: closing the connection cancels the request; the instance serves the next', async () => {
    const controller = new AbortController();
    const res = await fetch(`${server.url}/v2/models/repeat/infer_stream`, {
      method: 'POST',
      body: JSON.stringify(countBody(1_000_000)),
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('"data":[2]')) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    expect((await sse('repeat', countBody(2, { parameters: { mode: 'last' } }))).events).toHaveLength(2);
  });

  test('infer_stream: errors before any response are plain JSON errors with their status', async () => {
    const unknown = await sse('nope', countBody(1));
    expect([unknown.status, JSON.parse(unknown.text)]).toEqual([404, { error: "Request for unknown model: 'nope' is not found" }]);
    const badInput = await sse('repeat', { inputs: [{ name: 'X', datatype: 'INT32', shape: [1], data: [1] }] });
    expect(badInput.status).toBe(400);
    expect(JSON.parse(badInput.text).error).toMatch(/unexpected inference input 'X' for model 'repeat'/);
    const binary = await sse('repeat', countBody(1, { parameters: { binary_data_output: true } }));
    expect([binary.status, JSON.parse(binary.text).error]).toEqual([400, expect.stringContaining('binary_data outputs are not supported')]);
  });

  test('infer_stream works for a model that is not decoupled: one final event', async () => {
    const data = Array.from({ length: 16 }, (_, i) => i);
    const res = await sse('simple', {
      inputs: [
        { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data },
        { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data },
      ],
      outputs: [{ name: 'OUTPUT0' }],
    });
    expect(res.events).toEqual([
      expect.objectContaining({ parameters: { triton_final_response: true }, outputs: [expect.objectContaining({ name: 'OUTPUT0', data: data.map((x) => 2 * x) })] }),
    ]);
  });
});
