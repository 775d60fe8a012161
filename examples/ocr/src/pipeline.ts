import { boxesFromProbabilityMap, type Box, type DbOptions } from './detection.js';
import { loadKeys } from './keys.js';
import { loadImage, prepareDetection } from './preprocess.js';
import { cropForRecognition, ctcGreedyDecode, packRecognitionBatch, type RecognitionOptions } from './recognition.js';

/** A float tensor as the OCR models exchange them. */
export interface OcrTensor {
  data: Float32Array;
  shape: number[];
}

/**
 * Where the two models run: an inference server (`httpInfer`) or in-process.
 * - `detect`: input FP32 [N, 3, H, W] (H, W multiples of 32) → probability map [N, 1, H, W].
 * - `recognize`: input FP32 [N, 3, 48, W] → softmax [N, T, classes].
 */
export interface OcrInfer {
  detect(input: Float32Array, shape: number[]): Promise<OcrTensor>;
  recognize(input: Float32Array, shape: number[]): Promise<OcrTensor>;
}

export interface OcrLine {
  text: string;
  confidence: number;
  /** Where the line is, in pixels of the (EXIF-oriented) input image. */
  box: Box;
}

export interface OcrOptions extends DbOptions, RecognitionOptions {
  /** Class labels from `loadKeys`; the installed `ppocr_keys_v1.txt` by default. */
  labels?: readonly string[];
  /** Longest side of the detection input (default 960). */
  maxSide?: number;
  /** Crops per recognition request (default 8). */
  batchSize?: number;
  /** Lines recognised with a lower confidence are dropped, as PaddleOCR does (default 0.5). */
  minConfidence?: number;
}

let defaultLabels: Promise<string[]> | undefined;

/**
 * Reads the text in an image: detection, then recognition of each detected line, in reading
 * order (top to bottom, left to right).
 * @param image a file path or encoded image bytes (anything sharp decodes).
 * @throws whatever `infer` throws (e.g. InferaClientError), or RangeError when a model's output
 *   shape is not the expected one.
 */
export async function recognizeText(
  image: string | Buffer,
  infer: OcrInfer,
  options: OcrOptions = {},
): Promise<{ lines: OcrLine[] }> {
  const labels = options.labels ?? (await (defaultLabels ??= loadKeys()));
  const rgb = await loadImage(image);

  const det = await prepareDetection(rgb, options.maxSide);
  const map = await infer.detect(det.tensor, det.shape);
  const [, , mapH = 0, mapW = 0] = map.shape;
  if (map.shape.length !== 4 || map.shape[0] !== 1 || map.shape[1] !== 1) {
    throw new RangeError(`detection output shape [${map.shape.join(',')}] is not [1,1,H,W]`);
  }
  const boxes = boxesFromProbabilityMap(map.data, mapW, mapH, rgb.width, rgb.height, options);

  const crops = await Promise.all(boxes.map((b) => cropForRecognition(rgb, b, options)));
  // Batching crops of similar width wastes less compute on padding (PaddleOCR does the same).
  const order = crops.map((_, i) => i).sort((a, b) => crops[a]!.width - crops[b]!.width);
  const batchSize = options.batchSize ?? 8;
  const minConfidence = options.minConfidence ?? 0.5;
  const results = new Array<OcrLine | undefined>(boxes.length);
  for (let start = 0; start < order.length; start += batchSize) {
    const ids = order.slice(start, start + batchSize);
    const batch = packRecognitionBatch(ids.map((i) => crops[i]!));
    const probs = await infer.recognize(batch.tensor, batch.shape);
    ctcGreedyDecode(probs.data, probs.shape, labels).forEach((r, k) => {
      const i = ids[k]!;
      const { score: _score, ...box } = boxes[i]!;
      // The model sometimes emits a space class at a line's edge; it is never part of the line.
      results[i] = { text: r.text.trim(), confidence: r.confidence, box };
    });
  }
  const lines = results.filter((l): l is OcrLine => l !== undefined && l.text !== '' && l.confidence >= minConfidence);
  return { lines };
}
