import { describe, expect, it } from 'vitest';
import { parseModelConfigText } from '../../../src/config/index.js';
import {
  BatchInput_Kind,
  DataType,
  ModelInput_Format,
  ModelInstanceGroup_Kind,
  ModelOptimizationPolicy_ModelPriority,
  ModelSequenceBatching_Control_Kind,
} from '../../../src/generated/model_config_pb.js';
import { InvalidArgumentError } from '../../../src/errors/index.js';
import { fixture } from './helpers.js';

function parseError(text: string, file = '/repo/m/config.pbtxt'): InvalidArgumentError {
  try {
    parseModelConfigText(text, file);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidArgumentError);
    return err as InvalidArgumentError;
  }
  throw new Error('expected a parse error');
}

describe('parseModelConfigText', () => {
  it('parses a typical ONNX config with lists, enums, nested messages and maps', () => {
    const c = parseModelConfigText(fixture('text_detection.pbtxt'), 'config.pbtxt');
    expect(c.name).toBe('text_detection');
    expect(c.platform).toBe('onnxruntime_onnx');
    expect(c.maxBatchSize).toBe(8);
    expect(c.input).toHaveLength(1);
    expect(c.input[0]!.dataType).toBe(DataType.TYPE_FP32);
    expect(c.input[0]!.format).toBe(ModelInput_Format.NCHW);
    expect(c.input[0]!.dims).toEqual([3n, -1n, -1n]);
    expect(c.output[0]!.name).toBe('sigmoid_0.tmp_0');
    expect(c.instanceGroup[0]!.kind).toBe(ModelInstanceGroup_Kind.CPU);
    expect(c.instanceGroup[0]!.count).toBe(2);
    expect(c.schedulingChoice.case).toBe('dynamicBatching');
    if (c.schedulingChoice.case === 'dynamicBatching') {
      expect(c.schedulingChoice.value.preferredBatchSize).toEqual([4, 8]);
      expect(c.schedulingChoice.value.maxQueueDelayMicroseconds).toBe(100n);
    }
    expect(c.parameters['intra_op_thread_count']?.stringValue).toBe('1');
    expect(c.parameters['execution_mode']?.stringValue).toBe('0');
  });

  it('parses nearly every part of model_config.proto', () => {
    const c = parseModelConfigText(fixture('full_features.pbtxt'), 'config.pbtxt');
    expect(c.versionPolicy?.policyChoice).toMatchObject({ case: 'specific', value: { versions: [1n, 3n] } });
    expect(c.input[1]!.reshape?.shape).toEqual([]);
    expect(c.input[1]!.allowRaggedBatch).toBe(true);
    expect(c.output[0]!.labelFilename).toBe('labels.txt');
    expect(c.batchInput[0]!.kind).toBe(BatchInput_Kind.BATCH_ELEMENT_COUNT);
    expect(c.batchInput[0]!.targetName).toEqual(['N']);
    expect(c.optimization?.priority).toBe(ModelOptimizationPolicy_ModelPriority.PRIORITY_MAX);
    expect(c.optimization?.graph?.level).toBe(1);
    expect(c.optimization?.executionAccelerators?.gpuExecutionAccelerator[0]?.parameters).toEqual({
      precision_mode: 'FP16',
    });
    expect(c.optimization?.inputPinnedMemory?.enable).toBe(false);
    expect(c.schedulingChoice.case).toBe('sequenceBatching');
    if (c.schedulingChoice.case === 'sequenceBatching') {
      const seq = c.schedulingChoice.value;
      expect(seq.maxSequenceIdleMicroseconds).toBe(5_000_000n);
      expect(seq.strategyChoice).toMatchObject({ case: 'oldest', value: { preferredBatchSize: [2, 4] } });
      expect(seq.controlInput[0]!.control[0]!.kind).toBe(ModelSequenceBatching_Control_Kind.CONTROL_SEQUENCE_START);
      expect(seq.controlInput[0]!.control[0]!.fp32FalseTrue).toEqual([0, 1]);
      expect(seq.controlInput[1]!.control[0]!.dataType).toBe(DataType.TYPE_UINT64);
      expect(seq.state[0]!.initialState[0]!.stateData).toEqual({ case: 'zeroData', value: true });
    }
    expect(c.instanceGroup[0]).toMatchObject({ name: 'gpu_group', kind: ModelInstanceGroup_Kind.GPU, gpus: [0, 1] });
    expect(c.ccModelFilenames).toEqual({ '8.6': 'model_sm86.onnx' });
    expect(c.metricTags).toEqual({ team: 'ocr' });
    expect(c.modelWarmup[0]!.inputs['INPUT0']?.inputDataType).toEqual({ case: 'randomData', value: true });
    expect(c.modelMetrics?.metricControl[0]?.metricOptions).toMatchObject({
      case: 'histogramOptions',
      value: { buckets: [1, 2, 4.5] },
    });
  });

  it('parses an ensemble with negative int64 versions and string maps', () => {
    const c = parseModelConfigText(fixture('ensemble_ocr.pbtxt'), 'config.pbtxt');
    expect(c.schedulingChoice.case).toBe('ensembleScheduling');
    if (c.schedulingChoice.case === 'ensembleScheduling') {
      expect(c.schedulingChoice.value.step[0]!.modelVersion).toBe(-1n);
      expect(c.schedulingChoice.value.step[1]!.outputMap).toEqual({ softmax: 'TEXT' });
    }
  });

  it('accepts an empty file, angle brackets, numeric enums and separators', () => {
    expect(parseModelConfigText('', 'c').name).toBe('');
    const c = parseModelConfigText('input < name: "a"; data_type: 11; dims: 1 dims: 2 >,', 'c');
    expect(c.input[0]).toMatchObject({ name: 'a', dataType: DataType.TYPE_FP32, dims: [1n, 2n] });
  });

  it('names the file, line, column and field of an unknown top-level field', () => {
    const text = ['name: "m"', 'platform: "onnxruntime_onnx"', '', '# comment', 'input [ { name: "x" } ]', '', 'max_batchsize: 8'].join('\n');
    const err = parseError(text);
    expect(err.message).toBe('/repo/m/config.pbtxt:7:1: unknown field "max_batchsize" for message inference.ModelConfig');
  });

  it('locates an unknown field inside a nested message', () => {
    const err = parseError(fixture('bad_field.pbtxt'), '/repo/text_detection/config.pbtxt');
    expect(err.message).toBe(
      '/repo/text_detection/config.pbtxt:7:3: unknown field "max_batchsize" for message inference.ModelInput',
    );
  });

  it('locates a bad enum value on its token', () => {
    const err = parseError('name: "m"\ninput { name: "x" data_type: TYPE_FLOAT32 }\n');
    expect(err.message).toMatch(/^\/repo\/m\/config\.pbtxt:2:30: .*TYPE_FLOAT32.*inference\.DataType/);
  });

  it('locates a string where a number belongs', () => {
    const err = parseError('name: "m"\n\nmax_batch_size: "8"\n');
    expect(err.message).toBe('/repo/m/config.pbtxt:3:17: expected an integer, got a string (field "max_batch_size")');
  });

  it('names the field of a bad value inside a list', () => {
    const err = parseError('input {\n  name: "x"\n  dims: [ 3, x, 4 ]\n}\n');
    expect(err.message).toMatch(/^\/repo\/m\/config\.pbtxt:3:14: .*\(field "dims"\)$/);
  });

  it('locates a repeated singular field at its second occurrence', () => {
    const err = parseError('max_batch_size: 1\nname: "a"\n  max_batch_size: 2\n');
    expect(err.message).toMatch(/^\/repo\/m\/config\.pbtxt:3:3: .*max_batch_size/);
  });

  it('reports a missing closing brace at the end of the input', () => {
    const err = parseError('name: "m"\ninput {\n  name: "x"\n');
    expect(err.message).toMatch(/^\/repo\/m\/config\.pbtxt:3:12: unexpected end of input/);
  });

  it('locates an unterminated string', () => {
    const err = parseError('name: "m"\nplatform: "onnx\nmax_batch_size: 1\n');
    expect(err.message).toMatch(/^\/repo\/m\/config\.pbtxt:2:11: .*string/);
  });

  it('keeps the library error as the cause', () => {
    const err = parseError('bogus: 1');
    expect(err.cause).toBeInstanceOf(Error);
    expect(err.message).toBe('/repo/m/config.pbtxt:1:1: unknown field "bogus" for message inference.ModelConfig');
  });
});
