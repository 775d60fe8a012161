// HTTP fuzz cases: valid KServe v2 requests against the fuzz repository (fuzz-repo.mjs), then
// mutated at one of three levels: the JSON request (fields, shapes, datatypes, huge dims,
// binary_data_size and shared-memory parameters), the headers (Inference-Header-Content-Length,
// Content-Encoding, Content-Length, chunked framing), or the raw bytes (body or whole request).
// A case is raw HTTP/1.1 bytes, so nothing in a client library filters what reaches the server.
import { caseRng, DATATYPES, interestingValue, jsonText, mutateBytes, mutateJson, INTERESTING_NUMBERS } from './mutate.mjs';
import { SHM_REGION } from './fuzz-repo.mjs';

const int32s = (n, from = 0) => Array.from({ length: n }, (_, i) => from + i);

function int32Bytes(values) {
  return Buffer.from(new Int32Array(values).buffer);
}

/** Valid requests: [method, path, json body or undefined, binary tail or undefined]. */
function seeds() {
  const simpleJson = {
    id: 'fuzz',
    inputs: [
      { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: int32s(16) },
      { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: int32s(16, 1) },
    ],
    outputs: [{ name: 'OUTPUT0' }, { name: 'OUTPUT1', parameters: { binary_data: true } }],
  };
  const simpleBinary = {
    inputs: [
      { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], parameters: { binary_data_size: 64 } },
      { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], parameters: { binary_data_size: 64 } },
    ],
    parameters: { binary_data_output: true },
  };
  const identityJson = {
    inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [4], data: [1.5, -2, 0, 3.25] }],
  };
  const identityShm = {
    inputs: [
      {
        name: 'INPUT0',
        datatype: 'FP32',
        shape: [16],
        parameters: { shared_memory_region: SHM_REGION, shared_memory_byte_size: 64, shared_memory_offset: 0 },
      },
    ],
    outputs: [
      {
        name: 'OUTPUT0',
        parameters: { shared_memory_region: SHM_REGION, shared_memory_byte_size: 64, shared_memory_offset: 1024 },
      },
    ],
  };
  const bytesJson = {
    inputs: [{ name: 'INPUT0', datatype: 'BYTES', shape: [2], data: ['hello', 'ünïcödé'] }],
  };
  return [
    ['POST', '/v2/models/simple/infer', simpleJson],
    ['POST', '/v2/models/simple/infer', simpleBinary, Buffer.concat([int32Bytes(int32s(16)), int32Bytes(int32s(16, 5))])],
    ['POST', '/v2/models/simple/versions/1/infer', simpleJson],
    ['POST', '/v2/models/identity_fp32/infer', identityJson],
    ['POST', '/v2/models/identity_fp32/infer', identityShm],
    ['POST', '/v2/models/identity_bytes/infer', bytesJson],
    ['GET', '/v2/models/simple', undefined],
    ['GET', '/v2/models/identity_fp32/config', undefined],
    ['GET', '/v2/models/simple/stats', undefined],
    ['POST', '/v2/repository/index', { ready: true }],
    ['POST', `/v2/systemsharedmemory/region/${SHM_REGION}/status`, undefined],
    ['GET', '/v2/health/ready', undefined],
  ];
}
const SEEDS = seeds();

function frame(method, path, headers, body) {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close'];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), body]);
}

/** Header-level mutations of a (json, binary) request; returns [headers, body, description]. */
function mutateHeaders(rng, jsonText, binary) {
  const json = Buffer.from(jsonText);
  let body = binary === undefined ? json : Buffer.concat([json, binary]);
  const headers = { 'Content-Type': 'application/json', 'Content-Length': String(body.length) };
  if (binary !== undefined) headers['Inference-Header-Content-Length'] = String(json.length);
  let what;
  switch (rng.int(7)) {
    case 0: {
      const v = rng.pick([...INTERESTING_NUMBERS, 'abc', '', '1e3', '0x10', ' 12', json.length + 1, json.length - 1, body.length + 1]);
      headers['Inference-Header-Content-Length'] = String(v);
      what = `Inference-Header-Content-Length: ${v}`;
      break;
    }
    case 1: {
      const v = rng.pick(['gzip', 'deflate', 'br', 'identity', 'gzip, deflate', 'x-unknown']);
      headers['Content-Encoding'] = v;
      what = `Content-Encoding: ${v} (body not encoded)`;
      break;
    }
    case 2: {
      // A Content-Length that disagrees with the body; the fuzzer half-closes, so a server
      // waiting for more bytes sees the end of the stream.
      const v = rng.pick([0, 1, body.length - 1, body.length + 1, body.length * 2, 2 ** 31, -1, 'x']);
      headers['Content-Length'] = String(v);
      what = `Content-Length: ${v} (body ${body.length})`;
      break;
    }
    case 3: {
      delete headers['Content-Length'];
      headers['Transfer-Encoding'] = 'chunked';
      const cut = rng.int(body.length + 1);
      const size = rng.pick([body.length, body.length + 5, cut, 0]).toString(16);
      body = Buffer.concat([Buffer.from(`${size}\r\n`), body.subarray(0, cut), Buffer.from(rng.chance(0.5) ? '\r\n0\r\n\r\n' : '\r\n')]);
      what = `chunked, chunk size 0x${size}, ${cut} bytes sent`;
      break;
    }
    case 4: {
      const v = rng.pick(['text/plain', 'application/octet-stream', '', 'application/json; charset=utf-16', 'multipart/form-data; boundary=x']);
      headers['Content-Type'] = v;
      what = `Content-Type: ${v}`;
      break;
    }
    case 5: {
      headers[rng.pick(['Accept-Encoding', 'Inference-Header-Content-Length', 'Expect', 'Triton-Grpc-Protocol'])] = String(JSON.stringify(interestingValue(rng))).slice(0, 200);
      what = 'odd header value';
      break;
    }
    default: {
      headers['Inference-Header-Content-Length'] = String(json.length);
      what = 'Inference-Header-Content-Length on a JSON-only body';
    }
  }
  return [headers, body, what];
}

