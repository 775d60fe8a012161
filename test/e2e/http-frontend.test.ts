/**
 * The HTTP frontend against the real server and onnxruntime, for what only a whole server
 * shows: a JSON answer far larger than any one JavaScript string may be, and model names that
 * must be percent-decoded from the URL path (as Triton's HTTP server does).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { identityModel, writeModel } from '../fixtures/onnx-models.js';
import { runUntilExit, startServer, type RunningServer } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-repo.js';

const tmp = tempDir();
let server: RunningServer;

const SPACED = 'my model';
const NON_ASCII = 'modèle_日本';

/** No batching, so a 16M-element tensor is one [n] tensor rather than n batch entries. */
const CONFIG = `
backend: "onnxruntime"
max_batch_size: 0
input [{ name: "INPUT0", data_type: TYPE_FP32, dims: [-1] }]
output [{ name: "OUTPUT0", data_type: TYPE_FP32, dims: [-1] }]
`;

beforeAll(async () => {
  for (const name of ['identity_fp32', SPACED, NON_ASCII]) writeModel(tmp.dir, name, identityModel('FP32', ['n']), { config: CONFIG });
  server = await startServer(['--model-repository', tmp.dir]);
}, 60_000);

afterAll(async () => {
  await server?.stop();
  tmp.cleanup();
});

/** A binary-input infer request whose output is asked for as JSON. */
function binaryRequest(data: Float32Array): { body: Buffer; headerLength: number } {
  const header = Buffer.from(
    JSON.stringify({
      inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [data.length], parameters: { binary_data_size: data.byteLength } }],
      outputs: [{ name: 'OUTPUT0' }],
    }),
  );
  const body = Buffer.concat([header, Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
  return { body, headerLength: header.byteLength };
}

describe('large JSON output', () => {
  test('16M FP32 elements asked as JSON are answered and the server keeps serving', async () => {
    // Just under 64 MiB with its JSON header: within the default --http-max-input-size.
    // Integral values each gain ".0" in RapidJSON's form; over one joined string, that many
    // replacements exceed what V8's regex replace can build (a fatal error, not an exception).
    const n = 16 * 1024 * 1024 - 256;
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = i % 1000 === 1 ? 1.25 : i % 1000;
    const { body, headerLength } = binaryRequest(data);
    const r = await fetch(`${server.url}/v2/models/identity_fp32/infer`, {
      method: 'POST',
      headers: { 'Inference-Header-Content-Length': String(headerLength), 'Content-Type': 'application/octet-stream' },
      body,
    });
    const text = await r.text();
    expect(r.status).toBe(200);
    const out = JSON.parse(text).outputs[0];
    expect(out.shape).toEqual([n]);
    expect(out.data).toHaveLength(n);
    for (const i of [0, 1, 2, 999, 1000, n - 1]) expect(out.data[i]).toBe(data[i]);
    const live = await fetch(`${server.url}/v2/health/live`);
    expect(live.status).toBe(200);
  }, 180_000);
});

describe('percent-encoded model names', () => {
  for (const name of [SPACED, NON_ASCII]) {
    test(`'${name}' is reachable for ready, metadata and infer`, async () => {
      const base = `${server.url}/v2/models/${encodeURIComponent(name)}`;
      expect((await fetch(`${base}/ready`)).status).toBe(200);
      expect((await fetch(`${base}/versions/1/ready`)).status).toBe(200);
      const meta = (await (await fetch(base)).json()) as { name: string };
      expect(meta.name).toBe(name);
      const r = await fetch(`${base}/infer`, {
        method: 'POST',
        body: JSON.stringify({ inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [2], data: [1.5, -2] }] }),
      });
      const answer = (await r.json()) as { model_name: string; outputs: { data: number[] }[] };
      expect(r.status).toBe(200);
      expect(answer.model_name).toBe(name);
      expect(answer.outputs[0]!.data).toEqual([1.5, -2]);
    });
  }
});

describe('HTTP flags', () => {
  test("--http-max-input-size of 0 or less is refused with tritonserver's message", async () => {
    for (const size of ['0', '-5']) {
      const exited = await runUntilExit(['--model-repository', tmp.dir, `--http-max-input-size=${size}`, '--allow-grpc=false']);
      expect(exited.code).toBe(1);
      expect(exited.output).toContain('Error: --http-max-input-size must be greater than 0.');
    }
  });
});
