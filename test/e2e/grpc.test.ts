/**
 * The gRPC endpoint of the real CLI (`--grpc-port 0`): every RPC, every datatype through
 * onnxruntime (raw and typed contents), Triton's statuses and messages for bad requests, and
 * parity with the HTTP endpoint of the same server (model config, extension answers).
 */
import { create } from '@bufbuild/protobuf';
import { Client, credentials, Metadata, status, type MethodDefinition, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GrpcClient, GrpcClientError, HttpClient, type InferInput, type InputData } from '../../src/client/index.js';
import {
  CudaSharedMemoryRegisterRequestSchema,
  InferTensorContentsSchema,
  LogSettingsRequestSchema,
  ModelInferRequest_InferInputTensorSchema,
  ModelInferRequestSchema,
  ModelReadyRequestSchema,
  SystemSharedMemoryStatusRequestSchema,
  TraceSettingRequestSchema,
} from '../../src/generated/grpc_service_pb.js';
import { HealthCheckRequestSchema, HealthCheckResponse_ServingStatus } from '../../src/generated/health_pb.js';
import type { Datatype } from '../../src/infer/datatype.js';
import { HEALTH_SERVICE, INFERENCE_SERVICE } from '../../src/protocol/grpc/index.js';
import { addSubModel, identityModel, writeModel } from '../fixtures/onnx-models.js';
import { bytesOf, pseudoRandomFloats } from './helpers/data.js';
import { startServer, type RunningServer } from './helpers/server-process.js';
import { copyExampleModel, tempDir } from './helpers/temp-repo.js';

const CASES: { datatype: Datatype; data: InputData }[] = [
  { datatype: 'BOOL', data: [true, false, true, true] },
  { datatype: 'UINT8', data: Uint8Array.of(0, 1, 200, 255) },
  { datatype: 'UINT16', data: Uint16Array.of(0, 1, 65535, 300) },
  { datatype: 'UINT32', data: Uint32Array.of(0, 1, 4294967295, 7) },
  { datatype: 'UINT64', data: BigUint64Array.of(0n, 1n, 2n ** 64n - 1n, 9n) },
  { datatype: 'INT8', data: Int8Array.of(-128, -1, 0, 127) },
  { datatype: 'INT16', data: Int16Array.of(-32768, -1, 0, 32767) },
  { datatype: 'INT32', data: Int32Array.of(-2147483648, -1, 0, 2147483647) },
  { datatype: 'INT64', data: BigInt64Array.of(-(2n ** 63n), -1n, 0n, 2n ** 63n - 1n) },
  { datatype: 'FP16', data: Uint16Array.of(0x3c00, 0xc000, 0x7bff, 0x0001) },
  { datatype: 'FP32', data: Float32Array.of(-1.5, 0, 3.4028234663852886e38, 1e-45) },
  { datatype: 'FP64', data: Float64Array.of(-1.5, 0, Number.MAX_VALUE, 5e-324) },
  { datatype: 'BYTES', data: ['', 'hello', 'ünïcödé', 'tab\tnew\nline'] },
];

const tmp = tempDir();
let server: RunningServer;
let grpc: GrpcClient;
let http: HttpClient;
let raw: Client;

beforeAll(async () => {
  for (const c of CASES)
    writeModel(tmp.dir, `identity_${c.datatype.toLowerCase()}`, identityModel(c.datatype, ['batch', 4]));
  writeModel(tmp.dir, 'simple', addSubModel());
  copyExampleModel(tmp.dir, 'text_direction');
  server = await startServer(['--model-repository', tmp.dir]);
  grpc = new GrpcClient({ url: server.grpcUrl! });
  http = new HttpClient({ url: server.url });
  raw = new Client(server.grpcUrl!, credentials.createInsecure());
});

afterAll(async () => {
  grpc?.close();
  raw?.close();
  expect(await server?.stop()).toBe(0);
  tmp.cleanup();
});

function call<Req, Res>(method: MethodDefinition<Req, Res>, request: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    raw.makeUnaryRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      request,
      new Metadata(),
      (err, v) => (err ? reject(err) : resolve(v!)),
    );
  });
}

/** The status of a failed call, from the client's error or a raw grpc-js one. */
async function failure(p: Promise<unknown>): Promise<{ code: number; message: string }> {
  const err = await p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e as GrpcClientError | ServiceError,
  );
  return { code: err.code, message: err instanceof GrpcClientError ? err.message : err.details };
}

