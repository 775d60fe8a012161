import { request as httpRequest } from 'node:http';
import { gunzipSync, gzipSync, deflateSync, inflateSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { bytesTensor, rawRequest, splitBinary, start, TEST_THREAD_COUNT, type Started } from './helpers.js';

let s: Started;
afterEach(async () => {
  await s?.frontend.close({ timeoutMs: 1000 });
});

const ONE_TO_16 = Array.from({ length: 16 }, (_, i) => i + 1);
const SIMPLE_BODY = {
  inputs: [
    { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: ONE_TO_16 },
    { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: ONE_TO_16.map(() => 1) },
  ],
};

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const r = await fetch(s.base + path, {
    method: 'POST',
    headers,
    body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body),
  });
  const raw = Buffer.from(await r.arrayBuffer());
  return { status: r.status, headers: r.headers, raw, text: raw.toString('utf8') };
}

function errorOf(text: string): string {
  return JSON.parse(text).error;
}

describe('JSON infer', () => {
  it('returns outputs as JSON in Triton key order', async () => {
    s = await start();
    const r = await post('/v2/models/simple/infer', SIMPLE_BODY);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(r.headers.get('inference-header-content-length')).toBeNull();
    const sum = ONE_TO_16.map((v) => v + 1).join(',');
    const diff = ONE_TO_16.map((v) => v - 1).join(',');
    expect(r.text).toBe(
      '{"model_name":"simple","model_version":"1","outputs":[' +
        `{"name":"OUTPUT0","datatype":"INT32","shape":[1,16],"data":[${sum}]},` +
        `{"name":"OUTPUT1","datatype":"INT32","shape":[1,16],"data":[${diff}]}]}`,
    );
  });

  it('echoes a non-empty id first and omits an empty one', async () => {
    s = await start();
    const withId = await post('/v2/models/simple/infer', { id: 'req-7', ...SIMPLE_BODY });
    expect(withId.text.startsWith('{"id":"req-7","model_name":"simple"')).toBe(true);
    const emptyId = await post('/v2/models/simple/infer', { id: '', ...SIMPLE_BODY });
    expect(emptyId.text.startsWith('{"model_name"')).toBe(true);
  });

  it('accepts nested data in row-major order', async () => {
    s = await start();
    const body = {
      inputs: [
        { name: 'INPUT0', datatype: 'INT32', shape: [2, 8], data: [ONE_TO_16.slice(0, 8), ONE_TO_16.slice(8)] },
        { name: 'INPUT1', datatype: 'INT32', shape: [2, 8], data: [[0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0]] },
      ],
    };
    const r = await post('/v2/models/simple/infer', body);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text).outputs[0]).toEqual({ name: 'OUTPUT0', datatype: 'INT32', shape: [2, 8], data: ONE_TO_16 });
  });

  it.each([
    ['BOOL', [true, false, true], [1, 0, 1], '[true,false,true]'],
    ['UINT8', [0, 200, 255], [0, 200, 255], '[0,200,255]'],
    ['UINT16', [1, 65535], [1, 0, 255, 255], '[1,65535]'],
    ['UINT32', [4294967295], [255, 255, 255, 255], '[4294967295]'],
    ['UINT64', [1, 2 ** 40], [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0], '[1,1099511627776]'],
    ['INT8', [-1, 127], [255, 127], '[-1,127]'],
    ['INT16', [-2], [254, 255], '[-2]'],
    ['INT32', [-1, 7], [255, 255, 255, 255, 7, 0, 0, 0], '[-1,7]'],
    ['INT64', [-1, 2 ** 33], [255, 255, 255, 255, 255, 255, 255, 255, 0, 0, 0, 0, 2, 0, 0, 0], '[-1,8589934592]'],
    ['FP32', [0.5, 2], [0, 0, 0, 63, 0, 0, 0, 64], '[0.5,2.0]'],
    ['FP64', [-0.25], [0, 0, 0, 0, 0, 0, 208, 191], '[-0.25]'],
    ['BYTES', ['hé', ''], [3, 0, 0, 0, 104, 195, 169, 0, 0, 0, 0], '["hé",""]'],
  ])('round-trips %s through JSON', async (datatype, data, bytes, jsonOut) => {
    s = await start();
    const r = await post('/v2/models/echo/infer', {
      inputs: [{ name: 'IN', datatype, shape: [data.length], data }],
    });
    expect(r.status).toBe(200);
    expect([...s.core.requests[0]!.inputs[0]!.data]).toEqual(bytes);
    expect(r.text).toBe(
      `{"model_name":"echo","model_version":"1","outputs":[{"name":"OUT_IN","datatype":"${datatype}","shape":[${data.length}],"data":${jsonOut}}]}`,
    );
  });

  it('passes parameters through and returns response parameters', async () => {
    s = await start();
    const r = await post('/v2/models/simple/infer', {
      parameters: { echo_parameter: 'x', sequence_id: 5, sequence_start: true, priority: 1, binary_data_output: false },
      ...SIMPLE_BODY,
    });
    expect(r.status).toBe(200);
    expect(s.core.requests[0]!.parameters).toEqual({ echo_parameter: 'x', sequence_id: 5, sequence_start: true, priority: 1 });
    expect(r.text.startsWith('{"model_name":"simple","model_version":"1","parameters":{"echoed":"x"},"outputs"')).toBe(true);
  });

  it("refuses a negative or fractional sequence_id with Triton's text (neither uint64 nor string)", async () => {
    s = await start();
    for (const sequenceId of [-5, 1.5, true]) {
      const r = await post('/v2/models/simple/infer', { parameters: { sequence_id: sequenceId }, ...SIMPLE_BODY });
      expect(r.status).toBe(400);
      expect(errorOf(r.text)).toBe("Unable to parse 'sequence_id': attempt to access JSON non-string as string");
    }
  });

  it("refuses request parameters named triton_* with Triton's text", async () => {
    s = await start();
    const r = await post('/v2/models/simple/infer', { parameters: { triton_enable_empty_final_response: true }, ...SIMPLE_BODY });
    expect(r.status).toBe(400);
    expect(errorOf(r.text)).toBe(
      "parameter keys starting with 'triton_' are reserved for Triton usage and should not be specified.",
    );
  });

  it('passes the classification parameter and version through', async () => {
    s = await start();
    const r = await post('/v2/models/echo/versions/1/infer', {
      inputs: [{ name: 'IN', datatype: 'UINT8', shape: [4], data: [9, 8, 7, 6] }],
      outputs: [{ name: 'OUT_IN', parameters: { classification: 2 } }],
    });
    expect(r.status).toBe(200);
    expect(s.core.requests[0]!.modelVersion).toBe(1);
    expect(s.core.requests[0]!.outputs).toEqual([{ name: 'OUT_IN', classification: 2 }]);
    expect(JSON.parse(r.text).outputs[0]).toEqual({ name: 'OUT_IN', datatype: 'BYTES', shape: [2], data: ['9:0', '8:1'] });
  });

  it('rejects FP16 and BF16 data in JSON, both ways', async () => {
    s = await start();
    const input = await post('/v2/models/echo/infer', { inputs: [{ name: 'IN', datatype: 'FP16', shape: [1], data: [1] }] });
    expect(input.status).toBe(400);
    expect(errorOf(input.text)).toBe(
      'receiving FP16 data via JSON is not supported. Please use the binary data format for input IN',
    );
    const header = JSON.stringify({ inputs: [{ name: 'IN', datatype: 'BF16', shape: [1], parameters: { binary_data_size: 2 } }] });
    const output = await post('/v2/models/echo/infer', Buffer.concat([Buffer.from(header), Buffer.from([0, 0x3f])]), {
      'Inference-Header-Content-Length': String(header.length),
    });
    expect(output.status).toBe(400);
    expect(errorOf(output.text)).toBe(
      'sending BF16 data via JSON is not supported. Please use the binary data format for output',
    );
  });

  it('answers a non-Triton failure with 500 and its message', async () => {
    s = await start();
    const r = await post('/v2/models/boom/infer', { inputs: [] });
    expect(r.status).toBe(500);
    expect(r.text).toBe('{"error":"kaboom"}');
  });
});

