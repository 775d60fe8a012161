import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { modelConfigFromJson, modelConfigToJson, normalizeModelConfig, parseModelConfigText } from '../../../src/config/index.js';
import { autoCompleteOnnxConfig } from '../../../src/backends/onnxruntime/auto-complete-config.js';
import { InvalidArgumentError } from '../../../src/errors/index.js';
import {
  DataType,
  ModelConfigSchema,
  ModelInstanceGroup_Kind,
} from '../../../src/generated/model_config_pb.js';
import { DET_METADATA, fixture } from './helpers.js';

function normalizedDetection() {
  const base = create(ModelConfigSchema, {
    name: 'text_detection',
    backend: 'onnxruntime',
    platform: 'onnxruntime_onnx',
    defaultModelFilename: 'model.onnx',
  });
  return normalizeModelConfig(autoCompleteOnnxConfig(base, DET_METADATA).config, { gpuCount: 0 });
}

describe('modelConfigToJson', () => {
  it('prints a normalized config the way Triton does', () => {
    const json = modelConfigToJson(normalizedDetection());
    expect(json).toMatchObject({
      name: 'text_detection',
      platform: 'onnxruntime_onnx',
      backend: 'onnxruntime',
      runtime: '',
      version_policy: { latest: { num_versions: 1 } },
      max_batch_size: 4,
      input: [
        {
          name: 'x',
          data_type: 'TYPE_FP32',
          format: 'FORMAT_NONE',
          dims: [3, -1, -1],
          is_shape_tensor: false,
          allow_ragged_batch: false,
          optional: false,
          is_non_linear_format_io: false,
        },
      ],
      output: [{ name: 'sigmoid_0.tmp_0', data_type: 'TYPE_FP32', dims: [1, -1, -1], label_filename: '' }],
      batch_input: [],
      batch_output: [],
      optimization: {
        priority: 'PRIORITY_DEFAULT',
        input_pinned_memory: { enable: true },
        output_pinned_memory: { enable: true },
        gather_kernel_buffer_threshold: 0,
        eager_batching: false,
      },
      dynamic_batching: {
        preferred_batch_size: [4],
        max_queue_delay_microseconds: 0,
        preserve_ordering: false,
        priority_levels: 0,
        default_priority_level: 0,
        priority_queue_policy: {},
      },
      instance_group: [
        {
          name: 'text_detection',
          kind: 'KIND_CPU',
          count: 2,
          gpus: [],
          secondary_devices: [],
          profile: [],
          passive: false,
          host_policy: '',
        },
      ],
      default_model_filename: 'model.onnx',
      cc_model_filenames: {},
      metric_tags: {},
      parameters: {},
      model_warmup: [],
    });
    expect(json).not.toHaveProperty('sequence_batching');
    expect(json).not.toHaveProperty('response_cache');
    expect(JSON.stringify(json)).toContain('"dims":[3,-1,-1]');
  });

  it('prints keys in proto declaration order', () => {
    const keys = Object.keys(modelConfigToJson(normalizedDetection()));
    expect(keys.slice(0, 6)).toEqual(['name', 'platform', 'backend', 'runtime', 'version_policy', 'max_batch_size']);
    expect(keys.indexOf('dynamic_batching')).toBeLessThan(keys.indexOf('instance_group'));
    expect(keys.indexOf('optimization')).toBeLessThan(keys.indexOf('dynamic_batching'));
  });

  it('turns every 64-bit integer into a number, in nested messages and maps, but not strings', () => {
    const c = parseModelConfigText(fixture('full_features.pbtxt'), 'c');
    c.schedulingChoice = {
      case: 'dynamicBatching',
      value: parseModelConfigText(
        'dynamic_batching { max_queue_delay_microseconds: 100 priority_levels: 2 default_priority_level: 1 default_queue_policy { default_timeout_microseconds: 7 } priority_queue_policy { key: 2 value { default_timeout_microseconds: 9 } } }',
        'c',
      ).schedulingChoice.value as never,
    };
    c.parameters['threads'] = { $typeName: 'inference.ModelParameter', stringValue: '1' };
    const json = modelConfigToJson(c) as Record<string, any>;
    expect(json.version_policy.specific.versions).toEqual([1, 3]);
    expect(json.input[1].reshape.shape).toEqual([]);
    expect(json.model_warmup[0].inputs.INPUT0.dims).toEqual([16]);
    expect(json.dynamic_batching.max_queue_delay_microseconds).toBe(100);
    expect(json.dynamic_batching.priority_levels).toBe(2);
    expect(json.dynamic_batching.default_queue_policy.default_timeout_microseconds).toBe(7);
    expect(json.dynamic_batching.priority_queue_policy).toEqual({
      '2': { timeout_action: 'REJECT', default_timeout_microseconds: 9, allow_timeout_override: false, max_queue_size: 0 },
    });
    expect(json.parameters.threads).toEqual({ string_value: '1' });
    expect(json.cc_model_filenames).toEqual({ '8.6': 'model_sm86.onnx' });
    expect(json.model_metrics.metric_control[0].histogram_options.buckets).toEqual([1, 2, 4.5]);
  });

  it('prints sequence batching and ensemble int64 fields as numbers', () => {
    const seq = parseModelConfigText(fixture('full_features.pbtxt'), 'c');
    const s = modelConfigToJson(seq) as Record<string, any>;
    expect(s.sequence_batching.max_sequence_idle_microseconds).toBe(5_000_000);
    expect(s.sequence_batching.oldest.max_queue_delay_microseconds).toBe(10);
    expect(s.sequence_batching.state[0].dims).toEqual([2, 1, 128]);
    expect(s.sequence_batching.state[0].initial_state[0].dims).toEqual([2, 1, 128]);
    expect(s.sequence_batching.control_input[1].control[0].data_type).toBe('TYPE_UINT64');
    const ens = modelConfigToJson(parseModelConfigText(fixture('ensemble_ocr.pbtxt'), 'c')) as Record<string, any>;
    expect(ens.ensemble_scheduling.step[0].model_version).toBe(-1);
    expect(ens.ensemble_scheduling.step[0].input_map).toEqual({ x: 'IMAGE' });
  });

  it('round-trips through modelConfigFromJson', () => {
    const c = normalizedDetection();
    const back = modelConfigFromJson(JSON.stringify(modelConfigToJson(c)));
    expect(back).toEqual(c);
  });
});

