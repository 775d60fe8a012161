/**
 * Compressed gRPC messages through the real CLI: a gzip "bomb" (1 MB on the wire, 1 GiB
 * inflated) is refused with RESOURCE_EXHAUSTED once it inflates past --grpc-max-input-size
 * (default 64 MiB),
 * without the server inflating (or holding) the rest; a compressed message under the limit is
 * served; the server keeps serving.
 */
import { existsSync, readFileSync } from 'node:fs';
import http2 from 'node:http2';
import zlib from 'node:zlib';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GrpcClient, type InferRequest } from '../../src/client/index.js';
import { encodeGrpcInferRequest } from '../../src/client/grpc-infer-codec.js';
import { INFERENCE_SERVICE } from '../../src/protocol/grpc/index.js';
import { addSubModel, writeModel } from '../fixtures/onnx-models.js';
import { runUntilExit, startServer, type RunningServer } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-repo.js';

const tmp = tempDir();
let server: RunningServer;
let client: GrpcClient;
/** --grpc-max-input-size's default, as --http-max-input-size's. */
const LIMIT = 64 * 1024 * 1024;

beforeAll(async () => {
  writeModel(tmp.dir, 'simple', addSubModel());
  server = await startServer(['--model-repository', tmp.dir]);
  client = new GrpcClient({ url: server.grpcUrl! });
});

afterAll(async () => {
  client?.close();
  expect(await server?.stop()).toBe(0);
  tmp.cleanup();
});

const request: InferRequest = {
  model: 'simple',
  inputs: [
    { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: new Int32Array(16).fill(2) },
    { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: new Int32Array(16).fill(1) },
  ],
};

/**
 * Sends one gzip-compressed gRPC message (`compressed`, already gzip bytes) to ModelInfer over
 * a bare HTTP/2 stream, so the test process never holds the inflated form; resolves with the
 * call's grpc-status and grpc-message.
 */
function sendCompressed(url: string, compressed: Buffer): Promise<{ code: number; message: string }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://${url}`);
    session.on('error', reject);
    const req = session.request({
      ':method': 'POST',
      ':path': INFERENCE_SERVICE.modelInfer.path,
      'content-type': 'application/grpc',
      te: 'trailers',
      'grpc-encoding': 'gzip',
    });
    let headers: http2.IncomingHttpHeaders = {};
    req.on('response', (h) => (headers = h));
    req.on('trailers', (t) => (headers = { ...headers, ...t }));
    req.on('data', () => undefined);
    req.on('error', reject);
    req.on('close', () => {
      session.close();
      resolve({ code: Number(headers['grpc-status']), message: decodeURIComponent(String(headers['grpc-message'] ?? '')) });
    });
    const frame = Buffer.alloc(5);
    frame.writeUInt8(1, 0);
    frame.writeUInt32BE(compressed.length, 1);
    req.end(Buffer.concat([frame, compressed]));
  });
}

/** Resident set size figures of a Linux process, in bytes: now, and the peak so far. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)![1]) * 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

describe('compressed gRPC messages', () => {
  test('--grpc-max-input-size must be greater than 0', async () => {
    const { code, output } = await runUntilExit(['--model-repository', tmp.dir, '--grpc-max-input-size', '0']);
    expect(code).not.toBe(0);
    expect(output).toContain('--grpc-max-input-size must be greater than 0.');
  });

  test('a compressed request under the limit is served', async () => {
    const bytes = INFERENCE_SERVICE.modelInfer.requestSerialize(encodeGrpcInferRequest(request));
    const res = await sendCompressed(server.grpcUrl!, zlib.gzipSync(bytes));
    expect(res.code).toBe(status.OK);
  });

  test.skipIf(!existsSync('/proc/self/status'))(
    'a message inflating to 1 GiB gets RESOURCE_EXHAUSTED without the server holding it; the server keeps serving',
    async () => {
      // Concatenated gzip members inflate one after the other: 64 × 16 MiB of zeros in ~1 MB.
      const member = zlib.gzipSync(Buffer.alloc(16 * 1024 * 1024), { level: 9 });
      const bomb = Buffer.concat(Array.from({ length: 64 }, () => member));
      expect(bomb.length).toBeLessThan(1.5 * 1024 * 1024);

      const pid = server.process.pid!;
      const before = memoryOf(pid);
      const [first, second] = await Promise.all([sendCompressed(server.grpcUrl!, bomb), sendCompressed(server.grpcUrl!, bomb)]);
      const after = memoryOf(pid);

      for (const res of [first, second]) {
        expect(res.code).toBe(status.RESOURCE_EXHAUSTED);
        expect(res.message).toContain(String(LIMIT));
      }
      // Two bombs at once, each stopped at 64 MiB (plus the copy that joins the pieces): far
      // below the 2 GiB that inflating both would take.
      expect(after.peak - before.rss).toBeLessThan(512 * 1024 * 1024);
      expect((await client.infer(request)).output('OUTPUT0').shape).toEqual([1, 16]);
    },
  );
});
