// OCR step 3: text probability map -> line boxes (reading order) + each line's direction, read
// by text_direction through BLS in batches of at most its max_batch_size, so a page may hold
// any number of lines. DB post-processing and cropping are the OCR example's
// (examples/ocr/src/detection.ts, recognition.ts), compiled to examples/dist.
const example = (file) =>
  import(new URL(`../../../dist/ocr/src/${file}`, import.meta.url).href).catch((err) => {
    throw new Error(`the OCR step models use the compiled OCR example (examples/dist/ocr/src/${file}); run \`npm run build:examples\` first (${err.message})`);
  });
const { boxesFromProbabilityMap } = await example('detection.js');
const { cropForRecognition, packRecognitionBatch, REC_HEIGHT } = await example('recognition.js');

/** text_direction's input width (PaddleOCR's cls_image_shape 3,48,192). */
const DIR_WIDTH = 192;

/** Corners of an axis-aligned box, clockwise from the top left: [[x,y] x 4]. */
function corners(b) {
  const r = b.left + b.width;
  const d = b.top + b.height;
  return [b.left, b.top, r, b.top, r, d, b.left, d];
}

/**
 * The classifier input: each crop squeezed to at most 192 wide (PaddleOCR's cls resize),
 * packed, then right-padded with zeros to exactly 192.
 */
function directionBatch(crops) {
  const packed = packRecognitionBatch(crops);
  const [n, , h, w] = packed.shape;
  if (w === DIR_WIDTH) return packed.tensor;
  const out = new Float32Array(n * 3 * h * DIR_WIDTH);
  for (let row = 0; row < n * 3 * h; row++) out.set(packed.tensor.subarray(row * w, row * w + w), row * DIR_WIDTH);
  return out;
}

/** A positive integer from the config's `parameters`, or `fallback` when it is absent. */
function intParameter(args, key, fallback) {
  const text = args.modelConfig.parameters?.[key]?.string_value;
  const value = text === undefined ? fallback : Number(text);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${args.modelName}: parameter '${key}' must be a positive integer, not '${text}'`);
  return value;
}

export default class OcrBoxes {
  initialize(args) {
    /** Lines per text_direction request: its max_batch_size (the config's parameter says so). */
    this.batchSize = intParameter(args, 'direction_batch_size', 8);
  }

  async execute(requests, context) {
    return Promise.all(
      requests.map(async (request) => {
        const map = request.input('PROB_MAP');
        const rgbTensor = request.input('IMAGE_RGB');
        const [, , mapH, mapW] = map.shape;
        const [height, width] = rgbTensor.shape;
        const image = { data: Buffer.from(rgbTensor.data.buffer, rgbTensor.data.byteOffset, rgbTensor.data.byteLength), width, height };
        const boxes = boxesFromProbabilityMap(map.data, mapW, mapH, width, height);
        const crops = await Promise.all(boxes.map((b) => cropForRecognition(image, b, { maxWidth: DIR_WIDTH })));
        const direction = new Float32Array(boxes.length * 2);
        for (let start = 0; start < crops.length; start += this.batchSize) {
          const batch = crops.slice(start, start + this.batchSize);
          let res;
          try {
            res = await context.infer({
              model: 'text_direction',
              inputs: [{ name: 'x', datatype: 'FP32', shape: [batch.length, 3, REC_HEIGHT, DIR_WIDTH], data: directionBatch(batch) }],
              outputs: ['softmax_0.tmp_0'],
            });
          } catch (err) {
            // Only this request fails, with the server's code (e.g. NOT_FOUND when text_direction is not loaded).
            return Object.assign(new Error(`${context.modelName}: ${err.message}`), { code: err.code ?? 'INTERNAL' });
          }
          direction.set(res.outputs['softmax_0.tmp_0'].data, start * 2);
        }
        return {
          outputs: {
            BOXES: { data: Float32Array.from(boxes.flatMap(corners)), shape: [boxes.length, 4, 2] },
            DIRECTION: { data: direction, shape: [boxes.length, 2] },
          },
        };
      }),
    );
  }
}