const plain = (d: unknown): unknown[] =>
  Array.from(d as ArrayLike<unknown>, (x) => (typeof x === 'boolean' ? Number(x) : x));
const classifierInput = (shape: number[], datatype: Datatype = 'FP32'): InferInput => ({
  name: 'x',
  datatype,
  shape,
  data: pseudoRandomFloats(shape.reduce((a, b) => a * b, 1)),
});

describe('health and metadata', () => {
  test('live, ready, the health service and model readiness', async () => {
    expect(server.grpcUrl).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(await grpc.isServerLive()).toBe(true);
    expect(await grpc.isServerReady()).toBe(true);
    const health = await call(HEALTH_SERVICE.check, create(HealthCheckRequestSchema));
    expect(health.status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    expect(await grpc.isModelReady('text_direction')).toBe(true);
    expect(await grpc.isModelReady('text_direction', 1)).toBe(true);
    expect(await grpc.isModelReady('text_direction', 7)).toBe(false);
    const ready = (name: string, version = '') =>
      call(INFERENCE_SERVICE.modelReady, create(ModelReadyRequestSchema, { name, version }));
    expect(await failure(ready('nope'))).toEqual({
      code: status.NOT_FOUND,
      message: "Request for unknown model: 'nope' is not found",
    });
    expect(await failure(ready('text_direction', '7'))).toMatchObject({ code: status.NOT_FOUND });
  });

  test('server metadata, model metadata and model config equal the HTTP answers', async () => {
    expect(await grpc.serverMetadata()).toEqual(await http.serverMetadata());
    expect(await grpc.modelMetadata('text_direction')).toEqual({
      name: 'text_direction',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3, 48, 192] }],
      outputs: [{ name: 'softmax_0.tmp_0', datatype: 'FP32', shape: [-1, 2] }],
    });
    expect(await grpc.modelMetadata('simple', 1)).toEqual(await http.modelMetadata('simple', 1));
    for (const model of ['text_direction', 'simple', 'identity_bytes']) {
      expect(await grpc.modelConfig(model)).toEqual(await http.modelConfig(model));
    }
  });
});

describe('ModelInfer', () => {
  for (const c of CASES) {
    test(`${c.datatype}: identity round trip, raw${c.datatype === 'FP16' ? '' : ' and typed contents'}`, async () => {
      for (const binary of c.datatype === 'FP16' ? [true] : [true, false]) {
        const res = await grpc.infer({
          model: `identity_${c.datatype.toLowerCase()}`,
          inputs: [{ name: 'INPUT0', datatype: c.datatype, shape: [1, 4], data: c.data }],
          binary,
        });
        const out = res.output('OUTPUT0');
        expect([out.datatype, out.shape]).toEqual([c.datatype, [1, 4]]);
        expect(plain(out.data)).toEqual(plain(c.data));
      }
    });
  }

  test('simple add/sub, id echoed, outputs chosen', async () => {
    const a = Int32Array.from({ length: 32 }, (_, i) => i);
    const b = Int32Array.from({ length: 32 }, (_, i) => 100 - i);
    const res = await grpc.infer({
      model: 'simple',
      id: 'add-1',
      inputs: [
        { name: 'INPUT0', datatype: 'INT32', shape: [2, 16], data: a },
        { name: 'INPUT1', datatype: 'INT32', shape: [2, 16], data: b },
      ],
      outputs: [{ name: 'OUTPUT1' }],
    });
    expect(res.id).toBe('add-1');
    expect(res.outputs.map((o) => o.name)).toEqual(['OUTPUT1']);
    expect(Array.from(res.output('OUTPUT1').data as Int32Array)).toEqual(Array.from(a, (v, i) => v - b[i]!));
  });

  test('text_direction equals the HTTP answer bit for bit; classification with labels', async () => {
    const input = classifierInput([2, 3, 48, 192]);
    const [viaGrpc, viaHttp] = await Promise.all([
      grpc.infer({ model: 'text_direction', inputs: [input] }),
      http.infer({ model: 'text_direction', inputs: [input] }),
    ]);
    const out = viaGrpc.output('softmax_0.tmp_0');
    expect(out.shape).toEqual([2, 2]);
    expect(
      bytesOf(out.data as Float32Array).equals(bytesOf(viaHttp.output('softmax_0.tmp_0').data as Float32Array)),
    ).toBe(true);

    const cls = await grpc.infer({
      model: 'text_direction',
      inputs: [input],
      outputs: [{ name: 'softmax_0.tmp_0', classification: 2 }],
    });
    const c = cls.output('softmax_0.tmp_0');
    expect([c.datatype, c.shape]).toEqual(['BYTES', [2, 2]]);
    for (const s of c.data as string[]) expect(s).toMatch(/^[01]\.\d{6}:(0:0|1:180)$/);
  });
});

