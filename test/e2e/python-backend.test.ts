/**
 * Triton Python-backend models (model.py with triton_python_backend_utils) through the real
 * CLI over HTTP and gRPC: numpy and BYTES tensors, initialize's args, request fields and
 * response parameters, decoupled streaming (thread and async execute), BLS into an ONNX and
 * into a Python model (sync, async, decoupled), a config completed by auto_complete_config,
 * errors raised in execute, a stub that exits (only its request fails, the instance
 * restarts), custom metrics on /metrics, and no shared memory left after the server stops.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PYTHON_PIPELINE_DEPTH } from '../../src/backends/python/instance.js';
import { GrpcClient, type StreamItem } from '../../src/client/index.js';
import { addSubModel, writeModel } from '../fixtures/onnx-models.js';
import {
  ACCUMULATE_CONFIG,
  ADD_SUB_CONFIG,
  ASYNC_SQUARE_CONFIG,
  BLS_CONFIG,
  ENSEMBLE_CONFIG,
  FAULTY_CONFIG,
  PYADD_CONFIG,
  pythonSkipReason,
  REPEAT_CONFIG,
  STRINGS_CONFIG,
  writePyModel,
} from '../fixtures/python-models/repo.js';
import { startServer, untilLogged, type RunningServer } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-repo.js';

const skip = pythonSkipReason();
if (skip !== undefined) console.warn(`python-backend e2e skipped: ${skip}`);

const tmp = tempDir('infera-python-e2e-');
let server: RunningServer;
let client: GrpcClient;

const shmObjects = (pid: number | undefined): string[] => readdirSync('/dev/shm').filter((f) => f.startsWith(`infera-py-${pid}-`));

beforeAll(async () => {
  if (skip !== undefined) return;
  writePyModel(tmp.dir, 'add_sub', 'add_sub.py', ADD_SUB_CONFIG);
  writePyModel(tmp.dir, 'pyadd', 'add_sub.py', PYADD_CONFIG);
  writePyModel(tmp.dir, 'strings', 'strings.py', STRINGS_CONFIG);
  writePyModel(tmp.dir, 'repeat', 'repeat.py', REPEAT_CONFIG);
  writePyModel(tmp.dir, 'square', 'async_square.py', ASYNC_SQUARE_CONFIG);
  writePyModel(tmp.dir, 'faulty', 'faulty.py', FAULTY_CONFIG);
  writePyModel(tmp.dir, 'bls', 'bls.py', BLS_CONFIG);
  writePyModel(tmp.dir, 'auto', 'auto_complete.py');
  writePyModel(tmp.dir, 'acc', 'accumulate.py', ACCUMULATE_CONFIG);
  // default_model_filename: the model file has another name.
  writePyModel(tmp.dir, 'renamed', 'faulty.py', `${FAULTY_CONFIG}\ndefault_model_filename: "faulty_model.py"`);
  renameSync(path.join(tmp.dir, 'renamed', '1', 'model.py'), path.join(tmp.dir, 'renamed', '1', 'faulty_model.py'));
  mkdirSync(path.join(tmp.dir, 'ens', '1'), { recursive: true });
  writeFileSync(path.join(tmp.dir, 'ens', 'config.pbtxt'), ENSEMBLE_CONFIG);
  writeModel(tmp.dir, 'simple', addSubModel(), { config: 'instance_group [{ count: 1, kind: KIND_CPU }]' });
  server = await startServer(['--model-repository', tmp.dir]);
  client = new GrpcClient({ url: server.grpcUrl! });
}, 90_000);

afterAll(async () => {
  client?.close();
  if (server !== undefined) {
    const pid = server.process.pid;
    expect(await server.stop()).toBe(0);
    // Unloading ended every stub and freed its shared memory.
    expect(shmObjects(pid)).toEqual([]);
  }
  tmp.cleanup();
});

async function infer(model: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${server.url}/v2/models/${model}/infer`, { method: 'POST', body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

type Output = { name: string; data: unknown[]; shape: number[]; datatype: string };
const output = (json: Record<string, unknown>, name: string): Output => (json['outputs'] as Output[]).find((o) => o.name === name)!;

describe.skipIf(skip !== undefined)('python backend', () => {
  test('add_sub: numpy outputs over HTTP, initialize args as Triton gives them', async () => {
    const res = await infer('add_sub', {
      inputs: [
        { name: 'INPUT0', datatype: 'FP32', shape: [4], data: [1, 2, 3, 4] },
        { name: 'INPUT1', datatype: 'FP32', shape: [4], data: [10, 20, 30, 40] },
      ],
    });
    expect(res.status).toBe(200);
    expect(output(res.json, 'OUTPUT0')).toEqual({ name: 'OUTPUT0', datatype: 'FP32', shape: [4], data: [11, 22, 33, 44] });
    expect(output(res.json, 'OUTPUT1').data).toEqual([-9, -18, -27, -36]);
    const args = JSON.parse(String(output(res.json, 'ARGS').data[0])) as Record<string, string>;
    expect(args).toMatchObject({
      model_name: 'add_sub',
      model_version: '1',
      model_instance_kind: 'CPU',
      model_instance_name: 'add_sub_0_0',
      model_instance_device_id: '0',
      model_repository: expect.stringMatching(/add_sub$/),
    });
    expect(JSON.parse(args['model_config']!)).toMatchObject({ name: 'add_sub', backend: 'python' });
    expect(await untilLogged(server.logs, /add_sub initialized as add_sub_0_0/)).toBeDefined();
  });

  test('default_model_filename names the Python file', async () => {
    const res = await infer('renamed', { inputs: [{ name: 'MODE', datatype: 'INT32', shape: [1], data: [0] }] });
    expect(res.status).toBe(200);
    expect(output(res.json, 'EXECUTIONS').data).toEqual([1]);
  });

  test('add_sub over gRPC, asking for one output', async () => {
    const r = await client.infer({
      model: 'add_sub',
      inputs: [
        { name: 'INPUT0', datatype: 'FP32', shape: [4], data: Float32Array.of(1, 1, 1, 1) },
        { name: 'INPUT1', datatype: 'FP32', shape: [4], data: Float32Array.of(0.5, 0.5, 0.5, 0.5) },
      ],
      outputs: [{ name: 'OUTPUT1' }],
    });
    expect(r.outputs.map((o) => o.name)).toEqual(['OUTPUT1']);
    expect([...(r.output('OUTPUT1').data as Float32Array)]).toEqual([0.5, 0.5, 0.5, 0.5]);
  });

  test('BYTES tensors are object arrays of bytes; request id, parameters and sequence fields reach the model', async () => {
    const res = await infer('strings', {
      id: 'req-7',
      parameters: { sequence_id: 42, sequence_start: true, user: 'x', n: 3 },
      inputs: [{ name: 'TEXT', datatype: 'BYTES', shape: [3], data: ['abc', 'héllo', ''] }],
    });
    expect(res.status).toBe(200);
    expect(res.json['id']).toBe('req-7');
    expect(output(res.json, 'UPPER')).toEqual({ name: 'UPPER', datatype: 'BYTES', shape: [3], data: ['ABC', 'HéLLO', ''] });
    expect(output(res.json, 'LENGTHS').data).toEqual([3, 6, 0]);
    expect(JSON.parse(String(output(res.json, 'INFO').data[0]))).toEqual({
      request_id: 'req-7',
      parameters: { user: 'x', n: 3 },
      correlation_id: 42,
      flags: 1,
      requested: ['UPPER', 'LENGTHS', 'INFO'],
      types: ['bytes', 'bytes', 'bytes'],
    });
    // InferenceResponse(parameters=...) reaches the client as Triton sends it: the response's
    // "parameters" object (HTTP), ModelInferResponse.parameters (gRPC).
    expect(res.json['parameters']).toEqual({ echo: 'req-7', count: 3, ok: true });
    const r = await client.infer({
      model: 'strings',
      id: 'req-8',
      inputs: [{ name: 'TEXT', datatype: 'BYTES', shape: [2], data: ['a', 'b'] }],
    });
    expect(r.parameters).toEqual({ echo: 'req-8', count: 2, ok: true });
  });

  test('decoupled: responses from a thread stream over gRPC ModelStreamInfer', async () => {
    const stream = client.stream();
    stream.send({ model: 'repeat', id: 'three', inputs: [{ name: 'COUNT', datatype: 'INT32', shape: [1], data: Int32Array.of(3) }] });
    stream.send({ model: 'repeat', id: 'none', inputs: [{ name: 'COUNT', datatype: 'INT32', shape: [1], data: Int32Array.of(0) }] });
    stream.send({ model: 'square', id: 'sq', inputs: [{ name: 'IN', datatype: 'INT32', shape: [1], data: Int32Array.of(2) }] });
    stream.end();
    const got: Record<string, unknown[]> = {};
    for await (const item of stream as AsyncIterable<StreamItem>) {
      const r = item.result;
      (got[item.id] ??= []).push(r === undefined ? `error: ${item.error!.message}` : [(r.output('OUT').data as Int32Array)[0], r.parameters?.['triton_final_response']]);
    }
    expect(got).toEqual({
      three: [
        [0, false],
        [1, false],
        [2, false],
      ],
      sq: [
        [4, false],
        [4, true],
      ],
    });
  });

  test('decoupled over SSE infer_stream', async () => {
    const res = await fetch(`${server.url}/v2/models/repeat/infer_stream`, {
      method: 'POST',
      body: JSON.stringify({ inputs: [{ name: 'COUNT', datatype: 'INT32', shape: [1], data: [2] }] }),
    });
    const events = (await res.text())
      .split('\n\n')
      .filter((e) => e !== '')
      .map((e) => (JSON.parse(e.slice('data: '.length)) as { outputs: Output[] }).outputs[0]!.data[0]);
    expect(events).toEqual([0, 1]);
  });

  test('a cancelled stream is seen by the model (response sender is_cancelled)', async () => {
    const abort = new AbortController();
    const res = await fetch(`${server.url}/v2/models/repeat/infer_stream`, {
      method: 'POST',
      signal: abort.signal,
      body: JSON.stringify({
        inputs: [
          { name: 'COUNT', datatype: 'INT32', shape: [1], data: [100000] },
          { name: 'DELAY_MS', datatype: 'INT32', shape: [1], data: [5] },
        ],
      }),
    });
    const reader = res.body!.getReader();
    await reader.read();
    abort.abort();
    await reader.cancel().catch(() => undefined);
    for (let i = 0; i < 500 && !server.logs.some((l) => /repeat: cancelled after \d+ responses/.test(String(l.msg))); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(server.logs.some((l) => /repeat: cancelled after \d+ responses/.test(String(l.msg)))).toBe(true);
    // The instance is free again.
    const after = await fetch(`${server.url}/v2/models/repeat/infer_stream`, {
      method: 'POST',
      body: JSON.stringify({ inputs: [{ name: 'COUNT', datatype: 'INT32', shape: [1], data: [1] }] }),
    });
    expect((await after.text()).split('\n\n').filter((e) => e !== '').length).toBe(1);
  });

  test('a Python model as ensemble steps', async () => {
    const res = await infer('ens', {
      inputs: [
        { name: 'X', datatype: 'FP32', shape: [4], data: [1, 2, 3, 4] },
        { name: 'Y', datatype: 'FP32', shape: [4], data: [5, 5, 5, 5] },
      ],
    });
    expect(res.status).toBe(200);
    expect(output(res.json, 'OUT')).toEqual({ name: 'OUT', datatype: 'FP32', shape: [4], data: [1, 2, 3, 4] });
  });

  test('sequence batching: control tensors and implicit state reach a Python model', async () => {
    const step = async (seq: number, value: number, flags: Record<string, boolean>) => {
      const res = await infer('acc', {
        parameters: { sequence_id: seq, ...flags },
        inputs: [{ name: 'INPUT', datatype: 'FP32', shape: [1, 1], data: [value] }],
      });
      expect(res.status).toBe(200);
      return [output(res.json, 'OUTPUT').data[0], output(res.json, 'CORRID_OUT').data[0]];
    };
    expect(await step(11, 1, { sequence_start: true })).toEqual([1, 11]);
    expect(await step(12, 10, { sequence_start: true })).toEqual([10, 12]);
    expect(await step(11, 2, {})).toEqual([3, 11]);
    expect(await step(12, 5, { sequence_end: true })).toEqual([15, 12]);
    expect(await step(11, 3, { sequence_end: true })).toEqual([6, 11]);
  });

  test('BLS into an ONNX model (exec), a Python model (async_exec), a decoupled model, and a missing model', async () => {
    const a = Array.from({ length: 16 }, (_, i) => i);
    const bls = (mode: number, first = a) =>
      infer('bls', {
        inputs: [
          { name: 'A', datatype: 'INT32', shape: [1, 16], data: first },
          { name: 'B', datatype: 'INT32', shape: [1, 16], data: a.map(() => 10) },
          { name: 'MODE', datatype: 'INT32', shape: [1], data: [mode] },
        ],
      });
    const onnx = await bls(0);
    expect(onnx.status).toBe(200);
    expect(output(onnx.json, 'SUM').data).toEqual(a.map((x) => x + 10));
    expect(JSON.parse(String(output(onnx.json, 'INFO').data[0]))).toEqual({ ready: true });
    const py = await bls(1);
    expect(output(py.json, 'SUM').data).toEqual(a.map((x) => x + 10));
    expect(JSON.parse(String(output(py.json, 'INFO').data[0]))).toEqual({ same: true });
    const stream = await bls(2, a.map(() => 3));
    expect(JSON.parse(String(output(stream.json, 'INFO').data[0]))).toEqual({ stream: [0, 1, 2, null] });
    const cancelled = () => server.logs.filter((l) => /repeat: cancelled after \d+ responses/.test(String(l.msg))).length;
    const cancelledBefore = cancelled();
    const timedOut = await bls(4);
    expect(JSON.parse(String(output(timedOut.json, 'INFO').data[0]))).toEqual({ some: true, error: ['Request timeout expired', 4] });
    // The timed-out stream was cancelled: the repeat model saw it (and its instance is free).
    for (let i = 0; i < 250 && cancelled() === cancelledBefore; i++) await new Promise((r) => setTimeout(r, 20));
    expect(cancelled()).toBe(cancelledBefore + 1);
    const missing = await bls(3);
    expect(JSON.parse(String(output(missing.json, 'INFO').data[0]))).toEqual({
      error: expect.stringContaining("'missing'"),
      code: expect.any(Number),
    });
  });

  test('auto_complete_config completes a model without config.pbtxt', async () => {
    const config = (await (await fetch(`${server.url}/v2/models/auto/config`)).json()) as Record<string, unknown>;
    expect(config).toMatchObject({ backend: 'python', max_batch_size: 4, input: [{ name: 'X', data_type: 'TYPE_FP32', dims: [2] }], output: [{ name: 'Y' }] });
    expect(config['dynamic_batching']).toBeDefined();
    const res = await infer('auto', { inputs: [{ name: 'X', datatype: 'FP32', shape: [1, 2], data: [1.5, 2] }] });
    expect(output(res.json, 'Y')).toEqual({ name: 'Y', datatype: 'FP32', shape: [1, 2], data: [3, 4] });
    // Concurrent requests through its dynamic batcher each get their own rows back.
    const many = await Promise.all(
      Array.from({ length: 12 }, (_, i) => infer('auto', { inputs: [{ name: 'X', datatype: 'FP32', shape: [1, 2], data: [i, i + 1] }] })),
    );
    expect(many.map((r) => output(r.json, 'Y').data)).toEqual(Array.from({ length: 12 }, (_, i) => [2 * i, 2 * i + 2]));
  });

  const faulty = (mode: number) => infer('faulty', { inputs: [{ name: 'MODE', datatype: 'INT32', shape: [1], data: [mode] }] });

  test('execute raising fails its request with the Python error (500); an error response keeps its code', async () => {
    const raised = await faulty(1);
    expect(raised.status).toBe(500);
    expect(String(raised.json['error'])).toMatch(/^Failed to process the request\(s\) for model 'faulty', message: ValueError: boom\n/);
    expect(String(raised.json['error'])).toContain('line');
    const exception = await faulty(4);
    expect(String(exception.json['error'])).toMatch(/message: TritonModelException: model exception/);
    // A default-mode model may answer through the response sender and return None.
    expect(output((await faulty(6)).json, 'EXECUTIONS').data).toEqual([-1]);
    const notFound = await faulty(2);
    expect(notFound).toEqual({ status: 404, json: { error: 'no such thing' } });
    expect((await faulty(0)).status).toBe(200);
  });

  test('a stub that exits fails only its request; the instance restarts and serves the next one', async () => {
    const pid = server.process.pid;
    const objectsBefore = shmObjects(pid).length;
    const ready = async () => (await fetch(`${server.url}/v2/models/faulty/ready`)).status;
    const crashed = await faulty(3);
    // Not ready while its stub restarts (initialize takes a second after a crash).
    expect(await ready()).toBe(400);
    expect(crashed).toEqual({
      status: 500,
      json: { error: expect.stringMatching(/^model 'faulty' version 1 instance 'faulty_0': its stub process exited \(code 7\); the instance is restarting$/) },
    });
    const next = await faulty(0);
    expect(next.status).toBe(200);
    // A new process: its execution count started again.
    expect(output(next.json, 'EXECUTIONS').data).toEqual([1]);
    expect(await untilLogged(server.logs, /faulty_0' restarted$/)).toBeDefined();
    expect(await ready()).toBe(200);
    // The dead stub's shared memory is gone: the new stub has two arenas, as the old one had.
    expect(shmObjects(pid).length).toBe(objectsBefore);
  });

  test('a stub that exits while a process it started holds its stdout fails its request at once', async () => {
    const pidFile = path.join(tmp.dir, 'faulty', 'sleeper.pid');
    try {
      const crashed = await faulty(7);
      expect(crashed.json['error']).toMatch(/its stub process exited \(code 8\); the instance is restarting$/);
    } finally {
      if (existsSync(pidFile)) process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
    }
    expect((await faulty(0)).status).toBe(200);
  });

  test("the model's is_ready() decides readiness", async () => {
    const flag = path.join(tmp.dir, 'faulty', 'not_ready');
    const status = async () => (await fetch(`${server.url}/v2/models/faulty/ready`)).status;
    // Each check asks the model; the answer shows from the next check on.
    const until = async (want: number) => {
      for (let i = 0; i < 200 && (await status()) !== want; i++) await new Promise((r) => setTimeout(r, 20));
      return status();
    };
    expect(await until(200)).toBe(200);
    writeFileSync(flag, '');
    expect(await until(400)).toBe(400);
    rmSync(flag);
    expect(await until(200)).toBe(200);
  });

  test('custom metrics from pb_utils.MetricFamily are on /metrics', async () => {
    const text = await (await fetch(`${server.metricsUrl}/metrics`)).text();
    expect(text).toContain('# HELP add_sub_executions_total executions of add_sub');
    expect(text).toMatch(/add_sub_executions_total\{model="add_sub"\} [1-9]/);
    expect(text).toMatch(/add_sub_executions_total\{model="pyadd"\} [1-9]/);
  });
});

describe.skipIf(skip !== undefined)('python backend: a server that is killed', () => {
  test('its stubs exit and unlink their shared memory', async () => {
    const repo = tempDir('infera-python-kill-');
    try {
      writePyModel(repo.dir, 'add_sub', 'add_sub.py', ADD_SUB_CONFIG);
      const killed = await startServer(['--model-repository', repo.dir]);
      const pid = killed.process.pid;
      // An input and an output arena per execution the default scheduler may hand its one instance at once.
      expect(shmObjects(pid).length).toBe(2 * PYTHON_PIPELINE_DEPTH);
      await killed.stop('SIGKILL');
      for (let i = 0; i < 250 && shmObjects(pid).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(shmObjects(pid)).toEqual([]);
    } finally {
      repo.cleanup();
    }
  }, 60_000);
});
