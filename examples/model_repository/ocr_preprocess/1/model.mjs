// OCR step 1: encoded image bytes -> text detection input + the decoded RGB image.
// The image logic is the OCR example's (examples/ocr/src/preprocess.ts), compiled to
// examples/dist by `npm run build:examples`.
const example = (file) =>
  import(new URL(`../../../dist/ocr/src/${file}`, import.meta.url).href).catch((err) => {
    throw new Error(`the OCR step models use the compiled OCR example (examples/dist/ocr/src/${file}); run \`npm run build:examples\` first (${err.message})`);
  });
const { loadImage, prepareDetection } = await example('preprocess.js');

/** Longest side of the detection input, as PaddleOCR's default limit. */
const MAX_SIDE = 960;

/** Base64 text (optionally a data: URL), which JSON clients send since JSON cannot carry bytes. */
function decodeText(bytes) {
  const text = bytes.toString('latin1').trim();
  const body = text.startsWith('data:') ? text.slice(text.indexOf(',') + 1) : text;
  return /^[A-Za-z0-9+/=\s]+$/.test(body) ? Buffer.from(body, 'base64') : undefined;
}

async function decode(bytes) {
  try {
    return await loadImage(bytes);
  } catch (err) {
    const decoded = decodeText(bytes);
    if (decoded === undefined) throw err;
    return loadImage(decoded);
  }
}

export default class OcrPreprocess {
  async execute(requests, context) {
    return Promise.all(
      requests.map(async (request) => {
        const [bytes] = request.input('IMAGE').data;
        let rgb;
        try {
          rgb = await decode(bytes);
        } catch (err) {
          // INVALID_ARG: the client sent something that is not an image (HTTP 400, not 500).
          const message = `${context.modelName}: IMAGE is not an image sharp can decode (${bytes.length} bytes): ${err.message}`;
          return Object.assign(new Error(message), { code: 'INVALID_ARG' });
        }
        const det = await prepareDetection(rgb, MAX_SIDE);
        return {
          outputs: {
            DET_INPUT: { data: det.tensor, shape: det.shape },
            IMAGE_RGB: { data: new Uint8Array(rgb.data.buffer, rgb.data.byteOffset, rgb.data.byteLength), shape: [rgb.height, rgb.width, 3] },
          },
        };
      }),
    );
  }
}
