/**
 * A client that shrinks its own POSIX shared-memory object after registering it must not crash
 * the server. A page of a MAP_SHARED mapping past the object's end raises SIGBUS when touched
 * (Triton dies of it); infera checks the object's size at every use of a region and fails
 * that request alone with an error naming the region. Covers an input read (HTTP and gRPC),
 * an output write after the model ran, and the direct region I/O of ONNX Runtime's worker.
 */
import { existsSync, truncateSync } from 'node:fs';
import { create } from '@bufbuild/protobuf';
import { Client, credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  InferParameterSchema,
  ModelInferRequest_InferInputTensorSchema,
  ModelInferRequest_InferRequestedOutputTensorSchema,
  ModelInferRequestSchema,
} from '../../src/generated/grpc_service_pb.js';
import { loadNativeAddon, type NativeSystemSharedMemoryRegion } from '../../src/native/binding.js';
import { INFERENCE_SERVICE } from '../../src/protocol/grpc/index.js';
import { identityModel, writeModel } from '../fixtures/onnx-models.js';
import { writeJsModel } from '../fixtures/js-models/repo.js';
import { shmKeys } from '../fixtures/shm-keys.js';
import { startServer, type RunningServer } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-repo.js';

const MIB = 1024 * 1024;
const IDENTITY_CONFIG = `backend: "onnxruntime"
max_batch_size: 0
input [{ name: "INPUT0" data_type: TYPE_FP32 dims: [ -1 ] }]
output [{ name: "OUTPUT0" data_type: TYPE_FP32 dims: [ -1 ] }]
`;
const SLOW_CONFIG = `backend: "javascript"
max_batch_size: 0
input [{ name: "IN", data_type: TYPE_INT32, dims: [2] }]
output [{ name: "OUT", data_type: TYPE_INT32, dims: [2] }]
parameters { key: "delay_ms" value { string_value: "1500" } }
`;

/** Where POSIX shared-memory objects live as files (Linux tmpfs). */
const DEV_SHM = '/dev/shm';
const addon = loadNativeAddon();
const key = shmKeys('resized');
const tmp = tempDir();
const clientRegions: NativeSystemSharedMemoryRegion[] = [];
let server: RunningServer;

/** A 1 MiB object made by the "client", registered whole as `name`; returns its key. */
async function registered(name: string): Promise<string> {
  const k = key(name);
  const region = addon.SystemSharedMemoryRegion.create(k, MIB);
  // This process never touches the bytes again: after the truncate they would fault here too.
  clientRegions.push(region);
  const res = await post(`/v2/systemsharedmemory/region/${name}/register`, { key: k, offset: 0, byte_size: MIB });
  expect(res.status).toBe(200);
  return k;
}

const truncate = (k: string): void => truncateSync(`${DEV_SHM}${k}`, 0);

