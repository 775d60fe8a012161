import sharp from 'sharp';
import type { Box } from './detection.js';
import type { RgbImage } from './preprocess.js';

/**
 * Text-line recognition input and CTC decoding for PP-OCR's recognition model (input
 * [N, 3, 48, W], output [N, T, classes] softmax). As in PaddleOCR, crops keep their aspect
 * ratio at height 48, channels are BGR, values map to [-1, 1], and the right padding is 0.
 */

export const REC_HEIGHT = 48;

export interface RecognitionOptions {
  /**
   * Widest crop after resizing, in pixels; wider lines are squeezed to it (default 3200, about
   * 150 characters). PaddleOCR never squeezes, and squeezing a line into fewer CTC steps
   * (width / 8) than it has characters destroys it: at 320, a 44-character line reads as garbage.
   */
  maxWidth?: number;
  /**
   * Extra context cut around each box, as a fraction of its height on every side (default
   * 0.15). DB boxes hug the ink; on such tight crops the model drops the spaces between Latin
   * words ("HelloWorld"), while a little margin, as in its training crops, keeps them.
   */
  cropMargin?: number;
}

/** Recognition input for a batch of crops: FP32 [N, 3, 48, W], W = widest resized crop. */
export interface RecognitionBatch {
  tensor: Float32Array;
  shape: [number, 3, number, number];
}

/** One decoded text line. */
export interface Recognized {
  text: string;
  /** Mean probability of the characters kept by the decoder, in [0, 1]; 0 when empty. */
  confidence: number;
}

/**
 * Cuts `box` (plus the margin, clipped to the image) out of the image and resizes it to height
 * 48 keeping its aspect ratio, up to `maxWidth`.
 */
export async function cropForRecognition(image: RgbImage, box: Box, options: RecognitionOptions = {}): Promise<RgbImage> {
  const maxWidth = options.maxWidth ?? 3200;
  const m = Math.round((options.cropMargin ?? 0.15) * box.height);
  const left = Math.max(0, box.left - m);
  const top = Math.max(0, box.top - m);
  const right = Math.min(image.width, box.left + box.width + m);
  const bottom = Math.min(image.height, box.top + box.height + m);
  const region = { left, top, width: right - left, height: bottom - top };
  const width = Math.max(1, Math.min(maxWidth, Math.ceil((REC_HEIGHT * region.width) / region.height)));
  const data = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .extract(region)
    .resize(width, REC_HEIGHT, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer();
  return { data, width, height: REC_HEIGHT };
}

/**
 * Packs resized crops (all 48 high) into one batch tensor, each normalised to
 * `(x / 255 - 0.5) / 0.5` in BGR order and right-padded with zeros to the widest crop.
 */
export function packRecognitionBatch(crops: readonly RgbImage[]): RecognitionBatch {
  const width = Math.max(...crops.map((c) => c.width));
  const plane = REC_HEIGHT * width;
  const tensor = new Float32Array(crops.length * 3 * plane);
  crops.forEach((crop, n) => {
    for (let c = 0; c < 3; c++) {
      const src = 2 - c;
      const base = (n * 3 + c) * plane;
      for (let y = 0; y < REC_HEIGHT; y++) {
        for (let x = 0; x < crop.width; x++) {
          tensor[base + y * width + x] = crop.data[(y * crop.width + x) * 3 + src]! / 127.5 - 1;
        }
      }
    }
  });
  return { tensor, shape: [crops.length, 3, REC_HEIGHT, width] };
}

/**
 * Greedy CTC decoding: argmax per time step, merge repeats, drop blanks (class 0).
 * @param probs softmax output, [N, T, C] row-major.
 * @param labels class labels from `loadKeys` (C entries).
 * @throws RangeError when C does not match the number of labels (wrong keys file).
 */
export function ctcGreedyDecode(probs: Float32Array, shape: readonly number[], labels: readonly string[]): Recognized[] {
  const [n = 0, steps = 0, classes = 0] = shape;
  if (shape.length !== 3 || probs.length !== n * steps * classes) {
    throw new RangeError(`recognition output shape [${shape.join(',')}] does not match ${probs.length} values`);
  }
  if (classes !== labels.length) {
    throw new RangeError(`recognition model has ${classes} classes but the keys give ${labels.length} labels`);
  }
  const out: Recognized[] = [];
  for (let b = 0; b < n; b++) {
    let text = '';
    let sum = 0;
    let kept = 0;
    let previous = -1;
    for (let t = 0; t < steps; t++) {
      const row = (b * steps + t) * classes;
      let best = 0;
      let bestP = probs[row]!;
      for (let k = 1; k < classes; k++) {
        const p = probs[row + k]!;
        if (p > bestP) {
          bestP = p;
          best = k;
        }
      }
      if (best !== 0 && best !== previous) {
        text += labels[best];
        sum += bestP;
        kept++;
      }
      previous = best;
    }
    out.push({ text, confidence: kept > 0 ? sum / kept : 0 });
  }
  return out;
}
