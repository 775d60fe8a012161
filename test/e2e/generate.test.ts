/**
 * Triton's generate extension through the real CLI: `/generate` and `/generate_stream` on a
 * JavaScript model that is not decoupled (text and numbers in, text out) and on decoupled
 * ones that stream one response per word (or per count), with Triton's errors.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { REPEAT_CONFIG, TEXTGEN_CONFIG, WORDS_CONFIG, writeJsModel } from '../fixtures/js-models/repo.js';
import { startServer, type RunningServer } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-repo.js';

const tmp = tempDir('infera-generate-e2e-');
let server: RunningServer;

beforeAll(async () => {
  writeJsModel(tmp.dir, 'textgen', 'textgen.mjs', TEXTGEN_CONFIG);
  writeJsModel(tmp.dir, 'words', 'words.mjs', WORDS_CONFIG);
  writeJsModel(tmp.dir, 'repeat', 'repeat.mjs', REPEAT_CONFIG);
  server = await startServer(['--model-repository', tmp.dir]);
}, 60_000);

afterAll(async () => {
  expect(await server?.stop()).toBe(0);
  tmp.cleanup();
});

async function generate(model: string, body: unknown, init: RequestInit = {}) {
  const res = await fetch(`${server.url}/v2/models/${model}/generate`, { method: 'POST', body: JSON.stringify(body), ...init });
  return { status: res.status, type: res.headers.get('content-type'), json: (await res.json()) as Record<string, unknown> };
}

/** POSTs to generate_stream; the status, content type, raw text and the JSON of every `data:` event. */
async function generateStream(model: string, body: unknown) {
  const res = await fetch(`${server.url}/v2/models/${model}/generate_stream`, { method: 'POST', body: JSON.stringify(body) });
  const text = await res.text();
  const type = res.headers.get('content-type');
  const events = type?.startsWith('text/event-stream')
    ? text
        .split('\n\n')
        .filter((e) => e !== '')
        .map((e) => {
          expect(e.startsWith('data: ')).toBe(true);
          return JSON.parse(e.slice('data: '.length)) as Record<string, unknown>;
        })
    : [];
  return { status: res.status, type, text, events };
}

describe('/generate on a model that is not decoupled', () => {
  test('maps fields to inputs and parameters; outputs come back as fields', async () => {
    const r = await generate('textgen', {
      id: '42',
      text_input: 'hello world',
      repeat: 2,
      temperature: 0.5,
      parameters: { stream: false, weights: [0.5, 1, 2] },
    });
    expect(r.status).toBe(200);
    expect(r.type).toBe('application/json');
    expect(r.json).toEqual({
      id: '42',
      model_name: 'textgen',
      model_version: '1',
      text_output: 'hello worldhello world',
      tokens: ['hello', 'world'],
      // Every field that is not an input reaches the model as a request parameter, id included.
      seen_parameters: JSON.stringify({ id: '42', stream: false, temperature: 0.5 }),
      weight_sum: 3.5,
    });
    expect(Object.keys(r.json)).toEqual(['id', 'model_name', 'model_version', 'seen_parameters', 'text_output', 'tokens', 'weight_sum']);
  });

  test('generate_stream sends its one response as one event', async () => {
    const r = await generateStream('textgen', { text_input: 'hi', repeat: 1 });
    expect([r.status, r.type]).toEqual([200, 'text/event-stream; charset=utf-8']);
    expect(r.events).toEqual([
      { model_name: 'textgen', model_version: '1', seen_parameters: '{}', text_output: 'hi', tokens: 'hi', weight_sum: 0 },
    ]);
  });

  test('errors: missing input, wrong type, shape, parameters, unknown model, method', async () => {
    const missing = await generate('textgen', { text_input: 'hi' });
    expect(missing.status).toBe(400);
    expect(missing.json.error).toBe(
      "[request id: <id_unknown>] expected number of inputs between 2 and 3 but got 1 inputs for model 'textgen'. " +
        "Got input(s) ['text_input'], but missing required input(s) ['repeat']. Please provide all required input(s).",
    );
    expect(await generate('textgen', { text_input: 'hi', repeat: 'two' })).toEqual({
      status: 400,
      type: 'application/json',
      json: { error: "Unable to parse 'data': attempt to access JSON non-signed-integer as signed-integer" },
    });
    expect((await generate('textgen', { text_input: 'hi', repeat: 1, weights: [1, 2] })).json).toEqual({
      error: "The schema can not convert input 'weights' to tensor with proper shape",
    });
    expect((await generate('textgen', { text_input: 'hi', repeat: 1, parameters: { top: [1] } })).json).toEqual({
      error: "Converting keyword: 'parameters': parameter 'top' has invalid type. It should be either 'int', 'bool', or 'string'.",
    });
    expect(await generate('nope', { text_input: 'hi' })).toEqual({
      status: 404,
      type: 'application/json',
      json: { error: "Request for unknown model: 'nope' is not found" },
    });
    const get = await fetch(`${server.url}/v2/models/textgen/generate_stream`);
    expect([get.status, await get.json()]).toEqual([405, { error: 'Method Not Allowed' }]);
  });

  test('a compressed request is refused: identity only', async () => {
    const r = await generate('textgen', { text_input: 'hi', repeat: 1 }, { headers: { 'Content-Encoding': 'gzip' } });
    expect([r.status, r.json]).toEqual([400, { error: "Unsupported content-encoding, only 'identity' is supported." }]);
  });

  test('the server metadata does not list generate, as Triton does not', async () => {
    const metadata = (await (await fetch(`${server.url}/v2`)).json()) as { extensions: string[] };
    expect(metadata.extensions).not.toContain('generate');
  });
});