async function post(route: string, body: unknown): Promise<{ status: number; text: string }> {
  const res = await fetch(`${server.url}${route}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

const shm = (region: string, byteSize: number, offset: number) => ({
  shared_memory_region: region,
  shared_memory_byte_size: byteSize,
  shared_memory_offset: offset,
});

/** The server still runs and answers. */
async function expectAlive(): Promise<void> {
  expect(server.process.exitCode).toBeNull();
  expect(server.process.signalCode).toBeNull();
  expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(200);
}

function resizedError(region: string): RegExp {
  return new RegExp(`shared memory region '${region}'.*now \\d+ bytes`);
}

beforeAll(async () => {
  writeModel(tmp.dir, 'identity_fp32', identityModel('FP32', ['n']), { config: IDENTITY_CONFIG });
  writeJsModel(tmp.dir, 'slow', 'slow.mjs', SLOW_CONFIG);
  server = await startServer(['--model-repository', tmp.dir, '--allow-client-shm=true']);
});

afterAll(async () => {
  await server?.stop();
  for (const r of clientRegions) r.close();
  tmp.cleanup();
});

describe.skipIf(!existsSync(DEV_SHM))('a shared-memory object shrunk after registration', () => {
  test('HTTP: an input at offset 524288 of a 1 MiB object truncated to 0 fails that request only', async () => {
    truncate(await registered('in_http'));
    const res = await post('/v2/models/identity_fp32/infer', {
      inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [16], parameters: shm('in_http', 64, 524288) }],
    });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).error).toMatch(resizedError('in_http'));
    await expectAlive();
  });

  test('HTTP: an output range in a truncated object fails that request only', async () => {
    truncate(await registered('out_http'));
    const res = await post('/v2/models/identity_fp32/infer', {
      inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [4], data: [1, 2, 3, 4] }],
      outputs: [{ name: 'OUTPUT0', parameters: shm('out_http', 16, 524288) }],
    });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).error).toMatch(resizedError('out_http'));
    await expectAlive();
  });

  test('HTTP: an object shrunk while the model runs fails the output write', async () => {
    const k = await registered('out_late');
    const pending = post('/v2/models/slow/infer', {
      inputs: [{ name: 'IN', datatype: 'INT32', shape: [2], data: [4, 2] }],
      outputs: [{ name: 'OUT', parameters: shm('out_late', 8, 524288) }],
    });
    await new Promise((r) => setTimeout(r, 500));
    truncate(k);
    const res = await pending;
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).error).toMatch(resizedError('out_late'));
    await expectAlive();
  });

  test('HTTP: an input object shrunk during the run fails the request (regions are checked again after it)', async () => {
    const k = await registered('in_late');
    // Shrunk after every check made on arrival, while the model sleeps: the model may have read
    // zero pages (the SIGBUS guard) or a copy, so the request must not succeed.
    const pending = post('/v2/models/slow/infer', {
      inputs: [{ name: 'IN', datatype: 'INT32', shape: [2], parameters: shm('in_late', 8, 524288) }],
    });
    await new Promise((r) => setTimeout(r, 500));
    truncate(k);
    const res = await pending;
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).error).toMatch(/shared memory region 'in_late' is no longer usable/);
    await expectAlive();
  });

  test('gRPC: an input in a truncated object fails with INVALID_ARGUMENT', async () => {
    truncate(await registered('in_grpc'));
    const param = (v: Record<string, unknown>) =>
      Object.fromEntries(
        Object.entries(v).map(([n, x]) => [
          n,
          create(InferParameterSchema, {
            parameterChoice: typeof x === 'string' ? { case: 'stringParam', value: x } : { case: 'int64Param', value: BigInt(x as number) },
          }),
        ]),
      );
    const msg = create(ModelInferRequestSchema, {
      modelName: 'identity_fp32',
      inputs: [
        create(ModelInferRequest_InferInputTensorSchema, {
          name: 'INPUT0',
          datatype: 'FP32',
          shape: [16n],
          parameters: param(shm('in_grpc', 64, 524288)),
        }),
      ],
      outputs: [create(ModelInferRequest_InferRequestedOutputTensorSchema, { name: 'OUTPUT0' })],
    });
    const client = new Client(server.grpcUrl!, credentials.createInsecure());
    try {
      const err = await new Promise<ServiceError | undefined>((resolve) => {
        const m = INFERENCE_SERVICE.modelInfer;
        client.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, msg, new Metadata(), (e) =>
          resolve(e ?? undefined),
        );
      });
      expect(err?.code).toBe(3);
      expect(err?.details).toMatch(resizedError('in_grpc'));
    } finally {
      client.close();
    }
    await expectAlive();
  });

  test('a region kept after the failure works again once the object has its size back', async () => {
    const k = await registered('regrow');
    truncate(k);
    const body = { inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [4], parameters: shm('regrow', 16, 0) }] };
    expect((await post('/v2/models/identity_fp32/infer', body)).status).toBe(400);
    truncateSync(`${DEV_SHM}${k}`, MIB);
    const res = await post('/v2/models/identity_fp32/infer', body);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text).outputs[0].data).toEqual([0, 0, 0, 0]);
  });
});
