/**
 * ONNX Runtime instances on shared-memory tensors (src/memory/region-io.ts,
 * backends/onnxruntime/worker-region-io.ts): the worker reads region inputs in place and
 * writes outputs into their regions, by ORT itself when the output's shape is known ahead and
 * by one copy otherwise; anything it cannot place comes back as bytes, as without shared
 * memory, and a region let go of mid-run fails the run cleanly.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ModelInstance } from '../../../../src/backends/backend.js';
import { OnnxRuntimeBackend } from '../../../../src/backends/onnxruntime/index.js';
import { InternalError, UnavailableError } from '../../../../src/errors/index.js';
import { decodeBytesElements, encodeBytesElements } from '../../../../src/infer/bytes-codec.js';
import type { Tensor } from '../../../../src/infer/tensor.js';
import { RequestSharedMemory, SharedMemoryManager, type SharedMemoryRef } from '../../../../src/memory/index.js';
import { loadNativeAddon } from '../../../../src/native/binding.js';
import { addSubModel, doublingModel, identityModel } from '../../../fixtures/onnx-models.js';
import { bytesOf, fp32Tensor, instanceOptions, pseudoRandomFloats } from './helpers.js';
import { executeRequest } from '../../../../src/backends/execute-request.js';

const addon = loadNativeAddon();
const backend = new OnnxRuntimeBackend();
const REGION_BYTES = 1 << 20;
const manager = new SharedMemoryManager({ allowClientShm: true });
let dir: string;
let key: string;
let client: ReturnType<typeof addon.SystemSharedMemoryRegion.create>;
/** The client's view of the whole object; the server registers it as 'r' and 'odd' (offset 2). */
let bytes: Uint8Array;
const files: Record<string, string> = {};
const opened: ModelInstance[] = [];

async function open(model: string): Promise<ModelInstance> {
  const inst = await backend.createInstance(instanceOptions(model, files[model]!));
  opened.push(inst);
  return inst;
}

/** A request's shared memory with `inputs` resolved and `outputs` reserved. */
function request(inputs: Record<string, SharedMemoryRef>, outputs: Record<string, SharedMemoryRef>) {
  const shm = new RequestSharedMemory(manager);
  const views = Object.fromEntries(Object.entries(inputs).map(([name, ref]) => [name, shm.input(ref)]));
  for (const [name, ref] of Object.entries(outputs)) shm.output(name, ref);
  return { shm, views };
}

const ref = (offset: number, byteSize: number, region = 'r'): SharedMemoryRef => ({ region, offset, byteSize });
const fp32 = (name: string, data: Uint8Array, shape = [data.byteLength / 4]): Tensor => ({ name, datatype: 'FP32', shape, data });
/** Whether `data` is the server's view of `region` at `offset` (written in place). */
function inRegionAt(data: Uint8Array, offset: number, region = 'r'): boolean {
  const lease = manager.acquire(region, 0, 1);
  const buffer = lease.read().buffer;
  lease.release();
  return data.buffer === buffer && data.byteOffset === offset;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'infera-ort-shm-'));
  const models: Record<string, Uint8Array> = {
    identity: identityModel('FP32', ['n']),
    unknown: doublingModel([null]),
    misdeclared: doublingModel(['n']),
    bytes: identityModel('BYTES', ['n']),
    addsub: addSubModel('FP32', [4]),
  };
  for (const [name, onnx] of Object.entries(models)) writeFileSync((files[name] = join(dir, `${name}.onnx`)), onnx);
  key = `/infera_ort_shm_${process.pid}`;
  client = addon.SystemSharedMemoryRegion.create(key, REGION_BYTES);
  bytes = new Uint8Array(client.buffer());
  manager.registerSystem('r', key, 0, REGION_BYTES);
  manager.registerSystem('odd', key, 2, REGION_BYTES - 2);
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((i) => i.close()));
});
afterAll(() => {
  manager.close();
  client.close();
  addon.SystemSharedMemoryRegion.unlink(key);
  rmSync(dir, { recursive: true, force: true });
});