describe('bad requests get Triton statuses and messages, and the server keeps serving', () => {
  const infer = (inputs: ReturnType<typeof classifierInput>[], extra: Record<string, unknown> = {}) =>
    failure(grpc.infer({ model: 'text_direction', inputs, ...extra }));

  test('unknown model, unknown version', async () => {
    expect(await failure(grpc.infer({ model: 'nope', inputs: [classifierInput([1, 3, 48, 192])] }))).toEqual({
      code: status.NOT_FOUND,
      message: "Request for unknown model: 'nope' is not found",
    });
    expect(await infer([classifierInput([1, 3, 48, 192])], { version: 7 })).toEqual({
      code: status.NOT_FOUND,
      message: "Request for unknown model: 'text_direction' version 7 is not found",
    });
  });

  test('an error echoing a 100,000-character request id still reaches the client, cut short', async () => {
    // Unbounded, the id went into the grpc-message trailer, which the client never accepted:
    // the call and every other call on the connection hung to their deadlines.
    const id = 'A'.repeat(100_000);
    const bad = { ...classifierInput([1, 3, 48, 192]), datatype: 'INT32' as const, data: new Int32Array(3 * 48 * 192) };
    const err = await infer([bad], { id });
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.message.startsWith('[request id: AAAA')).toBe(true);
    expect(err.message.length).toBeLessThan(5000);
    expect(err.message.endsWith('(message truncated)')).toBe(true);
    expect(await grpc.isServerReady()).toBe(true);
  });

  test('wrong datatype, shape and batch size', async () => {
    const dt = await infer([
      { ...classifierInput([1, 3, 48, 192]), datatype: 'INT32', data: new Int32Array(3 * 48 * 192) },
    ]);
    expect(dt.code).toBe(status.INVALID_ARGUMENT);
    expect(dt.message).toMatch(/inference input 'x' data-type is 'INT32', but model 'text_direction' expects 'FP32'/);
    const shape = await infer([classifierInput([1, 3, 48, 100])]);
    expect(shape.message).toMatch(
      /unexpected shape for input 'x' for model 'text_direction'\. Expected \[-1,3,48,192\], got \[1,3,48,100\]/,
    );
    expect((await infer([classifierInput([9, 3, 48, 192])])).message).toMatch(
      /batch-size must be <= 8 for 'text_direction'/,
    );
  });

  test('raw contents of the wrong byte size, typed contents of the wrong type', async () => {
    const msg = create(ModelInferRequestSchema, {
      modelName: 'text_direction',
      inputs: [
        create(ModelInferRequest_InferInputTensorSchema, { name: 'x', datatype: 'FP32', shape: [1n, 3n, 48n, 192n] }),
      ],
      rawInputContents: [new Uint8Array(400)],
    });
    expect(await failure(call(INFERENCE_SERVICE.modelInfer, msg))).toEqual({
      code: status.INVALID_ARGUMENT,
      message:
        "[request id: <id_unknown>] input byte size mismatch for input 'x' for model 'text_direction'. Expected 110592, got 400",
    });
    msg.rawInputContents = [];
    msg.inputs[0]!.contents = create(InferTensorContentsSchema, { intContents: [1] });
    expect(await failure(call(INFERENCE_SERVICE.modelInfer, msg))).toEqual({
      code: status.INVALID_ARGUMENT,
      message:
        "unexpected explicit tensor data for input tensor 'x' for model 'text_direction' of type 'INT32', expected datatype 'FP32'",
    });
    msg.inputs[0]!.contents = undefined;
    expect((await failure(call(INFERENCE_SERVICE.modelInfer, msg))).message).toBe(
      "unable to find data for input tensor 'x' for model 'text_direction' in request.",
    );
  });

  test('missing input, unknown input, unknown output', async () => {
    expect((await infer([])).message).toMatch(
      /expected 1 inputs but got 0 inputs for model 'text_direction'.*missing required input\(s\) \['x'\]/,
    );
    expect((await infer([{ ...classifierInput([1, 1]), name: 'y' }])).message).toMatch(
      /unexpected inference input 'y' for model 'text_direction'/,
    );
    expect((await infer([classifierInput([1, 3, 48, 192])], { outputs: [{ name: 'nope' }] })).message).toMatch(
      /unexpected inference output 'nope' for model 'text_direction'/,
    );
  });

  test('after all of that the server still answers', async () => {
    const res = await grpc.infer({ model: 'text_direction', inputs: [classifierInput([1, 3, 48, 192])] });
    expect(res.output('softmax_0.tmp_0').shape).toEqual([1, 2]);
  });
});