describe('binary tensor data', () => {
  it('round-trips binary inputs and outputs, including FP16 and BYTES', async () => {
    s = await start();
    const fp16 = Buffer.from([0x00, 0x3c, 0x00, 0xc0]); // 1.0, -2.0
    const strings = bytesTensor('a', 'bcd');
    const header = JSON.stringify({
      inputs: [
        { name: 'H', datatype: 'FP16', shape: [2], parameters: { binary_data_size: fp16.length } },
        { name: 'S', datatype: 'BYTES', shape: [2], parameters: { binary_data_size: strings.length } },
      ],
      parameters: { binary_data_output: true },
    });
    const r = await post('/v2/models/echo/infer', Buffer.concat([Buffer.from(header), fp16, strings]), {
      'Inference-Header-Content-Length': String(Buffer.byteLength(header)),
      'Content-Type': 'application/octet-stream',
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/octet-stream');
    const headerLength = Number(r.headers.get('inference-header-content-length'));
    const { json, rest } = splitBinary(r.raw, headerLength);
    expect(json.outputs).toEqual([
      { name: 'OUT_H', datatype: 'FP16', shape: [2], parameters: { binary_data_size: 4 } },
      { name: 'OUT_S', datatype: 'BYTES', shape: [2], parameters: { binary_data_size: strings.length } },
    ]);
    expect(Buffer.compare(rest, Buffer.concat([fp16, strings]))).toBe(0);
    // Inputs are views of the request body, not copies. A protocol thread copies inputs this
    // small into its message to the core thread (still one buffer).
    const [h, str] = s.core.requests[0]!.inputs;
    expect(h!.data.buffer).toBe(str!.data.buffer);
    if (TEST_THREAD_COUNT === 0) expect(h!.data.byteOffset).toBe(Buffer.byteLength(header));
  });

  it('writes large binary and JSON outputs intact', async () => {
    s = await start();
    const values = Float32Array.from({ length: 100_000 }, (_, i) => i / 7);
    const bytes = Buffer.from(values.buffer);
    const header = JSON.stringify({
      inputs: [{ name: 'F', datatype: 'FP32', shape: [values.length], parameters: { binary_data_size: bytes.length } }],
      outputs: [{ name: 'OUT_F', parameters: { binary_data: true } }],
    });
    const r = await post('/v2/models/echo/infer', Buffer.concat([Buffer.from(header), bytes]), {
      'Inference-Header-Content-Length': String(header.length),
    });
    const { rest } = splitBinary(r.raw, Number(r.headers.get('inference-header-content-length')));
    expect(Buffer.compare(rest, bytes)).toBe(0);
    const asJson = await post('/v2/models/echo/infer', {
      inputs: [{ name: 'I', datatype: 'INT32', shape: [20_000], data: Array.from({ length: 20_000 }, (_, i) => i - 5) }],
    });
    expect(JSON.parse(asJson.text).outputs[0].data[19_999]).toBe(19_994);
  });

  it('mixes binary and JSON outputs as requested', async () => {
    s = await start();
    const r = await post('/v2/models/simple/infer', {
      ...SIMPLE_BODY,
      parameters: { binary_data_output: true },
      outputs: [{ name: 'OUTPUT0', parameters: { binary_data: true } }, { name: 'OUTPUT1' }],
    });
    expect(r.status).toBe(200);
    const { json, rest } = splitBinary(r.raw, Number(r.headers.get('inference-header-content-length')));
    expect(json.outputs[0]).toEqual({ name: 'OUTPUT0', datatype: 'INT32', shape: [1, 16], parameters: { binary_data_size: 64 } });
    // A named output without binary_data is JSON even under binary_data_output (Triton's rule).
    expect(json.outputs[1].data).toEqual(ONE_TO_16.map((v) => v - 1));
    expect([...new Int32Array(rest.buffer.slice(rest.byteOffset, rest.byteOffset + 64))]).toEqual(ONE_TO_16.map((v) => v + 1));
  });

  it('returns binary_data_output for unnamed outputs', async () => {
    s = await start();
    const r = await post('/v2/models/simple/infer', { ...SIMPLE_BODY, parameters: { binary_data_output: true } });
    const { json, rest } = splitBinary(r.raw, Number(r.headers.get('inference-header-content-length')));
    expect(json.outputs.map((o: any) => o.parameters.binary_data_size)).toEqual([64, 64]);
    expect(rest.length).toBe(128);
  });

  it('keeps application/json when every binary output is empty', async () => {
    s = await start();
    const header = JSON.stringify({ inputs: [{ name: 'E', datatype: 'FP32', shape: [0], parameters: { binary_data_size: 0 } }] });
    const r = await post('/v2/models/echo/infer', header, {
      'Inference-Header-Content-Length': String(header.length),
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(r.text).toContain('"data":[]');
  });

  it('reports a short binary section and left-over bytes as Triton does', async () => {
    s = await start();
    const header = JSON.stringify({ inputs: [{ name: 'X', datatype: 'FP32', shape: [2], parameters: { binary_data_size: 8 } }] });
    const short = await post('/v2/models/echo/infer', Buffer.concat([Buffer.from(header), Buffer.alloc(5)]), {
      'Inference-Header-Content-Length': String(header.length),
    });
    expect(short.status).toBe(400);
    expect(errorOf(short.text)).toBe("unexpected size for input 'X', expecting 3 additional bytes for model 'echo'");
    const long = await post('/v2/models/echo/infer', Buffer.concat([Buffer.from(header), Buffer.alloc(9)]), {
      'Inference-Header-Content-Length': String(header.length),
    });
    expect(errorOf(long.text)).toBe("unexpected additional input data for model 'echo'");
  });

  it.each([
    ['abc', 'Unable to parse Inference-Header-Content-Length, got: abc'],
    ['-1', 'inference header size should be in range (0, 20), got: -1'],
    ['21', 'inference header size should be in range (0, 20), got: 21'],
    [
      '99999999999',
      'Unable to parse Inference-Header-Content-Length, value is out of range [ -2147483648, 2147483647 ], got: 99999999999',
    ],
  ])('refuses Inference-Header-Content-Length %s with 400', async (value, message) => {
    s = await start();
    const r = await post('/v2/models/echo/infer', '{"inputs":[]}1234567', { 'Inference-Header-Content-Length': value });
    expect(r.status).toBe(400);
    expect(errorOf(r.text)).toBe(message);
  });
});

describe('raw binary request', () => {
  const raw = { 'Inference-Header-Content-Length': '0' };

  it('feeds the whole body to the single input with batch 1 and returns binary', async () => {
    s = await start();
    const body = Buffer.from(new Float32Array([1, 2, 3, 4]).buffer);
    const r = await post('/v2/models/raw_fp32/infer', body, raw);
    expect(r.status).toBe(200);
    expect(s.core.requests[0]!.inputs[0]).toMatchObject({ name: 'x', datatype: 'FP32', shape: [1, 4] });
    const { json, rest } = splitBinary(r.raw, Number(r.headers.get('inference-header-content-length')));
    expect(json).toEqual({
      model_name: 'raw_fp32',
      model_version: '1',
      outputs: [{ name: 'y', datatype: 'FP32', shape: [1, 4], parameters: { binary_data_size: 16 } }],
    });
    expect(Buffer.compare(rest, body)).toBe(0);
  });

  it('deduces one variable dimension and frames a BYTES body', async () => {
    s = await start();
    await post('/v2/models/raw_var/infer', Buffer.alloc(24), raw);
    expect(s.core.requests[0]!.inputs[0]!.shape).toEqual([6]);
    await post('/v2/models/raw_bytes/infer', '427', raw);
    expect(s.core.requests[1]!.inputs[0]).toMatchObject({ datatype: 'BYTES', shape: [1] });
    expect(Buffer.from(s.core.requests[1]!.inputs[0]!.data)).toEqual(bytesTensor('427'));
  });

  it('answers an empty raw body to a model of several inputs with a message that says what happened', async () => {
    s = await start();
    for (const headers of [raw, {}]) {
      const empty = await post('/v2/models/simple/infer', Buffer.alloc(0), headers);
      expect(empty.status).toBe(400);
      expect(errorOf(empty.text)).toBe(
        "[request id: <id_unknown>] empty request body for model 'simple': a request without an inference " +
          "header JSON is a raw binary request, whose body is the model's single input, but 'simple' has 2 inputs",
      );
    }
  });

  it('refuses models with several inputs or variable dimensions with Triton messages', async () => {
    s = await start();
    const two = await post('/v2/models/simple/infer', Buffer.alloc(8), raw);
    expect(two.status).toBe(400);
    expect(errorOf(two.text)).toBe(
      "[request id: <id_unknown>] Raw request must only have 1 input (found 1) to be deduced but got 2 inputs in 'simple' model configuration",
    );
    const vars = await post('/v2/models/raw_2var/infer', Buffer.alloc(8), raw);
    expect(errorOf(vars.text)).toBe(
      "[request id: <id_unknown>] The shape of the raw input 'x' can not be deduced because there are more than one variable-sized dimension",
    );
  });
});

describe('malformed requests', () => {
  it('reports malformed JSON with RapidJSON wording and offset', async () => {
    s = await start();
    const r = await post('/v2/models/simple/infer', '{"inputs": [}');
    expect(r.status).toBe(400);
    expect(errorOf(r.text)).toBe('failed to parse the request JSON buffer: Invalid value. at 12');
  });

  it('accepts NaN and Infinity like RapidJSON', async () => {
    s = await start();
    const r = await post('/v2/models/echo/infer', '{"inputs":[{"name":"F","datatype":"FP64","shape":[3],"data":[NaN,Infinity,-Inf]}]}');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text.replace(/NaN|-?Infinity/g, '0')).outputs).toHaveLength(1);
    expect(r.text).toContain('"data":[NaN,Infinity,-Infinity]');
  });

  it("answers a missing or mistyped field with Triton's exact text", async () => {
    s = await start();
    expect(errorOf((await post('/v2/models/simple/infer', {})).text)).toBe(
      "Unable to parse 'inputs': attempt to access non-existing object member 'inputs'",
    );
    const noShape = await post('/v2/models/simple/infer', { inputs: [{ name: 'INPUT0', datatype: 'INT32', data: [1] }] });
    expect(noShape.status).toBe(400);
    expect(errorOf(noShape.text)).toBe(
      "Unable to parse 'shape': attempt to access non-existing object member 'shape'",
    );
    const negative = await post('/v2/models/simple/infer', { inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [-1], data: [1] }] });
    expect(errorOf(negative.text)).toBe(
      "Unable to parse 'shape': attempt to access JSON non-unsigned-integer as unsigned-integer",
    );
    const badType = await post('/v2/models/simple/infer', { inputs: [{ name: 'INPUT0', datatype: 'INT33', shape: [1], data: [1] }] });
    expect(errorOf(badType.text)).toBe('invalid datatype for input INPUT0');
  });

  it("answers an element of the wrong JSON type with Triton's exact text", async () => {
    s = await start();
    const r = await post('/v2/models/echo/infer', { inputs: [{ name: 'F', datatype: 'FP32', shape: [2], data: [1, 'x'] }] });
    expect(r.status).toBe(400);
    expect(errorOf(r.text)).toBe("Unable to parse 'data': attempt to access JSON non-number as double");
  });

  it('checks the element count against the shape with Triton messages', async () => {
    s = await start();
    const few = await post('/v2/models/echo/infer', { inputs: [{ name: 'I', datatype: 'INT32', shape: [1, 16], data: [1, 2] }] });
    expect(few.status).toBe(400);
    expect(few.text).toBe(
      `{"error":"Failed to parse 'data' field: shape does not match true shape"}`,
    );
    const many = await post('/v2/models/echo/infer', { inputs: [{ name: 'I', datatype: 'INT32', shape: [2], data: [1, 2, 3] }] });
    expect(many.text).toBe(
      `{"error":"Unable to parse 'data': Shape does not match true shape of 'data' field"}`,
    );
  });

  it("logs the tensor and counts that Triton's fixed messages leave out at verbose level", async () => {
    const lines: { obj: Record<string, unknown>; msg?: string }[] = [];
    const record = (obj: object, msg?: string): void => void lines.push({ obj: obj as Record<string, unknown>, msg });
    s = await start({ logger: { debug: record, info: record, warn: record, error: record } });
    await post('/v2/models/echo/infer', { inputs: [{ name: 'I', datatype: 'INT32', shape: [1, 16], data: [1, 2] }] });
    await post('/v2/models/echo/infer', { inputs: [{ name: 'F', datatype: 'FP32', shape: [1], data: ['x'] }] });
    await post('/v2/models/echo/infer', { inputs: [{ name: 'S', datatype: 'INT32', shape: [1.5], data: [1] }] });
    expect(lines.map((l) => l.msg)).toEqual([
      "HTTP request failed (input 'I': the shape needs 16 elements, 'data' has 2)",
      "HTTP request failed (input 'F')",
      "HTTP request failed (input 'S')",
    ]);
  });

  it('refuses data nested 100 deep', async () => {
    s = await start();
    let nested: unknown = 1;
    for (let i = 0; i < 120; i++) nested = [nested];
    const r = await post('/v2/models/echo/infer', { inputs: [{ name: 'I', datatype: 'INT64', shape: [1], data: nested }] });
    expect(r.status).toBe(400);
    expect(errorOf(r.text)).toBe("Unable to parse 'data': JSON nesting depth exceeds maximum allowed limit (100)");
  });

  it('refuses data together with binary_data_size, and triton_ parameters', async () => {
    s = await start();
    const both = await post('/v2/models/echo/infer', {
      inputs: [{ name: 'I', datatype: 'INT32', shape: [1], data: [1], parameters: { binary_data_size: 4 } }],
    });
    expect(both.status).toBe(400);
    expect(errorOf(both.text)).toBe(
      "Input must set only one of the following fields: 'data', 'binary_data_size' in 'parameters', " +
        "'shared_memory_region' in 'parameters'. But set 'data' 'binary_data_size'",
    );
    const reserved = await post('/v2/models/simple/infer', { ...SIMPLE_BODY, parameters: { triton_x: 1 } });
    expect(errorOf(reserved.text)).toBe(
      "parameter keys starting with 'triton_' are reserved for Triton usage and should not be specified.",
    );
  });

  it('answers shared-memory tensors as Triton does with no region registered', async () => {
    s = await start();
    const r = await post('/v2/models/echo/infer', {
      inputs: [{ name: 'I', datatype: 'INT32', shape: [1], parameters: { shared_memory_region: 'r0', shared_memory_byte_size: 4 } }],
    });
    expect(r.status).toBe(404);
    expect(errorOf(r.text)).toBe("Unable to find shared memory region: 'r0'");
  });

  it('reports the model error first, as Triton looks the model up before the body', async () => {
    s = await start();
    const r = await post('/v2/models/nope/infer', 'not json');
    expect(r.status).toBe(404);
    expect(errorOf(r.text)).toBe("Request for unknown model: 'nope' is not found");
    expect((await post('/v2/models/simple/versions/3/infer', SIMPLE_BODY)).status).toBe(503);
  });
});

