/**
 * ModelStreamInfer, cancellation and restricted protocols through the real CLI: a stream of
 * 1,000 requests answered in order, in-band errors versus `triton_grpc_error`, a cancelled
 * call and an expired deadline, and `--grpc-restricted-protocol`.
 */
import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GrpcClient, GrpcClientError, type InferRequest, type StreamItem } from '../../src/client/index.js';
import { encodeGrpcInferRequest } from '../../src/client/grpc-infer-codec.js';
import type { ModelStreamInferResponse } from '../../src/generated/grpc_service_pb.js';
import { INFERENCE_SERVICE } from '../../src/protocol/grpc/index.js';
import { addSubModel, writeModel } from '../fixtures/onnx-models.js';
import { pseudoRandomFloats } from './helpers/data.js';
import { startServer, type RunningServer } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-repo.js';

const tmp = tempDir();
let server: RunningServer;
let restricted: RunningServer;
let client: GrpcClient;

beforeAll(async () => {
  writeModel(tmp.dir, 'simple', addSubModel());
  const servers = await Promise.all([
    startServer(['--model-repository', tmp.dir]),
    startServer([
      '--model-repository',
      tmp.dir,
      '--grpc-restricted-protocol',
      'inference,model-config:admin-key=s3cret',
    ]),
  ]);
  [server, restricted] = servers;
  client = new GrpcClient({ url: server.grpcUrl! });
});

afterAll(async () => {
  client?.close();
  const codes = await Promise.all([server?.stop(), restricted?.stop()]);
  expect(codes).toEqual([0, 0]);
  tmp.cleanup();
});

/** simple(INPUT0 = i..i+15, INPUT1 = 1): OUTPUT0[k] = i + k + 1. */
function request(i: number, extra: Partial<InferRequest> = {}): InferRequest {
  return {
    model: 'simple',
    id: `req-${i}`,
    inputs: [
      { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: Int32Array.from({ length: 16 }, (_, k) => i + k) },
      { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: new Int32Array(16).fill(1) },
    ],
    ...extra,
  };
}

