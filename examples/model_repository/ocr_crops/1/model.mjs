// OCR step 4: line boxes + direction -> each line read by text_recognition. Every line is cropped
// at height 48 (aspect kept, 15% margin) and turned when text_direction reads it as upside down;
// the crops go to text_recognition through BLS in batches of at most its max_batch_size (lines of
// similar width together, as PaddleOCR batches them), so a page may hold any number of lines.
// Cropping and packing are the OCR example's (examples/ocr/src/recognition.ts).
const example = (file) =>
  import(new URL(`../../../dist/ocr/src/${file}`, import.meta.url).href).catch((err) => {
    throw new Error(`the OCR step models use the compiled OCR example (examples/dist/ocr/src/${file}); run \`npm run build:examples\` first (${err.message})`);
  });
const { cropForRecognition, packRecognitionBatch, REC_HEIGHT } = await example('recognition.js');

/** PaddleOCR's cls_thresh: a line is turned when "180" wins with more than this. */
const TURN_THRESHOLD = 0.9;

/** Rotates RGB pixels by 180 degrees: the pixel order reversed, each pixel's bytes kept. */
function rotate180(img) {
  const src = img.data;
  const out = Buffer.allocUnsafe(src.length);
  const pixels = img.width * img.height;
  for (let p = 0; p < pixels; p++) {
    const s = p * 3;
    const d = (pixels - 1 - p) * 3;
    out[d] = src[s];
    out[d + 1] = src[s + 1];
    out[d + 2] = src[s + 2];
  }
  return { data: out, width: img.width, height: img.height };
}

/** A positive integer from the config's `parameters`, or `fallback` when it is absent. */
function intParameter(args, key, fallback) {
  const text = args.modelConfig.parameters?.[key]?.string_value;
  const value = text === undefined ? fallback : Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${args.modelName}: parameter '${key}' must be a positive integer, not '${text}'`);
  return value;
}

/**
 * The batches' softmax outputs ([k, T_k, C] each, `lines[j]` = the line of row j) as one
 * [N, T, C] tensor, T = the longest T_k. The steps a shorter batch lacks are certain blanks
 * (class 0 = 1), which greedy CTC decoding skips, so each line reads as its batch read it.
 */
function mergeProbabilities(results, n) {
  const steps = Math.max(...results.map((r) => r.shape[1]));
  const classes = results[0].shape[2];
  const out = new Float32Array(n * steps * classes);
  for (const { lines, data, shape } of results) {
    const rowSteps = shape[1];
    lines.forEach((line, j) => {
      out.set(data.subarray(j * rowSteps * classes, (j + 1) * rowSteps * classes), line * steps * classes);
      for (let t = rowSteps; t < steps; t++) out[(line * steps + t) * classes] = 1;
    });
  }
  return { data: out, shape: [n, steps, classes] };
}

export default class OcrCrops {
  initialize(args) {
    /** Lines per text_recognition request: its max_batch_size (the config's parameter says so). */
    this.batchSize = intParameter(args, 'recognition_batch_size', 8);
  }

  async execute(requests, context) {
    return Promise.all(
      requests.map(async (request) => {
        const rgbTensor = request.input('IMAGE_RGB');
        const boxes = request.input('BOXES');
        const direction = request.input('DIRECTION').data;
        const [height, width] = rgbTensor.shape;
        const image = { data: Buffer.from(rgbTensor.data.buffer, rgbTensor.data.byteOffset, rgbTensor.data.byteLength), width, height };
        const n = boxes.shape[0];
        const crops = [];
        for (let i = 0; i < n; i++) {
          const c = boxes.data.subarray(i * 8, i * 8 + 8);
          const box = { left: c[0], top: c[1], width: c[2] - c[0], height: c[5] - c[1] };
          const crop = await cropForRecognition(image, box);
          crops.push(direction[i * 2 + 1] > TURN_THRESHOLD ? rotate180(crop) : crop);
        }
        // No line: one blank crop, so REC_PROBS still has the model's class dimension.
        if (crops.length === 0) crops.push({ data: Buffer.alloc(REC_HEIGHT * REC_HEIGHT * 3, 255), width: REC_HEIGHT, height: REC_HEIGHT });
        const order = crops.map((_, i) => i).sort((a, b) => crops[a].width - crops[b].width);
        const results = [];
        for (let start = 0; start < order.length; start += this.batchSize) {
          const lines = order.slice(start, start + this.batchSize);
          const batch = packRecognitionBatch(lines.map((i) => crops[i]));
          try {
            const res = await context.infer({
              model: 'text_recognition',
              inputs: [{ name: 'x', datatype: 'FP32', shape: batch.shape, data: batch.tensor }],
              outputs: ['softmax_11.tmp_0'],
            });
            const probs = res.outputs['softmax_11.tmp_0'];
            results.push({ lines, data: probs.data, shape: probs.shape });
          } catch (err) {
            // Only this request fails, with the server's code (e.g. NOT_FOUND when text_recognition is not loaded).
            return Object.assign(new Error(`${context.modelName}: ${err.message}`), { code: err.code ?? 'INTERNAL' });
          }
        }
        const probs = mergeProbabilities(results, crops.length);
        return { outputs: { REC_PROBS: { data: probs.data, shape: probs.shape } } };
      }),
    );
  }
}
