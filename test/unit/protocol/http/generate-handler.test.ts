import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { rawRequest, start, type Started } from './helpers.js';

/**
 * /generate and /generate_stream through the real frontend over the in-memory FakeCore (which
 * has no streaming API, so the handler takes its one-response path): Triton's check order,
 * messages and statuses, and the response object. The decoupled cases are in
 * test/e2e/generate.test.ts.
 */

let s: Started;
afterEach(async () => {
  await s?.frontend.close({ timeoutMs: 1000 });
});

async function post(path: string, body: string | Uint8Array, headers: Record<string, string> = {}) {
  const r = await rawRequest(s.port, 'POST', path, { 'Content-Type': 'application/json', ...headers }, body);
  return { status: r.status, type: r.headers['content-type'], text: r.body.toString('utf8') };
}

const sixteen = Array.from({ length: 16 }, (_, i) => i);

describe('POST /generate', () => {
  it('maps the body onto the inputs and answers one flat JSON object', async () => {
    s = await start();
    const r = await post(
      '/v2/models/simple/generate',
      JSON.stringify({ id: 'g1', INPUT0: sixteen, INPUT1: sixteen.map(() => 1), echo_parameter: 'yes' }),
    );
    expect(r.status).toBe(200);
    expect(r.type).toBe('application/json');
    expect(JSON.parse(r.text)).toEqual({
      OUTPUT0: sixteen.map((v) => v + 1),
      OUTPUT1: sixteen.map((v) => v - 1),
      echoed: 'yes',
      id: 'g1',
      model_name: 'simple',
      model_version: '1',
    });
    // Key order is the byte order of the names, as Triton's std::map gives it.
    expect(Object.keys(JSON.parse(r.text))).toEqual(['OUTPUT0', 'OUTPUT1', 'echoed', 'id', 'model_name', 'model_version']);
    expect(s.core.requests[0]).toMatchObject({
      id: 'g1',
      modelName: 'simple',
      parameters: { id: 'g1', echo_parameter: 'yes' },
    });
    expect(s.core.requests[0]!.inputs.map((t) => t.shape)).toEqual([
      [1, 16],
      [1, 16],
    ]);
  });

  it('answers single-element outputs as scalars, on the versioned URL too', async () => {
    s = await start();
    expect(await post('/v2/models/raw_bytes/versions/1/generate', '{"x":"hello"}')).toEqual({
      status: 200,
      type: 'application/json',
      text: '{"model_name":"raw_bytes","model_version":"1","y":"hello"}',
    });
    expect((await post('/v2/models/raw_var/generate', '{"x":2.5}')).text).toBe('{"model_name":"raw_var","model_version":"1","y":2.5}');
  });

  it('checks the method, then the model, then the encoding, then the body', async () => {
    s = await start();
    const get = await rawRequest(s.port, 'GET', '/v2/models/simple/generate');
    expect([get.status, get.body.toString()]).toEqual([405, '{"error":"Method Not Allowed"}']);
    expect(await post('/v2/models/nope/generate_stream', 'not json', { 'Content-Encoding': 'gzip' })).toEqual({
      status: 404,
      type: 'application/json',
      text: `{"error":"Request for unknown model: 'nope' is not found"}`,
    });
    expect((await post('/v2/models/simple/versions/2/generate', '{}')).status).toBe(404);
    for (const encoding of ['gzip', 'deflate', 'br']) {
      expect(await post('/v2/models/raw_bytes/generate', gzipSync('{"x":"a"}'), { 'Content-Encoding': encoding })).toEqual({
        status: 400,
        type: 'application/json',
        text: `{"error":"Unsupported content-encoding, only 'identity' is supported."}`,
      });
    }
    expect((await post('/v2/models/raw_bytes/generate', '{"x":"a"}', { 'Content-Encoding': 'identity' })).status).toBe(200);
    expect(await post('/v2/models/raw_bytes/generate', '')).toEqual({
      status: 400,
      type: 'application/json',
      text: '{"error":"failed to parse the request JSON buffer: The document is empty. at 0"}',
    });
    expect((await post('/v2/models/raw_bytes/generate', '{"x":')).text).toBe(
      '{"error":"failed to parse the request JSON buffer: Invalid value. at 5"}',
    );
  });

  it('refuses a body over --http-max-input-size with Triton\'s JSON size message; the connection survives', async () => {
    s = await start({ maxInputSize: 64 });
    const body = JSON.stringify({ x: 'a'.repeat(100) });
    expect(await post('/v2/models/raw_bytes/generate', body)).toEqual({
      status: 400,
      type: 'application/json',
      text: `{"error":"request JSON size of ${body.length} bytes exceeds the maximum allowed input size of 64 bytes. Use --http-max-input-size to increase the limit."}`,
    });
    // Numbers take fewer bytes as JSON than as FP32: the tensor bytes have their own cap.
    expect(await post('/v2/models/raw_var/generate', JSON.stringify({ x: Array(20).fill(0) }))).toEqual({
      status: 400,
      type: 'application/json',
      text: `{"error":"request size of 0 bytes with input 'x' of size 80 bytes exceeds the maximum allowed input size of 64. Use --http-max-input-size to increase the limit."}`,
    });
    expect((await post('/v2/models/raw_bytes/generate', '{"x":"a"}')).status).toBe(200);
  });

  it('answers a model failure with its status, as a JSON error', async () => {
    s = await start();
    expect(await post('/v2/models/boom/generate', '{}')).toEqual({ status: 500, type: 'application/json', text: '{"error":"kaboom"}' });
  });
});

describe('POST /generate_stream', () => {
  it('sends the one response of a model as one Server-Sent Event', async () => {
    s = await start();
    const r = await post('/v2/models/raw_bytes/generate_stream', '{"x":"hi","id":"s1"}');
    expect(r.status).toBe(200);
    expect(r.type).toBe('text/event-stream; charset=utf-8');
    expect(r.text).toBe('data: {"id":"s1","model_name":"raw_bytes","model_version":"1","y":"hi"}\n\n');
  });

  it('answers errors before the first response as JSON errors', async () => {
    s = await start();
    expect(await post('/v2/models/raw_bytes/generate_stream', '{"x":1}')).toEqual({
      status: 400,
      type: 'application/json',
      text: `{"error":"Unable to parse JSON bytes array: attempt to access JSON non-string as string"}`,
    });
    expect(await post('/v2/models/raw_bytes/generate_stream', '{"x":"a","parameters":[1]}')).toEqual({
      status: 400,
      type: 'application/json',
      text: `{"error":"Expected JSON object for keyword: 'parameters': attempt to access JSON non-object as object"}`,
    });
  });

  it('sends a response that cannot be encoded as an error event under its status', async () => {
    s = await start();
    // raw_2var echoes its FP16 input, which JSON cannot carry out (nor in: so send it empty).
    const r = await post('/v2/models/raw_2var/generate_stream', '{"x":[]}');
    expect(r.type).toBe('text/event-stream; charset=utf-8');
    expect(r.status).toBe(400);
    expect(r.text).toBe(
      'data: {"error":"sending FP16 data via JSON is not supported. Please use the binary data format for output"}\n\n',
    );
  });
});