describe('/generate_stream on a decoupled model', () => {
  test('streams one event per response, with the request id', async () => {
    const r = await generateStream('words', { id: 'w1', text_input: 'the quick brown fox' });
    expect([r.status, r.type]).toEqual([200, 'text/event-stream; charset=utf-8']);
    expect(r.events).toEqual(
      ['the', 'quick', 'brown', 'fox'].map((word, index) => ({ id: 'w1', index, model_name: 'words', model_version: '1', text_output: word })),
    );
  });

  test('parameters reach the model; no response is an empty 200 stream', async () => {
    const two = await generateStream('words', { text_input: 'a b c', parameters: { max_tokens: 2 } });
    expect(two.events.map((e) => e.text_output)).toEqual(['a', 'b']);
    const none = await generateStream('words', { text_input: 'a b c', max_tokens: 0 });
    expect([none.status, none.type, none.text]).toEqual([200, 'text/event-stream; charset=utf-8', '']);
  });

  test('an error after some responses is a last error event', async () => {
    const r = await generateStream('words', { text_input: 'a b c d', fail_after: 2 });
    expect(r.status).toBe(200);
    expect(r.events).toHaveLength(3);
    expect(r.events.slice(0, 2).map((e) => e.text_output)).toEqual(['a', 'b']);
    expect(r.events[2]).toEqual({ error: expect.stringMatching(/^model 'words'.*stopped after 2 words$/) });
  });

  test('a failure before any response is a JSON error with its status', async () => {
    const r = await generateStream('words', { text_input: 'a b', fail_after: 0 });
    expect([r.status, r.type]).toEqual([500, 'application/json']);
    expect(JSON.parse(r.text)).toEqual({ error: expect.stringMatching(/^model 'words'.*stopped after 0 words$/) });
  });

  test('closing the connection cancels the request; the model serves the next one', async () => {
    const controller = new AbortController();
    const res = await fetch(`${server.url}/v2/models/repeat/generate_stream`, {
      method: 'POST',
      body: JSON.stringify({ COUNT: 1_000_000 }),
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('"OUT":2,')) {
      const chunk = await reader.read();
      if (chunk.done) throw new Error(`the stream ended early: ${text}`);
      text += new TextDecoder().decode(chunk.value);
    }
    controller.abort();
    const next = await generateStream('repeat', { COUNT: 2, parameters: { mode: 'last' } });
    expect(next.events).toEqual([
      { OUT: 0, model_name: 'repeat', model_version: '1' },
      { OUT: 1, model_name: 'repeat', model_version: '1' },
    ]);
  });
});

describe('/generate on a decoupled model', () => {
  test('exactly one response is answered as on any model', async () => {
    expect(await generate('words', { text_input: 'only one', max_tokens: 1 })).toEqual({
      status: 200,
      type: 'application/json',
      json: { index: 0, model_name: 'words', model_version: '1', text_output: 'only' },
    });
  });

  test('several responses, or none, are refused with Triton\'s error under status 200', async () => {
    const error = {
      error: 'generate expects model to produce exactly 1 response, use generate stream for model that generates various number of responses',
    };
    expect(await generate('words', { text_input: 'one two three' })).toEqual({ status: 200, type: 'application/json', json: error });
    expect(await generate('words', { text_input: 'one two', max_tokens: 0 })).toEqual({ status: 200, type: 'application/json', json: error });
  });
});
