/**
 * Every datatype through the real server and onnxruntime: Identity models built at test time,
 * each infer sent as JSON and as binary, outputs compared with the inputs. FP16 is binary-only
 * (refused in JSON, as Triton does). BF16 has no onnxruntime type. BYTES elements reach
 * onnxruntime as C strings, so an embedded NUL ends the element there (as in Triton's ORT
 * backend); the cases avoid NUL.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HttpClient, type InputData } from '../../src/client/index.js';
import type { Datatype } from '../../src/infer/datatype.js';
import { identityModel, writeModel } from '../fixtures/onnx-models.js';
import { startServer, type RunningServer } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-repo.js';

const CASES: { datatype: Datatype; data: InputData; json: boolean }[] = [
  { datatype: 'BOOL', data: [true, false, true, true], json: true },
  { datatype: 'UINT8', data: Uint8Array.of(0, 1, 200, 255), json: true },
  { datatype: 'UINT16', data: Uint16Array.of(0, 1, 65535, 300), json: true },
  { datatype: 'UINT32', data: Uint32Array.of(0, 1, 4294967295, 7), json: true },
  { datatype: 'UINT64', data: BigUint64Array.of(0n, 1n, 2n ** 53n - 1n, 9n), json: true },
  { datatype: 'INT8', data: Int8Array.of(-128, -1, 0, 127), json: true },
  { datatype: 'INT16', data: Int16Array.of(-32768, -1, 0, 32767), json: true },
  { datatype: 'INT32', data: Int32Array.of(-2147483648, -1, 0, 2147483647), json: true },
  { datatype: 'INT64', data: BigInt64Array.of(-(2n ** 53n) + 1n, -1n, 0n, 2n ** 53n - 1n), json: true },
  { datatype: 'FP16', data: Uint16Array.of(0x3c00, 0xc000, 0x7bff, 0x0001), json: false },
  { datatype: 'FP32', data: Float32Array.of(-1.5, 0, 3.4028234663852886e38, 1e-45), json: true },
  { datatype: 'FP64', data: Float64Array.of(-1.5, 0, Number.MAX_VALUE, 5e-324), json: true },
  { datatype: 'BYTES', data: ['', 'hello', 'ünïcödé', 'tab\tnew\nline'], json: true },
];

const tmp = tempDir();
let server: RunningServer;
let client: HttpClient;

beforeAll(async () => {
  for (const c of CASES) writeModel(tmp.dir, `identity_${c.datatype.toLowerCase()}`, identityModel(c.datatype, ['batch', 4]));
  server = await startServer(['--model-repository', tmp.dir]);
  client = new HttpClient({ url: server.url });
});

afterAll(async () => {
  await server?.stop();
  tmp.cleanup();
});

const plain = (d: unknown): unknown[] => Array.from(d as ArrayLike<unknown>, (x) => (typeof x === 'boolean' ? Number(x) : x));

describe('identity models for every datatype', () => {
  for (const c of CASES) {
    test(`${c.datatype}: binary${c.json ? ' and JSON' : ''} round trip`, async () => {
      const model = `identity_${c.datatype.toLowerCase()}`;
      for (const binary of c.json ? [true, false] : [true]) {
        const res = await client.infer({
          model,
          inputs: [{ name: 'INPUT0', datatype: c.datatype, shape: [1, 4], data: c.data }],
          binary,
          binaryOutputs: binary,
        });
        const out = res.output('OUTPUT0');
        expect(out.datatype).toBe(c.datatype);
        expect(out.shape).toEqual([1, 4]);
        expect(plain(out.data)).toEqual(plain(c.data));
      }
    });
  }

  test('FP16 in JSON is refused with a message that says to use binary data', async () => {
    const res = await fetch(`${server.url}/v2/models/identity_fp16/infer`, {
      method: 'POST',
      body: JSON.stringify({ inputs: [{ name: 'INPUT0', datatype: 'FP16', shape: [1, 4], data: [1, 2, 3, 4] }] }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/FP16/);
  });

  test('an FP16 output asked for as JSON is refused', async () => {
    const header = JSON.stringify({
      inputs: [{ name: 'INPUT0', datatype: 'FP16', shape: [1, 4], parameters: { binary_data_size: 8 } }],
      outputs: [{ name: 'OUTPUT0', parameters: { binary_data: false } }],
    });
    const res = await fetch(`${server.url}/v2/models/identity_fp16/infer`, {
      method: 'POST',
      headers: { 'Inference-Header-Content-Length': String(header.length) },
      body: Buffer.concat([Buffer.from(header), Buffer.alloc(8)]),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/FP16/);
  });

  test('gzip request and response bodies', async () => {
    const res = await client.infer({
      model: 'identity_int32',
      inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [1, 4], data: Int32Array.of(1, 2, 3, 4) }],
      compression: 'gzip',
      responseCompression: 'gzip',
    });
    expect(Array.from(res.output('OUTPUT0').data as Int32Array)).toEqual([1, 2, 3, 4]);
  });
});
