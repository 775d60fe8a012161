/**
 * System shared memory over HTTP through the real CLI (reference §1.3, §1.5): the test process
 * creates POSIX shared-memory regions through infera's own addon, registers them, runs
 * inferences whose inputs and outputs live in them and checks the bytes. Every out-of-range
 * case answers Triton's message, a fuzzed set of offsets and sizes never crashes the server,
 * and on this machine without a GPU the CUDA features answer with their clear errors.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadNativeAddon, type NativeSystemSharedMemoryRegion } from '../../src/native/binding.js';
import { addSubModel, identityModel, writeModel } from '../fixtures/onnx-models.js';
import { pseudoRandomFloats } from './helpers/data.js';
import { startServer, type RunningServer } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-repo.js';

const IDENTITY_CONFIG = `backend: "onnxruntime"
max_batch_size: 0
input [{ name: "INPUT0" data_type: TYPE_FP32 dims: [ -1 ] }]
output [{ name: "OUTPUT0" data_type: TYPE_FP32 dims: [ -1 ] }]
`;

const addon = loadNativeAddon();
const hasGpu = addon.deviceQuery().deviceCount > 0;
const tmp = tempDir();
const keys: string[] = [];
const clientRegions: NativeSystemSharedMemoryRegion[] = [];
let server: RunningServer;

/** A POSIX shared-memory object made by the "client" (this process), mapped whole. */
function clientRegion(tag: string, byteSize: number): { key: string; region: NativeSystemSharedMemoryRegion; bytes: Uint8Array } {
  const key = `/infera_e2e_${process.pid}_${tag}`;
  const region = addon.SystemSharedMemoryRegion.create(key, byteSize);
  keys.push(key);
  clientRegions.push(region);
  return { key, region, bytes: new Uint8Array(region.buffer()) };
}

async function post(url: string, body?: unknown): Promise<{ status: number; text: string }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

async function get(url: string): Promise<{ status: number; json: unknown }> {
  const res = await fetch(url);
  return { status: res.status, json: await res.json() };
}

function register(name: string, key: string, byteSize: number, offset = 0) {
  return post(`${server.url}/v2/systemsharedmemory/region/${name}/register`, { key, offset, byte_size: byteSize });
}

function shmParams(region: string, byteSize: number, offset?: number): Record<string, unknown> {
  const p: Record<string, unknown> = { shared_memory_region: region, shared_memory_byte_size: byteSize };
  if (offset !== undefined) p.shared_memory_offset = offset;
  return p;
}

/** An identity infer of `count` floats with input and output in shared memory. */
function identityShm(count: number, input: Record<string, unknown>, output: Record<string, unknown>) {
  return post(`${server.url}/v2/models/identity_fp32/infer`, {
    inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [count], parameters: input }],
    outputs: [{ name: 'OUTPUT0', parameters: output }],
  });
}

const errorOf = (text: string): string => (JSON.parse(text) as { error: string }).error;

beforeAll(async () => {
  writeModel(tmp.dir, 'identity_fp32', identityModel('FP32', ['n']), { config: IDENTITY_CONFIG });
  writeModel(tmp.dir, 'simple', addSubModel());
  server = await startServer(['--model-repository', tmp.dir, '--allow-client-shm=true']);
});

afterAll(async () => {
  await server?.stop();
  for (const r of clientRegions) r.close();
  for (const key of keys) {
    try {
      addon.SystemSharedMemoryRegion.unlink(key);
    } catch {
      // already removed by the test
    }
  }
  tmp.cleanup();
});

