import type { HttpClient } from 'infera/client';
import type { OcrInfer, OcrTensor } from './pipeline.js';

/** Model and tensor names in the example model repository (PP-OCRv4 ONNX exports). */
export interface OcrModelNames {
  detection?: string;
  recognition?: string;
}

/**
 * Runs the OCR models on an infera (or Triton) server over HTTP, with binary tensors in both
 * directions so the float maps never pass through JSON. Only `infer` is used, so any object
 * with HttpClient's `infer` will do.
 */
export function httpInfer(client: Pick<HttpClient, 'infer'>, models: OcrModelNames = {}): OcrInfer {
  const run = async (model: string, output: string, input: Float32Array, shape: number[]): Promise<OcrTensor> => {
    const res = await client.infer({
      model,
      inputs: [{ name: 'x', datatype: 'FP32', shape, data: input }],
      outputs: [{ name: output }],
    });
    const out = res.output(output);
    if (!(out.data instanceof Float32Array)) {
      throw new TypeError(`model '${model}' returned ${out.datatype} for '${output}', expected FP32`);
    }
    return { data: out.data, shape: out.shape };
  };
  return {
    detect: (input, shape) => run(models.detection ?? 'text_detection', 'sigmoid_0.tmp_0', input, shape),
    recognize: (input, shape) => run(models.recognition ?? 'text_recognition', 'softmax_11.tmp_0', input, shape),
  };
}