describe('modelConfigFromJson', () => {
  it('accepts enum names in any case and int64 as numbers or strings', () => {
    const c = modelConfigFromJson({
      name: 'm',
      max_batch_size: 2,
      input: [{ name: 'x', data_type: 'type_fp32', format: 'Format_NCHW', dims: [3, '-1', -1] }],
      instance_group: [{ kind: 'kind_cpu', count: 1 }],
      sequence_batching: { control_input: [{ name: 'C', control: [{ kind: 'control_sequence_corrid', data_type: 'TYPE_uint64' }] }] },
    });
    expect(c.input[0]).toMatchObject({ dataType: DataType.TYPE_FP32, dims: [3n, -1n, -1n] });
    expect(c.instanceGroup[0]!.kind).toBe(ModelInstanceGroup_Kind.CPU);
  });

  it('accepts camelCase field names and a JSON string', () => {
    const c = modelConfigFromJson('{"name":"m","maxBatchSize":4,"dynamicBatching":{"maxQueueDelayMicroseconds":"100"}}');
    expect(c.maxBatchSize).toBe(4);
    expect(c.schedulingChoice).toMatchObject({ case: 'dynamicBatching', value: { maxQueueDelayMicroseconds: 100n } });
  });

  it('keeps string parameter values as strings', () => {
    const c = modelConfigFromJson({ parameters: { kind_cpu: { string_value: 'kind_gpu' } } });
    expect(c.parameters['kind_cpu']?.stringValue).toBe('kind_gpu');
  });

  it('rejects unknown fields with the reason', () => {
    expect(() => modelConfigFromJson({ name: 'm', max_batchsize: 4 })).toThrow(InvalidArgumentError);
    expect(() => modelConfigFromJson({ name: 'm', max_batchsize: 4 })).toThrow(/max_batchsize/);
    expect(() => modelConfigFromJson({ input: [{ name: 'x', bogus: 1 }] })).toThrow(/bogus/);
  });

  it('rejects unknown enum values, wrong types and malformed JSON', () => {
    expect(() => modelConfigFromJson({ input: [{ data_type: 'TYPE_FLOAT' }] })).toThrow(InvalidArgumentError);
    expect(() => modelConfigFromJson({ max_batch_size: 'four' })).toThrow(InvalidArgumentError);
    expect(() => modelConfigFromJson('{"name": ')).toThrow(/failed to parse model configuration JSON/);
    expect(() => modelConfigFromJson('[1]')).toThrow('model configuration JSON must be an object');
  });
});
