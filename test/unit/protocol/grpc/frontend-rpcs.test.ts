/**
 * The gRPC frontend's unary RPCs in-process over a real grpc-js connection, driven by the
 * infera gRPC client and hand-built requests, against fake cores: RPC mapping, Triton's
 * statuses and messages, the optional extension methods present and absent, shared memory.
 */
import { create } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GrpcClientError } from '../../../../src/client/index.js';
import { HealthCheckRequestSchema, HealthCheckResponse_ServingStatus } from '../../../../src/generated/health_pb.js';
import {
  ModelReadyRequestSchema,
  SystemSharedMemoryRegisterRequestSchema,
  SystemSharedMemoryStatusRequestSchema,
  CudaSharedMemoryStatusRequestSchema,
  CudaSharedMemoryUnregisterRequestSchema,
} from '../../../../src/generated/grpc_service_pb.js';
import { HEALTH_SERVICE, INFERENCE_SERVICE } from '../../../../src/protocol/grpc/service-definition.js';
import { FakeExtendedCore, FakeGrpcCore } from './fake-core.js';
import { call, failure, ints, simple, start, stopAll, type Running } from './grpc-harness.js';

afterAll(stopAll);

describe('core RPCs', () => {
  let core: FakeGrpcCore;
  let r: Running;
  beforeAll(async () => {
    core = new FakeGrpcCore();
    r = await start(core);
  });

  test('health, readiness and the standard health check', async () => {
    expect(await r.client.isServerLive()).toBe(true);
    expect(await r.client.isServerReady()).toBe(true);
    const check = () => call(r.raw, HEALTH_SERVICE.check, create(HealthCheckRequestSchema));
    expect((await check()).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    core.ready = false;
    expect(await r.client.isServerReady()).toBe(false);
    expect((await check()).status).toBe(HealthCheckResponse_ServingStatus.NOT_SERVING);
    core.ready = true;
  });

  test('model readiness: lookup failures are statuses, as GetModel makes them in Triton', async () => {
    expect(await r.client.isModelReady('simple')).toBe(true);
    expect(await r.client.isModelReady('nope')).toBe(false);
    const ready = (name: string, version: string) =>
      call(r.raw, INFERENCE_SERVICE.modelReady, create(ModelReadyRequestSchema, { name, version }));
    expect(await failure(ready('nope', ''))).toEqual({
      code: status.NOT_FOUND,
      message: "Request for unknown model: 'nope' is not found",
    });
    expect((await failure(ready('simple', '2'))).code).toBe(status.NOT_FOUND);
    expect((await failure(ready('simple', '3'))).code).toBe(status.UNAVAILABLE);
    expect((await failure(ready('simple', 'x'))).message).toMatch(
      /failed to get model version from specified version string 'x'/,
    );
  });

  test('server and model metadata, model config as the ModelConfig message', async () => {
    expect(await r.client.serverMetadata()).toEqual({
      name: 'triton',
      version: '0.1.0',
      extensions: ['classification', 'model_configuration'],
    });
    expect(await r.client.modelMetadata('simple', 1)).toEqual({
      name: 'simple',
      versions: ['1'],
      platform: 'fake',
      inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [-1, 16] }],
      outputs: [{ name: 'OUTPUT0', datatype: 'INT32', shape: [-1, 16] }],
    });
    const config = await r.client.modelConfig('simple');
    expect(config).toMatchObject({ name: 'simple', backend: 'onnxruntime', max_batch_size: 8 });
    expect(config['input']).toEqual([expect.objectContaining({ name: 'INPUT0', data_type: 'TYPE_INT32', dims: [16] })]);
    expect(config['instance_group']).toEqual([expect.objectContaining({ kind: 'KIND_CPU', count: 2 })]);
    expect(await failure(r.client.modelConfig('simple', 2))).toMatchObject({ code: status.NOT_FOUND });
  });

  test('infer: raw and typed inputs, id and parameters echoed', async () => {
    for (const binary of [true, false]) {
      const res = await r.client.infer({ ...simple('id-1', { echo: 'hi' }), binary });
      expect(res.id).toBe('id-1');
      expect(res.modelName).toBe('simple');
      expect(res.modelVersion).toBe('1');
      expect(res.parameters).toEqual({ echo: 'hi', count: 3, ratio: 0.5 });
      expect(Array.from(res.output('OUTPUT0').data as Int32Array)).toEqual(Array.from(ints(16, (i) => i + 1)));
      expect(Array.from(res.output('OUTPUT1').data as Int32Array)).toEqual(Array.from(ints(16, (i) => i - 1)));
    }
    expect(core.requests.at(-1)!.parameters).toEqual({ echo: 'hi' });
  });

  test('infer errors: the model lookup wins over a bad tensor, decoupled models are refused', async () => {
    const broken = { model: 'nope', inputs: [] };
    const e = await failure(r.client.infer(broken));
    expect(e).toEqual({ code: status.NOT_FOUND, message: "Request for unknown model: 'nope' is not found" });
    const err = await r.client.infer(broken).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(GrpcClientError);
    expect((err as GrpcClientError).status).toBe(404);
    // A request whose only problem is a parameter: the parameter's message.
    expect(await failure(r.client.infer({ ...simple(), parameters: { triton_x: true } }))).toMatchObject({
      code: status.INVALID_ARGUMENT,
      message: expect.stringMatching(/reserved for Triton usage/),
    });
    expect(await failure(r.client.infer({ ...simple(), model: 'simple', version: 2 }))).toMatchObject({
      code: status.NOT_FOUND,
    });
    expect(await failure(r.client.infer({ model: 'decoupled', inputs: [] }))).toEqual({
      code: status.UNIMPLEMENTED,
      message: "ModelInfer RPC doesn't support models with decoupled transaction policy",
    });
  });

  test("a core's errors for extensions it does not serve reach the client unchanged", async () => {
    // The stub core answers as Triton built without statistics: UNAVAILABLE (grpc_server.cc).
    expect(await failure(r.client.modelStatistics())).toEqual({
      code: status.UNAVAILABLE,
      message: 'the server does not support model statistics',
    });
    expect(await failure(r.client.repositoryIndex())).toMatchObject({
      code: status.UNAVAILABLE,
      message: 'the server does not support model repository index',
    });
    expect(await failure(r.client.loadModel('simple'))).toMatchObject({ code: status.UNAVAILABLE });
    expect(await failure(r.client.unloadModel('simple'))).toMatchObject({ code: status.UNAVAILABLE });
  });

  test('shared memory answers as Triton does with client shared memory disabled', async () => {
    const sys = await call(
      r.raw,
      INFERENCE_SERVICE.systemSharedMemoryStatus,
      create(SystemSharedMemoryStatusRequestSchema),
    );
    expect(sys.regions).toEqual({});
    const named = call(
      r.raw,
      INFERENCE_SERVICE.cudaSharedMemoryStatus,
      create(CudaSharedMemoryStatusRequestSchema, { name: 'r' }),
    );
    expect(await failure(named)).toEqual({
      code: status.NOT_FOUND,
      message: "Unable to find cuda shared memory region: 'r'",
    });
    const disabled = "Client shared memory is disabled. Start the server with '--allow-client-shm=true' to enable.";
    const reg = call(
      r.raw,
      INFERENCE_SERVICE.systemSharedMemoryRegister,
      create(SystemSharedMemoryRegisterRequestSchema, { name: 'r' }),
    );
    expect(await failure(reg)).toEqual({ code: status.UNIMPLEMENTED, message: disabled });
    const unreg = call(
      r.raw,
      INFERENCE_SERVICE.cudaSharedMemoryUnregister,
      create(CudaSharedMemoryUnregisterRequestSchema),
    );
    expect(await failure(unreg)).toEqual({ code: status.UNIMPLEMENTED, message: disabled });
  });
});