/** Wrong shapes, datatypes, huge dims and bad binary/shared-memory parameters on one tensor. */
function mutateTensor(rng, json) {
  const list = rng.chance(0.8) || !Array.isArray(json.outputs) ? json.inputs : json.outputs;
  const t = list[rng.int(list.length)];
  if (t === undefined) return 'no tensor';
  switch (rng.int(6)) {
    case 0:
      t.shape = Array.from({ length: rng.int(5) }, () => rng.pick([0, 1, 16, -1, 2 ** 31, 2 ** 40, 2 ** 53, 2 ** 63, 1.5]));
      return `${t.name} shape ${JSON.stringify(t.shape)}`;
    case 1:
      t.datatype = rng.pick(DATATYPES);
      return `${t.name} datatype ${t.datatype}`;
    case 2: {
      t.parameters = { ...t.parameters, binary_data_size: rng.pick(INTERESTING_NUMBERS) };
      return `${t.name} binary_data_size ${t.parameters.binary_data_size}`;
    }
    case 3: {
      const key = rng.pick(['shared_memory_offset', 'shared_memory_byte_size', 'shared_memory_region']);
      const value = key === 'shared_memory_region' ? rng.pick([SHM_REGION, 'nope', '']) : rng.pick(INTERESTING_NUMBERS);
      t.parameters = { shared_memory_region: SHM_REGION, shared_memory_byte_size: 64, ...t.parameters, [key]: value };
      delete t.data;
      return `${t.name} ${key} ${value}`;
    }
    case 4:
      t.data = rng.pick([[], [1], Array(17).fill(1), ['a'], [[1, 2], [3]], [true], [1e308], [-1], 'str', {}]);
      return `${t.name} data ${JSON.stringify(t.data)}`;
    default:
      t.name = String(JSON.stringify(interestingValue(rng))).slice(0, 100);
      return `name ${t.name.slice(0, 20)}`;
  }
}

/**
 * Case `index` of the HTTP fuzz with `seed`: { bytes, description }. Deterministic: the same
 * (seed, index) gives the same bytes, which is how a finding is replayed.
 */
export function httpCase(seed, index) {
  const rng = caseRng(seed, 'http', index);
  const seedIndex = rng.int(SEEDS.length);
  const [method, path, seedJson, seedBinary] = SEEDS[seedIndex];
  const json = seedJson === undefined ? undefined : structuredClone(seedJson);
  const level = rng.int(10);
  let description = `seed ${seedIndex} ${method} ${path}: `;
  // 0-4: JSON fields; 5-6: headers; 7: body bytes; 8: whole request bytes; 9: path/method.
  if (level <= 4 && json !== undefined) {
    description += level <= 1 && Array.isArray(json.inputs) ? `tensor ${mutateTensor(rng, json)}` : `json ${mutateJson(rng, json)}`;
    const text = jsonText(json);
    const binary = seedBinary;
    const headers = { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text) + (binary?.length ?? 0)) };
    if (binary !== undefined) headers['Inference-Header-Content-Length'] = String(Buffer.byteLength(text));
    return { bytes: frame(method, path, headers, Buffer.concat([Buffer.from(text), binary ?? Buffer.alloc(0)])), description };
  }
  const text = json === undefined ? '' : jsonText(json);
  if (level <= 6) {
    const [headers, body, what] = mutateHeaders(rng, text, seedBinary);
    return { bytes: frame(method, path, headers, body), description: description + `headers ${what}` };
  }
  const body = Buffer.concat([Buffer.from(text), seedBinary ?? Buffer.alloc(0)]);
  if (level === 7) {
    const [mutated, what] = mutateBytes(rng, body);
    const headers = { 'Content-Type': 'application/json', 'Content-Length': String(mutated.length) };
    if (seedBinary !== undefined) headers['Inference-Header-Content-Length'] = String(Buffer.byteLength(text));
    return { bytes: frame(method, path, headers, mutated), description: description + `body bytes ${what}` };
  }
  if (level === 8) {
    const headers = { 'Content-Type': 'application/json', 'Content-Length': String(body.length) };
    const [mutated, what] = mutateBytes(rng, frame(method, path, headers, body));
    return { bytes: mutated, description: description + `request bytes ${what}` };
  }
  const m = rng.pick(['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'HEAD', 'PATCH']);
  const segments = path.split('/');
  segments[1 + rng.int(segments.length - 1)] = encodeURIComponent(String(JSON.stringify(interestingValue(rng))).slice(0, 300));
  const p = rng.chance(0.5) ? segments.join('/') : `${path}?${rng.pick(['a=1', '%zz', '&&', 'x'.repeat(5000)])}`;
  const headers = { 'Content-Type': 'application/json', 'Content-Length': String(body.length) };
  return { bytes: frame(m, p, headers, body), description: description + `method/path ${m} ${p.slice(0, 80)}` };
}