describe('extension RPCs answer as the HTTP extensions of the same server do', () => {
  /** gRPC and HTTP agree: both succeed with equal results, or gRPC fails where HTTP does. */
  async function agree<G, H>(
    viaGrpc: () => Promise<G>,
    viaHttp: () => Promise<H>,
    compare: (g: G, h: H) => void,
  ): Promise<void> {
    const h = await viaHttp().then(
      (v) => ({ ok: true as const, v }),
      (e: { status: number; message: string }) => ({ ok: false as const, e }),
    );
    if (h.ok) {
      compare(await viaGrpc(), h.v);
      return;
    }
    const g = await failure(viaGrpc());
    // Not implemented yet over HTTP (503 stubs) means UNIMPLEMENTED here; otherwise the same status and message.
    if (h.e.status === 503 && /does not support/.test(h.e.message)) expect(g.code).toBe(status.UNIMPLEMENTED);
    else expect(g.message).toBe(h.e.message);
  }

  test('repository index, statistics', async () => {
    await agree(
      () => grpc.repositoryIndex(),
      () => http.repositoryIndex(),
      (g, h) => expect(g).toEqual(h),
    );
    await agree(
      () => grpc.modelStatistics('simple'),
      () => http.modelStatistics('simple'),
      (g, h) => expect(Object.keys(g).sort()).toEqual(Object.keys(h).sort()),
    );
  });

  test('log and trace settings read the same values', async () => {
    const getJson = async (path: string) => {
      const res = await fetch(`${server.url}${path}`);
      const body = (await res.json()) as Record<string, unknown>;
      if (!res.ok) throw Object.assign(new Error(String(body['error'])), { status: res.status });
      return body;
    };
    const lists = (settings: Record<string, { value: string[] }>) =>
      Object.fromEntries(Object.entries(settings).map(([k, v]) => [k, v.value]));
    await agree(
      async () => lists((await call(INFERENCE_SERVICE.traceSetting, create(TraceSettingRequestSchema))).settings),
      async () => getJson('/v2/trace/setting'),
      (g, h) =>
        expect(g).toEqual(Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]))),
    );
    const values = (settings: Record<string, { parameterChoice: { value?: unknown } }>) =>
      Object.fromEntries(Object.entries(settings).map(([k, v]) => [k, v.parameterChoice.value]));
    await agree(
      async () => values((await call(INFERENCE_SERVICE.logSettings, create(LogSettingsRequestSchema))).settings),
      async () => getJson('/v2/logging'),
      (g, h) => expect(g).toEqual(h),
    );
  });

  test('load and unload outside explicit mode', async () => {
    await agree(
      () => grpc.loadModel('simple'),
      () => http.loadModel('simple'),
      () => undefined,
    );
    await agree(
      () => grpc.unloadModel('nope'),
      () => http.unloadModel('nope'),
      () => undefined,
    );
  });

  test('shared memory with client shared memory disabled', async () => {
    const st = await call(INFERENCE_SERVICE.systemSharedMemoryStatus, create(SystemSharedMemoryStatusRequestSchema));
    expect(st.regions).toEqual({});
    expect(
      await failure(
        call(INFERENCE_SERVICE.cudaSharedMemoryRegister, create(CudaSharedMemoryRegisterRequestSchema, { name: 'r' })),
      ),
    ).toEqual({
      code: status.UNIMPLEMENTED,
      message: "Client shared memory is disabled. Start the server with '--allow-client-shm=true' to enable.",
    });
  });
});
