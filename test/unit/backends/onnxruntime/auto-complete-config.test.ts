import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { parseModelConfigText } from '../../../../src/config/index.js';
import { autoCompleteOnnxConfig, canSupportBatching } from '../../../../src/backends/onnxruntime/auto-complete-config.js';
import { InvalidArgumentError } from '../../../../src/errors/index.js';
import {
  DataType,
  ModelConfigSchema,
  ModelSequenceBatchingSchema,
  type ModelConfig,
} from '../../../../src/generated/model_config_pb.js';
import { CLS_METADATA, DET_METADATA, FIXED_METADATA, REC_METADATA } from '../../config/helpers.js';

/** The config step 1 leaves for a model directory with no config.pbtxt. */
function bare(name = 'text_detection', init: MessageInitShape<typeof ModelConfigSchema> = {}): ModelConfig {
  return create(ModelConfigSchema, {
    name,
    backend: 'onnxruntime',
    platform: 'onnxruntime_onnx',
    defaultModelFilename: 'model.onnx',
    ...init,
  });
}

describe('autoCompleteOnnxConfig', () => {
  it('completes PP-OCR detection from the model: max_batch_size 4, dynamic batching, dims without batch', () => {
    const { config, warnings } = autoCompleteOnnxConfig(bare(), DET_METADATA);
    expect(config.maxBatchSize).toBe(4);
    expect(config.schedulingChoice.case).toBe('dynamicBatching');
    expect(config.input).toHaveLength(1);
    expect(config.input[0]).toMatchObject({ name: 'x', dataType: DataType.TYPE_FP32, dims: [3n, -1n, -1n] });
    expect(config.input[0]!.reshape).toBeUndefined();
    expect(config.output[0]).toMatchObject({
      name: 'sigmoid_0.tmp_0',
      dataType: DataType.TYPE_FP32,
      dims: [1n, -1n, -1n],
    });
    expect(warnings).toEqual([
      "autofilled max_batch_size to 4 for model 'text_detection' since batching is supported but no max_batch_size is specified in model configuration. Must specify max_batch_size to utilize autofill with a larger max batch size",
    ]);
  });

  it('completes the classifier output [-1,2] to dims [2] and recognition to [3,48,-1]', () => {
    const cls = autoCompleteOnnxConfig(bare('text_classification'), CLS_METADATA).config;
    expect(cls.input[0]!.dims).toEqual([3n, 48n, 192n]);
    expect(cls.output[0]!.dims).toEqual([2n]);
    const rec = autoCompleteOnnxConfig(bare('text_recognition'), REC_METADATA).config;
    expect(rec.input[0]!.dims).toEqual([3n, 48n, -1n]);
    expect(rec.output[0]!.dims).toEqual([-1n, 6625n]);
  });

  it('uses defaultMaxBatchSize and adds no dynamic batching for 1', () => {
    const eight = autoCompleteOnnxConfig(bare(), DET_METADATA, { defaultMaxBatchSize: 8 }).config;
    expect(eight.maxBatchSize).toBe(8);
    const one = autoCompleteOnnxConfig(bare(), DET_METADATA, { defaultMaxBatchSize: 1 }).config;
    expect(one.maxBatchSize).toBe(1);
    expect(one.schedulingChoice.case).toBeUndefined();
  });

  it('keeps an explicit max_batch_size without warning, and an existing scheduler', () => {
    const seq = create(ModelSequenceBatchingSchema);
    const { config, warnings } = autoCompleteOnnxConfig(
      bare('m', { maxBatchSize: 16, schedulingChoice: { case: 'sequenceBatching', value: seq } }),
      DET_METADATA,
    );
    expect(config.maxBatchSize).toBe(16);
    expect(config.schedulingChoice.case).toBe('sequenceBatching');
    expect(warnings).toEqual([]);
  });

  it('leaves max_batch_size 0 for a model without a batch dimension, with full dims', () => {
    const { config, warnings } = autoCompleteOnnxConfig(bare('fixed'), FIXED_METADATA);
    expect(config.maxBatchSize).toBe(0);
    expect(config.schedulingChoice.case).toBeUndefined();
    expect(config.input[0]!.dims).toEqual([1n, 3n]);
    expect(config.output[0]!.dims).toEqual([1n, 3n]);
    expect(warnings).toEqual([]);
  });

  it('rejects a non-zero max_batch_size for a model that cannot batch', () => {
    expect(() => autoCompleteOnnxConfig(bare('fixed', { maxBatchSize: 2 }), FIXED_METADATA)).toThrow(
      new InvalidArgumentError(
        "autofill failed for model 'fixed': model does not support batching while non-zero max_batch_size is specified",
      ),
    );
  });

  it('turns scalars into dims [1], with an empty reshape only when batching', () => {
    const scalarOut = {
      inputs: [{ name: 'a', datatype: 'INT64' as const, shape: [-1] }],
      outputs: [{ name: 'b', datatype: 'BOOL' as const, shape: [-1] }],
    };
    const batching = autoCompleteOnnxConfig(bare(), scalarOut).config;
    expect(batching.input[0]).toMatchObject({ dims: [1n], reshape: { shape: [] }, dataType: DataType.TYPE_INT64 });
    expect(batching.output[0]).toMatchObject({ dims: [1n], reshape: { shape: [] }, dataType: DataType.TYPE_BOOL });

    const scalars = {
      inputs: [{ name: 'a', datatype: 'FP32' as const, shape: [] }],
      outputs: [{ name: 'b', datatype: 'BYTES' as const, shape: [] }],
    };
    const plain = autoCompleteOnnxConfig(bare(), scalars).config;
    expect(plain.maxBatchSize).toBe(0);
    expect(plain.input[0]!.dims).toEqual([1n]);
    expect(plain.input[0]!.reshape).toBeUndefined();
    expect(plain.output[0]!.dataType).toBe(DataType.TYPE_STRING);
  });

  it('skips entirely when inputs and outputs are both given', () => {
    const text = `
      name: "text_detection"
      backend: "onnxruntime"
      input [ { name: "x" data_type: TYPE_FP32 dims: [ 1, 3, -1, -1 ] } ]
      output [ { name: "sigmoid_0.tmp_0" data_type: TYPE_FP32 dims: [ 1, 1, -1, -1 ] } ]`;
    const given = parseModelConfigText(text, 'config.pbtxt');
    const { config, warnings } = autoCompleteOnnxConfig(given, DET_METADATA);
    expect(config.maxBatchSize).toBe(0);
    expect(config.schedulingChoice.case).toBeUndefined();
    expect(config.input[0]!.dims).toEqual([1n, 3n, -1n, -1n]);
    expect(warnings).toEqual([]);
  });

  it('counts batch_input as an input when deciding to skip', () => {
    const text = `
      batch_input [ { kind: BATCH_ELEMENT_COUNT target_name: "n" data_type: TYPE_INT32 source_input: "x" } ]
      output [ { name: "sigmoid_0.tmp_0" data_type: TYPE_FP32 dims: [ 1, -1, -1 ] } ]`;
    const { config } = autoCompleteOnnxConfig(parseModelConfigText(text, 'c'), DET_METADATA);
    expect(config.input).toHaveLength(0);
    expect(config.maxBatchSize).toBe(0);
  });

  it('fills only the missing list when one side is given, after completing max_batch_size', () => {
    const text = 'input [ { name: "x" data_type: TYPE_FP32 dims: [ 3, -1, -1 ] } ]';
    const { config } = autoCompleteOnnxConfig(parseModelConfigText(text, 'c'), DET_METADATA);
    expect(config.maxBatchSize).toBe(4);
    expect(config.input).toHaveLength(1);
    expect(config.output[0]!.dims).toEqual([1n, -1n, -1n]);
  });

  it('completes data_type and dims of a listed tensor from the model (infera extension)', () => {
    const text = 'max_batch_size: 2\ninput [ { name: "x" } ]\noutput [ { name: "sigmoid_0.tmp_0" data_type: TYPE_FP32 } ]';
    const { config } = autoCompleteOnnxConfig(parseModelConfigText(text, 'c'), DET_METADATA);
    expect(config.input[0]).toMatchObject({ dataType: DataType.TYPE_FP32, dims: [3n, -1n, -1n] });
    expect(config.output[0]).toMatchObject({ dataType: DataType.TYPE_FP32, dims: [1n, -1n, -1n] });
  });

  it('leaves listed tensors the model does not have for validation to report', () => {
    const text = 'input [ { name: "y" } ]\noutput [ { name: "z" } ]';
    const { config } = autoCompleteOnnxConfig(parseModelConfigText(text, 'c'), DET_METADATA);
    expect(config.input[0]).toMatchObject({ name: 'y', dataType: DataType.TYPE_INVALID, dims: [] });
  });

  it('does not modify its argument', () => {
    const original = bare();
    autoCompleteOnnxConfig(original, DET_METADATA);
    expect(original.maxBatchSize).toBe(0);
    expect(original.input).toHaveLength(0);
  });
});

describe('canSupportBatching', () => {
  it('needs a leading -1 on every input and output', () => {
    expect(canSupportBatching(DET_METADATA)).toBe(true);
    expect(canSupportBatching(FIXED_METADATA)).toBe(false);
    expect(
      canSupportBatching({ inputs: DET_METADATA.inputs, outputs: [{ name: 'o', datatype: 'FP32', shape: [] }] }),
    ).toBe(false);
  });
});