describe('system shared memory over HTTP', () => {
  test('register, status and server metadata', async () => {
    const { key } = clientRegion('status', 4096);
    expect(await register('status_region', key, 1024, 2048)).toEqual({ status: 200, text: '' });
    const all = await get(`${server.url}/v2/systemsharedmemory/status`);
    expect(all.status).toBe(200);
    expect(all.json).toContainEqual({ name: 'status_region', key, offset: 2048, byte_size: 1024 });
    expect((await get(`${server.url}/v2/systemsharedmemory/region/status_region/status`)).json).toEqual([
      { name: 'status_region', key, offset: 2048, byte_size: 1024 },
    ]);
    expect((await get(`${server.url}/v2/cudasharedmemory/status`)).json).toEqual([]);
    const meta = (await get(`${server.url}/v2`)).json as { extensions: string[] };
    expect(meta.extensions).toEqual(expect.arrayContaining(['system_shared_memory', 'cuda_shared_memory']));
    expect((await post(`${server.url}/v2/systemsharedmemory/region/status_region/unregister`)).status).toBe(200);
  });

  test('identity FP32: input and output in one region, bytes checked', async () => {
    const count = 16 * 1024;
    const { key, bytes } = clientRegion('identity', 2 * count * 4);
    const input = pseudoRandomFloats(count, 7);
    bytes.set(new Uint8Array(input.buffer), 0);
    bytes.fill(0, count * 4);
    expect((await register('io', key, 2 * count * 4)).status).toBe(200);

    const res = await identityShm(count, shmParams('io', count * 4), shmParams('io', count * 4, count * 4));
    expect(res.status).toBe(200);
    // Triton lists shared-memory outputs without data or parameters.
    expect(JSON.parse(res.text)).toEqual({
      model_name: 'identity_fp32',
      model_version: '1',
      outputs: [{ name: 'OUTPUT0', datatype: 'FP32', shape: [count] }],
    });
    expect(Buffer.from(bytes.subarray(count * 4)).equals(Buffer.from(input.buffer))).toBe(true);
    await post(`${server.url}/v2/systemsharedmemory/region/io/unregister`);
  });

  test('a region unregistered while its request runs stays mapped until the response', async () => {
    // 16 MiB in and out: the worker reads and writes the region in place for several ms,
    // and the unregister is answered meanwhile.
    const count = 4 * 1024 * 1024;
    const { key, bytes } = clientRegion('inflight', 2 * count * 4);
    const input = pseudoRandomFloats(count, 11);
    bytes.set(new Uint8Array(input.buffer), 0);
    let overlapped = 0;
    for (let attempt = 0; attempt < 5 && overlapped === 0; attempt++) {
      bytes.fill(0, count * 4);
      expect((await register('inflight', key, 2 * count * 4)).status).toBe(200);
      const order: string[] = [];
      const infer = identityShm(count, shmParams('inflight', count * 4), shmParams('inflight', count * 4, count * 4)).then((r) => {
        order.push('infer');
        return r;
      });
      await new Promise((resolve) => setTimeout(resolve, 2));
      const unregister = post(`${server.url}/v2/systemsharedmemory/region/inflight/unregister`).then((r) => {
        order.push('unregister');
        return r;
      });
      const [res, unreg] = await Promise.all([infer, unregister]);
      expect(unreg.status).toBe(200);
      // Unregistered before the request was decoded: nothing to check this time.
      if (res.status === 404) continue;
      expect(res.status).toBe(200);
      expect(Buffer.from(bytes.subarray(count * 4)).equals(Buffer.from(input.buffer))).toBe(true);
      if (order[0] === 'unregister') overlapped++;
    }
    expect(overlapped).toBe(1);
    expect((await fetch(`${server.url}/v2/health/live`)).status).toBe(200);
  });

  test('simple add/sub: two inputs and two outputs at offsets of a region registered at an offset', async () => {
    const { key, bytes } = clientRegion('simple', 8192);
    const a = Int32Array.from({ length: 16 }, (_, i) => i * 3 - 7);
    const b = Int32Array.from({ length: 16 }, (_, i) => 100 - i);
    // The region starts at byte 1000 of the object (not page-aligned); tensors at 64-byte steps.
    bytes.set(new Uint8Array(a.buffer), 1000);
    bytes.set(new Uint8Array(b.buffer), 1064);
    expect((await register('simple_io', key, 4096, 1000)).status).toBe(200);
    const res = await post(`${server.url}/v2/models/simple/infer`, {
      inputs: [
        { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], parameters: shmParams('simple_io', 64) },
        { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], parameters: shmParams('simple_io', 64, 64) },
      ],
      outputs: [
        { name: 'OUTPUT0', parameters: shmParams('simple_io', 64, 128) },
        { name: 'OUTPUT1', parameters: { binary_data: false } },
      ],
    });
    expect(res.status).toBe(200);
    const body = JSON.parse(res.text) as { outputs: { name: string; data?: number[] }[] };
    const sum = new Int32Array(bytes.slice(1128, 1192).buffer);
    expect(Array.from(sum)).toEqual(Array.from(a, (x, i) => x + b[i]!));
    // The output not in shared memory comes back as JSON, as usual.
    expect(body.outputs[1]).toMatchObject({ name: 'OUTPUT1', data: Array.from(a, (x, i) => x - b[i]!) });
    expect(body.outputs[0]).toEqual({ name: 'OUTPUT0', datatype: 'INT32', shape: [1, 16] });
    await post(`${server.url}/v2/systemsharedmemory/region/simple_io/unregister`);
  });

  test('every out-of-range or unknown reference is refused with Triton\'s message', async () => {
    const { key } = clientRegion('range', 16384);
    expect((await register('range', key, 16384)).status).toBe(200);
    const ok = shmParams('range', 16, 0);
    const cases: { input: Record<string, unknown>; output?: Record<string, unknown>; status: number; error: string }[] = [
      { input: shmParams('range', 16, 16384), status: 400, error: "Invalid offset for shared memory region: 'range'" },
      { input: shmParams('range', 16, 1e9), status: 400, error: "Invalid offset for shared memory region: 'range'" },
      { input: shmParams('range', 16, 16380), status: 400, error: "Invalid offset + byte size for shared memory region: 'range'" },
      { input: shmParams('range', 16385, 0), status: 400, error: "Invalid offset + byte size for shared memory region: 'range'" },
      { input: shmParams('range', 2 ** 63, 1), status: 400, error: "Invalid offset + byte size for shared memory region: 'range'" },
      {
        input: shmParams('range', 18446744073709549568, 4096),
        status: 400,
        error:
          'Integer overflow detected: byte_size (18446744073709549568) + offset (4096) exceeds maximum value ' +
          "(18446744073709551615) for region 'range'",
      },
      { input: ok, output: shmParams('range', 16, 16384), status: 400, error: "Invalid offset for shared memory region: 'range'" },
      { input: ok, output: shmParams('range', 64, 16352), status: 400, error: "Invalid offset + byte size for shared memory region: 'range'" },
      { input: shmParams('nope', 16), status: 404, error: "Unable to find shared memory region: 'nope'" },
      { input: ok, output: shmParams('nope', 16), status: 404, error: "Unable to find shared memory region: 'nope'" },
      { input: shmParams('range', -1), status: 400, error: "Unable to parse 'shared_memory_byte_size': attempt to access JSON non-unsigned-integer as unsigned-integer" },
      { input: { shared_memory_region: 7, shared_memory_byte_size: 16 }, status: 400, error: "Unable to parse 'shared_memory_region': attempt to access JSON non-string as string" },
      {
        input: ok,
        output: shmParams('range', 8, 0),
        status: 500,
        error: "shared memory size specified with the request for output 'OUTPUT0' (8 bytes) should be at least 16 bytes to hold the results",
      },
    ];
    for (const c of cases) {
      const res = await identityShm(4, c.input, c.output ?? shmParams('range', 16, 64));
      expect({ status: res.status, error: errorOf(res.text) }).toEqual({ status: c.status, error: c.error });
    }
    // A byte size that disagrees with the shape is caught by request validation.
    const wrong = await identityShm(4, shmParams('range', 12), shmParams('range', 16, 64));
    expect(wrong.status).toBe(400);
    await post(`${server.url}/v2/systemsharedmemory/region/range/unregister`);
  });

  test('register and status errors', async () => {
    const { key } = clientRegion('regerr', 4096);
    const url = (r: string, action: string): string => `${server.url}/v2/systemsharedmemory/region/${r}/${action}`;
    const expectError = async (p: Promise<{ status: number; text: string }>, status: number, error: string) => {
      const res = await p;
      expect({ status: res.status, error: errorOf(res.text) }).toEqual({ status, error });
    };
    await expectError(register('r1', key, 4097), 400, "failed to register shared memory region 'r1': invalid args");
    await expectError(register('r1', key, 4096, 1), 400, "failed to register shared memory region 'r1': invalid args");
    await expectError(register('r1', key, 0), 400, "failed to register shared memory region 'r1': byte_size must be greater than 0");
    await expectError(register('r1', `/infera_missing_${process.pid}`, 16), 500, `Unable to open shared memory region: '/infera_missing_${process.pid}'`);
    await expectError(register('r1', '///', 16), 400, "cannot register shared memory region 'r1' - invalid shm key '///'");
    await expectError(
      register('r1', '/triton_python_backend_shm_region_x', 16),
      400,
      "cannot register shared memory region 'r1' with key '/triton_python_backend_shm_region_x' as the key contains the reserved prefix 'triton_python_backend_shm_region_'",
    );
    await expectError(post(url('r1', 'register'), { byte_size: 16 }), 400, "Shared memory register request has no 'key' field");
    await expectError(post(url('r1', 'register'), { key }), 400, "Shared memory register request has no 'byte_size' field");
    await expectError(post(url('r1', 'register'), { key, byte_size: 'x' }), 400, 'attempt to access JSON non-unsigned-integer as unsigned-integer');
    await expectError(post(`${server.url}/v2/systemsharedmemory/register`, { key, byte_size: 16 }), 400, "'region name' is necessary to register system shared memory region");
    expect((await register('r1', key, 4096)).status).toBe(200);
    await expectError(register('r1', key, 16), 400, "shared memory region 'r1' already in manager");
    await expectError(get(url('none', 'status')).then((r) => ({ status: r.status, text: JSON.stringify(r.json) })), 404, "Unable to find system shared memory region: 'none'");
    await expectError(
      get(`${server.url}/v2/cudasharedmemory/region/r1/status`).then((r) => ({ status: r.status, text: JSON.stringify(r.json) })),
      404,
      "The region named 'r1' is registered as system shared memory, not CUDA shared memory",
    );
    expect((await fetch(url('r1', 'register'))).status).toBe(405);
    expect((await fetch(url('r1', 'status'), { method: 'POST' })).status).toBe(405);
    // Unregistering a name that is not registered is not an error (Triton).
    expect((await post(url('ghost', 'unregister'))).status).toBe(200);
    expect((await post(url('r1', 'unregister'))).status).toBe(200);
  });

  test('unregister one, then all', async () => {
    const { key } = clientRegion('unreg', 4096);
    for (const name of ['u1', 'u2', 'u3']) expect((await register(name, key, 64)).status).toBe(200);
    expect((await post(`${server.url}/v2/systemsharedmemory/region/u2/unregister`)).status).toBe(200);
    const names = ((await get(`${server.url}/v2/systemsharedmemory/status`)).json as { name: string }[]).map((r) => r.name);
    expect(names).toEqual(['u1', 'u3']);
    const gone = await identityShm(4, shmParams('u2', 16), shmParams('u1', 16, 16));
    expect(gone.status).toBe(404);
    expect((await post(`${server.url}/v2/systemsharedmemory/unregister`)).status).toBe(200);
    expect((await get(`${server.url}/v2/systemsharedmemory/status`)).json).toEqual([]);
  });

  test('a fuzzed set of offsets and sizes never crashes the server', async () => {
    const size = 64 * 1024;
    const { key, bytes } = clientRegion('fuzz', size);
    bytes.fill(1);
    expect((await register('fuzz', key, size)).status).toBe(200);
    let s = 12345;
    const rand = (n: number): number => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return s % n;
    };
    const specials = [0, 1, 3, 4, size - 4, size - 1, size, size + 1, 2 ** 32, 2 ** 53 - 1, 2 ** 63, 1e300];
    const pick = (): number => (rand(3) === 0 ? specials[rand(specials.length)]! : rand(size + 64));
    const statuses = new Map<number, number>();
    for (let round = 0; round < 25; round++) {
      const batch = Array.from({ length: 8 }, () => {
        const count = 1 + rand(64);
        return identityShm(count, shmParams('fuzz', pick(), pick()), shmParams('fuzz', pick(), pick()));
      });
      for (const res of await Promise.all(batch)) {
        expect([200, 400, 404, 500]).toContain(res.status);
        if (res.status !== 200) expect(typeof errorOf(res.text)).toBe('string');
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      }
    }
    expect(statuses.get(400)).toBeGreaterThan(0);
    // Still serving, and the region still works.
    expect((await fetch(`${server.url}/v2/health/live`)).status).toBe(200);
    const good = await identityShm(4, shmParams('fuzz', 16), shmParams('fuzz', 16, 16));
    expect(good.status).toBe(200);
    await post(`${server.url}/v2/systemsharedmemory/region/fuzz/unregister`);
  });

  test.skipIf(hasGpu)('CUDA shared memory answers UNSUPPORTED without a GPU (this machine has one)', async () => {
    const res = await post(`${server.url}/v2/cudasharedmemory/region/c0/register`, {
      raw_handle: { b64: Buffer.alloc(64).toString('base64') },
      device_id: 0,
      byte_size: 1024,
    });
    expect(res.status).toBe(501);
    expect(errorOf(res.text)).toMatch(/^failed to register CUDA shared memory region: 'c0', GPUs not supported: .+/);
    const bad = await post(`${server.url}/v2/cudasharedmemory/region/c0/register`, {
      raw_handle: { b64: 'AAAA' },
      device_id: 0,
      byte_size: 1024,
    });
    expect(errorOf(bad.text)).toBe("'raw_handle' must be a valid base64 encoded cudaIpcMemHandle_t");
    expect((await get(`${server.url}/v2/cudasharedmemory/region/c0/status`)).status).toBe(404);
  });
});

