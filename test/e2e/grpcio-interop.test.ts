/**
 * The gRPC endpoint against grpcio, the C-core gRPC implementation under tritonclient.grpc and
 * most Python KServe clients: a different HTTP/2 stack from grpc-js, with its own flow control,
 * compression and deadlines. The messages are encoded and decoded here (protobuf-es); the
 * Python side (helpers/grpcio_client.py) only moves bytes, so it needs grpcio and nothing else.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  ModelInferRequest_InferInputTensorSchema,
  ModelInferRequestSchema,
  ModelInferResponseSchema,
  type ModelInferResponse,
  ModelStreamInferResponseSchema,
} from '../../src/generated/grpc_service_pb.js';
import { HealthCheckRequestSchema, HealthCheckResponse_ServingStatus, HealthCheckResponseSchema } from '../../src/generated/health_pb.js';
import { addSubModel, identityModel, writeModel } from '../fixtures/onnx-models.js';
import { bytesOf, pseudoRandomFloats } from './helpers/data.js';
import { startServer, type RunningServer } from './helpers/server-process.js';
import { copyExampleModel, tempDir } from './helpers/temp-repo.js';

const SCRIPT = path.resolve('test/e2e/helpers/grpcio_client.py');
const INFER = '/inference.GRPCInferenceService/ModelInfer';
const STREAM = '/inference.GRPCInferenceService/ModelStreamInfer';
const LIVE = '/inference.GRPCInferenceService/ServerLive';
const HEALTH = '/grpc.health.v1.Health/Check';

/** A Python 3 that imports grpc (Debian's python3-grpcio lives under /usr/bin/python3). */
function findPython(): string | undefined {
  for (const p of ['python3', '/usr/bin/python3']) {
    if (spawnSync(p, ['-c', 'import grpc'], { stdio: 'ignore' }).status === 0) return p;
  }
  return undefined;
}

const python = findPython();
const skip = python === undefined ? 'grpcio is not installed (apt-get install python3-grpcio)' : '';

interface Call {
  name: string;
  method: string;
  kind: 'unary' | 'stream';
  requests: Uint8Array[];
  timeout_s?: number;
  gzip?: boolean;
}

interface Outcome {
  name: string;
  code: string;
  details: string;
  responses: Uint8Array[];
}

/** Runs the calls one after another on one grpcio channel. */
function grpcio(target: string, calls: Call[]): Map<string, Outcome> {
  const job = { target, calls: calls.map((c) => ({ ...c, requests: c.requests.map((r) => Buffer.from(r).toString('base64')) })) };
  const out = execFileSync(python!, [SCRIPT], { input: JSON.stringify(job), maxBuffer: 256 * 1024 * 1024, timeout: 60_000 });
  const results = JSON.parse(out.toString('utf8')) as (Omit<Outcome, 'responses'> & { responses: string[] })[];
  return new Map(results.map((r) => [r.name, { ...r, responses: r.responses.map((b) => Buffer.from(b, 'base64')) }]));
}

function inferRequest(model: string, inputs: { name: string; datatype: string; shape: number[]; raw: Uint8Array }[], id = ''): Uint8Array {
  return toBinary(
    ModelInferRequestSchema,
    create(ModelInferRequestSchema, {
      modelName: model,
      id,
      inputs: inputs.map((i) => create(ModelInferRequest_InferInputTensorSchema, { name: i.name, datatype: i.datatype, shape: i.shape.map(BigInt) })),
      rawInputContents: inputs.map((i) => i.raw),
    }),
  );
}

function output(r: ModelInferResponse, name: string): { shape: number[]; raw: Uint8Array } {
  const i = r.outputs.findIndex((o) => o.name === name);
  expect(i).toBeGreaterThanOrEqual(0);
  return { shape: r.outputs[i]!.shape.map(Number), raw: r.rawOutputContents[i]! };
}

/** Copies first: `raw` views the whole decoded message, at an offset that need not be aligned. */
const int32s = (raw: Uint8Array): number[] => Array.from(new Int32Array(new Uint8Array(raw).buffer));

const tmp = tempDir('infera-grpcio-');
let server: RunningServer | undefined;
let results: Map<string, Outcome>;

const CLS = [3, 48, 192];
const clsInput = pseudoRandomFloats(4 * 3 * 48 * 192, 7);
/** 6 MiB of FP32: over grpcio's default 4 MiB message limit and far over HTTP/2's 64 KiB window. */
const BIG = pseudoRandomFloats((6 * 1024 * 1024) / 4, 3);
const a = Int32Array.from({ length: 16 }, (_, i) => i * 3);
const b = Int32Array.from({ length: 16 }, (_, i) => 100 - i);