describe('direct shared-memory I/O', () => {
  it('reads the input in place and has ORT write the output into its region', async () => {
    const inst = await open('identity');
    const values = pseudoRandomFloats(4096, 3);
    bytes.set(bytesOf(values), 0);
    const { shm, views } = request({ INPUT0: ref(0, 16384) }, { OUTPUT0: ref(65536, 16384) });
    const { outputs: [out] } = await executeRequest(inst, [fp32('INPUT0', views.INPUT0!)], ['OUTPUT0']);
    expect(out).toMatchObject({ name: 'OUTPUT0', datatype: 'FP32', shape: [4096] });
    expect(inRegionAt(out!.data, 65536)).toBe(true);
    expect(bytes.subarray(65536, 65536 + 16384)).toEqual(bytesOf(values));
    // The input was read where it is: not detached, not copied.
    expect(views.INPUT0!.byteLength).toBe(16384);
    shm.writeOutputs([out!]);
    expect(bytes.subarray(65536, 65536 + 16384)).toEqual(bytesOf(values));
    shm.release();

    // The same instance still serves ordinary tensors as before (transferred).
    const plain = fp32Tensor('INPUT0', [4096], values);
    const { outputs: [back] } = await executeRequest(inst, [plain], ['OUTPUT0']);
    expect(back!.data).toEqual(bytesOf(values));
    expect(plain.data.byteLength).toBe(0);
  });

  it('copies an output of unknown shape into its region; a too-small range gets the bytes back', async () => {
    const inst = await open('unknown');
    const values = pseudoRandomFloats(100, 5);
    bytes.set(bytesOf(values), 4096);
    const twice = new Uint8Array([...bytesOf(values), ...bytesOf(values)]);
    const fits = request({ INPUT0: ref(4096, 400) }, { OUTPUT0: ref(8192, 1000) });
    const { outputs: [out] } = await executeRequest(inst, [fp32('INPUT0', fits.views.INPUT0!)], ['OUTPUT0']);
    expect(out!.shape).toEqual([200]);
    expect(inRegionAt(out!.data, 8192)).toBe(true);
    expect(bytes.subarray(8192, 8992)).toEqual(twice);
    fits.shm.release();

    const small = request({ INPUT0: ref(4096, 400) }, { OUTPUT0: ref(16384, 400) });
    const { outputs: [back] } = await executeRequest(inst, [fp32('INPUT0', small.views.INPUT0!)], ['OUTPUT0']);
    expect(back!.data).toEqual(twice);
    expect(() => small.shm.writeOutputs([back!])).toThrow(
      new InternalError("shared memory size specified with the request for output 'OUTPUT0' (400 bytes) should be at least 800 bytes to hold the results"),
    );
    small.shm.release();
  });

  it('runs again without pre-allocation when ORT refuses the predicted shape', async () => {
    const inst = await open('misdeclared');
    const values = pseudoRandomFloats(10, 7);
    bytes.set(bytesOf(values), 0);
    const { shm, views } = request({ INPUT0: ref(0, 40) }, { OUTPUT0: ref(1024, 80) });
    const { outputs: [out] } = await executeRequest(inst, [fp32('INPUT0', views.INPUT0!)], ['OUTPUT0']);
    expect(out!.shape).toEqual([20]);
    expect(inRegionAt(out!.data, 1024)).toBe(true);
    expect(bytes.subarray(1024, 1104)).toEqual(new Uint8Array([...bytesOf(values), ...bytesOf(values)]));
    shm.release();
  });

  it('places BYTES outputs by copy and copies misaligned inputs', async () => {
    const strings = await open('bytes');
    const encoded = encodeBytesElements(['shared', 'memory', '']);
    bytes.set(encoded, 3);
    const b = request({ INPUT0: ref(3, encoded.byteLength) }, { OUTPUT0: ref(513, 64) });
    const { outputs: [s] } = await executeRequest(strings, [{ name: 'INPUT0', datatype: 'BYTES', shape: [3], data: b.views.INPUT0! }], ['OUTPUT0']);
    expect(inRegionAt(s!.data, 513)).toBe(true);
    expect(decodeBytesElements(s!.data, 's').map((e) => Buffer.from(e).toString())).toEqual(['shared', 'memory', '']);
    b.shm.release();

    // 'odd' starts 2 bytes into the object: FP32 at its offset 0 is not 4-byte aligned.
    const add = await open('addsub');
    const x = Float32Array.of(1, 2, 3, 4);
    const y = Float32Array.of(10, 20, 30, 40);
    bytes.set(bytesOf(x), 2);
    bytes.set(bytesOf(y), 2 + 16);
    const f = request({ INPUT0: ref(0, 16, 'odd'), INPUT1: ref(16, 16, 'odd') }, { OUTPUT0: ref(64, 16, 'odd') });
    const { outputs: [sum, diff] } = await executeRequest(add,
      [fp32('INPUT0', f.views.INPUT0!, [4]), fp32('INPUT1', f.views.INPUT1!, [4])],
      ['OUTPUT0', 'OUTPUT1'],
    );
    expect(inRegionAt(sum!.data, 64, 'odd')).toBe(true);
    expect(Array.from(new Float32Array(bytes.slice(66, 82).buffer))).toEqual([11, 22, 33, 44]);
    expect(Array.from(new Float32Array(diff!.data.slice().buffer))).toEqual([-9, -18, -27, -36]);
    f.shm.release();
  });

  it('leaves outputs alone when the execution is not the request alone', async () => {
    const add = await open('addsub');
    bytes.set(bytesOf(Float32Array.of(1, 1, 1, 1)), 0);
    const { shm, views } = request({ INPUT0: ref(0, 16) }, { OUTPUT0: ref(256, 16) });
    const other = fp32Tensor('INPUT1', [4], Float32Array.of(1, 2, 3, 4));
    const { outputs: [sum] } = await executeRequest(add, [fp32('INPUT0', views.INPUT0!, [4]), other], ['OUTPUT0']);
    expect(inRegionAt(sum!.data, 256)).toBe(false);
    expect(Array.from(new Float32Array(sum!.data.slice().buffer))).toEqual([2, 3, 4, 5]);
    shm.release();
  });

  it('a region let go of while the run is in flight fails that run cleanly', async () => {
    const inst = await open('identity');
    manager.registerSystem('gone', key, 0, REGION_BYTES);
    const { shm, views } = request({ INPUT0: ref(0, 262144, 'gone') }, { OUTPUT0: ref(262144, 262144, 'gone') });
    const run = executeRequest(inst, [fp32('INPUT0', views.INPUT0!)], ['OUTPUT0']);
    // The request gives up its leases and the region is unregistered: it closes at once.
    shm.release();
    manager.unregisterSystem('gone');
    const outcome = await run.then(
      ({ outputs: [out] }) => (out!.data.byteLength === 262144 ? 'bytes' : 'wrong'),
      (err: unknown) => (err instanceof UnavailableError ? 'unavailable' : err),
    );
    // Usually the worker finds the region closed, or runs on its own hold of the mapping and
    // the main thread then finds the output's region gone; if the region closed between the
    // worker's input and output views, the output comes back as bytes.
    expect(['unavailable', 'bytes']).toContain(outcome);
    const values = pseudoRandomFloats(4, 9);
    const { outputs: [out] } = await executeRequest(inst, [fp32Tensor('INPUT0', [4], values)], ['OUTPUT0']);
    expect(out!.data).toEqual(bytesOf(values));
  });
});
