import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpClient, InferaClientError } from '../../../src/client/index.js';
import { binaryResponse, splitBody, startStub, type StubServer } from './stub-server.js';

let stub: StubServer;
let client: HttpClient;

beforeAll(async () => {
  stub = await startStub();
  client = new HttpClient({ url: `${stub.url}/`, headers: { 'x-api-key': 'k1' } });
});
afterAll(() => stub.close());
beforeEach(() => {
  stub.requests.length = 0;
  stub.respond(() => ({ status: 200 }));
});

function le32(values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeFloatLE(v, i * 4));
  return b;
}

describe('health and metadata', () => {
  it('maps probe statuses to booleans and builds the paths', async () => {
    stub.respond((req) => ({ status: req.url === '/v2/health/live' ? 200 : 400 }));
    expect(await client.isServerLive()).toBe(true);
    expect(await client.isServerReady()).toBe(false);
    expect(await client.isModelReady('my model', 3)).toBe(false);
    expect(stub.requests.map((r) => r.url)).toEqual([
      '/v2/health/live',
      '/v2/health/ready',
      '/v2/models/my%20model/versions/3/ready',
    ]);
    // Client-wide headers travel with every call; compression is only asked for explicitly.
    expect(stub.requests[0]!.headers['x-api-key']).toBe('k1');
    expect(stub.requests[0]!.headers['accept-encoding']).toBe('identity');
  });

  it('treats 503 on model ready as not ready', async () => {
    stub.respond(() => ({ status: 503, body: { error: 'Model version not ready' } }));
    expect(await client.isModelReady('m')).toBe(false);
  });

  it('throws on network errors instead of answering false', async () => {
    const dead = await startStub();
    await dead.close();
    await expect(new HttpClient({ url: dead.url }).isServerLive()).rejects.toThrow(TypeError);
  });

  it('parses server metadata, model metadata and config', async () => {
    stub.respond((req) => {
      if (req.url === '/v2') return { body: { name: 'infera', version: '0.1.0', extensions: ['binary_tensor_data'] } };
      if (req.url === '/v2/models/m/versions/1') {
        return { body: { name: 'm', versions: ['1'], platform: 'onnxruntime_onnx', inputs: [], outputs: [] } };
      }
      return { body: { name: 'm', max_batch_size: 8 } };
    });
    expect(await client.serverMetadata()).toEqual({ name: 'infera', version: '0.1.0', extensions: ['binary_tensor_data'] });
    expect((await client.modelMetadata('m', '1')).platform).toBe('onnxruntime_onnx');
    expect(await client.modelConfig('m')).toEqual({ name: 'm', max_batch_size: 8 });
    expect(stub.requests[2]!.url).toBe('/v2/models/m/config');
  });

  it("throws InferaClientError with the status and the server's message", async () => {
    stub.respond(() => ({ status: 400, body: { error: "Request for unknown model: 'x' is not found" } }));
    const err = await client.modelMetadata('x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InferaClientError);
    expect(err).toMatchObject({ status: 400, message: "Request for unknown model: 'x' is not found" });

    stub.respond(() => ({ status: 502, body: 'bad gateway' }));
    await expect(client.serverMetadata()).rejects.toMatchObject({ status: 502, message: 'bad gateway' });
  });

  it('sends repository control bodies', async () => {
    stub.respond(() => ({ body: [{ name: 'm', version: '1', state: 'READY' }] }));
    expect(await client.repositoryIndex({ ready: true })).toEqual([{ name: 'm', version: '1', state: 'READY' }]);
    stub.respond(() => ({ status: 200 }));
    await client.loadModel('m', { config: { max_batch_size: 4 } });
    await client.unloadModel('m', { unloadDependents: true });
    expect(stub.requests.map((r) => [r.method, r.url, r.body.toString()])).toEqual([
      ['POST', '/v2/repository/index', '{"ready":true}'],
      ['POST', '/v2/repository/models/m/load', '{"parameters":{"config":"{\\"max_batch_size\\":4}"}}'],
      ['POST', '/v2/repository/models/m/unload', '{"parameters":{"unload_dependents":true}}'],
    ]);
  });

  it('gives up after timeoutMs', async () => {
    stub.respond(() => ({ status: 200, delayMs: 500 }));
    const slow = new HttpClient({ url: stub.url, timeoutMs: 50 });
    await expect(slow.isServerLive()).rejects.toThrow(/timeout|aborted/i);
  });
});

const okJson = { model_name: 'm', model_version: '1', outputs: [] };

describe('infer request encoding', () => {
  it('sends inputs with the binary tensor data extension by default', async () => {
    stub.respond(() => ({ body: okJson }));
    await client.infer({
      model: 'm',
      version: 2,
      id: 'r1',
      inputs: [
        { name: 'f', datatype: 'FP32', shape: [1, 2], data: new Float32Array([1.5, -2]) },
        { name: 'i', datatype: 'INT64', shape: [2], data: [7, -1] },
        { name: 'b', datatype: 'BOOL', shape: [3], data: [true, false, true] },
        { name: 's', datatype: 'BYTES', shape: [2], data: ['hé', new Uint8Array([0xff])] },
      ],
      outputs: [{ name: 'out' }, { name: 'cls', classification: 3 }, { name: 'j', binary: false }],
      parameters: { priority: 1 },
    });
    const seen = stub.requests[0]!;
    expect(seen.url).toBe('/v2/models/m/versions/2/infer');
    expect(seen.headers['content-type']).toBe('application/octet-stream');
    const { json, binary } = splitBody(seen);
    expect(json).toEqual({
      id: 'r1',
      parameters: { priority: 1 },
      inputs: [
        { name: 'f', shape: [1, 2], datatype: 'FP32', parameters: { binary_data_size: 8 } },
        { name: 'i', shape: [2], datatype: 'INT64', parameters: { binary_data_size: 16 } },
        { name: 'b', shape: [3], datatype: 'BOOL', parameters: { binary_data_size: 3 } },
        { name: 's', shape: [2], datatype: 'BYTES', parameters: { binary_data_size: 4 + 3 + 4 + 1 } },
      ],
      outputs: [
        { name: 'out', parameters: { binary_data: true } },
        { name: 'cls', parameters: { binary_data: true, classification: 3 } },
        { name: 'j', parameters: { binary_data: false } },
      ],
    });
    const i64 = Buffer.alloc(16);
    i64.writeBigInt64LE(7n, 0);
    i64.writeBigInt64LE(-1n, 8);
    const expected = Buffer.concat([
      le32([1.5, -2]),
      i64,
      Buffer.from([1, 0, 1]),
      Buffer.from([3, 0, 0, 0, 0x68, 0xc3, 0xa9, 1, 0, 0, 0, 0xff]),
    ]);
    expect(binary.equals(expected)).toBe(true);
    expect(Number(seen.headers['content-length'])).toBe(seen.body.byteLength);
  });

  it('sends JSON data when binary is false and asks for binary outputs by default', async () => {
    stub.respond(() => ({ body: okJson }));
    await client.infer({
      model: 'm',
      binary: false,
      inputs: [
        { name: 'i', datatype: 'INT64', shape: [2], data: new BigInt64Array([5n, -6n]) },
        { name: 'b', datatype: 'BOOL', shape: [2], data: new Uint8Array([0, 1]) },
        { name: 'u', datatype: 'UINT8', shape: [2], data: [3, 4] },
        { name: 's', datatype: 'BYTES', shape: [1], data: [Buffer.from('ok')] },
      ],
    });
    const seen = stub.requests[0]!;
    expect(seen.headers['content-type']).toBe('application/json');
    expect(seen.headers['inference-header-content-length']).toBeUndefined();
    expect(JSON.parse(seen.body.toString())).toEqual({
      parameters: { binary_data_output: true },
      inputs: [
        { name: 'i', shape: [2], datatype: 'INT64', data: [5, -6] },
        { name: 'b', shape: [2], datatype: 'BOOL', data: [false, true] },
        { name: 'u', shape: [2], datatype: 'UINT8', data: [3, 4] },
        { name: 's', shape: [1], datatype: 'BYTES', data: ['ok'] },
      ],
    });
  });

  it('rejects bad inputs before sending anything', async () => {
    const bad = (input: Parameters<HttpClient['infer']>[0]['inputs'][0], binary = true) =>
      client.infer({ model: 'm', inputs: [input], binary });
    await expect(bad({ name: 'x', datatype: 'FP32', shape: [3], data: [1, 2] })).rejects.toThrow(/needs 3 elements/);
    await expect(bad({ name: 'x', datatype: 'FP16', shape: [1], data: [1] })).rejects.toThrow(/Uint16Array/);
    await expect(bad({ name: 'x', datatype: 'FP16', shape: [1], data: new Uint16Array(1) }, false)).rejects.toThrow(
      /JSON/,
    );
    await expect(bad({ name: 'x', datatype: 'INT64', shape: [1], data: [2n ** 60n] }, false)).rejects.toThrow(/JSON/);
    await expect(bad({ name: 'x', datatype: 'BYTES', shape: [1], data: [1] })).rejects.toThrow(/strings or Uint8Arrays/);
    await expect(bad({ name: 'x', datatype: 'INT32', shape: [1], data: ['1'] })).rejects.toThrow(/must be numbers/);
    expect(stub.requests).toHaveLength(0);
  });

  it('compresses the body and keeps the header length uncompressed', async () => {
    stub.respond(() => ({ body: okJson }));
    await client.infer({
      model: 'm',
      compression: 'gzip',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [4], data: new Float32Array(4) }],
    });
    const seen = stub.requests[0]!;
    expect(seen.headers['content-encoding']).toBe('gzip');
    const plain = gunzipSync(seen.body);
    const n = Number(seen.headers['inference-header-content-length']);
    expect(JSON.parse(plain.subarray(0, n).toString()).inputs[0].parameters).toEqual({ binary_data_size: 16 });
    expect(plain.byteLength).toBe(n + 16);
  });
});

