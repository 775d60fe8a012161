import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { normalizeModelConfig, parseModelConfigText } from '../../../src/config/index.js';
import { autoCompleteOnnxConfig } from '../../../src/backends/onnxruntime/auto-complete-config.js';
import {
  ModelConfigSchema,
  ModelInstanceGroup_Kind,
  type ModelConfig,
} from '../../../src/generated/model_config_pb.js';
import { DET_METADATA, fixture } from './helpers.js';

function parse(text: string, name = 'm', backend = 'onnxruntime'): ModelConfig {
  const c = parseModelConfigText(text, 'config.pbtxt');
  c.name ||= name;
  c.backend ||= backend;
  return c;
}

describe('normalizeModelConfig', () => {
  it('normalizes an auto-completed ORT model: latest{1}, preferred [4], pinned memory, 2 CPU instances', () => {
    const base = create(ModelConfigSchema, { name: 'text_detection', backend: 'onnxruntime', platform: 'onnxruntime_onnx' });
    const completed = autoCompleteOnnxConfig(base, DET_METADATA).config;
    const c = normalizeModelConfig(completed, { gpuCount: 0 });
    expect(c.versionPolicy?.policyChoice).toMatchObject({ case: 'latest', value: { numVersions: 1 } });
    expect(c.schedulingChoice).toMatchObject({ case: 'dynamicBatching', value: { preferredBatchSize: [4] } });
    expect(c.optimization?.inputPinnedMemory?.enable).toBe(true);
    expect(c.optimization?.outputPinnedMemory?.enable).toBe(true);
    expect(c.instanceGroup).toHaveLength(1);
    expect(c.instanceGroup[0]).toMatchObject({
      name: 'text_detection',
      kind: ModelInstanceGroup_Kind.CPU,
      count: 2,
      gpus: [],
    });
  });

  it('names unnamed groups <model>_<index> and keeps given names', () => {
    const c = normalizeModelConfig(
      parse('instance_group [ { kind: KIND_CPU }, { name: "fast" count: 3 kind: KIND_CPU }, { kind: KIND_CPU count: 1 } ]', 'det'),
      { gpuCount: 0 },
    );
    expect(c.instanceGroup.map((g) => [g.name, g.count])).toEqual([
      ['det_0', 2],
      ['fast', 3],
      ['det_2', 1],
    ]);
  });

  it('defaults the count to 1 on other backends and for GPU groups', () => {
    const py = normalizeModelConfig(parse('instance_group [ { kind: KIND_CPU } ]', 'p', 'python'), { gpuCount: 0 });
    expect(py.instanceGroup[0]!.count).toBe(1);
    const tf = normalizeModelConfig(parse('instance_group [ { kind: KIND_CPU } ]', 't', 'tensorflow'), { gpuCount: 0 });
    expect(tf.instanceGroup[0]!.count).toBe(2);
    const gpu = normalizeModelConfig(parse('instance_group [ { kind: KIND_GPU } ]'), { gpuCount: 2 });
    expect(gpu.instanceGroup[0]).toMatchObject({ count: 1, gpus: [0, 1] });
  });

  it('resolves KIND_AUTO to GPU when the listed GPUs exist, else CPU', () => {
    const none = normalizeModelConfig(parse(''), { gpuCount: 0 });
    expect(none.instanceGroup[0]).toMatchObject({ kind: ModelInstanceGroup_Kind.CPU, count: 2 });
    const some = normalizeModelConfig(parse(''), { gpuCount: 2 });
    expect(some.instanceGroup[0]).toMatchObject({ kind: ModelInstanceGroup_Kind.GPU, count: 1, gpus: [0, 1] });
    const missing = normalizeModelConfig(parse('instance_group [ { gpus: [ 0, 3 ] } ]'), { gpuCount: 2 });
    expect(missing.instanceGroup[0]!.kind).toBe(ModelInstanceGroup_Kind.CPU);
    const listed = normalizeModelConfig(parse('instance_group [ { gpus: [ 1 ] count: 4 } ]'), { gpuCount: 2 });
    expect(listed.instanceGroup[0]).toMatchObject({ kind: ModelInstanceGroup_Kind.GPU, gpus: [1], count: 4 });
  });

  it('fills sequence batching defaults', () => {
    const c = normalizeModelConfig(parse('max_batch_size: 8\nsequence_batching { oldest { } }'), { gpuCount: 0 });
    if (c.schedulingChoice.case !== 'sequenceBatching') throw new Error('expected sequence batching');
    expect(c.schedulingChoice.value.maxSequenceIdleMicroseconds).toBe(1_000_000n);
    expect(c.schedulingChoice.value.strategyChoice).toMatchObject({ case: 'oldest', value: { preferredBatchSize: [8] } });
    const direct = normalizeModelConfig(parse('sequence_batching { max_sequence_idle_microseconds: 5 }'), { gpuCount: 0 });
    if (direct.schedulingChoice.case !== 'sequenceBatching') throw new Error('expected sequence batching');
    expect(direct.schedulingChoice.value.maxSequenceIdleMicroseconds).toBe(5n);
  });

  it('keeps given preferred sizes, pinned memory settings and version policy', () => {
    const c = normalizeModelConfig(parse(fixture('text_detection.pbtxt')), { gpuCount: 0 });
    expect(c.schedulingChoice).toMatchObject({ value: { preferredBatchSize: [4, 8] } });
    const full = normalizeModelConfig(parse(fixture('full_features.pbtxt')), { gpuCount: 2 });
    expect(full.optimization?.inputPinnedMemory?.enable).toBe(false);
    expect(full.optimization?.outputPinnedMemory?.enable).toBe(true);
    expect(full.versionPolicy?.policyChoice.case).toBe('specific');
  });

  it('adds no preferred size when max_batch_size is 0', () => {
    const c = normalizeModelConfig(parse('dynamic_batching { }'), { gpuCount: 0 });
    expect(c.schedulingChoice).toMatchObject({ case: 'dynamicBatching', value: { preferredBatchSize: [] } });
  });

  it('gives ensembles no instance groups and no pinned-memory defaults', () => {
    const c = normalizeModelConfig(parseModelConfigText(fixture('ensemble_ocr.pbtxt'), 'c'), { gpuCount: 1 });
    expect(c.instanceGroup).toHaveLength(0);
    expect(c.optimization).toBeUndefined();
    expect(c.versionPolicy?.policyChoice.case).toBe('latest');
  });

  it('does not modify its argument', () => {
    const original = parse('');
    normalizeModelConfig(original, { gpuCount: 0 });
    expect(original.instanceGroup).toHaveLength(0);
    expect(original.versionPolicy).toBeUndefined();
  });
});
