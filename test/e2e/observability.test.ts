/**
 * Statistics, metrics, logging, trace and restricted APIs through the real CLI.
 *
 * Which failures count: Triton counts a failed request once it has reached the model's
 * scheduler (core `InferenceRequest::RespondIfError` / the backend's `ReportStatistics`).
 * A request refused by validation against the config (unknown input, wrong datatype, wrong
 * rank) never gets that far: Triton rejects it in `InferenceRequest::Normalize` and counts
 * nothing. So the failures below that count are requests that pass validation but fail in
 * onnxruntime: INPUT0 and INPUT1 both match the config's `[-1]` dims but differ in length,
 * which the model's Add cannot broadcast. The validation failures are sent too, to check that
 * they are not counted.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { addSubModel, writeModel } from '../fixtures/onnx-models.js';
import { startServer, type RunningServer } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-repo.js';

const CONFIG = `
name: "simple"
backend: "onnxruntime"
max_batch_size: 4
input [
  { name: "INPUT0" data_type: TYPE_INT32 dims: [ -1 ] },
  { name: "INPUT1" data_type: TYPE_INT32 dims: [ -1 ] }
]
output [
  { name: "OUTPUT0" data_type: TYPE_INT32 dims: [ -1 ] },
  { name: "OUTPUT1" data_type: TYPE_INT32 dims: [ -1 ] }
]
instance_group [ { count: 1 kind: KIND_CPU } ]
metric_tags { key: "team" value: "ml" }
`;

const tmp = tempDir();
const traceFile = path.join(tmp.dir, 'trace.json');
let server: RunningServer;

beforeAll(async () => {
  writeModel(path.join(tmp.dir, 'repo'), 'simple', addSubModel('INT32', ['batch', 'n']), { config: CONFIG });
  server = await startServer([
    '--model-repository',
    path.join(tmp.dir, 'repo'),
    '--trace-config',
    `triton,file=${traceFile}`,
    '--trace-config',
    'level=TIMESTAMPS',
    '--trace-config',
    'rate=1',
    '--trace-config',
    'triton,log-frequency=1',
    '--http-restricted-api',
    'model-config:infera-key=s3cret',
  ]);
});

afterAll(async () => {
  await server?.stop();
  tmp.cleanup();
});

async function call(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any; text: string }> {
  const res = await fetch(`${server.url}${url}`, {
    method,
    headers: { 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

function infer(batch: number, len0: number, len1 = len0, datatype = 'INT32') {
  const tensor = (name: string, len: number) => ({
    name,
    datatype,
    shape: [batch, len],
    data: Array.from({ length: batch * len }, (_, i) => i),
  });
  return call('POST', '/v2/models/simple/infer', { inputs: [tensor('INPUT0', len0), tensor('INPUT1', len1)] });
}

/** The value of the sample line `name{labels}`; undefined when absent. */
function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

const GOOD_BATCHES = [1, 1, 2, 1, 3];
const BACKEND_FAILURES = 3;