async function drain(items: AsyncIterable<StreamItem>): Promise<StreamItem[]> {
  const out: StreamItem[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe('ModelStreamInfer', () => {
  test('a stream of 1,000 requests returns 1,000 responses in request order', async () => {
    const stream = client.stream();
    for (let i = 0; i < 1000; i++) stream.send(request(i));
    stream.end();
    const items = await drain(stream);
    expect(items).toHaveLength(1000);
    items.forEach((item, i) => {
      expect(item.id).toBe(`req-${i}`);
      expect(item.error).toBeUndefined();
      const out = item.result!.output('OUTPUT0').data as Int32Array;
      expect([out[0], out[15]]).toEqual([i + 1, i + 16]);
      expect(item.result!.parameters).toEqual({ triton_final_response: true });
    });
  });

  test('failures are reported in-band and the stream carries on', async () => {
    const stream = client.stream();
    stream.send(request(1));
    stream.send(request(2, { model: 'nope' }));
    stream.send(request(3, { inputs: request(3).inputs.slice(0, 1) }));
    stream.send(request(4, { version: 7 }));
    stream.send(request(5));
    stream.end();
    const items = await drain(stream);
    expect(items.map((i) => i.id)).toEqual(['req-1', 'req-2', 'req-3', 'req-4', 'req-5']);
    expect(items.map((i) => i.error?.message)).toEqual([
      undefined,
      "Request for unknown model: 'nope' is not found",
      expect.stringMatching(
        /expected 2 inputs but got 1 inputs for model 'simple'.*missing required input\(s\) \['INPUT1'\]/,
      ),
      "Request for unknown model: 'simple' version 7 is not found",
      undefined,
    ]);
    expect(items[4]!.result!.output('OUTPUT0').shape).toEqual([1, 16]);
  });

  test('with triton_grpc_error: true the first failure ends the stream with its gRPC status', async () => {
    const stream = client.stream({ grpcErrors: true });
    stream.send(request(1));
    stream.send(request(2, { model: 'nope' }));
    stream.send(request(3));
    stream.end();
    const seen: StreamItem[] = [];
    const err = await (async () => {
      for await (const item of stream) seen.push(item);
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(seen.map((i) => i.id)).toEqual(['req-1']);
    expect(err).toBeInstanceOf(GrpcClientError);
    expect(err).toMatchObject({
      code: status.NOT_FOUND,
      message: "Request for unknown model: 'nope' is not found",
    });
    // The server keeps serving other calls.
    expect((await client.infer(request(9))).output('OUTPUT0').shape).toEqual([1, 16]);
  });
});

describe('undecodable stream messages', () => {
  /**
   * Sends `messages` (serialized requests, or any bytes) on one ModelStreamInfer stream, ends
   * it, and collects what comes back: the responses, then the final status.
   */
  function rawStream(messages: Buffer[], grpcErrors = false): Promise<{ responses: ModelStreamInferResponse[]; code: number; details: string }> {
    const method = INFERENCE_SERVICE.modelStreamInfer;
    const raw = new Client(server.grpcUrl!, credentials.createInsecure());
    const metadata = new Metadata();
    if (grpcErrors) metadata.set('triton_grpc_error', 'true');
    const call = raw.makeBidiStreamRequest(method.path, (b: Buffer) => b, method.responseDeserialize, metadata, {
      deadline: Date.now() + 20_000,
    });
    const responses: ModelStreamInferResponse[] = [];
    call.on('data', (r: ModelStreamInferResponse) => responses.push(r));
    call.on('error', () => undefined);
    const done = new Promise<{ responses: ModelStreamInferResponse[]; code: number; details: string }>((resolve) => {
      call.on('status', (s: Pick<ServiceError, 'code' | 'details'>) => {
        raw.close();
        resolve({ responses, code: s.code, details: s.details });
      });
    });
    for (const m of messages) call.write(m);
    call.end();
    return done;
  }

  const valid = (i: number): Buffer => INFERENCE_SERVICE.modelStreamInfer.requestSerialize(encodeGrpcInferRequest(request(i)));
  /** A field tag with wire type 7, which protobuf does not define. */
  const garbage = Buffer.from([0x0f, 0xff, 0xff, 0xff]);

  test('a message that is not a ModelInferRequest is answered in-band, in order; the requests around it are answered', async () => {
    const failing = (i: number): Buffer =>
      INFERENCE_SERVICE.modelStreamInfer.requestSerialize(encodeGrpcInferRequest(request(i, { model: 'nope' })));
    const [afterValid, afterFailing] = await Promise.all([
      Promise.all(Array.from({ length: 5 }, () => rawStream([valid(1), valid(2), valid(3), valid(4), valid(5), garbage, valid(6)]))),
      Promise.all(Array.from({ length: 5 }, () => rawStream([failing(1), failing(2), failing(3), failing(4), failing(5), garbage, valid(6)]))),
    ]);
    const parseError = expect.stringMatching(/^failed to parse ModelInferRequest: /);
    for (const { responses, code } of afterValid) {
      expect(code).toBe(status.OK);
      expect(responses.map((r) => r.inferResponse?.id)).toEqual(['req-1', 'req-2', 'req-3', 'req-4', 'req-5', '', 'req-6']);
      expect(responses.map((r) => r.errorMessage)).toEqual(['', '', '', '', '', parseError, '']);
    }
    const unknown = "Request for unknown model: 'nope' is not found";
    for (const { responses, code } of afterFailing) {
      expect(code).toBe(status.OK);
      expect(responses.map((r) => r.inferResponse?.id)).toEqual(['req-1', 'req-2', 'req-3', 'req-4', 'req-5', '', 'req-6']);
      expect(responses.map((r) => r.errorMessage)).toEqual([unknown, unknown, unknown, unknown, unknown, parseError, '']);
    }
    expect((await client.infer(request(9))).output('OUTPUT0').shape).toEqual([1, 16]);
  });

  test('with triton_grpc_error: true it ends the stream with INVALID_ARGUMENT after the earlier responses', async () => {
    const { responses, code, details } = await rawStream([valid(1), valid(2), garbage, valid(3)], true);
    expect(responses.map((r) => r.inferResponse?.id)).toEqual(['req-1', 'req-2']);
    expect(code).toBe(status.INVALID_ARGUMENT);
    expect(details).toMatch(/^failed to parse ModelInferRequest: /);
    expect((await client.infer(request(9))).output('OUTPUT0').shape).toEqual([1, 16]);
  });
});

describe('cancellation', () => {
  test('a cancelled call and an expired deadline end with CANCELLED / DEADLINE_EXCEEDED; the server keeps serving', async () => {
    const big = (i: number): InferRequest => ({
      ...request(i),
      inputs: request(i).inputs.map((t) => ({
        ...t,
        shape: [8, 16],
        data: Int32Array.from(pseudoRandomFloats(128), (v) => v * 1000),
      })),
    });
    const controller = new AbortController();
    const pending = client.infer(big(1), { signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: status.CANCELLED });

    const hurried = new GrpcClient({ url: server.grpcUrl!, timeoutMs: 1 });
    await expect(hurried.infer(big(2))).rejects.toMatchObject({ code: status.DEADLINE_EXCEEDED });
    hurried.close();

    const stream = client.stream();
    for (let i = 0; i < 50; i++) stream.send(request(i));
    stream.cancel();
    await expect(drain(stream)).rejects.toMatchObject({ code: status.CANCELLED });

    expect((await client.infer(request(7))).output('OUTPUT1').shape).toEqual([1, 16]);
  });
});

describe('--grpc-restricted-protocol', () => {
  test('restricted groups need the header, the others do not', async () => {
    const anonymous = new GrpcClient({ url: restricted.grpcUrl! });
    const admin = new GrpcClient({ url: restricted.grpcUrl!, headers: { 'triton-grpc-protocol-admin-key': 's3cret' } });
    const refusal = {
      code: status.UNAVAILABLE,
      message: "This protocol is restricted, expecting header 'triton-grpc-protocol-admin-key'",
    };
    await expect(anonymous.infer(request(1))).rejects.toMatchObject(refusal);
    await expect(anonymous.modelConfig('simple')).rejects.toMatchObject(refusal);
    const stream = anonymous.stream();
    stream.send(request(1));
    stream.end();
    await expect(drain(stream)).rejects.toMatchObject(refusal);
    // health and metadata are not in the group.
    expect(await anonymous.isServerReady()).toBe(true);
    expect((await anonymous.modelMetadata('simple')).name).toBe('simple');
    expect((await admin.infer(request(1))).output('OUTPUT0').shape).toEqual([1, 16]);
    expect((await admin.modelConfig('simple'))['name']).toBe('simple');
    anonymous.close();
    admin.close();
  });
});
