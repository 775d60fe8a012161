import { describe, expect, it } from 'vitest';
import {
  configDataTypeName,
  configDataTypeToWire,
  configInputs,
  configOutputs,
  enumName,
  formatShape,
  parseModelConfigText,
  tensorApiShape,
  wireToConfigDataType,
} from '../../../src/config/index.js';
import { InvalidArgumentError } from '../../../src/errors/index.js';
import {
  DataType,
  ModelInstanceGroup_Kind,
  ModelInstanceGroup_KindSchema,
} from '../../../src/generated/model_config_pb.js';
import { DATATYPES } from '../../../src/infer/datatype.js';
import { fixture } from './helpers.js';

describe('datatype helpers', () => {
  it('names config datatypes and maps them to and from wire datatypes', () => {
    expect(configDataTypeName(DataType.TYPE_FP32)).toBe('TYPE_FP32');
    expect(configDataTypeName(99 as DataType)).toBe('TYPE_INVALID');
    expect(configDataTypeToWire(DataType.TYPE_STRING)).toBe('BYTES');
    expect(configDataTypeToWire(DataType.TYPE_INVALID)).toBeUndefined();
    expect(wireToConfigDataType('BYTES')).toBe(DataType.TYPE_STRING);
    for (const d of DATATYPES) expect(configDataTypeToWire(wireToConfigDataType(d))).toBe(d);
  });

  it('prints proto enum names, which the generated enums shorten', () => {
    expect(ModelInstanceGroup_Kind[ModelInstanceGroup_Kind.GPU]).toBe('GPU');
    expect(enumName(ModelInstanceGroup_KindSchema, ModelInstanceGroup_Kind.GPU)).toBe('KIND_GPU');
    expect(enumName(ModelInstanceGroup_KindSchema, 42)).toBe('42');
  });
});

describe('shape helpers', () => {
  it('adds the batch dimension to API shapes when max_batch_size > 0', () => {
    const c = parseModelConfigText(fixture('text_detection.pbtxt'), 'c');
    expect(tensorApiShape(c, c.input[0]!)).toEqual([-1, 3, -1, -1]);
    expect(configInputs(c)).toEqual([{ name: 'x', datatype: 'FP32', dims: [3, -1, -1], shape: [-1, 3, -1, -1] }]);
    expect(configOutputs(c)[0]).toMatchObject({ name: 'sigmoid_0.tmp_0', shape: [-1, 1, -1, -1] });
    c.maxBatchSize = 0;
    expect(tensorApiShape(c, c.input[0]!)).toEqual([3, -1, -1]);
  });

  it('reports reshapes and rejects datatypes without a wire form', () => {
    const c = parseModelConfigText('name: "m"\ninput [ { name: "a" data_type: TYPE_INT64 dims: [ 1 ] reshape { shape: [ ] } }, { name: "b" dims: [ 1 ] } ]', 'c');
    expect(() => configInputs(c)).toThrow(new InvalidArgumentError("model input 'b' has unsupported data_type TYPE_INVALID for m"));
    c.input.pop();
    expect(configInputs(c)[0]).toEqual({ name: 'a', datatype: 'INT64', dims: [1], shape: [1], reshape: [] });
  });

  it('formats shapes like Triton', () => {
    expect(formatShape([-1, 3, 48, 192])).toBe('[-1,3,48,192]');
    expect(formatShape([2n, -1n])).toBe('[2,-1]');
    expect(formatShape([])).toBe('[]');
  });
});