describe('extension RPCs backed by the core', () => {
  let core: FakeExtendedCore;
  let r: Running;
  beforeAll(async () => {
    core = new FakeExtendedCore();
    r = await start(core);
  });

  test('statistics become the ModelStatistics message (whole nanoseconds) and back, as the JSON HTTP serves', async () => {
    const stats = await r.client.modelStatistics('simple', 1);
    expect(core.calls.at(-1)).toEqual(['modelStatistics', 'simple', 1]);
    const m = (stats['model_stats'] as Record<string, unknown>[])[0]!;
    expect(m).toMatchObject({
      name: 'simple',
      version: '1',
      last_inference: 1700000000000,
      inference_count: 12,
      execution_count: 4,
    });
    expect(m['inference_stats']).toMatchObject({
      success: { count: 12, ns: 5000000 },
      queue: { count: 12, ns: 301 },
      cache_hit: { count: 0, ns: 0 },
    });
    expect(m['batch_stats']).toEqual([
      expect.objectContaining({ batch_size: 3, compute_infer: { count: 4, ns: 4000 } }),
    ]);
    await r.client.modelStatistics();
    expect(core.calls.at(-1)).toEqual(['modelStatistics', undefined, undefined]);
  });

  test('repository index, load and unload with their parameters', async () => {
    expect(await r.client.repositoryIndex({ ready: true })).toEqual([
      { name: 'simple', version: '1', state: 'READY' },
      { name: 'never_loaded' },
    ]);
    expect(core.calls.at(-1)).toEqual(['repositoryIndex', true]);
    await r.client.loadModel('simple', {
      config: { max_batch_size: 4 },
      files: { '1/model.onnx': Uint8Array.of(1, 2) },
    });
    const [, name, params] = core.calls.at(-1) as [string, string, { config: string; files: Map<string, Uint8Array> }];
    expect(name).toBe('simple');
    expect(JSON.parse(params.config)).toEqual({ max_batch_size: 4 });
    expect([...params.files.entries()].map(([k, v]) => [k, Array.from(v)])).toEqual([['file:1/model.onnx', [1, 2]]]);
    await r.client.loadModel('plain');
    expect(core.calls.at(-1)).toEqual(['loadModel', 'plain', undefined]);
    await r.client.unloadModel('simple', { unloadDependents: true });
    expect(core.calls.at(-1)).toEqual(['unloadModel', 'simple', { unloadDependents: true }]);
  });

  test('trace and log settings: Triton gRPC checks here, values to the core', async () => {
    const { TraceSettingRequestSchema, LogSettingsRequestSchema } =
      await import('../../../../src/generated/grpc_service_pb.js');
    const trace = (settings: Record<string, string[]>, modelName = '') =>
      call(
        r.raw,
        INFERENCE_SERVICE.traceSetting,
        create(TraceSettingRequestSchema, {
          modelName,
          settings: Object.fromEntries(Object.entries(settings).map(([k, value]) => [k, { value }])),
        }),
      );
    const res = await trace(
      { trace_level: ['TIMESTAMPS', 'TENSORS'], trace_rate: ['5'], trace_count: [], unknown: ['x'] },
      'simple',
    );
    expect(core.calls.at(-1)).toEqual([
      'traceSettings',
      'simple',
      { trace_level: ['TIMESTAMPS', 'TENSORS'], trace_rate: '5', trace_count: null },
    ]);
    expect(res.settings['trace_level']!.value).toEqual(['OFF']);
    expect(res.settings['trace_rate']!.value).toEqual(['1000']);
    expect(await failure(trace({ trace_rate: ['1', '2'] }))).toEqual({
      code: status.INVALID_ARGUMENT,
      message: "expect only 1 value for 'trace_rate'",
    });
    expect(await failure(trace({ trace_file: ['x'] }))).toEqual({
      code: status.UNIMPLEMENTED,
      message: 'trace file location can not be updated through network protocol',
    });
    expect(await failure(trace({}, 'nope'))).toEqual({ code: status.NOT_FOUND, message: "Request for unknown model: 'nope' is not found" });

    const log = (settings: Record<string, { case: string; value: unknown }>) =>
      call(
        r.raw,
        INFERENCE_SERVICE.logSettings,
        create(LogSettingsRequestSchema, {
          settings: Object.fromEntries(Object.entries(settings).map(([k, c]) => [k, { parameterChoice: c as never }])),
        }),
      );
    const logged = await log({
      log_info: { case: 'boolParam', value: false },
      log_verbose_level: { case: 'uint32Param', value: 2 },
    });
    expect(core.calls.at(-1)).toEqual(['logSettings', { log_info: false, log_verbose_level: 2 }]);
    expect(logged.settings['log_info']!.parameterChoice).toEqual({ case: 'boolParam', value: false });
    expect(logged.settings['log_verbose_level']!.parameterChoice).toEqual({ case: 'uint32Param', value: 2 });
    expect(logged.settings['log_format']!.parameterChoice).toEqual({ case: 'stringParam', value: 'default' });
    expect(await failure(log({ log_error: { case: 'stringParam', value: 'yes' } }))).toEqual({
      code: status.INVALID_ARGUMENT,
      message: "expect boolean for 'log_error'",
    });
    expect(await failure(log({ log_format: { case: 'stringParam', value: 'json5' } }))).toMatchObject({
      message: 'invalid argument for log_format, got: json5',
    });
  });

  test('shared memory through the core registry: register, status, infer in and out of a region', async () => {
    const g = await import('../../../../src/generated/grpc_service_pb.js');
    await call(
      r.raw,
      INFERENCE_SERVICE.systemSharedMemoryRegister,
      create(g.SystemSharedMemoryRegisterRequestSchema, { name: 'io', key: '/k', byteSize: 128n }),
    );
    const st = await call(
      r.raw,
      INFERENCE_SERVICE.systemSharedMemoryStatus,
      create(SystemSharedMemoryStatusRequestSchema),
    );
    expect(Object.keys(st.regions)).toEqual(['io']);
    expect(st.regions['io']).toMatchObject({ name: 'io', key: '/k', offset: 0n, byteSize: 128n });

    // INPUT0 of `echo` read from bytes [0, 16) of the region, OUT_INPUT0 written to [64, 80).
    core.shm.regions.get('io')!.bytes.set(new Uint8Array(Int32Array.of(1, 2, 3, 4).buffer));
    const p = (parameterChoice: { case: 'stringParam'; value: string } | { case: 'int64Param'; value: bigint }) =>
      create(g.InferParameterSchema, { parameterChoice });
    const msg = create(g.ModelInferRequestSchema, {
      modelName: 'echo',
      inputs: [
        create(g.ModelInferRequest_InferInputTensorSchema, {
          name: 'INPUT0',
          datatype: 'INT32',
          shape: [4n],
          parameters: {
            shared_memory_region: p({ case: 'stringParam', value: 'io' }),
            shared_memory_byte_size: p({ case: 'int64Param', value: 16n }),
          },
        }),
      ],
      outputs: [
        create(g.ModelInferRequest_InferRequestedOutputTensorSchema, {
          name: 'OUT_INPUT0',
          parameters: {
            shared_memory_region: p({ case: 'stringParam', value: 'io' }),
            shared_memory_offset: p({ case: 'int64Param', value: 64n }),
            shared_memory_byte_size: p({ case: 'int64Param', value: 16n }),
          },
        }),
      ],
    });
    const res = await call(r.raw, INFERENCE_SERVICE.modelInfer, msg);
    expect(res.outputs.map((o) => [o.name, o.datatype, o.shape.map(Number)])).toEqual([['OUT_INPUT0', 'INT32', [4]]]);
    expect(res.rawOutputContents.map((b) => b.byteLength)).toEqual([0]);
    const region = core.shm.regions.get('io')!.bytes;
    expect(Array.from(new Int32Array(region.slice(64, 80).buffer))).toEqual([1, 2, 3, 4]);
    expect(core.shm.held).toBe(0);

    // A range outside the region is the registry's error; the leases taken are given back.
    msg.inputs[0]!.parameters['shared_memory_offset'] = p({ case: 'int64Param', value: 120n });
    expect(await failure(call(r.raw, INFERENCE_SERVICE.modelInfer, msg))).toEqual({
      code: status.INVALID_ARGUMENT,
      message: "Invalid offset + byte size for shared memory region: 'io'",
    });
    expect(core.shm.held).toBe(0);

    await call(
      r.raw,
      INFERENCE_SERVICE.systemSharedMemoryUnregister,
      create(g.SystemSharedMemoryUnregisterRequestSchema),
    );
    const after = await call(
      r.raw,
      INFERENCE_SERVICE.systemSharedMemoryStatus,
      create(SystemSharedMemoryStatusRequestSchema),
    );
    expect(after.regions).toEqual({});
  });

  test('bad load/unload parameters and a repository name are refused before the core is asked', async () => {
    const before = core.calls.length;
    const { RepositoryModelLoadRequestSchema, RepositoryModelUnloadRequestSchema, RepositoryIndexRequestSchema } =
      await import('../../../../src/generated/grpc_service_pb.js');
    const load = (parameters: Record<string, { case: string; value: unknown }>) =>
      call(
        r.raw,
        INFERENCE_SERVICE.repositoryModelLoad,
        create(RepositoryModelLoadRequestSchema, {
          modelName: 'm',
          parameters: Object.fromEntries(
            Object.entries(parameters).map(([k, c]) => [k, { parameterChoice: c as never }]),
          ),
        }),
      );
    expect(await failure(load({ config: { case: 'int64Param', value: 1n } }))).toEqual({
      code: status.INVALID_ARGUMENT,
      message: "invalid value type for load parameter 'config', expected string_param.",
    });
    expect((await failure(load({ 'file:1/a': { case: 'stringParam', value: 'x' } }))).message).toBe(
      "invalid value type for load parameter 'file:1/a', expected bytes_param.",
    );
    expect((await failure(load({ other: { case: 'boolParam', value: true } }))).message).toBe(
      "unrecognized load parameter 'other'.",
    );
    const unload = call(
      r.raw,
      INFERENCE_SERVICE.repositoryModelUnload,
      create(RepositoryModelUnloadRequestSchema, {
        modelName: 'm',
        parameters: { unload_dependents: { parameterChoice: { case: 'stringParam', value: 'y' } } },
      }),
    );
    expect((await failure(unload)).message).toBe(
      "invalid value type for 'unload_dependents' parameter, expected bool_param.",
    );
    const index = call(
      r.raw,
      INFERENCE_SERVICE.repositoryIndex,
      create(RepositoryIndexRequestSchema, { repositoryName: 'r' }),
    );
    expect(await failure(index)).toEqual({
      code: status.UNIMPLEMENTED,
      message: "'repository_name' specification is not supported",
    });
    expect(core.calls.length).toBe(before);
  });
});
