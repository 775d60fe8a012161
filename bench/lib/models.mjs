// The models of the benchmark: the three PP-OCR models of examples/model_repository (placed
// there by `npm install`) at fixed input sizes, and the trivial add/sub model.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const EXAMPLES = path.join(ROOT, 'examples', 'model_repository');

/**
 * name: model name in the repository; input: the one input; shape: one request (batch 1);
 * output: output tensor; maxBatch: the config's max_batch_size; preferred: preferred batch
 * sizes for the dynamic batcher (conv models gain nothing past 2–4 on CPU, per the baseline).
 */
export const OCR_MODELS = [
  { name: 'text_direction', short: 'cls', input: 'x', shape: [1, 3, 48, 192], output: 'softmax_0.tmp_0', outDims: [2], inDims: [3, 48, 192], maxBatch: 8 },
  { name: 'text_recognition', short: 'rec', input: 'x', shape: [1, 3, 48, 320], output: 'softmax_11.tmp_0', outDims: [-1, 6625], inDims: [3, 48, -1], maxBatch: 8 },
  { name: 'text_detection', short: 'det', input: 'x', shape: [1, 3, 320, 320], output: 'sigmoid_0.tmp_0', outDims: [1, -1, -1], inDims: [3, -1, -1], maxBatch: 4 },
];

export function modelFile(name) {
  return path.join(EXAMPLES, name, '1', 'model.onnx');
}

/** The OCR models whose files are present (npm install places them). */
export function availableOcrModels() {
  return OCR_MODELS.filter((m) => existsSync(modelFile(m.name)));
}