describe('without --allow-client-shm', () => {
  test('register and unregister answer 501, status lists nothing', async () => {
    const off = await startServer(['--model-repository', tmp.dir]);
    try {
      const { key } = clientRegion('off', 4096);
      const res = await post(`${off.url}/v2/systemsharedmemory/region/r/register`, { key, byte_size: 16 });
      expect({ status: res.status, error: errorOf(res.text) }).toEqual({
        status: 501,
        error: "Client shared memory is disabled. Start the server with '--allow-client-shm=true' to enable.",
      });
      expect((await post(`${off.url}/v2/cudasharedmemory/unregister`)).status).toBe(501);
      expect((await get(`${off.url}/v2/systemsharedmemory/status`)).json).toEqual([]);
    } finally {
      await off.stop();
    }
  });
});

describe('GPU features on a machine without a GPU', () => {
  test.skipIf(hasGpu)('KIND_GPU and TensorRT plans fail to load with their clear errors (this machine has a GPU)', async () => {
    const repo = tempDir();
    try {
      writeModel(repo.dir, 'gpu_model', identityModel('FP32', ['n']), {
        config: IDENTITY_CONFIG + 'instance_group [{ kind: KIND_GPU gpus: [ 0 ] }]\n',
      });
      const planDir = path.join(repo.dir, 'plan_model');
      writeModel(repo.dir, 'plan_model', new Uint8Array(0), {
        config: 'platform: "tensorrt_plan"\nmax_batch_size: 0\ninput [{ name: "x" data_type: TYPE_FP32 dims: [ 4 ] }]\noutput [{ name: "y" data_type: TYPE_FP32 dims: [ 4 ] }]\n',
      });
      writeFileSync(path.join(planDir, '1', 'model.plan'), Buffer.from('not a plan'));
      const srv = await startServer(['--model-repository', repo.dir, '--exit-on-error=false', '--strict-readiness=false']);
      try {
        const reasons = new Map<string, string>();
        for (const l of srv.logs) {
          const m = /^failed to load '([^']+)'.*?: (.*)$/s.exec(String(l.msg ?? ''));
          if (m) reasons.set(m[1]!, m[2]!);
        }
        const index = await post(`${srv.url}/v2/repository/index`, {});
        const rows = JSON.parse(index.text) as { name: string; reason?: string }[];
        const reason = (name: string): string => rows.find((r) => r.name === name)?.reason ?? reasons.get(name) ?? '';
        // Triton's instance-group check, before the backend: the machine has no GPU 0.
        expect(reason('gpu_model')).toContain(
          'instance group gpu_model_0 of model gpu_model specifies invalid or unsupported gpu id 0. GPUs with at least the minimum required CUDA compute compatibility of 7.500000 are: ',
        );
        expect(reason('plan_model')).toContain('TensorRT is not available in this build');
      } finally {
        await srv.stop();
      }
    } finally {
      repo.cleanup();
    }
  });
});
