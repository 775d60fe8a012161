import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import type { ModelFileMetadata } from '../../../../src/backends/backend.js';
import { normalizeModelConfig, parseModelConfigText } from '../../../../src/config/index.js';
import { compareDimsSupported, validateOnnxConfigAgainstModel } from '../../../../src/backends/onnxruntime/validate-config.js';
import { autoCompleteOnnxConfig } from '../../../../src/backends/onnxruntime/auto-complete-config.js';
import { InvalidArgumentError } from '../../../../src/errors/index.js';
import { ModelConfigSchema, type ModelConfig } from '../../../../src/generated/model_config_pb.js';
import { CLS_METADATA, DET_METADATA, FIXED_METADATA, REC_METADATA } from '../../config/helpers.js';

function config(text: string, name = 'm'): ModelConfig {
  const c = parseModelConfigText(text, 'config.pbtxt');
  c.name = name;
  c.backend = 'onnxruntime';
  c.platform = 'onnxruntime_onnx';
  return c;
}

function expectInvalid(c: ModelConfig, metadata: ModelFileMetadata, message: string): void {
  let caught: unknown;
  try {
    validateOnnxConfigAgainstModel(c, metadata);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(InvalidArgumentError);
  expect((caught as Error).message).toBe(message);
}

const DET_IO = `
  input [ { name: "x" data_type: TYPE_FP32 dims: [ 3, -1, -1 ] } ]
  output [ { name: "sigmoid_0.tmp_0" data_type: TYPE_FP32 dims: [ 1, -1, -1 ] } ]`;

describe('validateOnnxConfigAgainstModel: accepted', () => {
  it('accepts every auto-completed PP-OCR config', () => {
    for (const metadata of [DET_METADATA, REC_METADATA, CLS_METADATA, FIXED_METADATA]) {
      const base = create(ModelConfigSchema, { name: 'm', backend: 'onnxruntime', platform: 'onnxruntime_onnx' });
      const c = normalizeModelConfig(autoCompleteOnnxConfig(base, metadata).config, { gpuCount: 0 });
      validateOnnxConfigAgainstModel(c, metadata);
    }
  });

  it('accepts fixed config dims where the model is variable (inputs only)', () => {
    validateOnnxConfigAgainstModel(
      config('max_batch_size: 8\ninput [ { name: "x" data_type: TYPE_FP32 dims: [ 3, 48, 320 ] } ]\noutput [ { name: "softmax_5.tmp_0" data_type: TYPE_FP32 dims: [ -1, 6625 ] } ]'),
      REC_METADATA,
    );
  });

  it('accepts a non-batching config spelling out the batch dim', () => {
    validateOnnxConfigAgainstModel(
      config('input [ { name: "x" data_type: TYPE_FP32 dims: [ 1, 3, -1, -1 ] } ]\noutput [ { name: "sigmoid_0.tmp_0" data_type: TYPE_FP32 dims: [ -1, 1, -1, -1 ] } ]'),
      DET_METADATA,
    );
  });

  it('allows model outputs missing from the config', () => {
    const two: ModelFileMetadata = { inputs: DET_METADATA.inputs, outputs: [...DET_METADATA.outputs, { name: 'extra', datatype: 'INT64', shape: [-1] }] };
    validateOnnxConfigAgainstModel(config(`max_batch_size: 2\n${DET_IO}`), two);
  });

  it('compares the reshape when there is one, and accepts scalars spelled [1]', () => {
    const scalar: ModelFileMetadata = {
      inputs: [{ name: 'a', datatype: 'INT64', shape: [-1] }],
      outputs: [{ name: 'b', datatype: 'FP32', shape: [] }],
    };
    validateOnnxConfigAgainstModel(
      config('max_batch_size: 4\ninput [ { name: "a" data_type: TYPE_INT64 dims: [ 1 ] reshape { shape: [ ] } } ]\noutput [ { name: "b" data_type: TYPE_FP32 dims: [ 1 ] } ]'),
      scalar,
    );
  });
});

describe('validateOnnxConfigAgainstModel: errors', () => {
  it('reports a wrong input count', () => {
    expectInvalid(
      config(`${DET_IO}\ninput [ { name: "y" data_type: TYPE_FP32 dims: [ 1 ] } ]`),
      DET_METADATA,
      "unable to load model 'm', configuration expects 2 inputs, model provides 1",
    );
  });

  it('reports tensors the model does not have', () => {
    expectInvalid(
      config('input [ { name: "image" data_type: TYPE_FP32 dims: [ 1 ] } ]'),
      DET_METADATA,
      "unable to load model 'm', unexpected inference input 'image', allowed inputs are: x",
    );
    expectInvalid(
      config('max_batch_size: 1\ninput [ { name: "x" data_type: TYPE_FP32 dims: [ 3, -1, -1 ] } ]\noutput [ { name: "prob" data_type: TYPE_FP32 dims: [ 1 ] } ]'),
      DET_METADATA,
      "unable to load model 'm', unexpected inference output 'prob', allowed outputs are: sigmoid_0.tmp_0",
    );
  });

  it('reports a datatype mismatch with both types', () => {
    expectInvalid(
      config('max_batch_size: 1\ninput [ { name: "x" data_type: TYPE_INT32 dims: [ 3, -1, -1 ] } ]'),
      DET_METADATA,
      "unable to load model 'm', configuration expects datatype TYPE_INT32 for input 'x', model provides TYPE_FP32",
    );
    expectInvalid(
      config('max_batch_size: 1\ninput [ { name: "x" data_type: TYPE_FP32 dims: [ 3, -1, -1 ] } ]\noutput [ { name: "sigmoid_0.tmp_0" data_type: TYPE_FP16 dims: [ 1, -1, -1 ] } ]'),
      DET_METADATA,
      "unable to load model 'm', configuration expects datatype TYPE_FP16 for output 'sigmoid_0.tmp_0', model provides TYPE_FP32",
    );
  });

  it('needs a leading -1 in the model when batching', () => {
    expectInvalid(
      config('max_batch_size: 4\ninput [ { name: "input" data_type: TYPE_FP32 dims: [ 3 ] } ]'),
      FIXED_METADATA,
      "model 'm', tensor 'input': for the model to support batching the shape should have at least 1 dimension and the first dimension must be -1; but shape expected by the model is [1,3]",
    );
  });

  it('reports a fixed model dim that the config gives differently or as -1', () => {
    expectInvalid(
      config('max_batch_size: 4\ninput [ { name: "x" data_type: TYPE_FP32 dims: [ 3, 32, -1 ] } ]'),
      REC_METADATA,
      "model 'm', tensor 'x': the model expects 4 dimensions (shape [-1,3,48,-1]) but the model configuration specifies 4 dimensions (an initial batch dimension because max_batch_size > 0 followed by the explicit tensor shape, making complete shape [-1,3,32,-1])",
    );
    expectInvalid(
      config('max_batch_size: 4\ninput [ { name: "x" data_type: TYPE_FP32 dims: [ 3, -1, -1 ] } ]'),
      REC_METADATA,
      "model 'm', tensor 'x': the model expects 4 dimensions (shape [-1,3,48,-1]) but the model configuration specifies 4 dimensions (an initial batch dimension because max_batch_size > 0 followed by the explicit tensor shape, making complete shape [-1,3,-1,-1])",
    );
  });

  it('reports a rank mismatch, with and without batching', () => {
    expectInvalid(
      config('max_batch_size: 4\ninput [ { name: "x" data_type: TYPE_FP32 dims: [ -1, -1 ] } ]'),
      DET_METADATA,
      "model 'm', tensor 'x': the model expects 4 dimensions (shape [-1,3,-1,-1]) but the model configuration specifies 3 dimensions (an initial batch dimension because max_batch_size > 0 followed by the explicit tensor shape, making complete shape [-1,-1,-1])",
    );
    expectInvalid(
      config('input [ { name: "x" data_type: TYPE_FP32 dims: [ 3, -1, -1 ] } ]'),
      DET_METADATA,
      "model 'm', tensor 'x': the model expects 4 dimensions (shape [-1,3,-1,-1]) but the model configuration specifies 3 dimensions (shape [3,-1,-1])",
    );
  });

  it('compares outputs exactly', () => {
    expectInvalid(
      config('max_batch_size: 4\ninput [ { name: "x" data_type: TYPE_FP32 dims: [ 3, 48, 192 ] } ]\noutput [ { name: "softmax_5.tmp_0" data_type: TYPE_FP32 dims: [ 40, 6625 ] } ]'),
      REC_METADATA,
      "model 'm', tensor 'softmax_5.tmp_0': the model expects 3 dimensions (shape [-1,-1,6625]) but the model configuration specifies 3 dimensions (an initial batch dimension because max_batch_size > 0 followed by the explicit tensor shape, making complete shape [-1,40,6625])",
    );
  });

  it('uses the reshape instead of dims', () => {
    expectInvalid(
      config('max_batch_size: 4\ninput [ { name: "x" data_type: TYPE_FP32 dims: [ 3, 48, -1 ] reshape { shape: [ 3, -1, -1 ] } } ]'),
      REC_METADATA,
      "model 'm', tensor 'x': the model expects 4 dimensions (shape [-1,3,48,-1]) but the model configuration specifies 4 dimensions (an initial batch dimension because max_batch_size > 0 followed by the explicit tensor shape, making complete shape [-1,3,-1,-1])",
    );
  });

  it('needs ones for scalar model tensors', () => {
    const scalar: ModelFileMetadata = { inputs: [{ name: 's', datatype: 'FP32', shape: [] }], outputs: [] };
    expectInvalid(
      config('input [ { name: "s" data_type: TYPE_FP32 dims: [ 2 ] } ]'),
      scalar,
      "unable to load model 'm', scalar tensor 's', should only provide 1 in the model configuration when the model doesn't support batching. Model configuration provided: [2].",
    );
  });

  it('rejects optional inputs on batching models and checks ragged inputs', () => {
    expectInvalid(
      config('max_batch_size: 2\ninput [ { name: "x" data_type: TYPE_FP32 dims: [ 3, -1, -1 ] optional: true } ]'),
      { inputs: [], outputs: [] },
      "unable to load model 'm', optional input 'x' is not supported for models that support batching",
    );
    expectInvalid(
      config('max_batch_size: 2\ninput [ { name: "x" data_type: TYPE_FP32 dims: [ 3, -1, -1 ] allow_ragged_batch: true } ]'),
      DET_METADATA,
      "unable to load model 'm', configuration expects model provides input with shape [-1] for ragged input 'x', model provides [-1,3,-1,-1]",
    );
    const ragged: ModelFileMetadata = { inputs: [{ name: 'x', datatype: 'FP32', shape: [-1] }], outputs: [] };
    validateOnnxConfigAgainstModel(config('max_batch_size: 2\ninput [ { name: "x" data_type: TYPE_FP32 dims: [ -1 ] allow_ragged_batch: true } ]'), ragged);
  });

  it('skips the shape check of batch-output targets', () => {
    validateOnnxConfigAgainstModel(
      config(`max_batch_size: 2\n${DET_IO.replace('dims: [ 1, -1, -1 ]', 'dims: [ 7 ]')}\nbatch_output [ { target_name: "sigmoid_0.tmp_0" source_input: "x" } ]`),
      DET_METADATA,
    );
  });
});

describe('validateOnnxConfigAgainstModel: sequence models (Silero VAD)', () => {
  const VAD: ModelFileMetadata = {
    inputs: [
      { name: 'input', datatype: 'FP32', shape: [-1, -1] },
      { name: 'state', datatype: 'FP32', shape: [2, -1, 128] },
      { name: 'sr', datatype: 'INT64', shape: [] },
    ],
    outputs: [
      { name: 'output', datatype: 'FP32', shape: [-1, 1] },
      { name: 'stateN', datatype: 'FP32', shape: [2, -1, 128] },
    ],
  };
  const text = (stateType = 'TYPE_FP32'): string => `
    input [ { name: "input" data_type: TYPE_FP32 dims: [ -1, -1 ] }, { name: "sr" data_type: TYPE_INT64 dims: [ 1 ] } ]
    output [ { name: "output" data_type: TYPE_FP32 dims: [ -1, 1 ] } ]
    sequence_batching {
      state [ { input_name: "state" output_name: "stateN" data_type: ${stateType} dims: [ 2, -1, 128 ] } ]
    }`;

  it('counts implicit state inputs and checks their types', () => {
    validateOnnxConfigAgainstModel(config(text()), VAD);
    expectInvalid(
      config(text('TYPE_FP16')),
      VAD,
      "unable to load model 'm', configuration expects datatype TYPE_FP16 for input state 'state', model provides TYPE_FP32",
    );
  });

  it('counts control inputs', () => {
    const withStart = text().replace(
      'sequence_batching {',
      'sequence_batching {\n control_input [ { name: "START" control [ { kind: CONTROL_SEQUENCE_START int32_false_true: [ 0, 1 ] } ] } ]',
    );
    expectInvalid(config(withStart), VAD, "unable to load model 'm', configuration expects 4 inputs, model provides 3");
  });
});

describe('compareDimsSupported', () => {
  it('lets a model -1 accept any config dim unless exact', () => {
    compareDimsSupported('m', 't', [-1, 3, -1], [3, 7], 4, false);
    expect(() => compareDimsSupported('m', 't', [-1, 3, -1], [3, 7], 4, true)).toThrow(InvalidArgumentError);
    compareDimsSupported('m', 't', [2, -1], [2, 5], 0, false);
  });
});
