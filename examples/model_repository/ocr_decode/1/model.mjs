// OCR step 5: text_recognition's softmax -> the text of each line (greedy CTC over
// ppocr_keys_v1.txt), with the boxes of the lines kept. Decoding is the OCR example's
// (examples/ocr/src/recognition.ts, keys.ts).
const example = (file) =>
  import(new URL(`../../../dist/ocr/src/${file}`, import.meta.url).href).catch((err) => {
    throw new Error(`the OCR step models use the compiled OCR example (examples/dist/ocr/src/${file}); run \`npm run build:examples\` first (${err.message})`);
  });
const { ctcGreedyDecode } = await example('recognition.js');
const { loadKeys } = await example('keys.js');

/** Lines read with a lower mean character probability are dropped, as PaddleOCR does. */
const MIN_CONFIDENCE = 0.5;

export default class OcrDecode {
  async initialize() {
    this.labels = await loadKeys();
  }

  execute(requests) {
    return requests.map((request) => {
      const probs = request.input('PROBS');
      const boxes = request.input('BOXES');
      const n = boxes.shape[0];
      const read = ctcGreedyDecode(probs.data, probs.shape, this.labels);
      const text = [];
      const kept = [];
      for (let i = 0; i < n; i++) {
        // The model sometimes emits a space class at a line's edge; it is never part of the line.
        const line = read[i].text.trim();
        if (line === '' || read[i].confidence < MIN_CONFIDENCE) continue;
        text.push(line);
        kept.push(...boxes.data.subarray(i * 8, i * 8 + 8));
      }
      return {
        outputs: {
          TEXT: { data: text, shape: [text.length] },
          LINE_BOXES: { data: Float32Array.from(kept), shape: [text.length, 4, 2] },
        },
      };
    });
  }
}
