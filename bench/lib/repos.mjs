// Temporary model repositories for the benchmark, with explicit configs (no auto-complete) so
// every cell knows exactly what it measures: one instance with one intra-op thread (the server
// is pinned to one core), the dynamic batcher on or off.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { EXAMPLES, modelFile } from './models.mjs';
import { writeSimpleModel } from './simple-model.mjs';

const dims = (d) => `[ ${d.join(', ')} ]`;

/** config.pbtxt text for an OCR model. `batching`: { maxQueueDelayUs, preferred } or undefined. */
export function ocrConfig(m, { batching, instances = 1, threads = 1 } = {}) {
  const lines = [
    `name: "${m.name}"`,
    'backend: "onnxruntime"',
    `max_batch_size: ${m.maxBatch}`,
    `input [ { name: "${m.input}" data_type: TYPE_FP32 dims: ${dims(m.inDims)} } ]`,
    `output [ { name: "${m.output}" data_type: TYPE_FP32 dims: ${dims(m.outDims)} } ]`,
    `instance_group [ { kind: KIND_CPU, count: ${instances} } ]`,
    `parameters { key: "intra_op_thread_count" value { string_value: "${threads}" } }`,
  ];
  if (batching !== undefined) {
    const preferred = batching.preferred?.length ? ` preferred_batch_size: ${dims(batching.preferred)}` : '';
    lines.push(`dynamic_batching {${preferred} max_queue_delay_microseconds: ${batching.maxQueueDelayUs} }`);
  }
  return `${lines.join('\n')}\n`;
}

/** Writes an OCR model (copied file + config) into `repo`. */
export function writeOcrModel(repo, m, options) {
  const dir = path.join(repo, m.name);
  mkdirSync(path.join(dir, '1'), { recursive: true });
  copyFileSync(modelFile(m.name), path.join(dir, '1', 'model.onnx'));
  const labels = path.join(EXAMPLES, m.name, 'labels.txt');
  try {
    copyFileSync(labels, path.join(dir, 'labels.txt'));
  } catch {
    // only text_direction has labels; the bench config does not use them
  }
  writeFileSync(path.join(dir, 'config.pbtxt'), ocrConfig(m, options));
  return dir;
}

/** A repository with the given OCR models (and, optionally, the trivial model). */
export function writeRepo(repo, models, options, { simple = false } = {}) {
  mkdirSync(repo, { recursive: true });
  for (const m of models) writeOcrModel(repo, m, options);
  if (simple) writeSimpleModel(repo);
  return repo;
}