describe('infer response decoding', () => {
  it('decodes binary, JSON and mixed outputs into typed arrays', async () => {
    const i64 = Buffer.alloc(8);
    i64.writeBigInt64LE(-(2n ** 40n));
    // An odd-length header leaves the FP32 tensor misaligned in the body.
    const json = {
      id: 'r9',
      model_name: 'm',
      model_version: '3',
      outputs: [
        { name: 'f', datatype: 'FP32', shape: [2], parameters: { binary_data_size: 8 } },
        { name: 'j', datatype: 'INT32', shape: [2, 2], data: [[1, 2], [3, 4]] },
        { name: 'i', datatype: 'INT64', shape: [1], parameters: { binary_data_size: 8 } },
        { name: 'h', datatype: 'FP16', shape: [1], parameters: { binary_data_size: 2 } },
        { name: 'b', datatype: 'BOOL', shape: [2], parameters: { binary_data_size: 2 } },
        { name: 's', datatype: 'BYTES', shape: [2], parameters: { binary_data_size: 11 } },
        { name: 'c', datatype: 'BYTES', shape: [1], data: ['0.9:3:cat'] },
        { name: 'jb', datatype: 'BOOL', shape: [1], data: [true] },
      ],
      pad: 'x',
    };
    expect(JSON.stringify(json).length % 4).not.toBe(0);
    const bytesTensor = Buffer.from([2, 0, 0, 0, 0x61, 0x62, 1, 0, 0, 0, 0x63]);
    stub.respond(() =>
      binaryResponse(json, [le32([0.25, -3]), i64, Buffer.from([0x00, 0x3c]), Buffer.from([1, 0]), bytesTensor]),
    );
    const res = await client.infer({ model: 'm', inputs: [] });
    expect(res.id).toBe('r9');
    expect(res.modelName).toBe('m');
    expect(res.modelVersion).toBe('3');
    expect(res.output('f').data).toEqual(new Float32Array([0.25, -3]));
    expect(res.output('j')).toMatchObject({ datatype: 'INT32', shape: [2, 2], data: new Int32Array([1, 2, 3, 4]) });
    expect(res.output('i').data).toEqual(new BigInt64Array([-(2n ** 40n)]));
    expect(res.output('h').data).toEqual(new Uint16Array([0x3c00]));
    expect(res.output('b').data).toEqual(new Uint8Array([1, 0]));
    expect(res.output('s').data).toEqual(['ab', 'c']);
    expect(res.output('c').data).toEqual(['0.9:3:cat']);
    expect(res.output('jb').data).toEqual(new Uint8Array([1]));
    expect(res.output('f').parameters).toBeUndefined();
    expect(() => res.output('nope')).toThrow(/no output 'nope'/);
  });

  it('returns BYTES as Buffers on request', async () => {
    stub.respond(() =>
      binaryResponse({ model_name: 'm', model_version: '1', outputs: [{ name: 's', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: 6 } }] }, [
        Buffer.from([2, 0, 0, 0, 0xff, 0x00]),
      ]),
    );
    const res = await client.infer({ model: 'm', inputs: [], bytesAs: 'buffer' });
    expect(res.output('s').data).toEqual([Buffer.from([0xff, 0x00])]);
  });

  it('reports a binary section that does not match the header as malformed', async () => {
    stub.respond(() =>
      binaryResponse(
        { model_name: 'm', model_version: '1', outputs: [{ name: 'f', datatype: 'FP32', shape: [2], parameters: { binary_data_size: 8 } }] },
        [le32([1])],
      ),
    );
    await expect(client.infer({ model: 'm', inputs: [] })).rejects.toMatchObject({
      name: 'InferaClientError',
      status: 200,
      message: expect.stringMatching(/runs past the end/),
    });
  });

  it('throws InferaClientError for an infer error', async () => {
    stub.respond(() => ({ status: 400, body: { error: "unexpected inference input 'y' for model 'm'" } }));
    await expect(client.infer({ model: 'm', inputs: [] })).rejects.toMatchObject({
      status: 400,
      message: "unexpected inference input 'y' for model 'm'",
    });
  });
});
