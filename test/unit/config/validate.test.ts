import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  normalizeModelConfig,
  parseModelConfigText,
  validateLabelFiles,
  validateModelConfig,
} from '../../../src/config/index.js';
import { InvalidArgumentError } from '../../../src/errors/index.js';
import { ModelInstanceGroup_Kind, type ModelConfig } from '../../../src/generated/model_config_pb.js';
import { fixture } from './helpers.js';

const IO = `
  input [ { name: "x" data_type: TYPE_FP32 dims: [ 3, -1, -1 ] } ]
  output [ { name: "y" data_type: TYPE_FP32 dims: [ 1, -1, -1 ] } ]`;

/** A normalized ONNX config: `m`, onnxruntime, 2 CPU instances, plus `extra` text. */
function config(extra: string, io = IO, gpuCount = 0): ModelConfig {
  const c = parseModelConfigText(`name: "m"\nbackend: "onnxruntime"\nplatform: "onnxruntime_onnx"\n${io}\n${extra}`, 'c');
  return normalizeModelConfig(c, { gpuCount });
}

function expectInvalid(c: ModelConfig, message: string, gpuCount?: number): void {
  let caught: unknown;
  try {
    validateModelConfig(c, gpuCount === undefined ? {} : { gpuCount });
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(InvalidArgumentError);
  expect((caught as Error).message).toBe(message);
}

describe('validateModelConfig: accepted configs', () => {
  it('accepts normalized realistic configs', () => {
    validateModelConfig(config('max_batch_size: 8\ndynamic_batching { preferred_batch_size: [ 4, 8 ] }'));
    const full = parseModelConfigText(fixture('full_features.pbtxt'), 'c');
    full.platform = 'onnxruntime_onnx'; // what step 1 adds for backend "onnxruntime"
    full.input.push(...parseModelConfigText('input [ { name: "state_in" data_type: TYPE_FP32 dims: [ 1 ] } ]', 'c').input);
    validateModelConfig(normalizeModelConfig(full, { gpuCount: 2 }), { gpuCount: 2 });
    const ens = parseModelConfigText(fixture('ensemble_ocr.pbtxt'), 'c');
    validateModelConfig(normalizeModelConfig(ens, { gpuCount: 0 }));
  });

  it('accepts dynamic batching with max_batch_size 0, as Triton does', () => {
    validateModelConfig(config('dynamic_batching { priority_levels: 2 default_priority_level: 1 }'));
  });

  it('accepts sequence batching with max_batch_size 0', () => {
    validateModelConfig(config('sequence_batching { }'));
  });

  it('accepts scalar reshapes when batching, and variable-size reshapes with equal runs', () => {
    validateModelConfig(config('max_batch_size: 4', 'input [ { name: "a" data_type: TYPE_INT64 dims: [ 1 ] reshape { shape: [ ] } } ]\noutput [ { name: "b" data_type: TYPE_FP32 dims: [ 2, 4, -1, 6 ] reshape { shape: [ 8, -1, 1, 6 ] } } ]'));
  });
});

describe('validateModelConfig: general errors', () => {
  it('requires a name, a backend and a matching platform', () => {
    const c = config('');
    c.name = '';
    expectInvalid(c, "model configuration must specify 'name'");
    const noBackend = config('');
    noBackend.backend = '';
    expectInvalid(noBackend, "unexpected platform type 'onnxruntime_onnx' for m");
    const pair = config('');
    pair.platform = 'tensorrt_plan';
    expectInvalid(pair, "unexpected 'platform' and 'backend' pair, got:tensorrt_plan, onnxruntime");
  });

  it('checks ensembles have ensemble scheduling and no backend', () => {
    const c = config('');
    c.platform = 'ensemble';
    expectInvalid(c, "Ensemble model 'm' must have platform type 'ensemble' and empty backend type");
    c.backend = '';
    expectInvalid(c, 'ensemble scheduling must be set for ensemble m whose platform is ensemble');
  });

  it('rejects a negative max_batch_size', () => {
    const c = config('');
    c.maxBatchSize = -1;
    expectInvalid(c, "'max_batch_size' must be non-negative value for m");
  });

  it('requires a version policy, and versions in a specific one', () => {
    const c = config('');
    c.versionPolicy = undefined;
    expectInvalid(c, "must specify 'version policy' for m");
    expectInvalid(config('version_policy { specific { } }'), "version_policy 'specific' must list at least one version for m");
  });

  it('checks dynamic batching preferred sizes against max_batch_size', () => {
    expectInvalid(config('max_batch_size: 4\ndynamic_batching { preferred_batch_size: [ 0 ] }'), 'dynamic batching preferred size must be positive for m');
    expectInvalid(config('max_batch_size: 4\ndynamic_batching { preferred_batch_size: [ 2, 8 ] }'), 'dynamic batching preferred size must be <= max batch size for m');
  });

  it('checks priority levels and preserve_ordering', () => {
    expectInvalid(config('max_batch_size: 4\ndynamic_batching { priority_levels: 2 }'), 'default priority level must be in range [1, 2] for m');
    expectInvalid(
      config('max_batch_size: 4\ndynamic_batching { priority_levels: 2 default_priority_level: 1 priority_queue_policy { key: 3 value { } } }'),
      'priority queue policy must have priority level in range [1, 2] for m',
    );
    expectInvalid(
      config('max_batch_size: 4\ndynamic_batching { preserve_ordering: true priority_levels: 2 default_priority_level: 1 }'),
      "Only one priority level is allowed when 'preserve_ordering' is true for m",
    );
    expectInvalid(
      config('max_batch_size: 4\ndynamic_batching { preserve_ordering: true default_queue_policy { timeout_action: DELAY default_timeout_microseconds: 10 } }'),
      "Queue policy can not have DELAY as timeout action when 'preserve_ordering' is true for m",
    );
  });

  it('checks sequence batching strategies, controls and the response cache', () => {
    expectInvalid(config('max_batch_size: 2\nsequence_batching { oldest { preferred_batch_size: [ 4 ] } }'), 'sequence batching preferred batch size must be <= max batch size for m');
    expectInvalid(config('sequence_batching { direct { minimum_slot_utilization: 1.5 } }'), 'sequence batching minimum slot utilization must be in range (0.0, 1.0] for m');
    expectInvalid(config('sequence_batching { }\nresponse_cache { enable: true }'), 'Response Cache does not currently support model m with sequence batching scheduler. Please disable the response cache.');
    expectInvalid(
      config('sequence_batching { control_input [ { name: "C" control [ { kind: CONTROL_SEQUENCE_CORRID data_type: TYPE_FP32 } ] } ] }'),
      'unexpected data type for control CONTROL_SEQUENCE_CORRID for m. Allowed data types are TYPE_UINT64, TYPE_INT64, TYPE_UINT32, TYPE_INT32 and TYPE_STRING',
    );
    expectInvalid(
      config('sequence_batching { control_input [ { name: "S" control [ { kind: CONTROL_SEQUENCE_START } ] } ] }'),
      "sequence batching must specify either 'int32_false_true', 'fp32_false_true' or 'bool_false_true' for CONTROL_SEQUENCE_START for m",
    );
  });

  it('rejects the response cache on decoupled models', () => {
    expectInvalid(
      config('model_transaction_policy { decoupled: true }\nresponse_cache { enable: true }'),
      "Response Cache does not currently support model m with 'decoupled' transaction policy. Please disable the response cache.",
    );
  });

  it('checks model_metrics entries', () => {
    expectInvalid(config('model_metrics { metric_control [ { } ] }'), "metric control must specify 'metric_identifier'");
    expectInvalid(config('model_metrics { metric_control [ { metric_identifier { } } ] }'), "metric identifier must specify non-empty 'family'");
    expectInvalid(config('model_metrics { metric_control [ { metric_identifier { family: "f" } } ] }'), "metric control must specify 'histogram_options'");
    expectInvalid(config('model_metrics { metric_control [ { metric_identifier { family: "f" } histogram_options { } } ] }'), "histogram options must specify non-empty 'buckets'");
  });
});

describe('validateModelConfig: inputs and outputs', () => {
  const io = (input: string, output = '{ name: "y" data_type: TYPE_FP32 dims: [ 1 ] }'): string =>
    `input [ ${input} ]\noutput [ ${output} ]`;

  it('requires name, data_type and dims', () => {
    expectInvalid(config('', io('{ data_type: TYPE_FP32 dims: [ 1 ] }')), "model input must specify 'name' for m");
    expectInvalid(config('', io('{ name: "x" dims: [ 1 ] }')), "model input 'x' must specify 'data_type' for m");
    expectInvalid(config('', io('{ name: "x" data_type: TYPE_FP32 }')), "model input 'x' must specify 'dims' for m");
    expectInvalid(config('', io('{ name: "x" data_type: TYPE_FP32 dims: [ 1 ] }', '{ name: "y" data_type: TYPE_FP32 }')), "model output 'y' must specify 'dims' for m");
  });

  it('rejects dims below 1 other than -1', () => {
    expectInvalid(config('', io('{ name: "x" data_type: TYPE_FP32 dims: [ 3, 0 ] }')), "model input 'x' dimension must be integer >= 1, or -1 to indicate a variable-size dimension for m");
    expectInvalid(config('', io('{ name: "x" data_type: TYPE_FP32 dims: [ -2 ] }')), "model input 'x' dimension must be integer >= 1, or -1 to indicate a variable-size dimension for m");
  });

  it('checks reshapes', () => {
    expectInvalid(config('', io('{ name: "x" data_type: TYPE_FP32 dims: [ 1 ] reshape { shape: [ ] } }')), "model input 'x' cannot have empty reshape for non-batching model as scalar tensors are not supported for m");
    expectInvalid(config('', io('{ name: "x" data_type: TYPE_FP32 dims: [ 6 ] reshape { shape: [ 0, 6 ] } }')), "model input 'x' reshape dimensions must be integer >= 1, or -1 to indicate a variable-size dimension for m");
    expectInvalid(config('', io('{ name: "x" data_type: TYPE_FP32 dims: [ 6 ] reshape { shape: [ 2, 2 ] } }')), "model input 'x' has different size for dims and reshape for m");
    expectInvalid(config('', io('{ name: "x" data_type: TYPE_FP32 dims: [ 2, -1 ] reshape { shape: [ -1, 2, -1 ] } }')), "model input 'x' has different number of variable-size dimensions for dims and reshape for m");
    expectInvalid(config('', io('{ name: "x" data_type: TYPE_FP32 dims: [ 2, -1, 3 ] reshape { shape: [ 3, -1, 2 ] } }')), "model input 'x' has different size for dims and reshape for m");
  });

  it('rejects duplicate names', () => {
    expectInvalid(
      config('', io('{ name: "x" data_type: TYPE_FP32 dims: [ 1 ] }, { name: "x" data_type: TYPE_FP32 dims: [ 2 ] }')),
      "model input 'x' is specified more than once for m",
    );
    expectInvalid(
      config('', io('{ name: "x" data_type: TYPE_FP32 dims: [ 1 ] }', '{ name: "y" data_type: TYPE_FP32 dims: [ 1 ] }, { name: "y" data_type: TYPE_FP32 dims: [ 1 ] }')),
      "model output 'y' is specified more than once for m",
    );
  });

  it('checks formats and TensorRT-only flags', () => {
    expectInvalid(config('', io('{ name: "x" data_type: TYPE_FP32 format: FORMAT_NCHW dims: [ 3, 224 ] }')), 'model input NHWC/NCHW require 3 dims for m');
    expectInvalid(config('', io('{ name: "x" data_type: TYPE_INT32 dims: [ 1 ] is_shape_tensor: true }')), 'shape tensors are only supported for TensorRT platform for m');
    expectInvalid(config('', io('{ name: "x" data_type: TYPE_INT32 dims: [ 1 ] is_non_linear_format_io: true }')), "Non-linear IO format is only supported for the TensorRT platform (model input 'x') for m");
  });

  it('checks batch inputs and outputs', () => {
    expectInvalid(config('batch_input [ { kind: BATCH_ELEMENT_COUNT target_name: "n" data_type: TYPE_FP32 } ]'), "batch input kind 'BATCH_ELEMENT_COUNT' expects 1 source input, got 0 for m");
    expectInvalid(config('batch_input [ { target_name: "n" data_type: TYPE_INT64 source_input: "x" } ]'), 'batch input data type must be TYPE_INT32 or TYPE_FP32 for m');
    expectInvalid(config('batch_input [ { target_name: "n" data_type: TYPE_INT32 source_input: "q" } ]'), "unknown source input name 'q' for m");
    expectInvalid(config('batch_output [ { target_name: "z" source_input: "x" } ]'), "unknown target output name 'z' for m");
    expectInvalid(config('batch_output [ { target_name: [ "y", "y" ] source_input: "x" } ]'), "target output name 'y' can only be specified once for m");
  });
});

describe('validateModelConfig: instance groups', () => {
  it('requires groups on non-ensembles', () => {
    const c = config('');
    c.instanceGroup = [];
    expectInvalid(c, "must specify one or more 'instance group's for m");
  });

  it('requires a count of at least 1 and a resolved kind', () => {
    const c = config('');
    c.instanceGroup[0]!.count = 0;
    expectInvalid(c, 'instance group m of model m must have a count of at least 1, got 0');
    const auto = config('');
    auto.instanceGroup[0]!.kind = ModelInstanceGroup_Kind.AUTO;
    expectInvalid(auto, 'instance group m of model m has unexpected kind KIND_AUTO');
  });

  it('checks GPUs per kind', () => {
    expectInvalid(config('instance_group [ { kind: KIND_CPU gpus: [ 0 ] } ]'), 'instance group m_0 of model m has kind KIND_CPU but specifies one or more GPUs');
    expectInvalid(config('instance_group [ { kind: KIND_MODEL gpus: [ 0 ] } ]'), 'instance group m_0 of model m has kind KIND_MODEL but specifies one or more GPUs');
    expectInvalid(config('instance_group [ { kind: KIND_GPU } ]'), 'instance group m_0 of model m has kind KIND_GPU but no GPUs are available', 0);
    expectInvalid(config('instance_group [ { kind: KIND_GPU gpus: [ 2 ] } ]', IO, 2), 'instance group m_0 of model m specifies invalid or unsupported gpu id 2. GPUs with at least the minimum required CUDA compute compatibility of 7.500000 are: 0, 1', 2);
    validateModelConfig(config('instance_group [ { kind: KIND_GPU gpus: [ 1 ] } ]', IO, 2), { gpuCount: 2 });
  });

  it('allows profiles only on TensorRT', () => {
    expectInvalid(config('instance_group [ { kind: KIND_CPU profile: [ "0" ] } ]'), 'instance group m_0 of model m and platform onnxruntime_onnx specifies profile field which is only supported for TensorRT models');
  });
});

describe('validateLabelFiles', () => {
  it('accepts existing label files and reports missing or escaping ones', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'infera-labels-'));
    try {
      await writeFile(path.join(dir, 'labels.txt'), '0\n180\n');
      await mkdir(path.join(dir, 'sub'));
      const out = (file: string): ModelConfig =>
        config('', `input [ { name: "x" data_type: TYPE_FP32 dims: [ 1 ] } ]\noutput [ { name: "y" data_type: TYPE_FP32 dims: [ 2 ] label_filename: "${file}" } ]`);
      await validateLabelFiles(out('labels.txt'), dir);
      await expect(validateLabelFiles(out('missing.txt'), dir)).rejects.toThrow(
        `model 'm', output 'y': label_filename 'missing.txt' does not exist in the model directory '${dir}'`,
      );
      await expect(validateLabelFiles(out('sub'), dir)).rejects.toThrow("label_filename 'sub' is not a file");
      await expect(validateLabelFiles(out('../labels.txt'), dir)).rejects.toThrow('must be a path inside the model directory');
      await expect(validateLabelFiles(out('/etc/passwd'), dir)).rejects.toThrow(InvalidArgumentError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
