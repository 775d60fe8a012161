/**
 * The bundled example repository served by the real CLI: start-up time, metadata, JSON and
 * binary infers compared bit for bit with onnxruntime-node in-process, classification with
 * labels, and every bad-input path with Triton's status and message.
 */
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HttpClient } from '../../src/client/index.js';
import { pythonSkipReason } from '../fixtures/python-models/repo.js';
import { bytesOf, pseudoRandomFloats } from './helpers/data.js';
import { startServer, type RunningServer } from './helpers/server-process.js';

const repo = path.resolve('examples/model_repository');
let server: RunningServer;
let client: HttpClient;

beforeAll(async () => {
  server = await startServer(['--model-repository', repo, '--http-max-input-size', String(4 * 1024 * 1024)]);
  client = new HttpClient({ url: server.url });
  while (!(await client.isServerReady())) await new Promise((r) => setTimeout(r, 50));
});

afterAll(async () => {
  expect(await server?.stop()).toBe(0);
});

const MODELS = [
  { name: 'text_detection', input: 'x', output: 'sigmoid_0.tmp_0', shape: [1, 3, 64, 96] },
  { name: 'text_recognition', input: 'x', output: 'softmax_11.tmp_0', shape: [2, 3, 48, 160] },
  { name: 'text_direction', input: 'x', output: 'softmax_0.tmp_0', shape: [3, 3, 48, 192] },
];

async function inProcess(model: string, input: string, data: Float32Array, shape: number[]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(path.join(repo, model, '1', 'model.onnx'), { intraOpNumThreads: 1 });
  try {
    const out = await session.run({ [input]: new ort.Tensor('float32', data, shape) });
    return out[session.outputNames[0]!]!.data as Float32Array;
  } finally {
    await session.release();
  }
}

describe('example repository', () => {
  test('all three models are READY and the server is ready', async () => {
    for (const m of MODELS) expect(await client.isModelReady(m.name)).toBe(true);
    const res = await fetch(`${server.url}/v2/health/ready`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
  });

  test('server and model metadata', async () => {
    const meta = await client.serverMetadata();
    expect(meta.name).toBe('triton');
    expect(meta.extensions).toEqual(expect.arrayContaining(['binary_tensor_data', 'classification', 'model_configuration']));
    const det = await client.modelMetadata('text_detection');
    expect(det).toEqual({
      name: 'text_detection',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3, -1, -1] }],
      outputs: [{ name: 'sigmoid_0.tmp_0', datatype: 'FP32', shape: [-1, 1, -1, -1] }],
    });
    const config = await client.modelConfig('text_direction');
    expect(config).toMatchObject({ name: 'text_direction', max_batch_size: 8, backend: 'onnxruntime', platform: 'onnxruntime_onnx' });
    expect((config.input as { dims: number[] }[])[0]!.dims).toEqual([3, 48, 192]);
    expect((config.instance_group as { kind: string; count: number }[])[0]).toMatchObject({ kind: 'KIND_CPU', count: 1 });
  });

  for (const m of MODELS) {
    test(`${m.name}: JSON and binary infers equal onnxruntime-node in-process, bit for bit`, async () => {
      const count = m.shape.reduce((a, b) => a * b, 1);
      const data = pseudoRandomFloats(count, m.name.length);
      const expected = await inProcess(m.name, m.input, data, m.shape);
      for (const binary of [true, false]) {
        const res = await client.infer({
          model: m.name,
          inputs: [{ name: m.input, datatype: 'FP32', shape: m.shape, data }],
          outputs: [{ name: m.output, binary }],
          binary,
        });
        const out = res.output(m.output);
        expect(out.datatype).toBe('FP32');
        expect(out.shape[0]).toBe(m.shape[0]);
        expect(bytesOf(out.data as Float32Array).equals(bytesOf(expected))).toBe(true);
      }
    });
  }

  test("Triton's quick-start `simple` model: same metadata, and add/sub on a batch of 8", async () => {
    expect(await client.modelMetadata('simple')).toEqual({
      name: 'simple',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [
        { name: 'INPUT0', datatype: 'INT32', shape: [-1, 16] },
        { name: 'INPUT1', datatype: 'INT32', shape: [-1, 16] },
      ],
      outputs: [
        { name: 'OUTPUT0', datatype: 'INT32', shape: [-1, 16] },
        { name: 'OUTPUT1', datatype: 'INT32', shape: [-1, 16] },
      ],
    });
    expect(await client.modelConfig('simple')).toMatchObject({ max_batch_size: 8 });
    const a = Int32Array.from({ length: 8 * 16 }, (_, i) => i);
    const b = new Int32Array(8 * 16).fill(1);
    const res = await client.infer({
      model: 'simple',
      inputs: [
        { name: 'INPUT0', datatype: 'INT32', shape: [8, 16], data: a },
        { name: 'INPUT1', datatype: 'INT32', shape: [8, 16], data: b },
      ],
    });
    expect(Array.from(res.output('OUTPUT0').data as Int32Array)).toEqual(Array.from(a, (x) => x + 1));
    expect(Array.from(res.output('OUTPUT1').data as Int32Array)).toEqual(Array.from(a, (x) => x - 1));
  });

  test('classification uses the label file and keeps the batch dimension', async () => {
    const res = await client.infer({
      model: 'text_direction',
      id: 'cls-1',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 3, 48, 192], data: pseudoRandomFloats(2 * 3 * 48 * 192, 7) }],
      outputs: [{ name: 'softmax_0.tmp_0', classification: 2, binary: false }],
      binary: false,
    });
    expect(res.id).toBe('cls-1');
    const out = res.output('softmax_0.tmp_0');
    expect(out.datatype).toBe('BYTES');
    expect(out.shape).toEqual([2, 2]);
    for (const s of out.data as string[]) expect(s).toMatch(/^[01]\.\d{6}:(0:0|1:180)$/);
  });

  test('raw binary request (Inference-Header-Content-Length: 0) is one input of batch 1', async () => {
    const data = pseudoRandomFloats(3 * 48 * 192, 3);
    const res = await fetch(`${server.url}/v2/models/text_direction/infer`, {
      method: 'POST',
      headers: { 'Inference-Header-Content-Length': '0', 'Content-Type': 'application/octet-stream' },
      body: bytesOf(data),
    });
    expect(res.status).toBe(200);
    const jsonLength = Number(res.headers.get('inference-header-content-length'));
    const body = Buffer.from(await res.arrayBuffer());
    const header = JSON.parse(body.subarray(0, jsonLength).toString()) as { outputs: { shape: number[]; parameters: { binary_data_size: number } }[] };
    expect(header.outputs[0]!.shape).toEqual([1, 2]);
    expect(header.outputs[0]!.parameters.binary_data_size).toBe(8);
    const expected = await inProcess('text_direction', 'x', data, [1, 3, 48, 192]);
    expect(body.subarray(jsonLength).equals(bytesOf(expected))).toBe(true);
  });
});

