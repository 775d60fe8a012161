/**
 * OCR in one request: the `ocr` ensemble of the example repository (JavaScript steps and the
 * PP-OCR models) through the real CLI. Images rendered in the test with known text, one of
 * them upside down, read back exactly over HTTP (binary tensors, JSON with base64, a raw
 * binary request) and gRPC.
 */
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { GrpcClient, HttpClient, InferaClientError } from '../../src/client/index.js';
import { startServer, type RunningServer } from './helpers/server-process.js';

let server: RunningServer;
let http: HttpClient;
let grpc: GrpcClient;

/** Black text on white with padding, as PNG bytes; `rotate` 180 renders it upside down. */
async function render(text: string, rotate = 0): Promise<Buffer> {
  const png = await sharp({ text: { text, font: 'DejaVu Sans', dpi: 200, rgba: true } })
    .flatten({ background: '#ffffff' })
    .extend({ top: 24, bottom: 24, left: 24, right: 24, background: '#ffffff' })
    .png()
    .toBuffer();
  return rotate === 0 ? png : sharp(png).rotate(rotate).png().toBuffer();
}

const imageInput = (png: Buffer) => [{ name: 'IMAGE', datatype: 'BYTES' as const, shape: [1], data: [png] }];

beforeAll(async () => {
  server = await startServer(['--model-repository', path.resolve('examples/model_repository')], 60_000);
  http = new HttpClient({ url: server.url });
  grpc = new GrpcClient({ url: server.grpcUrl! });
}, 90_000);

afterAll(async () => {
  grpc?.close();
  await server?.stop();
});

describe('the ocr ensemble', () => {
  test('metadata: one BYTES image in, text lines and boxes out', async () => {
    expect(await http.modelMetadata('ocr')).toEqual({
      name: 'ocr',
      versions: ['1'],
      platform: 'ensemble',
      inputs: [{ name: 'IMAGE', datatype: 'BYTES', shape: [1] }],
      outputs: [
        { name: 'TEXT', datatype: 'BYTES', shape: [-1] },
        { name: 'BOXES', datatype: 'FP32', shape: [-1, 4, 2] },
      ],
    });
  });

  test('HTTP: lines top to bottom, with a box per line', async () => {
    const png = await render('The quick brown fox\njumps over the lazy dog');
    const res = await http.infer({ model: 'ocr', inputs: imageInput(png) });
    expect(res.output('TEXT').data).toEqual(['The quick brown fox', 'jumps over the lazy dog']);
    const boxes = res.output('BOXES');
    expect(boxes.shape).toEqual([2, 4, 2]);
    const b = boxes.data as Float32Array;
    const { width = 0, height = 0 } = await sharp(png).metadata();
    // Corners clockwise from the top left, inside the image; the second line below the first.
    for (let i = 0; i < 2; i++) {
      const [x0, y0, x1, y1, x2, y2, x3, y3] = b.subarray(i * 8, i * 8 + 8);
      expect([y1, x2, y3]).toEqual([y0, x1, y2]);
      expect(x3).toBe(x0);
      expect(x0! >= 0 && x1! <= width && y0! >= 0 && y2! <= height && x1! > x0! && y2! > y0!).toBe(true);
    }
    expect(b[1]!).toBeLessThan(b[9]!);
  });

  test('an upside-down image reads right way up (text_direction turns the line)', async () => {
    const res = await http.infer({ model: 'ocr', inputs: imageInput(await render('Upside down Hello World', 180)) });
    expect(res.output('TEXT').data).toEqual(['Upside down Hello World']);
  });

  test('gRPC gives the same answer', async () => {
    const png = await render('Triton on Node 2026');
    const [viaGrpc, viaHttp] = await Promise.all([grpc.infer({ model: 'ocr', inputs: imageInput(png) }), http.infer({ model: 'ocr', inputs: imageInput(png) })]);
    expect(viaGrpc.output('TEXT').data).toEqual(['Triton on Node 2026']);
    expect(Array.from(viaGrpc.output('BOXES').data as Float32Array)).toEqual(Array.from(viaHttp.output('BOXES').data as Float32Array));
  });

  test('a raw binary request posts the image file as it is', async () => {
    const png = await render('Hello World');
    const res = await fetch(`${server.url}/v2/models/ocr/infer`, {
      method: 'POST',
      headers: { 'Inference-Header-Content-Length': '0' },
      body: png,
    });
    expect(res.status).toBe(200);
    const body = Buffer.from(await res.arrayBuffer());
    const headerLength = Number(res.headers.get('inference-header-content-length'));
    const header = JSON.parse(body.subarray(0, headerLength).toString()) as { outputs: { name: string; shape: number[] }[] };
    expect(header.outputs.map((o) => [o.name, o.shape])).toEqual([
      ['TEXT', [1]],
      ['BOXES', [1, 4, 2]],
    ]);
    const length = body.readUInt32LE(headerLength);
    expect(body.subarray(headerLength + 4, headerLength + 4 + length).toString()).toBe('Hello World');
  });

  test('JSON with the image as base64 text (the README curl)', async () => {
    const png = await render('Base64 in JSON');
    const res = await fetch(`${server.url}/v2/models/ocr/infer`, {
      method: 'POST',
      body: JSON.stringify({
        inputs: [{ name: 'IMAGE', datatype: 'BYTES', shape: [1], data: [png.toString('base64')] }],
        outputs: [{ name: 'TEXT' }],
      }),
    });
    expect(await res.json()).toEqual({
      model_name: 'ocr',
      model_version: '1',
      outputs: [{ name: 'TEXT', datatype: 'BYTES', shape: [1], data: ['Base64 in JSON'] }],
    });
  });

  test('an image without text gives no lines', async () => {
    const blank = await sharp({ create: { width: 160, height: 96, channels: 3, background: '#ffffff' } }).png().toBuffer();
    const res = await http.infer({ model: 'ocr', inputs: imageInput(blank) });
    expect(res.output('TEXT').data).toEqual([]);
    expect(res.output('BOXES').shape).toEqual([0, 4, 2]);
  });

  test('bytes that are no image: 400 naming the step, and the next request succeeds', async () => {
    const err = await http.infer({ model: 'ocr', inputs: imageInput(Buffer.from('not an image')) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InferaClientError);
    expect((err as InferaClientError).status).toBe(400);
    expect((err as Error).message).toMatch(/^in ensemble 'ocr', step 0 \(model 'ocr_preprocess'\): ocr_preprocess: IMAGE is not an image/);
    const ok = await http.infer({ model: 'ocr', inputs: imageInput(await render('Still serving')) });
    expect(ok.output('TEXT').data).toEqual(['Still serving']);
  });

  test('concurrent requests each get their own lines', async () => {
    const texts = ['alpha one', 'bravo two', 'charlie three', 'delta four'];
    const images = await Promise.all(texts.map((t) => render(t)));
    const results = await Promise.all(images.map((png) => http.infer({ model: 'ocr', inputs: imageInput(png) })));
    expect(results.map((r) => r.output('TEXT').data)).toEqual(texts.map((t) => [t]));
  });
});
