// OCR step 5: line boxes + direction -> text_recognition input: each line cropped at height 48
// (aspect kept, 15% margin), turned when text_direction reads it as upside down, all lines in
// one batch. Cropping and packing are the OCR example's (examples/ocr/src/recognition.ts).
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

export default class OcrCrops {
  async execute(requests) {
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
        // No line: one blank crop, so text_recognition still gets a batch of at least 1.
        if (crops.length === 0) crops.push({ data: Buffer.alloc(REC_HEIGHT * REC_HEIGHT * 3, 255), width: REC_HEIGHT, height: REC_HEIGHT });
        const batch = packRecognitionBatch(crops);
        return { outputs: { REC_INPUT: { data: batch.tensor, shape: batch.shape } } };
      }),
    );
  }
}