describe('compression', () => {
  it.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
  ] as const)('accepts a %s request body', async (encoding, compress) => {
    s = await start();
    const r = await post('/v2/models/simple/infer', compress(Buffer.from(JSON.stringify(SIMPLE_BODY))), {
      'Content-Encoding': encoding,
    });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text).outputs).toHaveLength(2);
  });

  it('compresses the response as Accept-Encoding weighs it', async () => {
    s = await start();
    const body = JSON.stringify(SIMPLE_BODY);
    const gz = await rawRequest(s.port, 'POST', '/v2/models/simple/infer', { 'Accept-Encoding': 'deflate;q=0.5, gzip;q=0.9' }, body);
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(gunzipSync(gz.body).toString()).model_name).toBe('simple');
    const df = await rawRequest(s.port, 'POST', '/v2/models/simple/infer', { 'Accept-Encoding': 'gzip;q=0.1, deflate' }, body);
    expect(df.headers['content-encoding']).toBe('deflate');
    expect(JSON.parse(inflateSync(df.body).toString()).model_name).toBe('simple');
    const id = await rawRequest(s.port, 'POST', '/v2/models/simple/infer', { 'Accept-Encoding': 'br' }, body);
    expect(id.headers['content-encoding']).toBeUndefined();
  });

  it('keeps Inference-Header-Content-Length uncompressed for a compressed binary response', async () => {
    s = await start();
    const body = JSON.stringify({ ...SIMPLE_BODY, parameters: { binary_data_output: true } });
    const r = await rawRequest(s.port, 'POST', '/v2/models/simple/infer', { 'Accept-Encoding': 'gzip' }, body);
    const plain = gunzipSync(r.body);
    const headerLength = Number(r.headers['inference-header-content-length']);
    expect(splitBinary(plain, headerLength).rest.length).toBe(128);
  });

  it('refuses an unknown Content-Encoding with 501 and lists the supported ones', async () => {
    s = await start();
    const r = await post('/v2/models/simple/infer', JSON.stringify(SIMPLE_BODY), { 'Content-Encoding': 'br' });
    expect(r.status).toBe(501);
    expect(r.text).toBe('{"error":"Unsupported compression type"}');
    expect(r.headers.get('accept-encoding')).toBe('gzip, deflate');
  });
});

