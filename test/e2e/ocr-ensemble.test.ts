/**
 * OCR in one request: the `ocr` ensemble of the example repository (JavaScript steps and the
 * PP-OCR models) through the real CLI. Images rendered in the test with known text, one of
 * them upside down, read back exactly over HTTP (binary tensors, JSON with base64, a raw
 * binary request) and gRPC; and a page of 32 lines, more than the line models' max_batch_size.
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

/**
 * A page of text: 32 lines, four times text_direction's and text_recognition's max_batch_size
 * (8), so the lines must reach those models in several batches.
 */
const PAGE = [
  'Chapter 3: How the server reads a page',
  'A request arrives over HTTP or gRPC and is',
  'checked against the model configuration before',
  'the scheduler places it in a queue for one of',
  'the model instances. Each instance runs a batch',
  'of requests at a time, up to max_batch_size,',
  'and sends every response back to its caller.',
  'An ensemble chains several models in one call:',
  'the output of each step becomes the input of',
  'the next, without another trip to the client.',
  'Text detection finds the lines on the page, and',
  'text recognition reads each line it is given.',
  'Dense pages hold many lines, often more than',
  'thirty, so the lines go to the models in small',
  'batches that their configurations accept.',
  'The quick brown fox jumps over the lazy dog.',
  'Pack my box with five dozen liquor jugs.',
  'Sphinx of black quartz, judge my vow.',
  'How vexingly quick daft zebras jump!',
  'The five boxing wizards jump quickly.',
  'Order 4821 shipped on March 14, 2026.',
  'Invoice total: 1,375.90 euros, paid in full.',
  'Room 12B is on the third floor, east wing.',
  'Call us between 9 and 17 on weekdays.',
  'Rain is expected tomorrow after noon.',
  'The library opens at eight in the morning.',
  'Bring a pencil, an eraser and a ruler.',
  'Every model has a name and a version.',
  'Metrics are served on a separate port.',
  'Shared memory avoids copying large tensors.',
  'The end of the page is near, and so is lunch.',
  'Thank you for reading this far.',
];

/** Levenshtein distance: the single-character edits that turn `a` into `b`. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
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

  test('a page of 32 lines reads in order, the line models called in batches they accept', async () => {
    // 150 dpi on a 1034-pixel-high page: detection sees it at 960, as a scanned page would be.
    const png = await sharp({ text: { text: PAGE.join('\n'), font: 'DejaVu Sans', dpi: 150, rgba: true } })
      .flatten({ background: '#ffffff' })
      .extend({ top: 40, bottom: 40, left: 40, right: 40, background: '#ffffff' })
      .png()
      .toBuffer();
    const res = await http.infer({ model: 'ocr', inputs: imageInput(png) });
    const text = res.output('TEXT').data as string[];
    // Every line found, in reading order; OCR may slip on a character, so at least 30 of the 32
    // lines must read exactly and none may be off by more than 2 characters.
    expect(text).toHaveLength(PAGE.length);
    const exact = text.filter((t, i) => t === PAGE[i]).length;
    expect(exact, JSON.stringify(text.map((t, i) => [t, PAGE[i]]).filter(([t, p]) => t !== p))).toBeGreaterThanOrEqual(30);
    expect(Math.max(...text.map((t, i) => editDistance(t, PAGE[i]!)))).toBeLessThanOrEqual(2);
    const boxes = res.output('BOXES');
    expect(boxes.shape).toEqual([PAGE.length, 4, 2]);
    const tops = PAGE.map((_, i) => (boxes.data as Float32Array)[i * 8 + 1]!);
    expect(tops).toEqual([...tops].sort((a, b) => a - b));
  });

  test('concurrent requests each get their own lines', async () => {
    const texts = ['alpha one', 'bravo two', 'charlie three', 'delta four'];
    const images = await Promise.all(texts.map((t) => render(t)));
    const results = await Promise.all(images.map((png) => http.infer({ model: 'ocr', inputs: imageInput(png) })));
    expect(results.map((r) => r.output('TEXT').data)).toEqual(texts.map((t) => [t]));
  });
});
