// OCR step 3: text probability map -> line boxes (reading order) + the crops for the text
// direction classifier, as one batch. DB post-processing and cropping are the OCR example's
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

export default class OcrBoxes {
  async execute(requests) {
    return Promise.all(
      requests.map(async (request) => {
        const map = request.input('PROB_MAP');
        const rgbTensor = request.input('IMAGE_RGB');
        const [, , mapH, mapW] = map.shape;
        const [height, width] = rgbTensor.shape;
        const image = { data: Buffer.from(rgbTensor.data.buffer, rgbTensor.data.byteOffset, rgbTensor.data.byteLength), width, height };
        const boxes = boxesFromProbabilityMap(map.data, mapW, mapH, width, height);
        const crops = await Promise.all(boxes.map((b) => cropForRecognition(image, b, { maxWidth: DIR_WIDTH })));
        // No line: one blank crop, so text_direction still gets a batch of at least 1.
        if (crops.length === 0) crops.push({ data: Buffer.alloc(DIR_WIDTH * REC_HEIGHT * 3, 255), width: DIR_WIDTH, height: REC_HEIGHT });
        return {
          outputs: {
            BOXES: { data: Float32Array.from(boxes.flatMap(corners)), shape: [boxes.length, 4, 2] },
            DIR_INPUT: { data: directionBatch(crops), shape: [crops.length, 3, REC_HEIGHT, DIR_WIDTH] },
          },
        };
      }),
    );
  }
}