describe('size limits', () => {
  it('refuses an oversized body with Triton wording and keeps serving', async () => {
    s = await start({ maxInputSize: 1024 });
    const big = JSON.stringify({ inputs: [{ name: 'I', datatype: 'INT32', shape: [1000], data: new Array(1000).fill(1) }] });
    const r = await post('/v2/models/echo/infer', big);
    expect(r.status).toBe(400);
    expect(errorOf(r.text)).toBe(
      `request JSON size of ${big.length} bytes exceeds the maximum allowed input size of 1024 bytes. ` +
        'Use --http-max-input-size to increase the limit.',
    );
    const ok = await post('/v2/models/simple/infer', SIMPLE_BODY);
    expect(ok.status).toBe(200);
  });

  it('applies the limit after decompression and to chunked bodies', async () => {
    s = await start({ maxInputSize: 1024 });
    const zipped = gzipSync(Buffer.alloc(4096, 0x20));
    const r = await post('/v2/models/echo/infer', zipped, { 'Content-Encoding': 'gzip' });
    expect(r.status).toBe(400);
    expect(errorOf(r.text)).toBe(
      'Decompressed data size exceeds the maximum allowed value of 1024 bytes. Use --http-max-input-size to increase the limit.',
    );
    const chunked = await fetch(s.base + '/v2/models/echo/infer', {
      method: 'POST',
      headers: { 'Inference-Header-Content-Length': '0' },
      body: new ReadableStream({
        start(controller) {
          for (let i = 0; i < 4; i++) controller.enqueue(new Uint8Array(512));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(400);
    expect((await chunked.json()).error).toMatch(/^Raw input has a byte_size \(\d+ bytes\) that exceeds the maximum allowed value of 1024 bytes/);
    expect((await post('/v2/models/simple/infer', SIMPLE_BODY)).status).toBe(200);
  });
});

describe('lifecycle', () => {
  it('counts in-flight requests and lets them finish on close', async () => {
    s = await start();
    let release!: () => void;
    s.core.gate = new Promise((resolve) => (release = resolve));
    const pending = post('/v2/models/simple/infer', SIMPLE_BODY);
    while (s.core.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    expect(s.frontend.inFlight).toBe(1);
    const closing = s.frontend.close({ timeoutMs: 5000 });
    setTimeout(release, 20);
    const r = await pending;
    expect(r.status).toBe(200);
    expect(r.headers.get('connection')).toBe('close');
    await closing;
    expect(s.frontend.inFlight).toBe(0);
    await expect(fetch(s.base + '/v2/health/live')).rejects.toThrow();
  });

  it('destroys lingering requests after the timeout', async () => {
    s = await start();
    s.core.gate = new Promise(() => {});
    const pending = post('/v2/models/simple/infer', SIMPLE_BODY).catch((e: Error) => e);
    while (s.core.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    await s.frontend.close({ timeoutMs: 50 });
    expect(await pending).toBeInstanceOf(Error);
  });

  it('returns to zero in-flight after synchronous and failed requests', async () => {
    s = await start();
    await fetch(s.base + '/v2/health/live');
    await post('/v2/models/nope/infer', SIMPLE_BODY);
    await post('/v2/models/boom/infer', { inputs: [] });
    expect(s.frontend.inFlight).toBe(0);
  });

  it('drops a request whose client leaves mid-body, without logging an error', async () => {
    const errors: unknown[] = [];
    const noop = (): void => {};
    s = await start({ logger: { debug: noop, info: noop, warn: noop, error: (obj: object) => errors.push(obj) } });
    const { connect } = await import('node:net');
    await new Promise<void>((resolve) => {
      const socket = connect(s.port, '127.0.0.1', () => {
        socket.write('POST /v2/models/simple/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"inputs"');
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 50);
      });
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(s.frontend.inFlight).toBe(0);
    expect(errors).toEqual([]);
    expect((await fetch(s.base + '/v2/health/live')).status).toBe(200);
  });

  it('logs unexpected errors at error level', async () => {
    const logged: unknown[] = [];
    const noop = (): void => {};
    s = await start({ logger: { debug: noop, info: noop, warn: noop, error: (obj: object) => logged.push(obj) } });
    await post('/v2/models/boom/infer', { inputs: [] });
    expect(logged).toHaveLength(1);
    expect((logged[0] as { err: Error }).err.message).toBe('kaboom');
  });

  it('answers Expect: 100-continue, refusing an oversized body before it is sent', async () => {
    s = await start({ maxInputSize: 1024 });
    const send = (size: number) =>
      new Promise<{ status: number; continued: boolean; body: string }>((resolve, reject) => {
        const body = JSON.stringify({ inputs: [], pad: 'x'.repeat(size) });
        const req = httpRequest({
          host: '127.0.0.1',
          port: s.port,
          method: 'POST',
          path: '/v2/models/echo/infer',
          headers: { Expect: '100-continue', 'Content-Length': Buffer.byteLength(body) },
        });
        let continued = false;
        req.on('continue', () => {
          continued = true;
          req.end(body);
        });
        req.on('response', (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, continued, body: text }));
        });
        req.on('error', reject);
        req.flushHeaders();
      });
    expect(await send(10)).toMatchObject({ status: 200, continued: true });
    const big = await send(5000);
    expect(big.status).toBe(400);
    expect(big.continued).toBe(false);
    expect(JSON.parse(big.body).error).toMatch(/^request JSON size of \d+ bytes exceeds the maximum allowed input size of 1024 bytes/);
  });

  it('reports a port in use with Triton wording', async () => {
    s = await start();
    const second = await import('../../../../src/protocol/http/index.js').then((m) =>
      m.createHttpFrontend(s.core, { address: '127.0.0.1', port: s.port }),
    );
    await expect(second.listen()).rejects.toThrow(`Socket '127.0.0.1:${s.port}' already in use`);
  });
});
