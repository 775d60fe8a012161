import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpClient } from '../../../src/client/index.js';
import { boxesFromProbabilityMap, connectedComponents, sortBoxes } from '../../../examples/ocr/src/detection.js';
import { httpInfer } from '../../../examples/ocr/src/http-infer.js';
import { loadKeys } from '../../../examples/ocr/src/keys.js';
import { recognizeText } from '../../../examples/ocr/src/pipeline.js';
import { detectionSize, loadImage, prepareDetection } from '../../../examples/ocr/src/preprocess.js';
import { ctcGreedyDecode, packRecognitionBatch } from '../../../examples/ocr/src/recognition.js';
import { startOcrHttpStub } from './ort-http-stub.js';
import { ortInfer } from './ort-infer.js';

/** Black text on white with a 20 px margin, rendered by sharp (Pango) with a DejaVu font. */
async function renderText(text: string, dpi = 200): Promise<Buffer> {
  return sharp({ text: { text, font: 'DejaVu Sans', dpi, rgba: true } })
    .flatten({ background: '#ffffff' })
    .extend({ top: 20, bottom: 20, left: 20, right: 20, background: '#ffffff' })
    .png()
    .toBuffer();
}

describe('OCR preprocessing and post-processing', () => {
  it('sizes the detection input to multiples of 32 with the longer side at most 960', () => {
    expect(detectionSize(225, 66)).toEqual([224, 64]);
    expect(detectionSize(10, 10)).toEqual([32, 32]);
    expect(detectionSize(1920, 1080)).toEqual([960, 544]);
    expect(detectionSize(500, 3000)).toEqual([160, 960]);
  });

  it('normalises detection input as PaddleOCR does: BGR, ImageNet mean/std, CHW', async () => {
    // One pure-red 32x32 image: R = 255 lands in the last (R) plane of BGR.
    const png = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#ff0000' } }).png().toBuffer();
    const det = await prepareDetection(await loadImage(png));
    expect(det.shape).toEqual([1, 3, 32, 32]);
    const plane = 32 * 32;
    expect(det.tensor[0]).toBeCloseTo((0 - 0.485) / 0.229, 5);
    expect(det.tensor[plane]).toBeCloseTo((0 - 0.456) / 0.224, 5);
    expect(det.tensor[2 * plane]).toBeCloseTo((1 - 0.406) / 0.225, 5);
  });

  it('finds 8-connected components', () => {
    // 5x4 mask: a diagonal pair (one component), and a separate pixel.
    const mask = new Uint8Array([1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const comps = connectedComponents(mask, new Float32Array(20).fill(0.5), 5, 4);
    expect(comps.map(({ minX, maxX, minY, maxY, count }) => ({ minX, maxX, minY, maxY, count }))).toEqual([
      { minX: 0, maxX: 1, minY: 0, maxY: 1, count: 2 },
      { minX: 4, maxX: 4, minY: 0, maxY: 0, count: 1 },
    ]);
  });

  it('turns a probability map into unclipped, scaled boxes in reading order', () => {
    const w = 64;
    const h = 32;
    const map = new Float32Array(w * h);
    const fill = (x0: number, y0: number, x1: number, y1: number, p: number) => {
      for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) map[y * w + x] = p;
    };
    fill(40, 4, 60, 8, 0.9); // upper line
    fill(4, 20, 24, 24, 0.9); // lower line
    fill(40, 20, 50, 24, 0.4); // above threshold, but its mean score is below 0.6
    const boxes = boxesFromProbabilityMap(map, w, h, 128, 64);
    // 20x4 kernel: offset = 20*4*1.5 / (2*24) = 2.5 map pixels, then x2 to image pixels.
    expect(boxes).toEqual([
      { left: 75, top: 3, width: 50, height: 18, score: expect.closeTo(0.9, 5) },
      { left: 3, top: 35, width: 50, height: 18, score: expect.closeTo(0.9, 5) },
    ]);
  });

  it('merges close boxes in a row (word boxes) and keeps distant ones apart', () => {
    const w = 128;
    const map = new Float32Array(w * 16);
    for (const [x0, x1] of [[4, 24], [30, 50], [100, 120]] as const) {
      for (let y = 6; y <= 10; y++) for (let x = x0; x <= x1; x++) map[y * w + x] = 0.9;
    }
    const boxes = (mergeGap: number) =>
      boxesFromProbabilityMap(map, w, 16, w, 16, { mergeGap }).map((b) => [b.left, b.left + b.width]);
    expect(boxes(1)).toEqual([[2, 53], [98, 123]]);
    expect(boxes(-1)).toEqual([[2, 27], [28, 53], [98, 123]]);
  });

  it('sorts boxes top to bottom, then left to right within a row', () => {
    const a = { left: 0, top: 2, width: 40, height: 20 };
    const b = { left: 50, top: 0, width: 40, height: 20 };
    const c = { left: 5, top: 30, width: 40, height: 20 };
    expect(sortBoxes([c, b, a])).toEqual([a, b, c]);
  });

  it('decodes CTC greedily: argmax, merge repeats, drop blanks', () => {
    const labels = ['', 'a', 'b', ' '];
    // Steps: a a blank a b b space → "aab " with each kept step's max probability.
    const steps = [1, 1, 0, 1, 2, 2, 3].map((k) => {
      const p = [0.1, 0.1, 0.1, 0.1];
      p[k] = 0.7;
      return p;
    });
    const [r] = ctcGreedyDecode(new Float32Array(steps.flat()), [1, steps.length, 4], labels);
    expect(r).toEqual({ text: 'aab ', confidence: expect.closeTo(0.7, 5) });
    expect(() => ctcGreedyDecode(new Float32Array(4), [1, 1, 4], ['', 'a'])).toThrow(/4 classes/);
  });

  it('pads recognition crops to the widest with zeros, values in [-1, 1]', () => {
    const white = { data: Buffer.alloc(48 * 2 * 3, 255), width: 2, height: 48 };
    const black = { data: Buffer.alloc(48 * 4 * 3, 0), width: 4, height: 48 };
    const batch = packRecognitionBatch([white, black]);
    expect(batch.shape).toEqual([2, 3, 48, 4]);
    expect(Array.from(batch.tensor.subarray(0, 4))).toEqual([1, 1, 0, 0]);
    expect(batch.tensor[3 * 48 * 4]).toBe(-1);
  });

  it('reads the keys file as blank + one class per line + space', async () => {
    const labels = await loadKeys();
    expect(labels).toHaveLength(6625);
    expect(labels[0]).toBe('');
    expect(labels[6624]).toBe(' ');
  });
});

describe('OCR pipeline on PP-OCRv4 (onnxruntime-node in-process)', () => {
  let infer: Awaited<ReturnType<typeof ortInfer>>;
  beforeAll(async () => {
    infer = await ortInfer();
  });
  afterAll(() => infer.release());

  it.each(['Hello World', 'infera 2026', 'Triton on Node'])('reads "%s"', async (text) => {
    const { lines } = await recognizeText(await renderText(text), infer);
    expect(lines.map((l) => l.text.trim())).toEqual([text]);
    expect(lines[0]!.confidence).toBeGreaterThan(0.8);
  });

  it('reads two lines top to bottom, with boxes inside the image', async () => {
    const png = await renderText('The quick brown fox\njumps over the lazy dog');
    const { width = 0, height = 0 } = await sharp(png).metadata();
    const { lines } = await recognizeText(png, infer);
    expect(lines.map((l) => l.text.trim())).toEqual(['The quick brown fox', 'jumps over the lazy dog']);
    const [a, b] = lines.map((l) => l.box);
    expect(a!.top + a!.height).toBeLessThanOrEqual(b!.top + 5);
    for (const box of [a!, b!]) {
      expect(box.left).toBeGreaterThanOrEqual(0);
      expect(box.left + box.width).toBeLessThanOrEqual(width);
      expect(box.top + box.height).toBeLessThanOrEqual(height);
    }
  });

  it('reads a line too long for a 320-pixel crop', async () => {
    const text = 'Inference servers batch requests dynamically';
    const { lines } = await recognizeText(await renderText(text), infer);
    expect(lines.map((l) => l.text)).toEqual([text]);
  });

  it('reads large text whose words DB detects as separate boxes', async () => {
    const { lines } = await recognizeText(await renderText('Model 42 ready', 400), infer);
    expect(lines.map((l) => l.text.trim())).toEqual(['Model 42 ready']);
  });

  it('returns no lines for a blank image', async () => {
    const png = await sharp({ create: { width: 200, height: 80, channels: 3, background: '#ffffff' } }).png().toBuffer();
    expect(await recognizeText(png, infer)).toEqual({ lines: [] });
  });

  it('gives the same text through HttpClient with binary tensors', async () => {
    const stub = await startOcrHttpStub(infer);
    try {
      const client = new HttpClient({ url: stub.url });
      expect(await client.isModelReady('text_detection')).toBe(true);
      const { lines } = await recognizeText(await renderText('infera 2026'), httpInfer(client));
      expect(lines.map((l) => l.text)).toEqual(['infera 2026']);
      expect(stub.seen).toEqual([
        'GET /v2/models/text_detection/ready',
        'POST /v2/models/text_detection/infer',
        'POST /v2/models/text_recognition/infer',
      ]);
    } finally {
      await stub.close();
    }
  });
});
