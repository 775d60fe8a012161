import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelFileMetadata } from '../../../src/backends/backend.js';

export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/config');

export function fixture(name: string): string {
  return readFileSync(path.join(FIXTURES, name), 'utf8');
}

/** What onnxruntime-node reports for PP-OCRv4 text detection (ch_PP-OCRv4_det_infer.onnx). */
export const DET_METADATA: ModelFileMetadata = {
  inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3, -1, -1] }],
  outputs: [{ name: 'sigmoid_0.tmp_0', datatype: 'FP32', shape: [-1, 1, -1, -1] }],
};

/** PP-OCRv4 text recognition: fixed height 48, variable width. */
export const REC_METADATA: ModelFileMetadata = {
  inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3, 48, -1] }],
  outputs: [{ name: 'softmax_5.tmp_0', datatype: 'FP32', shape: [-1, -1, 6625] }],
};

/** Text-direction classifier: [N,3,48,192] → [N,2]. */
export const CLS_METADATA: ModelFileMetadata = {
  inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3, 48, 192] }],
  outputs: [{ name: 'softmax_0.tmp_0', datatype: 'FP32', shape: [-1, 2] }],
};

/** A model with no batch dimension. */
export const FIXED_METADATA: ModelFileMetadata = {
  inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 3] }],
  outputs: [{ name: 'output', datatype: 'FP32', shape: [1, 3] }],
};