/** One text line rendered black on white by sharp (Pango, DejaVu Sans), as raw RGB pixels. */
async function textLine(text: string, angle: 0 | 180): Promise<{ data: Uint8Array; shape: number[] }> {
  const png = await sharp({ text: { text, font: 'DejaVu Sans', dpi: 150, rgba: true } })
    .flatten({ background: '#ffffff' })
    .extend({ top: 8, bottom: 8, left: 8, right: 8, background: '#ffffff' })
    .png()
    .toBuffer();
  const { data, info } = await sharp(png).rotate(angle).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), shape: [info.height, info.width, 3] };
}

const pySkip = pythonSkipReason();

describe.skipIf(pySkip !== undefined)(`line_direction, a Python model in front of text_direction${pySkip ? ` (skipped: ${pySkip})` : ''}`, () => {
  test('is READY, and reads a rendered line as upright (0) and the same line turned over as 180', async () => {
    expect(await client.isModelReady('line_direction')).toBe(true);
    for (const [text, angle] of [['Hello World', 0], ['Hello World', 180], ['Triton Python models 2026', 180], ['Triton Python models 2026', 0]] as const) {
      const line = await textLine(text, angle);
      const res = await client.infer({ model: 'line_direction', inputs: [{ name: 'PIXELS', datatype: 'UINT8', shape: line.shape, data: line.data }] });
      expect([...(res.output('ANGLE').data as Int32Array)], `${text} at ${angle}`).toEqual([angle]);
      const confidence = (res.output('CONFIDENCE').data as Float32Array)[0]!;
      expect(confidence).toBeGreaterThan(0.5);
      expect(confidence).toBeLessThanOrEqual(1);
    }
  });

  test('an empty image is refused with INVALID_ARG naming the model and input', async () => {
    const res = await fetch(`${server.url}/v2/models/line_direction/infer`, {
      method: 'POST',
      body: JSON.stringify({ inputs: [{ name: 'PIXELS', datatype: 'UINT8', shape: [0, 4, 3], data: [] }] }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe("line_direction: input 'PIXELS' must hold at least one pixel, got shape [0, 4, 3]");
  });
});

describe('bad input gets Triton status codes and messages, and the server keeps serving', () => {
  const infer = (model: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${server.url}/v2/models/${model}/infer`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body),
    });
  const cls = (shape: number[], datatype = 'FP32', n = shape.reduce((a, b) => a * b, 1)) => ({
    inputs: [{ name: 'x', shape, datatype, data: new Array(n).fill(0) }],
  });

  async function expectError(res: Response, status: number, pattern: RegExp): Promise<void> {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const body = (await res.json()) as { error: string };
    expect(body.error).toMatch(pattern);
  }

  test('unknown model → 404 on infer, metadata, config and ready (core GetModel: NOT_FOUND)', async () => {
    await expectError(await infer('nope', cls([1, 3, 48, 192])), 404, /^Request for unknown model: 'nope' is not found$/);
    for (const url of ['/v2/models/nope', '/v2/models/nope/config', '/v2/models/nope/ready', '/v2/models/nope/versions/1/ready']) {
      await expectError(await fetch(`${server.url}${url}`), 404, /^Request for unknown model: 'nope' is not found$/);
    }
  });

  test('unknown version → 404', async () => {
    await expectError(await infer('text_direction/versions/7', cls([1, 3, 48, 192])), 404, /'text_direction' version 7 is not found/);
    const ready = await fetch(`${server.url}/v2/models/text_direction/versions/7/ready`);
    await expectError(ready, 404, /^Request for unknown model: 'text_direction' version 7 is not found$/);
  });

  test('wrong datatype names the input, the model and the expected type', async () => {
    await expectError(
      await infer('text_direction', cls([1, 3, 48, 192], 'INT32')),
      400,
      /inference input 'x' data-type is 'INT32', but model 'text_direction' expects 'FP32'/,
    );
  });

  test('wrong shape names what was expected', async () => {
    await expectError(
      await infer('text_direction', cls([1, 3, 48, 100])),
      400,
      /unexpected shape for input 'x' for model 'text_direction'\. Expected \[-1,3,48,192\], got \[1,3,48,100\]/,
    );
    await expectError(await infer('text_direction', cls([9, 3, 48, 192])), 400, /batch-size must be <= 8 for 'text_direction'/);
  });

  test('byte size mismatch in a binary request', async () => {
    const header = JSON.stringify({ inputs: [{ name: 'x', shape: [1, 3, 48, 192], datatype: 'FP32', parameters: { binary_data_size: 400 } }] });
    const body = Buffer.concat([Buffer.from(header), Buffer.alloc(400)]);
    await expectError(
      await infer('text_direction', body, { 'Inference-Header-Content-Length': String(Buffer.byteLength(header)), 'Content-Type': 'application/octet-stream' }),
      400,
      /input byte size mismatch for input 'x' for model 'text_direction'\. Expected 110592, got 400/,
    );
  });

  test('JSON data with the wrong element count', async () => {
    await expectError(
      await infer('text_direction', cls([1, 3, 48, 192], 'FP32', 10)),
      400,
      /^Failed to parse 'data' field: shape does not match true shape$/,
    );
  });

  test('body over --http-max-input-size', async () => {
    const res = await infer('text_direction', Buffer.alloc(5 * 1024 * 1024, 0x20));
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    const body = (await res.json()) as { error: string };
    expect(body.error).toMatch(/size|exceed|large/i);
  });

  test('malformed JSON', async () => {
    await expectError(await infer('text_direction', '{"inputs": [ {"name": "x", '), 400, /JSON|parse/i);
  });

  test('missing, unknown input and unknown output', async () => {
    await expectError(
      await infer('text_direction', { inputs: [] }),
      400,
      /expected 1 inputs but got 0 inputs for model 'text_direction'.*missing required input\(s\) \['x'\]/,
    );
    await expectError(
      await infer('text_direction', { inputs: [{ name: 'y', shape: [1, 1], datatype: 'FP32', data: [1] }] }),
      400,
      /unexpected inference input 'y' for model 'text_direction'/,
    );
    await expectError(
      await infer('text_direction', { ...cls([1, 3, 48, 192]), outputs: [{ name: 'nope' }] }),
      400,
      /unexpected inference output 'nope' for model 'text_direction'/,
    );
  });

  test('FP16 data in JSON is refused', async () => {
    await expectError(await infer('text_direction', cls([1, 3, 48, 192], 'FP16')), 400, /FP16/);
  });

  test('after all of that the server still answers a good request', async () => {
    const res = await client.infer({
      model: 'text_direction',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 3, 48, 192], data: pseudoRandomFloats(3 * 48 * 192) }],
    });
    expect(res.output('softmax_0.tmp_0').shape).toEqual([1, 2]);
  });
});