describe('observability through the CLI', () => {
  test('N requests of which F fail: statistics and /metrics both report N−F successes and F failures', async () => {
    for (const b of GOOD_BATCHES) expect((await infer(b, 3)).status).toBe(200);
    for (let i = 0; i < BACKEND_FAILURES; i++) {
      const r = await infer(1, 3, 4);
      expect(r.status).toBe(400);
      expect(r.json.error).toMatch(/broadcast/);
    }
    // Refused by validation, not counted: wrong datatype, wrong rank, unknown input.
    expect((await infer(1, 3, 3, 'FP32')).status).toBe(400);
    const rank = await call('POST', '/v2/models/simple/infer', {
      inputs: [
        { name: 'INPUT0', datatype: 'INT32', shape: [3], data: [1, 2, 3] },
        { name: 'INPUT1', datatype: 'INT32', shape: [3], data: [1, 2, 3] },
      ],
    });
    expect(rank.status).toBe(400);
    const unknown = await call('POST', '/v2/models/simple/infer', { inputs: [{ name: 'NOPE', datatype: 'INT32', shape: [1, 1], data: [1] }] });
    expect(unknown.status).toBe(400);

    const stats = await call('GET', '/v2/models/simple/stats');
    expect(stats.status).toBe(200);
    expect(stats.json.model_stats).toHaveLength(1);
    const m = stats.json.model_stats[0];
    expect(m).toMatchObject({ name: 'simple', version: '1', inference_count: 8, execution_count: 5 });
    expect(m.last_inference).toBeGreaterThan(Date.now() - 120_000);
    expect(m.inference_stats.success.count).toBe(GOOD_BATCHES.length);
    expect(m.inference_stats.fail.count).toBe(BACKEND_FAILURES);
    expect(m.inference_stats.queue.count).toBe(GOOD_BATCHES.length);
    expect(m.inference_stats.compute_infer.count).toBe(GOOD_BATCHES.length);
    expect(m.inference_stats.success.ns).toBeGreaterThan(0);
    expect(m.inference_stats.cache_hit).toEqual({ count: 0, ns: 0 });
    expect(m.batch_stats.map((b: { batch_size: number; compute_infer: { count: number } }) => [b.batch_size, b.compute_infer.count])).toEqual([
      [1, 3],
      [2, 1],
      [3, 1],
    ]);

    const all = await call('GET', '/v2/models/stats');
    expect(all.json.model_stats.map((s: { name: string }) => s.name)).toEqual(['simple']);

    const res = await fetch(`${server.metricsUrl}/metrics`);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const text = await res.text();
    const labels = '_team="ml",model="simple",version="1"';
    expect(sample(text, 'nv_inference_request_success', labels)).toBe(GOOD_BATCHES.length);
    expect(sample(text, 'nv_inference_request_failure', `${labels},reason="BACKEND"`)).toBe(BACKEND_FAILURES);
    for (const reason of ['REJECTED', 'CANCELED', 'OTHER']) {
      expect(sample(text, 'nv_inference_request_failure', `${labels},reason="${reason}"`)).toBe(0);
    }
    expect(sample(text, 'nv_inference_count', labels)).toBe(8);
    expect(sample(text, 'nv_inference_exec_count', labels)).toBe(5);
    expect(sample(text, 'nv_inference_pending_request_count', labels)).toBe(0);
    expect(sample(text, 'nv_inference_request_duration_us', labels)).toBeGreaterThan(0);
    expect(sample(text, 'nv_model_load_duration_secs', labels)).toBeGreaterThan(0);
    expect(text).toMatch(/^nv_cpu_utilization \d/m);
    expect(text).toMatch(/^nv_cpu_memory_total_bytes [1-9]/m);
  });

  test('statistics errors are Triton\'s', async () => {
    expect(await call('GET', '/v2/models/nope/stats')).toMatchObject({ status: 400, json: { error: "requested model 'nope' is not available" } });
    expect(await call('GET', '/v2/models/simple/versions/9/stats')).toMatchObject({
      status: 400,
      json: { error: "requested model version is not available for model 'simple'" },
    });
    expect((await call('POST', '/v2/models/stats')).status).toBe(405);
  });

  test('server metadata lists the statistics, trace and logging extensions', async () => {
    const meta = await call('GET', '/v2');
    expect(meta.json.extensions).toEqual(expect.arrayContaining(['statistics', 'trace', 'logging']));
  });

  test('a trace written at TIMESTAMPS with rate 1 holds the request\'s timestamps in order', async () => {
    // log-frequency 1: one file per trace; the first counted request (a success) is trace 1.
    const first = `${traceFile}.0`;
    for (let i = 0; i < 100 && !existsSync(first); i++) await new Promise((r) => setTimeout(r, 20));
    const objects = JSON.parse(readFileSync(first, 'utf8')) as Record<string, unknown>[];
    expect(objects[0]).toEqual({ id: 1, model_name: 'simple', model_version: 1 });
    const stamps = objects.slice(1).map((o) => (o.timestamps as { name: string; ns: number }[])[0]!);
    expect(stamps.map((s) => s.name)).toEqual([
      'REQUEST_START',
      'QUEUE_START',
      'COMPUTE_START',
      'COMPUTE_INPUT_END',
      'COMPUTE_OUTPUT_START',
      'COMPUTE_END',
      'REQUEST_END',
    ]);
    const ns = stamps.map((s) => s.ns);
    expect([...ns].sort((a, b) => a - b)).toEqual(ns);
    expect(objects.every((o) => o.id === 1)).toBe(true);
  });

  test('trace settings: global, per model (null reverts), and Triton\'s validation', async () => {
    expect((await call('GET', '/v2/trace/setting')).json).toEqual({
      trace_level: ['TIMESTAMPS'],
      trace_rate: '1',
      trace_count: '-1',
      log_frequency: '1',
      trace_file: traceFile,
      trace_mode: 'triton',
    });
    expect((await call('POST', '/v2/models/simple/trace/setting', { trace_rate: '2', trace_count: '10' })).json).toMatchObject({
      trace_rate: '2',
      trace_count: '10',
      trace_level: ['TIMESTAMPS'],
    });
    expect((await call('GET', '/v2/trace/setting')).json.trace_rate).toBe('1');
    expect((await call('POST', '/v2/models/simple/trace/setting', { trace_rate: null, trace_count: null })).json).toMatchObject({
      trace_rate: '1',
      trace_count: '-1',
    });
    expect(await call('POST', '/v2/trace/setting', { trace_rate: 'x' })).toMatchObject({
      status: 400,
      json: { error: "Unable to parse 'trace_rate', got: x" },
    });
    expect(await call('POST', '/v2/trace/setting', { trace_file: '/tmp/elsewhere.json' })).toMatchObject({
      status: 501,
      json: { error: 'trace file location can not be updated through network protocol' },
    });
    expect(await call('GET', '/v2/models/nope/trace/setting')).toMatchObject({
      status: 404,
      json: { error: "Request for unknown model: 'nope' is not found" },
    });
  });

  test('logging settings round-trip and apply at once', async () => {
    const initial = await call('GET', '/v2/logging');
    expect(initial.json).toEqual({
      log_file: '',
      log_info: true,
      log_warning: true,
      log_error: true,
      log_verbose_level: 0,
      log_format: 'json',
    });
    const set = await call('POST', '/v2/logging', { log_verbose_level: 1, log_warning: false });
    expect(set.json).toMatchObject({ log_verbose_level: 1, log_warning: false, log_info: true });
    expect((await call('GET', '/v2/logging')).json).toMatchObject({ log_verbose_level: 1, log_warning: false });
    // Verbose logging now shows the frontend's debug line for a client error.
    const before = server.logs.length;
    await call('GET', '/v2/models/nope/config', undefined, { 'infera-key': 's3cret' });
    for (let i = 0; i < 100 && !server.logs.slice(before).some((l) => l.level === 'debug'); i++) await new Promise((r) => setTimeout(r, 20));
    expect(server.logs.slice(before).some((l) => l.level === 'debug' && l.msg === 'HTTP request failed')).toBe(true);

    expect(await call('POST', '/v2/logging', { log_format: 'xml' })).toMatchObject({
      status: 400,
      json: { error: 'invalid argument for --log_format, got: xml' },
    });
    expect(await call('POST', '/v2/logging', { log_info: 'yes' })).toMatchObject({
      status: 400,
      json: { error: 'attempt to access JSON non-boolean as boolean' },
    });
    expect((await call('POST', '/v2/logging', { log_file: 'other.log' })).status).toBe(501);
    expect((await call('POST', '/v2/logging', { log_verbose_level: 0, log_warning: true })).json).toEqual(initial.json);
  });

  test('a restricted API answers 403 without its header and serves with it', async () => {
    expect(await call('GET', '/v2/models/simple/config')).toMatchObject({
      status: 403,
      json: { error: "This API is restricted, expecting header 'infera-key'" },
    });
    const ok = await call('GET', '/v2/models/simple/config', undefined, { 'infera-key': 's3cret' });
    expect(ok.status).toBe(200);
    expect(ok.json.name).toBe('simple');
    expect((await call('GET', '/v2/models/simple')).status).toBe(200);
  });
});