beforeAll(async () => {
  if (skip) return;
  writeModel(tmp.dir, 'simple', addSubModel());
  writeModel(tmp.dir, 'identity_fp32', identityModel('FP32', ['batch', 'n']));
  copyExampleModel(tmp.dir, 'text_direction');
  server = await startServer(['--model-repository', tmp.dir]);
  const simple = (id: string) =>
    inferRequest('simple', [
      { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], raw: bytesOf(a) },
      { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], raw: bytesOf(b) },
    ], id);
  const cls = inferRequest('text_direction', [{ name: 'x', datatype: 'FP32', shape: [4, ...CLS], raw: bytesOf(clsInput) }], 'cls');
  results = grpcio(server.grpcUrl!, [
    { name: 'health', method: HEALTH, kind: 'unary', requests: [toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema))] },
    { name: 'cls', method: INFER, kind: 'unary', requests: [cls] },
    { name: 'cls gzip', method: INFER, kind: 'unary', requests: [cls], gzip: true },
    { name: 'big', method: INFER, kind: 'unary', requests: [inferRequest('identity_fp32', [{ name: 'INPUT0', datatype: 'FP32', shape: [1, BIG.length], raw: bytesOf(BIG) }])] },
    { name: 'stream', method: STREAM, kind: 'stream', requests: [simple('s1'), simple('s2'), simple('s3')] },
    { name: 'wrong datatype', method: INFER, kind: 'unary', requests: [inferRequest('simple', [
      { name: 'INPUT0', datatype: 'FP32', shape: [1, 16], raw: bytesOf(new Float32Array(16)) },
      { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], raw: bytesOf(b) },
    ], 'bad-1')] },
    { name: 'unknown model', method: INFER, kind: 'unary', requests: [inferRequest('nope', [])] },
    { name: 'not protobuf', method: INFER, kind: 'unary', requests: [Uint8Array.of(0xff, 0xff, 0xff)] },
    // Batch 8 of the text-direction model takes milliseconds: the deadline passes first.
    { name: 'deadline', method: INFER, kind: 'unary', timeout_s: 0.001, requests: [inferRequest('text_direction', [
      { name: 'x', datatype: 'FP32', shape: [8, ...CLS], raw: bytesOf(pseudoRandomFloats(8 * 3 * 48 * 192, 9)) },
    ])] },
    { name: 'simple after errors', method: INFER, kind: 'unary', requests: [simple('after')] },
    { name: 'live', method: LIVE, kind: 'unary', requests: [new Uint8Array(0)] },
  ]);
}, 120_000);

afterAll(async () => {
  await server?.stop();
  tmp.cleanup();
});

describe.skipIf(skip !== '')(`grpcio (C-core) client${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const ok = (name: string): Outcome => {
    const r = results.get(name)!;
    expect({ name, code: r.code, details: r.details }).toEqual({ name, code: 'OK', details: '' });
    return r;
  };

  test('the health service answers SERVING', () => {
    expect(fromBinary(HealthCheckResponseSchema, ok('health').responses[0]!).status).toBe(HealthCheckResponse_ServingStatus.SERVING);
  });

  test('ModelInfer runs the text-direction model on a batch of 4, plain and gzip-compressed alike', () => {
    const plain = fromBinary(ModelInferResponseSchema, ok('cls').responses[0]!);
    expect(plain.id).toBe('cls');
    expect(plain.modelName).toBe('text_direction');
    const probs = output(plain, 'softmax_0.tmp_0');
    expect(probs.shape).toEqual([4, 2]);
    const p = new Float32Array(new Uint8Array(probs.raw).buffer);
    for (let row = 0; row < 4; row++) expect(p[2 * row]! + p[2 * row + 1]!).toBeCloseTo(1, 5);
    const gzip = fromBinary(ModelInferResponseSchema, ok('cls gzip').responses[0]!);
    expect(Buffer.from(output(gzip, 'softmax_0.tmp_0').raw)).toEqual(Buffer.from(probs.raw));
  });

  test('a 6 MiB tensor goes through and comes back unchanged', () => {
    const r = fromBinary(ModelInferResponseSchema, ok('big').responses[0]!);
    const out = output(r, 'OUTPUT0');
    expect(out.shape).toEqual([1, BIG.length]);
    expect(Buffer.compare(Buffer.from(out.raw), bytesOf(BIG))).toBe(0);
  });

  test('ModelStreamInfer answers three requests on one stream, in order', () => {
    const responses = ok('stream').responses.map((r) => fromBinary(ModelStreamInferResponseSchema, r));
    expect(responses.map((r) => r.errorMessage)).toEqual(['', '', '']);
    expect(responses.map((r) => r.inferResponse?.id)).toEqual(['s1', 's2', 's3']);
    for (const r of responses) {
      expect(int32s(output(r.inferResponse!, 'OUTPUT0').raw)).toEqual(Array.from(a, (x, i) => x + b[i]!));
      expect(int32s(output(r.inferResponse!, 'OUTPUT1').raw)).toEqual(Array.from(a, (x, i) => x - b[i]!));
    }
  });

  test("bad requests get Triton's status codes and messages", () => {
    const pick = (name: string) => ({ code: results.get(name)!.code, details: results.get(name)!.details });
    expect(pick('wrong datatype')).toEqual({
      code: 'INVALID_ARGUMENT',
      details: "[request id: bad-1] inference input 'INPUT0' data-type is 'FP32', but model 'simple' expects 'INT32'",
    });
    expect(pick('unknown model')).toEqual({ code: 'NOT_FOUND', details: "Request for unknown model: 'nope' is not found" });
    expect(pick('not protobuf').code).toBe('INTERNAL');
    expect(pick('deadline').code).toBe('DEADLINE_EXCEEDED');
  });

  test('the server keeps serving after those errors and the cancelled call', () => {
    const r = fromBinary(ModelInferResponseSchema, ok('simple after errors').responses[0]!);
    expect(r.id).toBe('after');
    ok('live');
  });
});
